//! What admins see of intake: quarantined mails (with the reason, the raw
//! bytes, and a retry), and the queue's state.

use crate::{AppError, AppResult, Logbuch, Principal};
use chrono::{DateTime, Utc};
use logbuch_authz::{Target, TenantRef};
use logbuch_domain::{Action, TenantCode};
use logbuch_jobs::Stats;
use logbuch_store::intake::{self, PENDING, QUARANTINED};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuarantinedMail {
    pub id: i64,
    /// Where it came from: a mailbox name, `stdin` or `spool`.
    pub source: String,
    pub message_id: String,
    pub size: i64,
    pub received_at: DateTime<Utc>,
    /// Why it is here, for a person.
    pub reason: Option<String>,
    pub attempts: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntakeStatus {
    pub pending_mails: u64,
    pub quarantined_mails: u64,
    pub done_mails: u64,
    /// The intake job queue: ready, reserved, dead, oldest age.
    #[schema(value_type = Object)]
    pub queue: Stats,
}

impl Logbuch {
    /// Intake administration is for admins only (it sees mail of every tenant).
    pub(crate) fn require_intake_admin(&self, who: &Principal) -> AppResult<()> {
        let bund = TenantRef { id: logbuch_domain::TenantId(0), code: TenantCode::bund() };
        if self.authz.allows(who, Action::ManageIntake, Target { tenant: &bund, queue: None }) {
            Ok(())
        } else {
            Err(AppError::Forbidden("Nur Admins sehen Mail-Eingang, Quarantäne und Postausgang.".into()))
        }
    }

    pub async fn list_quarantine(&self, who: &Principal) -> AppResult<Vec<QuarantinedMail>> {
        self.require_intake_admin(who)?;
        let rows = intake::list_raw(&self.store.db, QUARANTINED, 500).await?;
        Ok(rows
            .into_iter()
            .map(|r| QuarantinedMail {
                id: r.id,
                source: r.source,
                message_id: r.message_id,
                size: r.size,
                received_at: r.received_at,
                reason: r.reason,
                attempts: r.attempts,
            })
            .collect())
    }

    /// The raw bytes of a quarantined mail, to look at or to fix and feed again.
    pub async fn quarantined_raw(&self, who: &Principal, id: i64) -> AppResult<Vec<u8>> {
        self.require_intake_admin(who)?;
        match intake::find_raw(&self.store.db, id).await? {
            Some(r) if r.state == QUARANTINED => Ok(r.content),
            _ => Err(AppError::NotFound(format!("Keine Mail {id} in der Quarantäne."))),
        }
    }

    /// Puts a quarantined mail back into processing.
    pub async fn retry_quarantined(&self, who: &Principal, id: i64) -> AppResult<()> {
        self.require_intake_admin(who)?;
        if !intake::set_raw_state(&self.store.db, id, QUARANTINED, PENDING, None, None).await? {
            return Err(AppError::NotFound(format!("Keine Mail {id} in der Quarantäne.")));
        }
        tracing::info!(raw_mail = id, user = %who.user, "quarantined mail retried");
        self.enqueue_mail(id).await;
        Ok(())
    }

    pub async fn intake_status(&self, who: &Principal) -> AppResult<IntakeStatus> {
        self.require_intake_admin(who)?;
        let db = &self.store.db;
        Ok(IntakeStatus {
            pending_mails: intake::count_raw(db, PENDING).await?,
            quarantined_mails: intake::count_raw(db, QUARANTINED).await?,
            done_mails: intake::count_raw(db, intake::DONE).await?,
            queue: self.intake_queue.stats().await.map_err(anyhow::Error::new)?,
        })
    }
}
