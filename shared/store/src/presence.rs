//! Who has a ticket's reply form open: each page view with the form
//! records the person and the time; others see it for a few minutes.

use crate::{Result, now};
use sea_orm::{ConnectionTrait, Statement};

/// Records that `user_id` has the ticket open now; returns the others who
/// had it open since `since`, with when they last did (newest first).
pub async fn touch_and_others(
    db: &impl ConnectionTrait,
    ticket_id: i64,
    user_id: i64,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(i64, chrono::DateTime<chrono::Utc>)>> {
    let backend = db.get_database_backend();
    let upsert = crate::placeholders(
        backend,
        "INSERT INTO ticket_presence (ticket_id, user_id, seen_at) VALUES ($1, $2, $3) \
         ON CONFLICT (ticket_id, user_id) DO UPDATE SET seen_at = excluded.seen_at",
    );
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        upsert,
        vec![ticket_id.into(), user_id.into(), now().into()],
    ))
    .await?;
    let others = crate::placeholders(
        backend,
        "SELECT user_id, seen_at FROM ticket_presence WHERE ticket_id = $1 AND user_id <> $2 AND seen_at >= $3 \
         ORDER BY seen_at DESC",
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            others,
            vec![ticket_id.into(), user_id.into(), since.into()],
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some((r.try_get_by_index::<i64>(0).ok()?, r.try_get_by_index::<chrono::DateTime<chrono::Utc>>(1).ok()?))
        })
        .collect())
}
