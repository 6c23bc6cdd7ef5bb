//! The report (issue 16) reads one tenant's tickets by when they were
//! opened and by when they were resolved: an index for each range. On
//! PostgreSQL they carry the columns the report counts and measures, so a
//! quarter's tickets are read from the index without visiting the table
//! (before, the report loaded every ticket open in the period as a whole
//! row: 270 ms for NW's quarter at a million tickets, now 73 ms;
//! BENCHMARKS.md). SQLite has no INCLUDE; there the ranges alone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DbBackend::Postgres;
        let include = |cols: &str| if pg { format!(" INCLUDE ({cols})") } else { String::new() };
        let db = m.get_connection();
        db.execute_unprepared(&format!(
            "CREATE INDEX tickets_report_opened ON tickets (tenant_id, created_at){}",
            include("queue_id, first_responded_at")
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX tickets_report_resolved ON tickets (tenant_id, resolved_at){}",
            include("created_at, queue_id, first_responded_at, first_response_due, resolution_due")
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX tickets_report_opened").await?;
        db.execute_unprepared("DROP INDEX tickets_report_resolved").await?;
        Ok(())
    }
}
