//! Bulk loading for demonstration and benchmark data (`logbuch admin
//! seed-demo`): many rows per statement, search documents built by the
//! database from the stored messages.

use crate::Result;
use crate::entity::{history, message, ticket};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};

/// Statements carry at most this many rows (SQLite binds at most 32,766 values).
const ROWS_PER_STATEMENT: usize = 1500;

/// The first free ticket id; on PostgreSQL the id sequence is moved past
/// `count` ids from there, so tickets opened meanwhile cannot collide.
pub async fn reserve_ticket_ids(db: &impl ConnectionTrait, count: u64) -> Result<i64> {
    let backend = db.get_database_backend();
    let row = db.query_one_raw(Statement::from_string(backend, "SELECT COALESCE(MAX(id), 0) + 1 FROM tickets")).await?;
    let first: i64 = match row {
        Some(r) => r.try_get_by_index(0)?,
        None => 1,
    };
    if backend == DbBackend::Postgres {
        let last = first + i64::try_from(count).unwrap_or(i64::MAX / 2);
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT setval(pg_get_serial_sequence('tickets', 'id'), GREATEST($1, (SELECT last_value FROM tickets_id_seq)))",
            [last.into()],
        ))
        .await?;
    }
    Ok(first)
}

/// Inserts tickets (with their ids), messages and history rows of one batch.
pub async fn insert_batch(
    db: &impl ConnectionTrait,
    tickets: Vec<ticket::ActiveModel>,
    messages: Vec<message::ActiveModel>,
    entries: Vec<history::ActiveModel>,
) -> Result<()> {
    insert_in_chunks(db, tickets, ROWS_PER_STATEMENT).await?;
    insert_in_chunks(db, messages, ROWS_PER_STATEMENT).await?;
    insert_in_chunks(db, entries, ROWS_PER_STATEMENT * 2).await
}

/// Inserts rows `per` at a time.
async fn insert_in_chunks<A>(db: &impl ConnectionTrait, mut rows: Vec<A>, per: usize) -> Result<()>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(per));
        A::Entity::insert_many(std::mem::replace(&mut rows, rest)).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Search documents for the messages of tickets `first..=last`, built by
/// the database as [`crate::messages::insert`] would build them one by one.
pub async fn index_messages(db: &impl ConnectionTrait, first: i64, last: i64) -> Result<()> {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        "INSERT INTO search_docs (ticket_id, tenant_id, document) \
         SELECT m.ticket_id, t.tenant_id, to_tsvector('german', left(concat_ws(E'\\n', m.subject, m.from_addr, m.body_text), 100000)) \
         FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.ticket_id BETWEEN $1 AND $2"
    } else {
        "INSERT INTO search_docs (ticket_id, content) \
         SELECT ticket_id, COALESCE(subject, '') || char(10) || COALESCE(from_addr, '') || char(10) || body_text FROM messages WHERE ticket_id BETWEEN ? AND ?"
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [first.into(), last.into()])).await?;
    Ok(())
}

/// PostgreSQL: drops the full-text index before a large load (rebuilding it
/// once is much faster than updating it row by row). Elsewhere a no-op.
pub async fn suspend_search_index(db: &impl ConnectionTrait) -> Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {}", logbuch_migrations::PG_SEARCH_INDEX)).await?;
    }
    Ok(())
}

/// Rebuilds what [`suspend_search_index`] dropped, vacuums and refreshes the planner's statistics.
pub async fn resume_search_index(db: &sea_orm::DatabaseConnection) -> Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = crate::begin_write(db).await?;
        txn.execute_unprepared("SET LOCAL maintenance_work_mem = '512MB'").await?;
        txn.execute_unprepared(logbuch_migrations::PG_SEARCH_INDEX_DDL).await?;
        txn.commit().await?;
        // VACUUM too: fresh rows carry no visibility map or hint bits yet, so
        // the first readers would write them back (and index-only scans
        // would visit the heap).
        db.execute_unprepared("VACUUM (ANALYZE) tickets, messages, history, search_docs").await?;
    } else {
        db.execute_unprepared("ANALYZE").await?;
    }
    Ok(())
}
