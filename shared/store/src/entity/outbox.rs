//! Table `outbox`: every mail Logbuch sends, written before it is sent.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ticket_id: Option<i64>,
    /// reply, acknowledgement or notification.
    pub kind: String,
    /// The Message-ID (without brackets): stable across retries.
    pub message_id: String,
    pub envelope_from: String,
    /// Envelope recipients, comma-separated.
    pub recipients: String,
    pub raw: Vec<u8>,
    /// Sent by Logbuch on its own (acknowledgement, notification), not by a person.
    pub automatic: bool,
    /// pending, sent or failed.
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
