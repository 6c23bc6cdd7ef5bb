//! Rows a batch transaction writes at its end in one statement per table
//! instead of one per mail: history entries, search documents and failed
//! addresses of bounces, none of which is read back inside the batch. The
//! intake's dunning peak was bound by the statements PostgreSQL can take per
//! second; these three were half of them.

use crate::entity::{bounce, history};
use crate::{Result, now, search};
use sea_orm::{ConnectionTrait, EntityTrait};

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
    /// A history entry, as [`crate::history::record`] writes it.
    pub fn history(&mut self, ticket_id: i64, field: &str, old: Option<String>, new: Option<String>) {
        self.history.push(crate::history::entry(ticket_id, None, now(), field, old, new));
    }

    /// A search document of a ticket, written with the others by [`search::add_documents`].
    pub fn document(&mut self, ticket_id: i64, text: &str) {
        self.documents.push((ticket_id, text.to_owned()));
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
            search::add_documents(db, chunk).await?;
        }
        Ok(())
    }
}
