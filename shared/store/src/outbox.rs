//! The outbox: mails are written here in the transaction that causes them,
//! then sent by a job. A sent mail is never sent again.

use crate::entity::outbox;
use crate::{Result, now};
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

pub use outbox::Model as OutboxMail;

pub const PENDING: &str = "pending";
/// Handed to the relay, not yet recorded as sent: if a worker dies here,
/// nobody can know whether the relay got it.
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
/// A worker died while sending: not sent again automatically (no double
/// mail); an admin decides.
pub const UNCERTAIN: &str = "uncertain";

/// Several mails in one statement; their ids in order.
pub async fn insert_many(db: &impl ConnectionTrait, rows: Vec<outbox::ActiveModel>) -> Result<Vec<i64>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    Ok(outbox::Entity::insert_many(rows).exec_with_returning_keys(db).await?)
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<OutboxMail>> {
    Ok(outbox::Entity::find_by_id(id).one(db).await?)
}

/// Moves a mail from state `from` to `state`; false if it was not in `from`.
pub async fn finish(db: &impl ConnectionTrait, id: i64, from: &str, state: &str, error: Option<&str>) -> Result<bool> {
    let r = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(state))
        .col_expr(outbox::Column::LastError, Expr::value(error.map(str::to_owned)))
        .col_expr(outbox::Column::SentAt, Expr::value((state == SENT).then(now)))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::State.eq(from))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Claims a pending mail for sending (counts the try); false if it was not pending.
pub async fn start_sending(db: &impl ConnectionTrait, id: i64) -> Result<bool> {
    let r = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(SENDING))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::State.eq(PENDING))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Mails in a state, newest first, without their bytes.
pub async fn in_state(db: &impl ConnectionTrait, state: &str, limit: u64) -> Result<Vec<OutboxMail>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::State.eq(state))
        .order_by_desc(outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|mut m| {
            m.raw = Vec::new();
            m
        })
        .collect())
}

pub async fn count_state(db: &impl ConnectionTrait, state: &str) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(outbox::Entity::find().filter(outbox::Column::State.eq(state)).count(db).await?)
}

/// Notes a failed try (the mail stays pending and is tried again).
pub async fn record_failure(db: &impl ConnectionTrait, id: i64, error: &str) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(PENDING))
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

/// Counts `n` more automatic mails to each address today in one statement;
/// returns today's count of each, including them.
pub async fn count_automatic_many(
    db: &impl ConnectionTrait,
    adds: &[(String, i32)],
    day: &str,
) -> Result<std::collections::HashMap<String, i32>> {
    let mut out = std::collections::HashMap::new();
    let backend = db.get_database_backend();
    for chunk in adds.chunks(300) {
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 3);
        let mut rows = Vec::with_capacity(chunk.len());
        for (i, (address, n)) in chunk.iter().enumerate() {
            rows.push(format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
            values.extend([address.as_str().into(), day.into(), (*n).into()]);
        }
        let sql = crate::placeholders(
            backend,
            &format!(
                "INSERT INTO auto_mail_counts (address, day, count) VALUES {} \
                 ON CONFLICT (address, day) DO UPDATE SET count = auto_mail_counts.count + excluded.count \
                 RETURNING address, count",
                rows.join(", ")
            ),
        );
        for row in db.query_all_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await? {
            out.insert(row.try_get_by_index::<String>(0)?, row.try_get_by_index::<i32>(1)?);
        }
    }
    Ok(out)
}

/// Counts one more automatic mail to `address` today; returns today's count including it.
/// One statement (an upsert), so concurrent workers count correctly.
pub async fn count_automatic(db: &impl ConnectionTrait, address: &str, day: &str) -> Result<i32> {
    count_automatic_many(db, &[(address.to_owned(), 1)], day)
        .await?
        .remove(address)
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("auto mail count".into()).into())
}
