//! Merging two tickets of a tenant: the merged one's messages, files,
//! search documents, mail keys and watchers move to the survivor; the merged
//! ticket stays (resolved) and points to the survivor, so mail that names it
//! lands in the survivor.

use crate::{Result, now};
use sea_orm::{ConnectionTrait, Statement};

/// Moves everything of `merged` to `survivor` and records the merge.
pub async fn merge(db: &impl ConnectionTrait, merged: i64, survivor: i64, by: i64) -> Result<()> {
    let backend = db.get_database_backend();
    let run = |sql: &str, values: Vec<sea_orm::Value>| {
        let sql = crate::placeholders(backend, sql);
        async move { db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await }
    };
    for table in ["messages", "attachments", "intake_keys", "search_docs"] {
        run(&format!("UPDATE {table} SET ticket_id = $1 WHERE ticket_id = $2"), vec![survivor.into(), merged.into()])
            .await?;
    }
    run(
        "INSERT INTO ticket_watchers (ticket_id, user_id) SELECT $1, w.user_id FROM ticket_watchers w \
         WHERE w.ticket_id = $2 AND w.user_id NOT IN (SELECT user_id FROM ticket_watchers WHERE ticket_id = $3)",
        vec![survivor.into(), merged.into(), survivor.into()],
    )
    .await?;
    run("DELETE FROM ticket_watchers WHERE ticket_id = $1", vec![merged.into()]).await?;
    run(
        "INSERT INTO ticket_merges (merged_id, survivor_id, merged_by, merged_at) VALUES ($1, $2, $3, $4)",
        vec![merged.into(), survivor.into(), by.into(), now().into()],
    )
    .await?;
    Ok(())
}

/// The ticket `id` was merged into, following a chain of merges.
pub async fn survivor_of(db: &impl ConnectionTrait, id: i64) -> Result<Option<i64>> {
    let backend = db.get_database_backend();
    let mut current = id;
    let mut found = None;
    // A chain is short; the bound only guards against a cycle written by hand.
    for _ in 0..16 {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                crate::placeholders(backend, "SELECT survivor_id FROM ticket_merges WHERE merged_id = $1"),
                vec![current.into()],
            ))
            .await?;
        match row.and_then(|r| r.try_get_by_index::<i64>(0).ok()) {
            Some(next) => {
                found = Some(next);
                current = next;
            }
            None => break,
        }
    }
    Ok(found)
}
