//! Background work run by `logbuch serve` and `logbuch worker`.
//!
//! Mail intake, the outbox senders, the sweepers for mails whose job was lost, and the
//! scheduled work (run by one worker at a time, see [`SCHEDULER_LEASE`]): queue
//! escalation (seed 000: in sensitive queues a waiting ticket's priority
//! rises). Each task exposes a `…_once` for tests and runs in a loop until
//! cancelled in production.

use crate::Logbuch;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A cancellation signal shared by all tasks of a process.
#[derive(Clone, Debug)]
pub struct Cancel {
    tx: std::sync::Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Default for Cancel {
    fn default() -> Self {
        Self::new()
    }
}

impl Cancel {
    pub fn new() -> Self {
        let (tx, rx) = watch::channel(false);
        Self { tx: std::sync::Arc::new(tx), rx }
    }

    pub fn cancel(&self) {
        let _ = self.tx.send(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.rx.borrow()
    }

    pub async fn cancelled(&self) {
        let mut rx = self.rx.clone();
        // An error means the sender is gone, which also ends the wait.
        let _ = rx.wait_for(|c| *c).await;
    }
}

const ESCALATION_EVERY: Duration = Duration::from_secs(60);
/// The lease in the database that makes scheduled work (escalation, breaches,
/// process deadlines) run in one worker at a time, however many there are.
/// A name mailboxes cannot take (the federation file refuses `job:`).
pub const SCHEDULER_LEASE: &str = "job:scheduled";
/// Held this long per round; the holder renews it every round, so another
/// worker takes over within this time after the holder stops.
const SCHEDULER_LEASE_FOR: Duration = Duration::from_secs(150);
const SWEEP_EVERY: Duration = Duration::from_secs(60);
const SPOOL_EVERY: Duration = Duration::from_secs(2);
const SEAL_EVERY: Duration = Duration::from_secs(5);
/// Entries sealed per round at most (about 2 s of work on PostgreSQL).
const SEAL_PER_ROUND: u64 = 50_000;
const IDLE_PAUSE: Duration = Duration::from_millis(250);
/// A stored mail still pending after this long has probably lost its job.
const STALE_AFTER: Duration = Duration::from_secs(300);

fn log_err<T>(what: &str, r: crate::AppResult<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "{what} failed; retrying next round");
            None
        }
    }
}

