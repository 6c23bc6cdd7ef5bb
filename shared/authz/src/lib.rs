//! Authorization: who may do what where, decided by Casbin.
//!
//! The grants (role → action per domain pattern) are `policies/model.conf`
//! and `policies/policy.csv`, compiled in. Role assignments come from the
//! database with the [`Principal`] on every request, so revocations count at
//! once. Every use case asks [`Authz::allows`] (one ticket) or
//! [`Authz::scope`] (lists), and nothing else decides access.

use casbin::{CoreApi, DefaultModel, Enforcer, StringAdapter};
use logbuch_domain::{AccessScope, Action, QueueId, Role, ScopeGrant, TenantCode, TenantId, UserId};

pub const MODEL: &str = include_str!("../../../policies/model.conf");
pub const POLICY: &str = include_str!("../../../policies/policy.csv");

/// A tenant as authorization sees it: id and code (the code names the domain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantRef {
    pub id: TenantId,
    pub code: TenantCode,
}

/// One role a person holds: everywhere (federal roles), in a tenant, or in one queue of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub role: Role,
    pub tenant: Option<TenantId>,
    pub queue: Option<QueueId>,
}

impl Assignment {
    pub fn covers(&self, tenant: TenantId, queue: Option<QueueId>) -> bool {
        match (self.tenant, self.queue) {
            (None, _) => true,
            (Some(t), None) => t == tenant,
            (Some(t), Some(q)) => t == tenant && queue == Some(q),
        }
    }
}

/// The authenticated person a use case acts for.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user: UserId,
    pub email: String,
    pub display_name: String,
    pub assignments: Vec<Assignment>,
}

/// What an action is about: a tenant and, for tickets, its queue.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub tenant: &'a TenantRef,
    pub queue: Option<QueueId>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    #[error("authorization policy is broken: {0}")]
    Policy(#[from] casbin::Error),
}

pub struct Authz {
    enforcer: Enforcer,
    /// Decisions already taken: the policy is compiled in and never changes
    /// while running, and evaluating it is far dearer than a lookup.
    decided: std::sync::RwLock<std::collections::HashMap<(Role, Action, String), bool>>,
}

impl std::fmt::Debug for Authz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authz")
    }
}

impl Authz {
    /// Loads the compiled-in model and policy.
    pub async fn new() -> Result<Self, AuthzError> {
        let model = DefaultModel::from_str(MODEL).await?;
        let policy: String = POLICY
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let enforcer = Enforcer::new(model, StringAdapter::new(policy)).await?;
        Ok(Self { enforcer, decided: Default::default() })
    }

    /// Does `role` grant `action` in `tenant`'s domain? (The policy alone.)
    pub fn role_grants(&self, role: Role, tenant: &TenantCode, action: Action) -> bool {
        let key = (role, action, tenant.authz_domain());
        if let Some(d) = self.decided.read().ok().and_then(|m| m.get(&key).copied()) {
            return d;
        }
        let (obj, act) = action.policy_pair();
        // A policy that fails to evaluate denies; the model is compiled in and tested.
        let d = self.enforcer.enforce((role.as_str(), key.2.as_str(), obj, act)).unwrap_or(false);
        if let Ok(mut m) = self.decided.write() {
            m.insert(key, d);
        }
        d
    }

    /// May `who` do `action` on `target`?
    pub fn allows(&self, who: &Principal, action: Action, target: Target<'_>) -> bool {
        who.assignments
            .iter()
            .any(|a| a.covers(target.tenant.id, target.queue) && self.role_grants(a.role, &target.tenant.code, action))
    }

    /// Where may `who` do `action`? `tenants` is every tenant there is.
    pub fn scope(&self, who: &Principal, action: Action, tenants: &[TenantRef]) -> AccessScope {
        let mut grants: Vec<ScopeGrant> = Vec::new();
        for a in &who.assignments {
            for t in tenants.iter().filter(|t| a.tenant.is_none_or(|id| id == t.id)) {
                if self.role_grants(a.role, &t.code, action) {
                    grants.push(ScopeGrant { tenant: t.id, queue: a.queue });
                }
            }
        }
        // A whole-tenant grant makes the queue grants of that tenant redundant.
        let whole: Vec<TenantId> = grants.iter().filter(|g| g.queue.is_none()).map(|g| g.tenant).collect();
        grants.retain(|g| g.queue.is_none() || !whole.contains(&g.tenant));
        grants.sort_by_key(|g| (g.tenant, g.queue));
        grants.dedup();
        if !tenants.is_empty() && tenants.iter().all(|t| whole.contains(&t.id)) {
            AccessScope::All
        } else {
            AccessScope::Only(grants)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: i64, code: &str) -> TenantRef {
        TenantRef { id: TenantId(id), code: TenantCode::parse(code).unwrap() }
    }

    fn who(assignments: Vec<Assignment>) -> Principal {
        Principal { user: UserId(1), email: "a@b".into(), display_name: "A".into(), assignments }
    }

    #[tokio::test]
    async fn policy_loads_and_grants_by_domain() {
        let z = Authz::new().await.unwrap();
        let nw = t(2, "nw");
        let bund = t(1, "bund");
        assert!(z.role_grants(Role::Helper, &nw.code, Action::HandBack));
        assert!(!z.role_grants(Role::Helper, &bund.code, Action::HandBack));
        assert!(!z.role_grants(Role::Helper, &nw.code, Action::HandOver));
        assert!(z.role_grants(Role::FederalOfficer, &nw.code, Action::HandOver));
        assert!(!z.role_grants(Role::Reader, &nw.code, Action::TakeTicket));
        assert!(z.role_grants(Role::Reader, &nw.code, Action::ReadTicket));
    }

    #[tokio::test]
    async fn scope_of_a_queue_helper_is_the_queue() {
        let z = Authz::new().await.unwrap();
        let tenants = [t(1, "bund"), t(2, "nw"), t(3, "by")];
        let p = who(vec![Assignment { role: Role::Helper, tenant: Some(TenantId(2)), queue: Some(QueueId(7)) }]);
        assert_eq!(
            z.scope(&p, Action::ReadTicket, &tenants),
            AccessScope::Only(vec![ScopeGrant { tenant: TenantId(2), queue: Some(QueueId(7)) }])
        );
        let fed = who(vec![Assignment { role: Role::FederalOfficer, tenant: None, queue: None }]);
        assert_eq!(z.scope(&fed, Action::ReadTicket, &tenants), AccessScope::All);
        let nobody = who(vec![]);
        assert!(z.scope(&nobody, Action::ReadTicket, &tenants).is_empty());
    }
}
