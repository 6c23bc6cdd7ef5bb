//! Table `queues`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "queues")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub slug: String,
    pub name: String,
    pub default_priority: i16,
    pub first_response_minutes: Option<i32>,
    pub resolution_minutes: Option<i32>,
    pub escalation_minutes: Option<i32>,
    pub created_at: DateTimeUtc,
    /// Fixed addresses told about new tickets, comma-separated.
    pub notify: Option<String>,
    /// Whether requesters get an acknowledgement with the ticket number.
    pub acknowledge: bool,
    /// Replies are not mailed in clear: the requester gets a link to the status page.
    pub portal_only: bool,
    /// Resolved tickets are removed this many months after resolution (None: kept).
    pub retention_months: Option<i32>,
    /// `anonymise` or `delete`.
    pub retention_mode: Option<String>,
    /// OpenPGP: `optional` or `required` (never a reply in clear); None: off.
    pub encryption: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
