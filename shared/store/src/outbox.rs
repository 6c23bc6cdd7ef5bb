//! The outbox: mails are written here in the transaction that causes them,
//! then sent by a job. A sent mail is never sent again.

use crate::entity::{auto_mail_count, outbox};
use crate::{Result, now};
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

pub use outbox::Model as OutboxMail;

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

pub async fn insert(db: &impl ConnectionTrait, row: outbox::ActiveModel) -> Result<OutboxMail> {
    Ok(row.insert(db).await?)
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<OutboxMail>> {
    Ok(outbox::Entity::find_by_id(id).one(db).await?)
}

/// Moves a pending mail to `sent` or `failed`; false if it was not pending.
pub async fn finish(db: &impl ConnectionTrait, id: i64, state: &str, error: Option<&str>) -> Result<bool> {
    let r = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(state))
        .col_expr(outbox::Column::LastError, Expr::value(error.map(str::to_owned)))
        .col_expr(outbox::Column::SentAt, Expr::value((state == SENT).then(now)))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::State.eq(PENDING))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Notes a failed try (the mail stays pending and is tried again).
pub async fn record_failure(db: &impl ConnectionTrait, id: i64, error: &str) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .col_expr(outbox::Column::LastError, Expr::value(error))
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn of_ticket(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<OutboxMail>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::TicketId.eq(ticket_id))
        .order_by_asc(outbox::Column::Id)
        .all(db)
        .await?)
}

/// Pending mails created before `before` (their job may be lost).
pub async fn stale_pending(
    db: &impl ConnectionTrait,
    before: chrono::DateTime<chrono::Utc>,
    limit: u64,
) -> Result<Vec<i64>> {
    Ok(outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(outbox::Column::State.eq(PENDING))
        .filter(outbox::Column::CreatedAt.lt(before))
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

/// Counts one more automatic mail to `address` today; returns today's count including it.
pub async fn count_automatic(db: &impl ConnectionTrait, address: &str, day: &str) -> Result<i32> {
    auto_mail_count::Entity::insert(auto_mail_count::ActiveModel {
        address: Set(address.to_owned()),
        day: Set(day.to_owned()),
        count: Set(0),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    auto_mail_count::Entity::update_many()
        .col_expr(auto_mail_count::Column::Count, Expr::col(auto_mail_count::Column::Count).add(1))
        .filter(auto_mail_count::Column::Address.eq(address))
        .filter(auto_mail_count::Column::Day.eq(day))
        .exec(db)
        .await?;
    Ok(auto_mail_count::Entity::find_by_id((address.to_owned(), day.to_owned())).one(db).await?.map_or(0, |c| c.count))
}
