//! Rows a batch transaction writes at its end in one statement per table
//! instead of one per mail: history entries, search documents and failed
//! addresses of bounces, none of which is read back inside the batch. The
//! intake's dunning peak was bound by the statements PostgreSQL can take per
//! second; these three were half of them.

use crate::entity::{bounce, history};
use crate::{Result, now, search};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Set, Statement, Value};

/// Rows to write before the transaction commits.
#[derive(Debug, Default)]
pub struct Deferred {
    history: Vec<history::ActiveModel>,
    documents: Vec<(i64, String)>,
    bounces: Vec<bounce::ActiveModel>,
}

/// Rows per statement (far below either database's parameter limit).
const CHUNK: usize = 400;

impl Deferred {
    pub fn new() -> Self {
        Self::default()
    }

    /// A history entry, as [`crate::history::record`] writes it.
    pub fn history(&mut self, ticket_id: i64, field: &str, old: Option<String>, new: Option<String>) {
        self.history.push(history::ActiveModel {
            ticket_id: Set(ticket_id),
            actor_id: Set(None),
            at: Set(now()),
            field: Set(field.to_owned()),
            old_value: Set(old),
            new_value: Set(new),
            ..Default::default()
        });
    }

    /// A search document of a ticket, as [`search::add_document`] writes it.
    pub fn document(&mut self, ticket_id: i64, text: &str) {
        self.documents.push((ticket_id, search::truncated(text).to_owned()));
    }

    pub fn bounces(&mut self, rows: impl IntoIterator<Item = bounce::ActiveModel>) {
        self.bounces.extend(rows);
    }

    /// Writes everything collected, in the order it came.
    pub async fn flush(&mut self, db: &impl ConnectionTrait) -> Result<()> {
        for chunk in std::mem::take(&mut self.history).chunks(CHUNK) {
            history::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
        }
        for chunk in std::mem::take(&mut self.bounces).chunks(CHUNK) {
            bounce::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
        }
        for chunk in std::mem::take(&mut self.documents).chunks(CHUNK) {
            db.execute_raw(documents_statement(db.get_database_backend(), chunk)).await?;
        }
        Ok(())
    }
}

/// One INSERT for several search documents (PostgreSQL stems them in German
/// and copies the ticket's tenant, as `search::add_document` does).
fn documents_statement(backend: DbBackend, docs: &[(i64, String)]) -> Statement {
    let mut values: Vec<Value> = Vec::with_capacity(docs.len() * 2);
    let mut rows = Vec::with_capacity(docs.len());
    for (i, (ticket, text)) in docs.iter().enumerate() {
        values.push((*ticket).into());
        values.push(text.clone().into());
        rows.push(if backend == DbBackend::Postgres {
            format!("(${}::bigint, ${}::text)", 2 * i + 1, 2 * i + 2)
        } else {
            "(?, ?)".to_owned()
        });
    }
    let sql = if backend == DbBackend::Postgres {
        format!(
            "INSERT INTO search_docs (ticket_id, tenant_id, document) \
             SELECT t.id, t.tenant_id, to_tsvector('german', v.doc) FROM (VALUES {}) AS v(id, doc) \
             JOIN tickets t ON t.id = v.id",
            rows.join(", ")
        )
    } else {
        format!("INSERT INTO search_docs (ticket_id, content) VALUES {}", rows.join(", "))
    };
    Statement::from_sql_and_values(backend, sql, values)
}
