//! Table `raw_mails`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "raw_mails")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source: String,
    pub message_id: String,
    pub sha256: String,
    pub size: i64,
    pub content: Vec<u8>,
    pub received_at: DateTimeUtc,
    /// pending, done or quarantined.
    pub state: String,
    /// normal, list, autoreply, bounce or own (after processing).
    pub kind: Option<String>,
    pub reason: Option<String>,
    pub attempts: i32,
    pub processed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
