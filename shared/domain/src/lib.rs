//! Domain vocabulary of Logbuch: identifiers, ticket states, roles and actions.
//!
//! Pure types, no I/O. Every other crate speaks in these words, so a tenant
//! id can never be confused with a queue id or compared with a bare integer.

mod access;
pub mod calendar;
mod ids;
mod scope;
mod ticket;

pub use access::{Action, Role};
pub use ids::{AttachmentId, MessageId, QueueId, TenantCode, TenantId, TicketId, UserId};
pub use scope::{AccessScope, ScopeGrant};
pub use ticket::{MessageKind, ParseError, Priority, Status};
