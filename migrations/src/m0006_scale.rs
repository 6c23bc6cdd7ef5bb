//! For a million tickets:
//! - The working lists (active tickets of a tenant or a queue, most urgent
//!   and longest waiting first) read a partial index in list order and stop
//!   after one page, instead of sorting every active ticket of the tenant.
//! - PostgreSQL: search documents carry their ticket's tenant, indexed with
//!   the document id, so a search in one tenant reads that tenant's newest
//!   matches instead of the whole federation's. (SQLite's FTS5 table is left
//!   as it is: it ranks every match.) The full-text GIN index covers tenant
//!   and document together (btree_gin, a trusted extension since PostgreSQL 13).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // The predicate is the lists' literal filter (tickets.rs, ACTIVE), so the planner can prove it.
        for (name, col) in [("tickets_active_tenant", "tenant_id"), ("tickets_active_queue", "queue_id")] {
            db.execute_unprepared(&format!(
                "CREATE INDEX {name} ON tickets ({col}, priority DESC, updated_at, id) \
                 WHERE status IN ('new', 'open', 'waiting')"
            ))
            .await?;
        }
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared("ALTER TABLE search_docs ADD COLUMN tenant_id BIGINT").await?;
        db.execute_unprepared(
            "UPDATE search_docs SET tenant_id = tickets.tenant_id FROM tickets WHERE tickets.id = search_docs.ticket_id",
        )
        .await?;
        db.execute_unprepared("ALTER TABLE search_docs ALTER COLUMN tenant_id SET NOT NULL").await?;
        // Newest documents of a tenant first: for words found everywhere.
        db.execute_unprepared("CREATE INDEX search_docs_tenant ON search_docs (tenant_id, id)").await?;
        // Tenant and words in one GIN: for words found rarely.
        db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS btree_gin").await?;
        db.execute_unprepared(crate::PG_SEARCH_INDEX_DDL).await?;
        db.execute_unprepared("DROP INDEX search_docs_document").await?;
        // A finer word census: a rare word is then known to be rare, and its
        // search reads only the full-text index.
        db.execute_unprepared("ALTER TABLE search_docs ALTER COLUMN document SET STATISTICS 1000").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("CREATE INDEX search_docs_document ON search_docs USING GIN (document)").await?;
            db.execute_unprepared("ALTER TABLE search_docs DROP COLUMN tenant_id").await?;
        }
        db.execute_unprepared("DROP INDEX tickets_active_tenant").await?;
        db.execute_unprepared("DROP INDEX tickets_active_queue").await?;
        Ok(())
    }
}
