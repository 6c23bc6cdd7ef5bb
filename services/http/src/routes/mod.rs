//! Route handlers by resource.

pub mod auth;
pub mod intake;
pub mod member_data;
pub mod meta;
pub mod templates;
pub mod tickets;
