//! The append-only history of every ticket change, and the access log of reads.

use crate::entity::{access_log, history};
use crate::{Result, now};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

pub use history::Model as Entry;

/// Appends one change: `field` went from `old` to `new`, by `actor` (none: the system).
pub async fn record(
    db: &impl ConnectionTrait,
    ticket_id: i64,
    actor: Option<i64>,
    field: &str,
    old: Option<String>,
    new: Option<String>,
) -> Result<()> {
    record_at(db, ticket_id, actor, now(), field, old, new).await
}

/// As [`record`], at a given time (scheduled work records the time it acted for).
pub async fn record_at(
    db: &impl ConnectionTrait,
    ticket_id: i64,
    actor: Option<i64>,
    at: chrono::DateTime<chrono::Utc>,
    field: &str,
    old: Option<String>,
    new: Option<String>,
) -> Result<()> {
    entry(ticket_id, actor, at, field, old, new).insert(db).await?;
    Ok(())
}

/// The row of one change, for [`record_at`] and for batches that write many at once.
pub fn entry(
    ticket_id: i64,
    actor: Option<i64>,
    at: chrono::DateTime<chrono::Utc>,
    field: &str,
    old: Option<String>,
    new: Option<String>,
) -> history::ActiveModel {
    history::ActiveModel {
        ticket_id: Set(ticket_id),
        actor_id: Set(actor),
        at: Set(at),
        field: Set(field.to_owned()),
        old_value: Set(old),
        new_value: Set(new),
        ..Default::default()
    }
}

/// Appends one change by someone who is no staff member (the requester on the status page).
pub async fn record_by(
    db: &impl ConnectionTrait,
    ticket_id: i64,
    label: &str,
    field: &str,
    old: Option<String>,
    new: Option<String>,
) -> Result<()> {
    let mut row = entry(ticket_id, None, now(), field, old, new);
    row.actor_label = Set(Some(label.to_owned()));
    row.insert(db).await?;
    Ok(())
}

/// The history of a ticket the caller has already been allowed to read.
pub async fn of_ticket(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<Entry>> {
    Ok(history::Entity::find()
        .filter(history::Column::TicketId.eq(ticket_id))
        .order_by_asc(history::Column::Id)
        .all(db)
        .await?)
}

/// Notes that a person read a ticket (or downloaded one of its files).
pub async fn log_access(db: &impl ConnectionTrait, ticket_id: i64, user_id: i64, what: &str) -> Result<()> {
    // One statement, nothing read back: every read of a ticket pays for it.
    access_log::Entity::insert(access_log::ActiveModel {
        ticket_id: Set(ticket_id),
        user_id: Set(user_id),
        at: Set(now()),
        what: Set(what.to_owned()),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn access_of_ticket(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<access_log::Model>> {
    Ok(access_log::Entity::find()
        .filter(access_log::Column::TicketId.eq(ticket_id))
        .order_by_asc(access_log::Column::Id)
        .all(db)
        .await?)
}

/// When `field` of a ticket last changed, if ever.
pub async fn last_change_of(
    db: &impl ConnectionTrait,
    ticket_id: i64,
    field: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    Ok(history::Entity::find()
        .filter(history::Column::TicketId.eq(ticket_id))
        .filter(history::Column::Field.eq(field))
        .order_by_desc(history::Column::Id)
        .one(db)
        .await?
        .map(|h| h.at))
}
