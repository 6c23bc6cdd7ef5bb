//! Table `ticket_refs`: an imported ticket's subject tag in its old system.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_refs")]
pub struct Model {
    /// Lower case, without brackets: `logbuch.test #12`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag: String,
    pub ticket_id: i64,
    pub source: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
