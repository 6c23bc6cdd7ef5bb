//! The SQL backend (table `jobs`, see migrations): for the embedded default
//! and for installations without Redis. PostgreSQL hands out rows with
//! `FOR UPDATE SKIP LOCKED`; SQLite serialises writers anyway.

use crate::{DeadJob, JobError, Reserved, Result, Stats, ms, now_ms};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct SqlQueue {
    db: DatabaseConnection,
    kind: String,
}

impl SqlQueue {
    pub fn new(db: DatabaseConnection, kind: &str) -> Self {
        Self { db, kind: kind.to_owned() }
    }

    fn stmt(&self, pg: &str, values: Vec<Value>) -> Statement {
        let backend = self.db.get_database_backend();
        let sql = if backend == DbBackend::Postgres { pg.to_owned() } else { to_sqlite(pg) };
        Statement::from_sql_and_values(backend, sql, values)
    }

    pub(crate) async fn enqueue(&self, payload: &str, delay: Duration) -> Result<String> {
        let now = now_ms();
        let row = self
            .db
            .query_one_raw(self.stmt(
                "INSERT INTO jobs (kind, payload, status, attempts, run_at, enqueued_at) VALUES ($1, $2, 'ready', 0, $3, $4) RETURNING id",
                vec![self.kind.clone().into(), payload.into(), (now + ms(delay)).into(), now.into()],
            ))
            .await?
            .ok_or_else(|| JobError::Corrupt("insert returned nothing".into()))?;
        Ok(row.try_get_by_index::<i64>(0)?.to_string())
    }

    pub(crate) async fn enqueue_many(&self, payloads: &[String]) -> Result<()> {
        let now = now_ms();
        for chunk in payloads.chunks(500) {
            let mut sql =
                String::from("INSERT INTO jobs (kind, payload, status, attempts, run_at, enqueued_at) VALUES ");
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 2 + 2);
            values.push(self.kind.clone().into());
            values.push(now.into());
            for (i, p) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("($1, ${}, 'ready', 0, $2, $2)", i + 3));
                values.push(p.clone().into());
            }
            self.db.execute_raw(self.stmt(&sql, values)).await?;
        }
        Ok(())
    }

    pub(crate) async fn reserve(&self, worker: &str, visibility: Duration, max: usize) -> Result<Vec<Reserved>> {
        let now = now_ms();
        let lock = if self.db.get_database_backend() == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, reserved_until = $1, reserved_by = $2 \
             WHERE id IN (SELECT id FROM jobs WHERE kind = $3 AND \
               ((status = 'ready' AND run_at <= $4) OR (status = 'running' AND reserved_until <= $4)) \
               ORDER BY run_at, id LIMIT $5{lock}) \
             RETURNING id, payload, attempts"
        );
        let rows = self
            .db
            .query_all_raw(self.stmt(
                &sql,
                vec![
                    (now + ms(visibility)).into(),
                    worker.into(),
                    self.kind.clone().into(),
                    now.into(),
                    i64::try_from(max).unwrap_or(i64::MAX).into(),
                ],
            ))
            .await?;
        let mut out = rows
            .into_iter()
            .map(|r| {
                Ok(Reserved {
                    id: r.try_get_by_index::<i64>(0)?.to_string(),
                    payload: r.try_get_by_index(1)?,
                    attempts: u32::try_from(r.try_get_by_index::<i32>(2)?).unwrap_or(u32::MAX),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|r| r.id.parse::<i64>().unwrap_or(0));
        Ok(out)
    }

    fn id(id: &str) -> Result<i64> {
        id.parse().map_err(|_| JobError::Corrupt(format!("bad job id {id}")))
    }

    pub(crate) async fn ack(&self, id: &str) -> Result<()> {
        self.db.execute_raw(self.stmt("DELETE FROM jobs WHERE id = $1", vec![Self::id(id)?.into()])).await?;
        Ok(())
    }

    pub(crate) async fn ack_many(&self, ids: &[&str]) -> Result<()> {
        let ids: Vec<i64> = ids.iter().map(|id| Self::id(id)).collect::<Result<_>>()?;
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        // The ids are numbers parsed above, never text from outside.
        self.db.execute_unprepared(&format!("DELETE FROM jobs WHERE id IN ({list})")).await?;
        Ok(())
    }

    pub(crate) async fn fail(&self, id: &str, error: &str, dead: bool, delay: Duration) -> Result<()> {
        let sql = if dead {
            "UPDATE jobs SET status = 'dead', last_error = $1, reserved_until = NULL, run_at = $2 WHERE id = $3"
        } else {
            "UPDATE jobs SET status = 'ready', last_error = $1, reserved_until = NULL, run_at = $2 WHERE id = $3"
        };
        let at = if dead { now_ms() } else { now_ms() + ms(delay) };
        self.db.execute_raw(self.stmt(sql, vec![error.into(), at.into(), Self::id(id)?.into()])).await?;
        Ok(())
    }

    pub(crate) async fn stats(&self) -> Result<Stats> {
        let now = now_ms();
        let row = self
            .db
            .query_one_raw(self.stmt(
                "SELECT \
                   COALESCE(SUM(CASE WHEN status = 'ready' OR (status = 'running' AND reserved_until <= $2) THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN status = 'running' AND reserved_until > $2 THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0), \
                   MIN(CASE WHEN status <> 'dead' THEN enqueued_at END) \
                 FROM jobs WHERE kind = $1",
                vec![self.kind.clone().into(), now.into()],
            ))
            .await?
            .ok_or_else(|| JobError::Corrupt("stats returned nothing".into()))?;
        let count = |i: usize| -> Result<u64> { Ok(u64::try_from(row.try_get_by_index::<i64>(i)?).unwrap_or(0)) };
        let oldest: Option<i64> = row.try_get_by_index(3)?;
        Ok(Stats {
            ready: count(0)?,
            reserved: count(1)?,
            dead: count(2)?,
            oldest_age_secs: oldest.map(|t| u64::try_from((now - t).max(0) / 1000).unwrap_or(0)),
        })
    }

    pub(crate) async fn dead(&self, limit: u64) -> Result<Vec<DeadJob>> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT id, payload, attempts, last_error FROM jobs WHERE kind = $1 AND status = 'dead' ORDER BY id LIMIT $2",
                vec![self.kind.clone().into(), i64::try_from(limit).unwrap_or(i64::MAX).into()],
            ))
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(DeadJob {
                    id: r.try_get_by_index::<i64>(0)?.to_string(),
                    payload: r.try_get_by_index(1)?,
                    attempts: u32::try_from(r.try_get_by_index::<i32>(2)?).unwrap_or(0),
                    last_error: r.try_get_by_index(3)?,
                })
            })
            .collect()
    }

    pub(crate) async fn retry_dead(&self) -> Result<u64> {
        let r = self
            .db
            .execute_raw(self.stmt(
                "UPDATE jobs SET status = 'ready', attempts = 0, run_at = $1 WHERE kind = $2 AND status = 'dead'",
                vec![now_ms().into(), self.kind.clone().into()],
            ))
            .await?;
        Ok(r.rows_affected())
    }
}

/// `$1` → `?1`: SQLite's numbered parameters.
fn to_sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}
