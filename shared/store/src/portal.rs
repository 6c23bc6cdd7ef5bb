//! The requester's side: personal status-page links (hashed tokens), the
//! help topic's extra fields of a ticket, rate-limit counters shared by every
//! replica, and secrets the installation makes for itself.

use crate::entity::{portal_link, ticket_field};
use crate::{Result, now, placeholders};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, Statement};

pub use portal_link::Model as Link;
pub use ticket_field::Model as Field;

/// Stores a link (its token's hash) to `ticket_id` for `requester`.
pub async fn insert_link(db: &impl ConnectionTrait, token_hash: &str, ticket_id: i64, requester: &str) -> Result<()> {
    portal_link::Entity::insert(link_row(token_hash, ticket_id, requester)).exec_without_returning(db).await?;
    Ok(())
}

pub(crate) fn link_row(token_hash: &str, ticket_id: i64, requester: &str) -> portal_link::ActiveModel {
    portal_link::ActiveModel {
        token_hash: Set(token_hash.to_owned()),
        ticket_id: Set(ticket_id),
        requester: Set(requester.to_owned()),
        created_at: Set(now()),
        ..Default::default()
    }
}

pub async fn find_link(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<Link>> {
    Ok(portal_link::Entity::find().filter(portal_link::Column::TokenHash.eq(token_hash)).one(db).await?)
}

/// The topic's fields of a ticket, labelled, in the form's order.
pub async fn insert_fields(db: &impl ConnectionTrait, ticket_id: i64, fields: &[(String, String)]) -> Result<()> {
    if fields.is_empty() {
        return Ok(());
    }
    let rows = fields.iter().enumerate().map(|(i, (label, value))| ticket_field::ActiveModel {
        ticket_id: Set(ticket_id),
        position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
        label: Set(label.clone()),
        value: Set(value.clone()),
        ..Default::default()
    });
    ticket_field::Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
}

pub async fn fields_of(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<Field>> {
    Ok(ticket_field::Entity::find()
        .filter(ticket_field::Column::TicketId.eq(ticket_id))
        .order_by_asc(ticket_field::Column::Position)
        .all(db)
        .await?)
}

/// Counts one hit on `bucket` in time window `window` and returns the
/// window's count so far (this one included). One statement, atomic on both
/// databases, so every replica counts into the same row.
pub async fn hit(db: &impl ConnectionTrait, bucket: &str, window: i64) -> Result<i64> {
    let backend = db.get_database_backend();
    let sql = placeholders(
        backend,
        "INSERT INTO rate_hits (bucket, slot, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket, slot) DO UPDATE SET hits = rate_hits.hits + 1 RETURNING hits",
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, vec![bucket.into(), window.into()]))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("rate_hits".into()))?;
    Ok(i64::from(row.try_get_by_index::<i32>(0)?))
}

/// Forgets counters of windows before `window`.
pub async fn forget_hits_before(db: &impl ConnectionTrait, window: i64) -> Result<u64> {
    let backend = db.get_database_backend();
    let sql = placeholders(backend, "DELETE FROM rate_hits WHERE slot < $1");
    Ok(db.execute_raw(Statement::from_sql_and_values(backend, sql, vec![window.into()])).await?.rows_affected())
}

/// The installation's secret called `name`: made from `fresh` the first
/// time (the first replica to ask wins), the same for every replica after.
pub async fn secret(db: &impl ConnectionTrait, name: &str, fresh: &str) -> Result<String> {
    let backend = db.get_database_backend();
    let insert =
        placeholders(backend, "INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING");
    db.execute_raw(Statement::from_sql_and_values(backend, insert, vec![name.into(), fresh.into()])).await?;
    let select = placeholders(backend, "SELECT value FROM app_secrets WHERE name = $1");
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, select, vec![name.into()]))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("secret {name}")))?;
    Ok(row.try_get_by_index::<String>(0)?)
}

/// Tickets of `tenant_id` opened in [from, to) by web-form topic.
pub async fn topic_counts(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(String, i64)>> {
    let backend = db.get_database_backend();
    let sql = placeholders(
        backend,
        "SELECT f.value, COUNT(*) FROM ticket_fields f JOIN tickets t ON t.id = f.ticket_id \
         WHERE f.label = 'Thema' AND t.tenant_id = $1 AND t.created_at >= $2 AND t.created_at < $3 \
         GROUP BY f.value ORDER BY f.value",
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, vec![tenant_id.into(), from.into(), to.into()]))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((r.try_get_by_index::<String>(0).ok()?, r.try_get_by_index::<i64>(1).ok()?)))
        .collect())
}
