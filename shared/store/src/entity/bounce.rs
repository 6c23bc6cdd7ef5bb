//! Table `bounces`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bounces")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub raw_mail_id: i64,
    pub tenant_id: i64,
    pub ticket_id: i64,
    pub address: String,
    pub status: Option<String>,
    /// The normalised reason (`user_unknown`, `mailbox_full`, `complaint`, …).
    pub reason: Option<String>,
    /// True when attached to the ticket whose mail bounced, false when collected.
    pub matched: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
