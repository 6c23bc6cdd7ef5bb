//! Mail intake: raw mail is stored durably first (once per source and
//! Message-ID), then a job parses and routes it in one transaction that
//! also marks it done — so a worker dying anywhere leaves either nothing or
//! everything, and the job simply runs again.

mod bounces;
mod process;
mod quarantine;
mod spool;

pub use process::Outcome;
pub use quarantine::{IntakeStatus, QuarantinedMail};
use tracing::Instrument;

use crate::{AppError, AppResult, Logbuch};
use logbuch_jobs::Reserved;
use logbuch_store::intake;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// A job of the intake queue. Versioned: a newer worker still reads old jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum IntakeJob {
    #[serde(rename = "1")]
    ProcessMail {
        raw_mail: i64,
        /// The W3C traceparent of the intake that stored the mail: its
        /// processing continues that trace in whichever worker takes it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trace: Option<String>,
    },
}

/// A stored raw mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ingested {
    pub raw_mail: i64,
    /// The same mail (source and Message-ID) was stored before; nothing new happened.
    pub duplicate: bool,
}

impl Logbuch {
    /// Stores a raw mail durably and queues it for processing. When this
    /// returns Ok, the mail is safe: a lost job is requeued by the sweeper.
    #[tracing::instrument(name = "intake.store", skip_all, fields(size = raw.len()))]
    pub async fn ingest_raw(&self, source: &str, raw: &[u8]) -> AppResult<Ingested> {
        if raw.is_empty() {
            return Err(AppError::validation("mail", "Die Mail ist leer."));
        }
        let message_id = logbuch_mail::message_id_of(raw);
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(raw));
        let (id, inserted) = intake::insert_raw(&self.store.db, source, &message_id, &sha, raw).await?;
        if inserted {
            self.enqueue_mail(id).await;
        }
        Ok(Ingested { raw_mail: id, duplicate: !inserted })
    }

    /// Stores several raw mails of one source in one transaction and queues
    /// the new ones together (the IMAP poller's FETCH chunks). Returns how many were new.
    #[tracing::instrument(name = "intake.store", skip_all, fields(mails = mails.len()))]
    pub async fn ingest_raw_batch(&self, source: &str, mails: &[&[u8]]) -> AppResult<usize> {
        let rows: Vec<intake::NewRaw> = mails
            .iter()
            .filter(|r| !r.is_empty())
            .map(|raw| intake::NewRaw {
                message_id: logbuch_mail::message_id_of(raw),
                sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(raw)),
                content: raw,
            })
            .collect();
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let new = intake::insert_raws(&txn, source, &rows).await?;
        txn.commit().await?;
        let trace = logbuch_telemetry::traceparent();
        let payloads: Vec<String> = new
            .iter()
            .map(|id| {
                serde_json::to_string(&IntakeJob::ProcessMail { raw_mail: *id, trace: trace.clone() })
                    .unwrap_or_default()
            })
            .collect();
        if let Err(e) = self.intake_queue.enqueue_many(&payloads).await {
            tracing::warn!(mails = new.len(), error = %e, "could not queue stored mails; the sweeper will");
        }
        Ok(new.len())
    }

    async fn enqueue_mail(&self, raw_mail: i64) {
        let job = IntakeJob::ProcessMail { raw_mail, trace: logbuch_telemetry::traceparent() };
        let payload = serde_json::to_string(&job).unwrap_or_default();
        if let Err(e) = self.intake_queue.enqueue(&payload, Duration::ZERO).await {
            // The mail is stored; the sweeper queues it again.
            tracing::warn!(raw_mail, error = %e, "could not queue a stored mail; the sweeper will");
        }
    }

    /// Reserves up to `max` intake jobs, hidden from other workers for the visibility timeout
    /// (at least the stage time limit, so a slow mail is not taken twice).
    async fn reserve_intake(&self, worker: &str, max: usize) -> AppResult<Vec<Reserved>> {
        let cfg = &self.settings.intake;
        let visibility = Duration::from_secs(cfg.visibility_secs.max(cfg.stage_timeout_secs + 1));
        Ok(self.intake_queue.reserve(worker, visibility, max.max(1)).await.map_err(anyhow::Error::new)?)
    }

    /// Takes one batch of intake jobs and processes its mails side by side, each
    /// in its own transaction; returns how many jobs it handled (tests drain with it).
    pub async fn run_intake_once(&self, worker: &str) -> AppResult<usize> {
        let cfg = &self.settings.intake;
        let jobs = self.reserve_intake(worker, cfg.batch).await?;
        let n = jobs.len();
        let permits = Arc::new(Semaphore::new(cfg.concurrency.max(1)));
        let mut running = JoinSet::new();
        for job in jobs {
            let permit = permits.clone().acquire_owned().await.map_err(anyhow::Error::new)?;
            let app = self.clone();
            running.spawn(async move {
                let _permit = permit;
                app.handle_intake_job(job).await
            });
        }
        let mut first_error = None;
        while let Some(done) = running.join_next().await {
            if let Err(e) = done.map_err(anyhow::Error::new).and_then(|r| r.map_err(anyhow::Error::new)) {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(n),
        }
    }

    /// Takes up to `max` intake jobs and commits their mails in one transaction
    /// (the worker runs several of these loops side by side).
    pub async fn run_intake_sequential(&self, worker: &str, max: usize) -> AppResult<usize> {
        let jobs = self.reserve_intake(worker, max).await?;
        let n = jobs.len();
        // The whole batch in one transaction; should any mail fail, one by one
        // (with retries, dead letters and quarantine per mail).
        let parsed: Option<Vec<(i64, Option<String>)>> = jobs
            .iter()
            .map(|j| match serde_json::from_str::<IntakeJob>(&j.payload) {
                Ok(IntakeJob::ProcessMail { raw_mail, trace }) => Some((raw_mail, trace)),
                Err(_) => None,
            })
            .collect();
        if let Some(parsed) = parsed.filter(|p| p.len() > 1) {
            let ids: Vec<i64> = parsed.iter().map(|(id, _)| *id).collect();
            // One commit for several mails: the batch continues the first mail's trace.
            let span = tracing::info_span!("intake.process", mails = ids.len());
            logbuch_telemetry::continue_trace(&span, parsed.iter().find_map(|(_, t)| t.as_deref()));
            match self.process_mails(&ids).instrument(span).await {
                Ok(_) => {
                    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
                    self.intake_queue.ack_many(&ids).await.map_err(anyhow::Error::new)?;
                    return Ok(n);
                }
                Err(e) => tracing::debug!(error = format!("{e:#}"), "batch failed; one by one"),
            }
        }
        for job in jobs {
            self.handle_intake_job(job).await?;
        }
        Ok(n)
    }

    async fn handle_intake_job(&self, job: Reserved) -> AppResult<()> {
        let q = &self.intake_queue;
        let Ok(IntakeJob::ProcessMail { raw_mail, trace }) = serde_json::from_str::<IntakeJob>(&job.payload) else {
            tracing::error!(job = job.id, "unreadable intake job; dead-lettered");
            q.fail(&job, "unbekanntes Job-Format", 0).await.map_err(anyhow::Error::new)?;
            return Ok(());
        };
        let span = tracing::info_span!("intake.process", mails = 1);
        logbuch_telemetry::continue_trace(&span, trace.as_deref());
        match self.process_raw_mail(raw_mail).instrument(span).await {
            Ok(outcome) => {
                tracing::debug!(raw_mail, ?outcome, "mail processed");
                q.ack(&job.id).await.map_err(anyhow::Error::new)?;
            }
            Err(e) => {
                let reason = format!("{e:#}");
                tracing::warn!(raw_mail, attempts = job.attempts, error = %reason, "mail processing failed");
                let dead =
                    q.fail(&job, &reason, self.settings.intake.max_attempts).await.map_err(anyhow::Error::new)?;
                if dead {
                    // Given up: the mail goes to quarantine, visible and retriable, and the queue moves on.
                    let why = format!("Verarbeitung {}-mal fehlgeschlagen: {reason}", job.attempts);
                    intake::set_raw_state(
                        &self.store.db,
                        raw_mail,
                        intake::PENDING,
                        intake::QUARANTINED,
                        None,
                        Some(&why),
                    )
                    .await?;
                    q.ack(&job.id).await.map_err(anyhow::Error::new)?;
                }
            }
        }
        Ok(())
    }

    /// Queues again mails that are stored but still pending after `age` (a
    /// job lost between storing and queueing). Duplicate jobs are harmless.
    pub async fn requeue_stale_mails(&self, age: Duration) -> AppResult<usize> {
        let before = logbuch_store::now() - chrono::Duration::from_std(age).unwrap_or_default();
        let ids = intake::stale_pending(&self.store.db, before, 1000).await?;
        for id in &ids {
            self.enqueue_mail(*id).await;
        }
        Ok(ids.len())
    }
}
