//! sea-orm entities, one per table (schema in `migrations/`).

pub mod access_log;
pub mod api_token;
pub mod attachment;
pub mod blob;
pub mod bounce;
pub mod bounce_collection;
pub mod group_mapping;
pub mod history;
pub mod intake_key;
pub mod login_link;
pub mod mailbox;
pub mod message;
pub mod outbox;
pub mod pending_login;
pub mod queue;
pub mod queue_address;
pub mod raw_mail;
pub mod role_assignment;
pub mod session;
pub mod template;
pub mod tenant;
pub mod ticket;
pub mod ticket_link;
pub mod ticket_watcher;
pub mod user;
