//! Database migrations, one file per change. Run by `logbuch migrate` and,
//! on the embedded default, at every start.

pub use sea_orm_migration::prelude::*;

mod m0001_core;
mod m0002_intake;
mod m0003_outbox;
mod m0004_templates;
mod m0005_search;
mod m0006_scale;
mod m0007_sessions;
mod m0008_session_recheck;
mod m0009_queue_figures;
mod m0010_principal_changes;
mod m0011_bounce_reason;
mod m0012_portal;
mod m0013_calendar;
mod m0014_processes;
mod m0015_report_indexes;
mod m0016_requester_context;
mod m0017_member_data;
mod m0018_import;

/// PostgreSQL's full-text index: one GIN over tenant and document (btree_gin),
/// so a rare word in one tenant is one index lookup. `logbuch admin
/// seed-demo` drops and rebuilds it around a large load.
pub const PG_SEARCH_INDEX: &str = "search_docs_tenant_document";
pub const PG_SEARCH_INDEX_DDL: &str =
    "CREATE INDEX IF NOT EXISTS search_docs_tenant_document ON search_docs USING GIN (tenant_id, document)";

/// PostgreSQL notifies this channel when users, API tokens or role
/// assignments change (migration m0010); servers listen on it.
pub const PRINCIPALS_CHANNEL: &str = "logbuch_principals";

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_core::Migration),
            Box::new(m0002_intake::Migration),
            Box::new(m0003_outbox::Migration),
            Box::new(m0004_templates::Migration),
            Box::new(m0005_search::Migration),
            Box::new(m0006_scale::Migration),
            Box::new(m0007_sessions::Migration),
            Box::new(m0008_session_recheck::Migration),
            Box::new(m0009_queue_figures::Migration),
            Box::new(m0010_principal_changes::Migration),
            Box::new(m0011_bounce_reason::Migration),
            Box::new(m0012_portal::Migration),
            Box::new(m0013_calendar::Migration),
            Box::new(m0014_processes::Migration),
            Box::new(m0015_report_indexes::Migration),
            Box::new(m0016_requester_context::Migration),
            Box::new(m0017_member_data::Migration),
            Box::new(m0018_import::Migration),
        ]
    }
}
