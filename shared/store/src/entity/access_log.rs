//! Table `access_log`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ticket_id: i64,
    pub user_id: i64,
    pub at: DateTimeUtc,
    pub what: String,
    /// Place in the ticket's chain (1, 2, …); with the three below set by the sealer.
    pub chain_pos: Option<i64>,
    /// The hash of the chain's entry before this one (64 zeros for the first).
    pub prev_hash: Option<String>,
    /// SHA-256 of `prev_hash` and this entry's content (`store::audit`).
    pub hash: Option<String>,
    /// The checkpoint round this entry was sealed in.
    pub sealed_in: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
