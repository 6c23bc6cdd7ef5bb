//! Queue escalation: in queues with an `escalation_step`, a ticket that is
//! not resolved rises one priority step for each step of business time (the
//! tenant's calendar) it waits without a priority change. Runs as the
//! system (history actor: none).

use crate::{AppResult, Logbuch};
use chrono::{DateTime, Utc};
use logbuch_domain::Priority;
use logbuch_store::{history, tickets};

impl Logbuch {
    /// One escalation round as of `now`; returns how many tickets rose.
    /// Safe to run in several workers at once: each raise is a compare-and-set.
    pub async fn escalate_priorities(&self, now: DateTime<Utc>) -> AppResult<usize> {
        let dir = self.directory().await?;
        let candidates = tickets::escalation_candidates(&self.store.db).await?;
        let mut raised = 0;
        for (t, step_minutes) in candidates {
            let last_change = history::last_change_of(&self.store.db, t.id, "priority")
                .await?
                .unwrap_or(t.created_at)
                .max(t.created_at);
            if dir.calendar(t.tenant_id).business_minutes_between(last_change, now) < i64::from(step_minutes) {
                continue;
            }
            let old = Priority::from_rank(t.priority);
            let new = old.raised();
            let txn = logbuch_store::begin_write(&self.store.db).await?;
            if tickets::set_priority_if(&txn, t.id, old.rank(), new.rank(), now).await? {
                history::record_at(
                    &txn,
                    t.id,
                    None,
                    now,
                    "priority",
                    Some(old.as_str().to_owned()),
                    Some(new.as_str().to_owned()),
                )
                .await?;
                raised += 1;
            }
            txn.commit().await?;
        }
        Ok(raised)
    }
}
