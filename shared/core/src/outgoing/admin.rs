//! What admins see of the outbox: counts, the mails that failed or whose
//! fate is uncertain (with the reason), and a resend.

use crate::{AppError, AppResult, Logbuch, Principal};
use chrono::{DateTime, Utc};
use logbuch_store::outbox;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboxProblem {
    pub id: i64,
    pub ticket: Option<i64>,
    /// reply, acknowledgement or notification.
    pub kind: String,
    pub recipients: String,
    /// failed or uncertain.
    pub state: String,
    pub attempts: i32,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboxStatus {
    pub pending: u64,
    pub sending: u64,
    pub sent: u64,
    pub failed: u64,
    pub uncertain: u64,
    /// Whether a relay is configured (without one, mails wait as pending).
    pub smtp_configured: bool,
    pub problems: Vec<OutboxProblem>,
}

impl Logbuch {
    pub async fn outbox_status(&self, who: &Principal) -> AppResult<OutboxStatus> {
        self.require_intake_admin(who)?;
        let db = &self.store.db;
        let mut problems = Vec::new();
        for state in [outbox::UNCERTAIN, outbox::FAILED] {
            problems.extend(outbox::in_state(db, state, 200).await?.into_iter().map(|m| OutboxProblem {
                id: m.id,
                ticket: m.ticket_id,
                kind: m.kind,
                recipients: m.recipients,
                state: m.state,
                attempts: m.attempts,
                reason: m.last_error,
                created_at: m.created_at,
            }));
        }
        Ok(OutboxStatus {
            pending: outbox::count_state(db, outbox::PENDING).await?,
            sending: outbox::count_state(db, outbox::SENDING).await?,
            sent: outbox::count_state(db, outbox::SENT).await?,
            failed: outbox::count_state(db, outbox::FAILED).await?,
            uncertain: outbox::count_state(db, outbox::UNCERTAIN).await?,
            smtp_configured: self.smtp.is_some(),
            problems,
        })
    }

    /// Sends a failed or uncertain mail again (an admin's decision), with the same Message-ID.
    pub async fn resend_outbox(&self, who: &Principal, id: i64) -> AppResult<()> {
        self.require_intake_admin(who)?;
        let db = &self.store.db;
        let again = outbox::finish(db, id, outbox::UNCERTAIN, outbox::PENDING, None).await?
            || outbox::finish(db, id, outbox::FAILED, outbox::PENDING, None).await?;
        if !again {
            return Err(AppError::NotFound(format!("Keine fehlgeschlagene oder ungewisse Mail {id} im Postausgang.")));
        }
        tracing::info!(outbox = id, user = %who.user, "outgoing mail resent by an admin");
        self.dispatch_outbox(&[id]).await;
        Ok(())
    }
}
