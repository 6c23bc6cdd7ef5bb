//! Retention and legal holds (issue 17): resolved tickets past their
//! queue's time (federation file: `retention_months`, Bund default, LV and
//! queue override) are anonymised or deleted by scheduled work, one worker at
//! a time; a legal hold keeps a ticket. `logbuch admin retention --dry-run`
//! lists what would go.

use crate::{AppError, AppResult, Logbuch, Principal};
use logbuch_domain::Action;
use logbuch_store::{history, retention};

/// A ticket due for retention, as the dry run lists it.
#[derive(Debug, Clone)]
pub struct DueTicket {
    pub number: i64,
    pub tenant: String,
    pub queue: String,
    pub resolved_at: chrono::DateTime<chrono::Utc>,
    /// `anonymise` or `delete`.
    pub mode: String,
}

/// Tickets one scheduled round removes at most (the rest follows next round).
const PER_ROUND: u64 = 500;

impl Logbuch {
    /// What retention would remove at `now`, at most `limit`, oldest resolution first.
    pub async fn retention_due(&self, now: chrono::DateTime<chrono::Utc>, limit: u64) -> AppResult<Vec<DueTicket>> {
        let dir = self.directory().await?;
        let due = retention::due(&self.store.db, now, limit).await?;
        Ok(due
            .into_iter()
            .map(|d| DueTicket {
                number: d.ticket_id,
                tenant: dir.tenant_ref(d.tenant_id).map(|t| t.code.as_str().to_owned()).unwrap_or_default(),
                queue: dir.queue(d.queue_id).map(|q| q.slug.clone()).unwrap_or_default(),
                resolved_at: d.resolved_at,
                mode: d.mode,
            })
            .collect())
    }

    /// Removes what is due at `now` (at most `limit` tickets), each in its own
    /// transaction; `progress` hears (done, due). Returns the tickets removed.
    pub async fn run_retention(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: u64,
        mut progress: impl FnMut(u64, u64),
    ) -> AppResult<u64> {
        let due = retention::due(&self.store.db, now, limit).await?;
        if due.is_empty() {
            return Ok(0);
        }
        // Entries not sealed yet go with the ticket; they were never in a checkpoint.
        let total = due.len() as u64;
        let mut done = 0;
        for d in due {
            let txn = logbuch_store::begin_write(&self.store.db).await?;
            // Held, reopened or removed meanwhile (another worker, a person): leave it.
            if !retention::still_due(&txn, d.ticket_id).await? {
                continue;
            }
            retention::remove_ticket(&txn, d.ticket_id, &d.mode, "retention").await?;
            txn.commit().await?;
            done += 1;
            progress(done, total);
        }
        Ok(done)
    }

    /// Scheduled work: one round of retention.
    pub(crate) async fn retention_round(&self, now: chrono::DateTime<chrono::Utc>) -> AppResult<u64> {
        // Yesterday's counts still guard against loops around midnight; older ones only name addresses.
        let yesterday = (now - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
        retention::sweep_counters(&self.store.db, &yesterday).await?;
        self.run_retention(now, PER_ROUND, |_, _| {}).await
    }

    /// Whether a ticket is under a legal hold (for those who manage member data of its tenant).
    pub async fn legal_hold_of(&self, who: &Principal, id: i64) -> AppResult<bool> {
        let dir = self.directory().await?;
        self.load_ticket(&self.store.db, who, id, Action::ManageMemberData, &dir).await?;
        Ok(retention::held(&self.store.db, id).await?)
    }

    /// Sets (with a reason) or lifts a legal hold on a ticket: while it is
    /// held, retention leaves it alone. On the ticket's history.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn set_legal_hold(&self, who: &Principal, id: i64, reason: Option<&str>) -> AppResult<bool> {
        let dir = self.directory().await?;
        let reason = reason.map(str::trim);
        if reason.is_some_and(|r| r.is_empty() || r.chars().count() > 500) {
            return Err(AppError::validation(
                "reason",
                "Bitte einen Grund für den Sperrvermerk angeben (höchstens 500 Zeichen).",
            ));
        }
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        self.load_ticket(&txn, who, id, Action::ManageMemberData, &dir).await?;
        let changed = retention::set_hold(&txn, id, who.user.0, reason).await?;
        if changed {
            let (old, new) = match reason {
                Some(r) => (None, Some(r.to_owned())),
                None => (Some("gesetzt".to_owned()), None),
            };
            history::record(&txn, id, Some(who.user.0), "legal_hold", old, new).await?;
        }
        txn.commit().await?;
        Ok(changed)
    }
}
