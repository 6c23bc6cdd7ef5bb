//! Tags on tickets: free words per tenant, suggested from what the tenant uses.

use crate::Result;
use crate::entity::ticket_tag;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement};

pub async fn of_ticket(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<String>> {
    Ok(ticket_tag::Entity::find()
        .select_only()
        .column(ticket_tag::Column::Tag)
        .filter(ticket_tag::Column::TicketId.eq(ticket_id))
        .order_by_asc(ticket_tag::Column::Tag)
        .into_tuple()
        .all(db)
        .await?)
}

/// Adds a tag; false when the ticket had it already.
pub async fn add(db: &impl ConnectionTrait, ticket_id: i64, tag: &str) -> Result<bool> {
    let r = ticket_tag::Entity::insert(ticket_tag::ActiveModel { ticket_id: Set(ticket_id), tag: Set(tag.to_owned()) })
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    Ok(matches!(r, sea_orm::TryInsertResult::Inserted(1)))
}

/// Removes a tag; false when the ticket did not have it.
pub async fn remove(db: &impl ConnectionTrait, ticket_id: i64, tag: &str) -> Result<bool> {
    let r = ticket_tag::Entity::delete_many()
        .filter(ticket_tag::Column::TicketId.eq(ticket_id))
        .filter(ticket_tag::Column::Tag.eq(tag))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}

/// The tags a tenant's tickets carry, most used first (for suggestions).
pub async fn of_tenant(db: &impl ConnectionTrait, tenant_id: i64, limit: u64) -> Result<Vec<String>> {
    let backend = db.get_database_backend();
    let sql = crate::placeholders(
        backend,
        "SELECT g.tag FROM ticket_tags g JOIN tickets t ON t.id = g.ticket_id WHERE t.tenant_id = $1 \
         GROUP BY g.tag ORDER BY COUNT(*) DESC, g.tag LIMIT $2",
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows =
        db.query_all_raw(Statement::from_sql_and_values(backend, sql, vec![tenant_id.into(), limit.into()])).await?;
    Ok(rows.iter().filter_map(|r| r.try_get_by_index::<String>(0).ok()).collect())
}
