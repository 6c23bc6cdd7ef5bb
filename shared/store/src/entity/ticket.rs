//! Table `tickets`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub queue_id: i64,
    pub subject: String,
    pub status: String,
    pub priority: i16,
    pub owner_id: Option<i64>,
    pub requester: String,
    pub requester_name: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub first_response_due: Option<DateTimeUtc>,
    pub resolution_due: Option<DateTimeUtc>,
    pub first_responded_at: Option<DateTimeUtc>,
    /// Since when it waits on the requester: its due times are paused.
    pub waiting_since: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
