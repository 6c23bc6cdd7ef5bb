//! The report's reads (core's `reports`): counts per queue and the backlog
//! are counted by the database; only the durations, which need the
//! tenant's business calendar, come back per ticket, and then only as a
//! queue and two instants. All of them read one tenant's tickets by the
//! instant they were opened or resolved (indexes of migration m0015).

use crate::entity::ticket;
use crate::{Result, placeholders};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Statement, Value};

/// One queue's counts for a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounts {
    pub queue_id: i64,
    /// Opened in the period.
    pub opened: i64,
    /// Resolved in the period.
    pub resolved: i64,
    /// Resolved in the period with a due time (first response or resolution).
    pub with_due: i64,
    /// Of those, resolved and answered by their due times.
    pub kept: i64,
}

/// Counts per queue of `tenant_id`'s tickets opened or resolved in [from, to); queues without any are left out.
pub async fn queue_counts(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<QueueCounts>> {
    let backend = db.get_database_backend();
    // Two range reads (by opening, by resolution) rather than one with OR, so
    // each stays within its index; a ticket opened and resolved in the period
    // is in both, and counts once in each column.
    let sql = placeholders(
        backend,
        "SELECT queue_id, CAST(SUM(opened) AS BIGINT), CAST(SUM(resolved) AS BIGINT), \
           CAST(SUM(with_due) AS BIGINT), CAST(SUM(kept) AS BIGINT) FROM ( \
           SELECT queue_id, COUNT(*) AS opened, 0 AS resolved, 0 AS with_due, 0 AS kept FROM tickets \
           WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY queue_id \
           UNION ALL \
           SELECT queue_id, 0, COUNT(*), \
             SUM(CASE WHEN resolution_due IS NOT NULL OR first_response_due IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN (resolution_due IS NOT NULL OR first_response_due IS NOT NULL) \
                       AND (resolution_due IS NULL OR resolved_at <= resolution_due) \
                       AND (first_response_due IS NULL OR first_responded_at <= first_response_due) \
                  THEN 1 ELSE 0 END) \
           FROM tickets WHERE tenant_id = $4 AND resolved_at >= $5 AND resolved_at < $6 GROUP BY queue_id \
         ) AS per_queue GROUP BY queue_id ORDER BY queue_id",
    );
    let values: Vec<Value> = vec![tenant_id.into(), from.into(), to.into(), tenant_id.into(), from.into(), to.into()];
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    rows.iter()
        .map(|r| {
            let n = |i| r.try_get_by_index::<Option<i64>>(i).map(Option::unwrap_or_default);
            Ok(QueueCounts { queue_id: n(0)?, opened: n(1)?, resolved: n(2)?, with_due: n(3)?, kept: n(4)? })
        })
        .collect()
}

/// Open tickets of `tenant_id` at each instant of `points` (opened before it, not resolved before it).
///
/// `points` must lie in (from, to]: only tickets opened before `to` and not
/// resolved before `from` are read.
pub async fn backlog(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    points: &[DateTime<Utc>],
) -> Result<Vec<i64>> {
    if points.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::with_capacity(2 * points.len() + 5);
    let mut sums = Vec::with_capacity(points.len());
    for p in points {
        let n = values.len();
        sums.push(format!(
            "COALESCE(SUM(CASE WHEN created_at < ${} AND (resolved_at IS NULL OR resolved_at >= ${}) THEN 1 ELSE 0 END), 0)",
            n + 1,
            n + 2
        ));
        values.push((*p).into());
        values.push((*p).into());
    }
    let n = values.len();
    values.extend([tenant_id.into(), to.into(), tenant_id.into(), from.into(), to.into()]);
    // Unresolved, and resolved after the start: each branch one range of the resolution index.
    let sql = placeholders(
        backend,
        &format!(
            "SELECT {} FROM ( \
               SELECT created_at, resolved_at FROM tickets \
               WHERE tenant_id = ${} AND resolved_at IS NULL AND created_at < ${} \
               UNION ALL \
               SELECT created_at, resolved_at FROM tickets \
               WHERE tenant_id = ${} AND resolved_at >= ${} AND created_at < ${} \
             ) AS open_then",
            sums.join(", "),
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5
        ),
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("backlog".into()))?;
    (0..points.len()).map(|i| Ok(row.try_get_by_index::<i64>(i)?)).collect()
}

/// A ticket's queue and the two instants a duration runs between.
pub type Span = (i64, DateTime<Utc>, DateTime<Utc>);

/// Tickets of `tenant_id` opened in [from, to) and answered: queue, opened, first answered.
pub async fn first_responses(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Span>> {
    spans(db, tenant_id, ticket::Column::CreatedAt, ticket::Column::FirstRespondedAt, from, to).await
}

/// Tickets of `tenant_id` resolved in [from, to): queue, opened, resolved.
pub async fn resolutions(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Span>> {
    spans(db, tenant_id, ticket::Column::ResolvedAt, ticket::Column::ResolvedAt, from, to).await
}

/// Tickets of `tenant_id` whose `within` lies in [from, to) and that have an
/// `end`: queue, opened, `end`.
async fn spans(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    within: ticket::Column,
    end: ticket::Column,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Span>> {
    Ok(ticket::Entity::find()
        .select_only()
        .columns([ticket::Column::QueueId, ticket::Column::CreatedAt, end])
        .filter(ticket::Column::TenantId.eq(tenant_id))
        .filter(within.gte(from))
        .filter(within.lt(to))
        .filter(end.is_not_null())
        .into_tuple()
        .all(db)
        .await?)
}
