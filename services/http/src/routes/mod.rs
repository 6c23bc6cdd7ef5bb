//! Route handlers by resource.

pub mod meta;
pub mod tickets;
