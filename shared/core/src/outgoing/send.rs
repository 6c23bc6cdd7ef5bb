//! Sending: a job per outbox mail hands it to the SMTP relay. Transient
//! failures are retried with backoff; permanent ones (5xx), and mails that
//! keep failing, are marked failed and put on the ticket's history.

use super::relay::{SendError, Smtp};
use crate::{AppResult, Logbuch};
use lettre::address::Envelope;
use logbuch_jobs::Reserved;
use logbuch_store::{history, outbox};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A job of the outbox queue. Versioned like all jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum OutboxJob {
    #[serde(rename = "1")]
    Send { outbox: i64 },
}

impl Logbuch {
    /// Queues sending jobs for outbox mails written by a committed transaction.
    pub(crate) async fn dispatch_outbox(&self, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        let payloads: Vec<String> =
            ids.iter().map(|id| serde_json::to_string(&OutboxJob::Send { outbox: *id }).unwrap_or_default()).collect();
        if let Err(e) = self.outbox_queue.enqueue_many(&payloads).await {
            tracing::warn!(mails = ids.len(), error = %e, "could not queue outgoing mails; the sweeper will");
        }
    }

    /// Queues again outbox mails still pending after `age`.
    pub async fn requeue_stale_outbox(&self, age: Duration) -> AppResult<usize> {
        let before = logbuch_store::now() - chrono::Duration::from_std(age).unwrap_or_default();
        let ids = outbox::stale_pending(&self.store.db, before, 1000).await?;
        self.dispatch_outbox(&ids).await;
        Ok(ids.len())
    }

    /// Sends up to `max` queued mails; returns how many jobs it handled.
    /// Without a configured relay nothing is sent: mails wait in the outbox.
    pub async fn run_outbox_once(&self, worker: &str, max: usize) -> AppResult<usize> {
        let Some(smtp) = self.smtp.as_ref() else { return Ok(0) };
        let jobs = self
            .outbox_queue
            .reserve(worker, Duration::from_secs(120), max.max(1))
            .await
            .map_err(anyhow::Error::new)?;
        let n = jobs.len();
        for job in jobs {
            self.send_job(smtp, job).await?;
        }
        Ok(n)
    }

    async fn send_job(&self, smtp: &Smtp, job: Reserved) -> AppResult<()> {
        let q = &self.outbox_queue;
        let err = anyhow::Error::new;
        let Ok(OutboxJob::Send { outbox: id }) = serde_json::from_str::<OutboxJob>(&job.payload) else {
            q.fail(&job, "unbekanntes Job-Format", 0).await.map_err(err)?;
            return Ok(());
        };
        let Some(mail) = outbox::find(&self.store.db, id).await? else {
            q.ack(&job.id).await.map_err(err)?;
            return Ok(());
        };
        if mail.state == outbox::SENDING {
            // A worker died between handing it to the relay and recording that:
            // whether it went out cannot be known. Never twice: an admin decides.
            let why = "Versand ungewiss: ein Worker brach zwischen Senden und Vermerken ab. \
                       Nicht erneut gesendet, um doppelte Mails zu vermeiden; bitte prüfen und ggf. erneut senden.";
            self.give_up(&mail, outbox::SENDING, outbox::UNCERTAIN, why).await?;
            q.ack(&job.id).await.map_err(err)?;
            return Ok(());
        }
        if mail.state != outbox::PENDING || !outbox::start_sending(&self.store.db, id).await? {
            // Sent (or given up) before: never twice.
            q.ack(&job.id).await.map_err(err)?;
            return Ok(());
        }
        let envelope = mail.envelope_from.parse().ok().and_then(|from| {
            let to: Vec<_> = mail.recipients.split(',').filter_map(|a| a.trim().parse().ok()).collect();
            Envelope::new(Some(from), to).ok()
        });
        let Some(envelope) = envelope else {
            self.give_up(
                &mail,
                outbox::SENDING,
                outbox::FAILED,
                "Absender oder Empfänger ist keine gültige Mailadresse.",
            )
            .await?;
            q.ack(&job.id).await.map_err(err)?;
            return Ok(());
        };
        match smtp.send_raw(&envelope, &mail.raw).await {
            Ok(_) => {
                outbox::finish(&self.store.db, id, outbox::SENDING, outbox::SENT, None).await?;
                q.ack(&job.id).await.map_err(err)?;
            }
            Err(SendError::Permanent(e)) => {
                self.give_up(&mail, outbox::SENDING, outbox::FAILED, &format!("Der Mailserver lehnt die Mail ab: {e}"))
                    .await?;
                q.ack(&job.id).await.map_err(err)?;
            }
            Err(SendError::Temporary(e)) => {
                let why = format!("Mailserver nicht erreichbar oder vorübergehender Fehler: {e}");
                tracing::warn!(outbox = id, attempts = job.attempts, error = %e, "sending failed; retrying");
                outbox::record_failure(&self.store.db, id, &why).await?;
                if q.fail(&job, &why, self.settings.outgoing.max_attempts).await.map_err(err)? {
                    let why = format!("{why} (nach {} Versuchen aufgegeben)", job.attempts);
                    self.give_up(&mail, outbox::PENDING, outbox::FAILED, &why).await?;
                    q.ack(&job.id).await.map_err(err)?;
                }
            }
        }
        Ok(())
    }

    /// Marks an outbox mail failed (or uncertain) and puts that on its ticket's history.
    async fn give_up(&self, mail: &outbox::OutboxMail, from: &str, to: &str, why: &str) -> AppResult<()> {
        tracing::warn!(outbox = mail.id, kind = %mail.kind, state = to, "outgoing mail not delivered");
        if outbox::finish(&self.store.db, mail.id, from, to, Some(why)).await?
            && let Some(t) = mail.ticket_id
        {
            history::record(
                &self.store.db,
                t,
                None,
                "mail_failed",
                None,
                Some(format!("{} an {}: {why}", mail.kind, mail.recipients)),
            )
            .await?;
        }
        Ok(())
    }
}
