//! Table `tenants`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub code: String,
    pub name: String,
    pub default_queue_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// The web form's help topics in effect here (JSON, resolved from the federation file).
    pub topics: Option<String>,
    /// The business calendar (JSON of `logbuch_domain::calendar::Calendar`).
    pub calendar: Option<String>,
    /// The processes in effect here (JSON of `logbuch_config::ResolvedProcess`).
    pub processes: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
