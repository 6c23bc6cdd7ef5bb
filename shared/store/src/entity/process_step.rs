//! Table `process_steps`: the steps of a started process, copied from its
//! template at the start; the current step (first not done) has a due time.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "process_steps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub process_id: i64,
    pub ticket_id: i64,
    pub position: i32,
    pub name: String,
    /// Canned response mailed when the step is done.
    pub send: Option<String>,
    /// Done by the requester's answer.
    pub wait_requester: bool,
    pub evidence_label: Option<String>,
    pub deadline_minutes: Option<i32>,
    pub due_at: Option<DateTimeUtc>,
    pub done_at: Option<DateTimeUtc>,
    pub done_by: Option<i64>,
    /// Who did it when not a staff member (the requester's address).
    pub done_label: Option<String>,
    pub evidence: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
