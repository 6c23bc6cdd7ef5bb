//! Full-text search documents: one per ticket (subject, requester) and one
//! per message (subject, text). PostgreSQL: a `tsvector` with German
//! stemming and a GIN index; SQLite: an FTS5 table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE TABLE search_docs (id BIGSERIAL PRIMARY KEY, ticket_id BIGINT NOT NULL REFERENCES tickets(id), document TSVECTOR NOT NULL)",
                )
                .await?;
                db.execute_unprepared("CREATE INDEX search_docs_document ON search_docs USING GIN (document)").await?;
                db.execute_unprepared("CREATE INDEX search_docs_ticket ON search_docs (ticket_id)").await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE search_docs USING fts5(ticket_id UNINDEXED, content, tokenize = 'unicode61 remove_diacritics 2')",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP TABLE search_docs").await?;
        Ok(())
    }
}
