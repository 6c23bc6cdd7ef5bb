//! Roles people hold and actions they take; the policy files grant one to the other.

use crate::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role held in a tenant (optionally limited to some of its queues) or,
/// for federal roles, everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Works the tickets of a tenant, or of named queues of it.
    Helper,
    /// Reads tickets of a tenant or named queues, changes nothing.
    Reader,
    /// Reads and works every tenant, hands tickets between tenants.
    FederalOfficer,
    /// Manages queues and users of one tenant, works its tickets.
    TenantAdmin,
    /// Manages everything.
    Admin,
}

impl Role {
    pub const ALL: &'static [Role] =
        &[Role::Helper, Role::Reader, Role::FederalOfficer, Role::TenantAdmin, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Helper => "helper",
            Role::Reader => "reader",
            Role::FederalOfficer => "federal_officer",
            Role::TenantAdmin => "tenant_admin",
            Role::Admin => "admin",
        }
    }

    /// Federal roles hold everywhere and take no tenant.
    pub fn is_global(self) -> bool {
        matches!(self, Role::FederalOfficer | Role::Admin)
    }
}

impl FromStr for Role {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.iter().copied().find(|r| r.as_str() == s.trim()).ok_or_else(|| {
            ParseError::new(
                "role",
                format!("„{s}“ ist keine Rolle; erlaubt: helper, reader, federal_officer, tenant_admin, admin"),
            )
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a person can do; each is granted per role in `policies/policy.csv`
/// as an (object, action) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ReadTicket,
    CreateTicket,
    TakeTicket,
    AssignTicket,
    WatchTicket,
    SetPriority,
    SetStatus,
    MoveQueue,
    /// Hand a ticket to any other tenant.
    HandOver,
    /// Hand a ticket back to the Bund.
    HandBack,
    AddNote,
    AddReply,
    Resolve,
    Reopen,
    ManageQueues,
    ManageUsers,
    /// See and retry the mail intake's quarantine and the outbox (sees every tenant's mail).
    ManageIntake,
    /// See a tenant's reports (figures, no contents).
    ReadReports,
    /// Member data as the handbook requires: legal holds, access logs,
    /// a requester's data export and erasure (DSGVO Art. 15/17).
    ManageMemberData,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::ReadTicket,
        Action::CreateTicket,
        Action::TakeTicket,
        Action::AssignTicket,
        Action::WatchTicket,
        Action::SetPriority,
        Action::SetStatus,
        Action::MoveQueue,
        Action::HandOver,
        Action::HandBack,
        Action::AddNote,
        Action::AddReply,
        Action::Resolve,
        Action::Reopen,
        Action::ManageQueues,
        Action::ManageUsers,
        Action::ManageIntake,
        Action::ReadReports,
        Action::ManageMemberData,
    ];

    /// The (object, action) pair as written in the policy file.
    pub fn policy_pair(self) -> (&'static str, &'static str) {
        match self {
            Action::ReadTicket => ("ticket", "read"),
            Action::CreateTicket => ("ticket", "create"),
            Action::TakeTicket => ("ticket", "take"),
            Action::AssignTicket => ("ticket", "assign"),
            Action::WatchTicket => ("ticket", "watch"),
            Action::SetPriority => ("ticket", "priority"),
            Action::SetStatus => ("ticket", "status"),
            Action::MoveQueue => ("ticket", "move"),
            Action::HandOver => ("ticket", "handover"),
            Action::HandBack => ("ticket", "handback"),
            Action::AddNote => ("ticket", "note"),
            Action::AddReply => ("ticket", "reply"),
            Action::Resolve => ("ticket", "resolve"),
            Action::Reopen => ("ticket", "reopen"),
            Action::ManageQueues => ("queues", "manage"),
            Action::ManageUsers => ("users", "manage"),
            Action::ManageIntake => ("intake", "manage"),
            Action::ReadReports => ("reports", "read"),
            Action::ManageMemberData => ("memberdata", "manage"),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (obj, act) = self.policy_pair();
        write!(f, "{obj}.{act}")
    }
}