/// Runs the background tasks until `cancel` fires: mail intake (queue and
/// spool directory), the sweeper for lost intake jobs, queue escalation.
pub async fn run(app: Logbuch, cancel: Cancel) {
    let worker = format!("worker-{}-{:08x}", std::process::id(), rand::random::<u32>());
    tracing::info!(%worker, "background workers started");
    let long_ago = Instant::now().checked_sub(Duration::from_secs(3600)).unwrap_or_else(Instant::now);
    let (mut escalated, mut swept, mut spooled, mut sealed) = (long_ago, long_ago, long_ago, long_ago);
    // Whether this worker holds the scheduler lease; unknown before the first round.
    let mut holding: Option<bool> = None;
    // When an intake loop last took a full batch (ms since `started`): a
    // peak is on, and the sealing between scheduled rounds waits for it.
    let started = Instant::now();
    let busy = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    // Intake: independent loops, each taking a few jobs at a time, so one slow
    // mail never holds up a whole batch.
    let mut intake = tokio::task::JoinSet::new();
    for n in 0..app.settings.intake.concurrency.max(1) {
        let (app, cancel, worker) = (app.clone(), cancel.clone(), format!("{worker}-{n}"));
        let busy = busy.clone();
        intake.spawn(async move {
            while !cancel.is_cancelled() {
                let batch = app.settings.intake.commit_batch.max(1);
                let handled = log_err("intake", app.run_intake_sequential(&worker, batch).await).unwrap_or(0);
                if handled >= batch {
                    busy.store(started.elapsed().as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
                }
                if handled == 0 {
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = tokio::time::sleep(IDLE_PAUSE) => {}
                    }
                }
            }
        });
    }
    // Outbox: one sender per pooled SMTP connection.
    for n in 0..app.settings.outgoing.concurrency.max(1) {
        let (app, cancel, worker) = (app.clone(), cancel.clone(), format!("{worker}-smtp{n}"));
        intake.spawn(async move {
            while !cancel.is_cancelled() {
                let handled = log_err("outbox", app.run_outbox_once(&worker, 5).await).unwrap_or(0);
                if handled == 0 {
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = tokio::time::sleep(IDLE_PAUSE) => {}
                    }
                }
            }
        });
    }
    while !cancel.is_cancelled() {
        if spooled.elapsed() >= SPOOL_EVERY {
            spooled = Instant::now();
            if let Some(n) = log_err("spool", app.ingest_spool_once().await).filter(|n| *n > 0) {
                tracing::info!(mails = n, "mails taken from the spool directory");
            }
        }
        if swept.elapsed() >= SWEEP_EVERY {
            swept = Instant::now();
            if let Some(n) = log_err("sweeper", app.requeue_stale_mails(STALE_AFTER).await).filter(|n| *n > 0) {
                tracing::info!(mails = n, "requeued stored mails whose job was lost");
            }
            if let Some(n) = log_err("outbox sweeper", app.requeue_stale_outbox(STALE_AFTER).await).filter(|n| *n > 0) {
                tracing::info!(mails = n, "requeued outgoing mails whose job was lost");
            }
        }
        if escalated.elapsed() >= ESCALATION_EVERY {
            escalated = Instant::now();
            let held = log_err("scheduler lease", app.take_scheduler_lease(&worker).await).unwrap_or(false);
            if Some(held) != holding {
                holding = Some(held);
                if held {
                    tracing::info!(%worker, "this worker runs the scheduled work (lease {SCHEDULER_LEASE})");
                } else {
                    tracing::info!(%worker, "another worker runs the scheduled work now");
                }
            }
            if held {
                app.run_scheduled(logbuch_store::now()).await;
            }
        }
        // Between the scheduled rounds, the holder seals new history and
        // access-log entries into their chains within seconds; during an
        // intake peak (a dunning run) it leaves the database to the intake
        // and the scheduled round seals once a minute.
        let last_full = busy.load(std::sync::atomic::Ordering::Relaxed);
        let peak = (started.elapsed().as_millis() as u64).saturating_sub(last_full) < 2_000 && last_full > 0;
        if holding == Some(true) && sealed.elapsed() >= SEAL_EVERY && !peak {
            sealed = Instant::now();
            log_err("audit seal", app.seal_at_most(SEAL_PER_ROUND).await);
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(IDLE_PAUSE) => {}
        }
    }
    while intake.join_next().await.is_some() {}
    if holding == Some(true) {
        // Another worker need not wait for the lease to run out.
        let _ = logbuch_store::intake::release_mailbox_lease(&app.store.db, SCHEDULER_LEASE, &worker).await;
    }
    tracing::info!("background workers stopped");
}

impl Logbuch {
    /// Takes or renews the scheduler lease for `worker`; true while it holds it.
    pub async fn take_scheduler_lease(&self, worker: &str) -> crate::AppResult<bool> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let until = now_ms + i64::try_from(SCHEDULER_LEASE_FOR.as_millis()).unwrap_or(i64::MAX);
        Ok(logbuch_store::intake::take_mailbox_lease(&self.store.db, SCHEDULER_LEASE, worker, now_ms, until).await?)
    }

    /// One round of scheduled work as of `now`: escalation, then missed due
    /// times of tickets and process steps. Call it only holding the lease.
    pub async fn run_scheduled(&self, now: chrono::DateTime<chrono::Utc>) {
        if let Some(n) = log_err("escalation", self.escalate_priorities(now).await).filter(|n| *n > 0) {
            tracing::info!(tickets = n, "escalated waiting tickets");
        }
        if let Some(n) = log_err("breaches", self.record_breaches(now).await).filter(|n| *n > 0) {
            tracing::info!(tickets = n, "recorded missed due times");
        }
        if let Some(n) = log_err("retention", self.retention_round(now).await).filter(|n| *n > 0) {
            tracing::info!(tickets = n, "anonymised or deleted tickets past their retention time");
        }
        if let Some(n) = log_err("audit seal", self.seal_at_most(SEAL_PER_ROUND).await).filter(|n| *n > 0) {
            tracing::debug!(entries = n, "sealed history and access log entries");
        }
        if log_err("audit checkpoint", self.checkpoint_when_due(now).await) == Some(true) {
            tracing::info!("wrote a signed checkpoint of the history and access log");
        }
    }
}
