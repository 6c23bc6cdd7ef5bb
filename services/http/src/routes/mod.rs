//! Route handlers by resource.

pub mod intake;
pub mod meta;
pub mod tickets;
