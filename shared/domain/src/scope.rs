//! Where a person may do something: every tenant, or a set of tenants and queues.
//!
//! Computed by the authorization layer, consumed by the scoped repositories,
//! which turn it into a SQL `WHERE` clause.

use crate::{QueueId, TenantId};

/// One tenant (all of it) or one queue of a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScopeGrant {
    pub tenant: TenantId,
    pub queue: Option<QueueId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessScope {
    /// Every tenant (federal roles).
    All,
    /// Only these; empty means nothing at all.
    Only(Vec<ScopeGrant>),
}

impl AccessScope {
    pub fn allows(&self, tenant: TenantId, queue: QueueId) -> bool {
        match self {
            AccessScope::All => true,
            AccessScope::Only(grants) => {
                grants.iter().any(|g| g.tenant == tenant && g.queue.is_none_or(|q| q == queue))
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, AccessScope::Only(g) if g.is_empty())
    }

    /// Whole tenants in scope (ignoring queue-limited grants).
    pub fn whole_tenants(&self) -> Vec<TenantId> {
        match self {
            AccessScope::All => Vec::new(),
            AccessScope::Only(g) => g.iter().filter(|g| g.queue.is_none()).map(|g| g.tenant).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_grants_limit_to_the_queue() {
        let s = AccessScope::Only(vec![
            ScopeGrant { tenant: TenantId(1), queue: Some(QueueId(10)) },
            ScopeGrant { tenant: TenantId(2), queue: None },
        ]);
        assert!(s.allows(TenantId(1), QueueId(10)));
        assert!(!s.allows(TenantId(1), QueueId(11)));
        assert!(s.allows(TenantId(2), QueueId(99)));
        assert!(!s.allows(TenantId(3), QueueId(10)));
        assert!(AccessScope::All.allows(TenantId(3), QueueId(1)));
        assert!(AccessScope::Only(vec![]).is_empty());
    }
}
