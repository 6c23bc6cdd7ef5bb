//! Outgoing mail: every mail is written to the outbox in the transaction
//! that causes it (a reply, a new ticket, an assignment), then a job sends
//! it over SMTP. Replies and acknowledgements carry the ticket tag and
//! threading headers, so an answer comes back into the ticket through the
//! intake; everything carries our loop header.

mod admin;
mod compose;
mod notify;
mod relay;
mod send;

pub use admin::{OutboxProblem, OutboxStatus};
pub use send::OutboxJob;

pub(crate) mod send_smtp {
    pub(crate) use super::relay::{Smtp, smtp_transport};
}

pub(crate) use compose::{Draft, new_message_id, queue_draft, queue_drafts};
pub(crate) use notify::{Notice, Recipients};
