//! Missed due times: a ticket past its first-response or resolution due
//! time (in business time, paused while waiting) gets a breach on its
//! history and the queue's people are told — once, however many workers
//! look: the breach row's insert decides who records and notifies.

use crate::outgoing::Notice;
use crate::{AppResult, Logbuch};
use chrono::{DateTime, Utc};
use logbuch_store::{history, tickets};

/// Tickets looked at per round.
const ROUND: u64 = 200;

impl Logbuch {
    /// One round as of `now` (tickets' clocks and process steps); returns how
    /// many breaches this call recorded.
    pub async fn record_breaches(&self, now: DateTime<Utc>) -> AppResult<usize> {
        let dir = self.directory().await?;
        let candidates = tickets::breach_candidates(&self.store.db, now, ROUND).await?;
        let mut recorded = 0;
        for (t, clock, due) in candidates {
            let txn = logbuch_store::begin_write(&self.store.db).await?;
            if !tickets::record_breach(&txn, t.id, clock, due).await? {
                txn.rollback().await?;
                continue;
            }
            let what = if clock == "first_response" { "Erste Antwort" } else { "Erledigung" };
            let when = logbuch_domain::calendar::utc_to_berlin(due).format("%d.%m.%Y %H:%M");
            history::record_at(&txn, t.id, None, now, "breach", None, Some(format!("{what} war fällig am {when}")))
                .await?;
            let mails = self.notify(&txn, &dir, &t, Notice::Breached { what }, None).await?;
            txn.commit().await?;
            self.dispatch_outbox(&mails).await;
            recorded += 1;
        }
        Ok(recorded + self.record_step_breaches(now).await?)
    }
}
