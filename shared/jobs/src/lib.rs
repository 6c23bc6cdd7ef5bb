//! The job queue: durable, at-least-once, with a visibility timeout,
//! retries with backoff, a dead-letter set and admin statistics.
//!
//! Two backends behind one type: Redis in production, the SQL database
//! (SQLite or PostgreSQL) for the embedded default. Both pass the same
//! contract tests (`tests/integration/jobs.rs`). Handlers must be
//! idempotent: a job whose worker died is handed out again once its
//! visibility timeout passes.
//!
//! (apalis was evaluated and not taken: its Redis backend ignored
//! max_attempts, had no per-job visibility timeout and broken statistics.)

mod redis_queue;
mod sql_queue;

pub use redis_queue::RedisQueue;
pub use sql_queue::SqlQueue;

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("job queue database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("job queue redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("job queue redis reply: {0}")]
    RedisReply(#[from] redis::ParsingError),
    #[error("job queue: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, JobError>;

/// A job handed to a worker. `attempts` counts this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserved {
    pub id: String,
    pub payload: String,
    pub attempts: u32,
}

/// What an admin sees of a queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Waiting to run (now or after a backoff).
    pub ready: u64,
    /// Handed to a worker and not yet done.
    pub reserved: u64,
    /// Gave up after too many tries.
    pub dead: u64,
    /// Age in seconds of the oldest job not yet done (ready or reserved).
    pub oldest_age_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadJob {
    pub id: String,
    pub payload: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// Retry delay after the `attempts`-th failure: 2 s, 4 s, 8 s … capped at 10 min, with jitter.
pub fn backoff(attempts: u32) -> Duration {
    let base = 2u64.saturating_pow(attempts.min(20)).min(600);
    let jitter = rand::random::<u64>() % (base / 4 + 1);
    Duration::from_secs(base + jitter)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// One queue kind (e.g. `intake`) on one backend.
#[derive(Clone, Debug)]
pub enum JobQueue {
    Sql(SqlQueue),
    Redis(RedisQueue),
}

impl JobQueue {
    pub async fn enqueue(&self, payload: &str, delay: Duration) -> Result<String> {
        match self {
            JobQueue::Sql(q) => q.enqueue(payload, delay).await,
            JobQueue::Redis(q) => q.enqueue(payload, delay).await,
        }
    }

    /// Enqueues several jobs, due now, in one round trip.
    pub async fn enqueue_many(&self, payloads: &[String]) -> Result<()> {
        if payloads.is_empty() {
            return Ok(());
        }
        match self {
            JobQueue::Sql(q) => q.enqueue_many(payloads).await,
            JobQueue::Redis(q) => q.enqueue_many(payloads).await,
        }
    }

    /// Hands out up to `max` jobs due now, each hidden from others for `visibility`.
    pub async fn reserve(&self, worker: &str, visibility: Duration, max: usize) -> Result<Vec<Reserved>> {
        match self {
            JobQueue::Sql(q) => q.reserve(worker, visibility, max).await,
            JobQueue::Redis(q) => q.reserve(visibility, max).await,
        }
    }

    /// The job is done; it leaves the queue.
    pub async fn ack(&self, id: &str) -> Result<()> {
        match self {
            JobQueue::Sql(q) => q.ack(id).await,
            JobQueue::Redis(q) => q.ack(id).await,
        }
    }

    /// Several jobs are done, in one round trip.
    pub async fn ack_many(&self, ids: &[&str]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        match self {
            JobQueue::Sql(q) => q.ack_many(ids).await,
            JobQueue::Redis(q) => q.ack_many(ids).await,
        }
    }

    /// The job failed: retried after [`backoff`], or dead after `max_attempts` tries.
    /// Returns true when it went to the dead-letter set.
    pub async fn fail(&self, job: &Reserved, error: &str, max_attempts: u32) -> Result<bool> {
        let dead = job.attempts >= max_attempts;
        let error: String = error.chars().take(2000).collect();
        match self {
            JobQueue::Sql(q) => q.fail(&job.id, &error, dead, backoff(job.attempts)).await?,
            JobQueue::Redis(q) => q.fail(&job.id, &error, dead, backoff(job.attempts)).await?,
        }
        Ok(dead)
    }

    pub async fn stats(&self) -> Result<Stats> {
        match self {
            JobQueue::Sql(q) => q.stats().await,
            JobQueue::Redis(q) => q.stats().await,
        }
    }

    pub async fn dead(&self, limit: u64) -> Result<Vec<DeadJob>> {
        match self {
            JobQueue::Sql(q) => q.dead(limit).await,
            JobQueue::Redis(q) => q.dead(limit).await,
        }
    }

    /// Puts every dead job back to ready with its tries reset; returns how many.
    pub async fn retry_dead(&self) -> Result<u64> {
        match self {
            JobQueue::Sql(q) => q.retry_dead().await,
            JobQueue::Redis(q) => q.retry_dead().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) >= Duration::from_secs(2) && backoff(1) <= Duration::from_secs(3));
        assert!(backoff(5) >= Duration::from_secs(32));
        assert!(backoff(50) <= Duration::from_secs(750));
    }
}
