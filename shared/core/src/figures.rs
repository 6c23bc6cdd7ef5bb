//! Operational figures for monitoring (`/metrics`): counts only, labelled by
//! tenant code, queue kind or intake source — never by person or content.

use crate::{AppResult, Logbuch};
use logbuch_jobs::Stats;
use logbuch_store::{intake, outbox, tickets};

#[derive(Debug, Clone)]
pub struct TenantFigures {
    pub tenant: String,
    pub open: i64,
    pub sla_breached: i64,
}

#[derive(Debug, Clone)]
pub struct SourceBacklog {
    pub source: String,
    pub pending: i64,
    pub oldest_age_secs: i64,
}

#[derive(Debug, Clone)]
pub struct OperationalFigures {
    pub tenants: Vec<TenantFigures>,
    /// Job queues by kind (`intake`, `outbox`).
    pub queues: Vec<(&'static str, Stats)>,
    pub intake: Vec<SourceBacklog>,
    pub quarantined: u64,
    pub outbox_failed: u64,
}

impl Logbuch {
    /// What a scraper asks every few seconds; no caller check (counts only).
    pub async fn operational_figures(&self) -> AppResult<OperationalFigures> {
        let dir = self.directory().await?;
        let db = &self.store.db;
        let now = chrono::Utc::now();
        let per_tenant = tickets::figures_per_tenant(db, now).await?;
        let mut tenants: Vec<TenantFigures> = dir
            .tenant_refs()
            .iter()
            .map(|t| {
                let (open, sla_breached) =
                    per_tenant.iter().find(|(id, _, _)| *id == t.id.0).map_or((0, 0), |(_, o, b)| (*o, *b));
                TenantFigures { tenant: t.code.as_str().to_owned(), open, sla_breached }
            })
            .collect();
        tenants.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        let queues = vec![
            ("intake", self.intake_queue.stats().await.map_err(anyhow::Error::new)?),
            ("outbox", self.outbox_queue.stats().await.map_err(anyhow::Error::new)?),
        ];
        let intake = intake::pending_by_source(db)
            .await?
            .into_iter()
            .map(|(source, pending, oldest)| SourceBacklog {
                source,
                pending,
                oldest_age_secs: (now - oldest).num_seconds().max(0),
            })
            .collect();
        Ok(OperationalFigures {
            tenants,
            queues,
            intake,
            quarantined: intake::count_raw(db, intake::QUARANTINED).await?,
            outbox_failed: outbox::count_state(db, outbox::FAILED).await?,
        })
    }
}
