//! Rows a batch transaction writes at its end in one statement per table
//! instead of one per mail: history entries, search documents, failed
//! addresses of bounces, intake keys, status-page links and outgoing mail,
//! none of which is read back inside the batch. The intake's dunning peak is
//! bound by the statements PostgreSQL can take per second.

use crate::entity::{bounce, history, intake_key, outbox, portal_link};
use crate::{Result, now, search};
use sea_orm::{ConnectionTrait, EntityTrait};

/// Rows to write before the transaction commits.
#[derive(Debug, Default)]
pub struct Deferred {
    history: Vec<history::ActiveModel>,
    documents: Vec<(i64, String)>,
    bounces: Vec<bounce::ActiveModel>,
    keys: Vec<intake_key::ActiveModel>,
    links: Vec<portal_link::ActiveModel>,
    outbox: Vec<Queued>,
}

/// An outgoing mail and the addresses it counts against (see [`Deferred::outbox`]).
#[derive(Debug)]
struct Queued {
    row: outbox::ActiveModel,
    limited: Vec<String>,
    max_per_day: i32,
}

/// Rows per statement (far below either database's parameter limit).
const CHUNK: usize = 400;

impl Deferred {
    /// A history entry, as [`crate::history::record`] writes it.
    pub fn history(&mut self, ticket_id: i64, field: &str, old: Option<String>, new: Option<String>) {
        self.history_by(ticket_id, None, field, old, new);
    }

    /// The same, by a staff member (`actor`).
    pub fn history_by(
        &mut self,
        ticket_id: i64,
        actor: Option<i64>,
        field: &str,
        old: Option<String>,
        new: Option<String>,
    ) {
        self.history.push(crate::history::entry(ticket_id, actor, now(), field, old, new));
    }

    /// A search document of a ticket, written with the others by [`search::add_documents`].
    pub fn document(&mut self, ticket_id: i64, text: &str) {
        self.documents.push((ticket_id, text.to_owned()));
    }

    pub fn bounces(&mut self, rows: impl IntoIterator<Item = bounce::ActiveModel>) {
        self.bounces.extend(rows);
    }

    /// Which ticket a mail's (Message-ID, tenant) went to.
    pub fn intake_key(&mut self, message_id: &str, tenant_id: i64, ticket_id: i64, raw_mail_id: i64) {
        self.keys.push(crate::intake::intake_key_row(message_id, tenant_id, ticket_id, raw_mail_id));
    }

    /// A status-page link (its token's hash), as [`crate::portal::insert_link`] writes it.
    pub fn portal_link(&mut self, token_hash: &str, ticket_id: i64, requester: &str) {
        self.links.push(crate::portal::link_row(token_hash, ticket_id, requester));
    }

    /// A mail for the outbox; [`Deferred::flush`] returns the ids. An
    /// automatic mail to outside addresses (`limited`) counts against each
    /// address's daily limit ([`crate::outbox::count_automatic`]) and is
    /// held back when one of them is over `max_per_day`.
    pub fn outbox(&mut self, row: outbox::ActiveModel, limited: Vec<String>, max_per_day: i32) {
        self.outbox.push(Queued { row, limited, max_per_day });
    }

    /// Writes everything collected, in the order it came; returns the ids of
    /// the outbox mails (to dispatch after the commit).
    pub async fn flush(&mut self, db: &impl ConnectionTrait) -> Result<Vec<i64>> {
        for chunk in std::mem::take(&mut self.history).chunks(CHUNK) {
            history::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
        }
        for chunk in std::mem::take(&mut self.bounces).chunks(CHUNK) {
            bounce::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
        }
        for chunk in std::mem::take(&mut self.documents).chunks(CHUNK) {
            search::add_documents(db, chunk).await?;
        }
        for chunk in std::mem::take(&mut self.keys).chunks(CHUNK) {
            intake_key::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
        }
        for chunk in std::mem::take(&mut self.links).chunks(CHUNK) {
            portal_link::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
        }
        let rows = within_limits(db, std::mem::take(&mut self.outbox)).await?;
        let mut mails = Vec::new();
        // An outbox row carries the whole mail: fewer to a statement.
        for chunk in rows.chunks(50) {
            mails.extend(crate::outbox::insert_many(db, chunk.to_vec()).await?);
        }
        Ok(mails)
    }
}

/// The mails not held back by a daily limit, after counting them all in one statement.
async fn within_limits(db: &impl ConnectionTrait, queued: Vec<Queued>) -> Result<Vec<outbox::ActiveModel>> {
    let mut adds: Vec<(String, i32)> = Vec::new();
    for a in queued.iter().flat_map(|q| &q.limited) {
        match adds.iter_mut().find(|(b, _)| b == a) {
            Some((_, n)) => *n += 1,
            None => adds.push((a.clone(), 1)),
        }
    }
    let day = now().format("%Y-%m-%d").to_string();
    let totals = crate::outbox::count_automatic_many(db, &adds, &day).await?;
    // Today's count before this batch, then one more per mail in order.
    let mut counts: std::collections::HashMap<String, i32> =
        adds.into_iter().map(|(a, n)| (a.clone(), totals.get(&a).copied().unwrap_or(n) - n)).collect();
    let mut rows = Vec::with_capacity(queued.len());
    for q in queued {
        let mut over = false;
        for a in &q.limited {
            let c = counts.entry(a.clone()).or_default();
            *c += 1;
            over |= *c > q.max_per_day;
        }
        if over {
            tracing::info!(ticket = ?q.row.ticket_id, "automatic mail held back: daily limit for the address reached");
        } else {
            rows.push(q.row);
        }
    }
    Ok(rows)
}
