//! Moving tickets: to another queue of the tenant, or to another tenant.

use crate::views::TicketDetail;
use crate::{AppError, AppResult, Logbuch, Principal};
use logbuch_domain::{Action, Status};
use logbuch_store::{entity::queue, entity::ticket, tickets::Ticket};
use sea_orm::Set;
use serde::Deserialize;
use utoipa::ToSchema;

/// Where a ticket goes when it changes tenant.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandOver {
    /// Target tenant code (`by`, or `bund` to hand it back).
    pub tenant: String,
    /// Target queue slug; the tenant's default queue when missing.
    pub queue: Option<String>,
}

/// The SLA due times follow the queue, counted from the ticket's creation
/// in the business time of the queue's tenant.
fn apply_queue(t: &Ticket, row: &mut ticket::ActiveModel, q: &queue::Model, dir: &super::Directory) {
    let (first, resolution) = super::due_times(dir.calendar(q.tenant_id), q, t.created_at);
    row.queue_id = Set(q.id);
    row.tenant_id = Set(q.tenant_id);
    row.first_response_due = Set(first);
    row.resolution_due = Set(resolution);
}

impl Logbuch {
    /// Moves a ticket to another queue of its tenant.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn move_ticket(&self, who: &Principal, id: i64, queue: &str) -> AppResult<Option<TicketDetail>> {
        // Before the transaction: SQLite has one connection, the directory may need it.
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let t = self.load_ticket(&txn, who, id, Action::MoveQueue, &dir).await?;
        let tenant = dir.tenant(t.tenant_id)?;
        let target = dir.queue_in("queue", tenant, Some(queue))?;
        if target.id == t.queue_id {
            return Err(AppError::Conflict(format!("Ticket #{id} ist schon in {}.", dir.queue_path(t.queue_id))));
        }
        let mut row: ticket::ActiveModel = t.clone().into();
        apply_queue(&t, &mut row, target, &dir);
        let changes = vec![("queue", Some(dir.queue_path(t.queue_id)), Some(dir.queue_path(target.id)))];
        self.save_changes(&txn, who, row, t.id, changes).await?;
        txn.commit().await?;
        self.after_write(who, id).await
    }

    /// Hands a ticket to another tenant: federal officers to any, an LV back to the Bund.
    /// The ticket starts afresh there: new, no owner.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn hand_over_ticket(&self, who: &Principal, id: i64, input: HandOver) -> AppResult<Option<TicketDetail>> {
        // Before the transaction: SQLite has one connection, the directory may need it.
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let target_tenant = dir.tenant_by_code("tenant", &input.tenant)?;
        let t = self.load_ticket(&txn, who, id, Action::ReadTicket, &dir).await?;
        if target_tenant.id == t.tenant_id {
            return Err(AppError::validation(
                "tenant",
                "Das Ticket ist schon bei diesem Verband; zum Verschieben innerhalb des Verbands „move“ benutzen.",
            ));
        }
        let hand_back = target_tenant.code == logbuch_domain::TenantCode::bund().as_str()
            && self.require_on(who, Action::HandBack, &t, &dir).is_ok();
        if !hand_back {
            self.require_on(who, Action::HandOver, &t, &dir)?;
        }
        let target = dir.queue_in("queue", target_tenant, input.queue.as_deref())?;
        let mut row: ticket::ActiveModel = t.clone().into();
        apply_queue(&t, &mut row, target, &dir);
        let mut changes = vec![
            ("tenant", Some(dir.tenant(t.tenant_id)?.code.clone()), Some(target_tenant.code.clone())),
            ("queue", Some(dir.queue_path(t.queue_id)), Some(dir.queue_path(target.id))),
        ];
        if let Some(old) = t.owner_id {
            let names = super::read::user_refs(&txn, &[old]).await?;
            changes.push(("owner", names.get(&old).map(|u| u.email.clone()), None));
            row.owner_id = Set(None);
        }
        if t.status != Status::New.as_str() && t.status != Status::Resolved.as_str() {
            row.status = Set(Status::New.as_str().to_owned());
            changes.push(("status", Some(t.status.clone()), Some(Status::New.as_str().to_owned())));
        }
        let saved = self.save_changes(&txn, who, row, t.id, changes).await?;
        logbuch_store::search::move_documents(&txn, t.id, saved.tenant_id).await?;
        let mails = self.notify(&txn, &dir, &saved, crate::outgoing::Notice::HandedOver, Some(who.user.0)).await?;
        txn.commit().await?;
        self.dispatch_outbox(&mails).await;
        self.after_write(who, id).await
    }

    /// After a change that may take the ticket out of the caller's sight:
    /// the ticket if they still may read it, else `None`.
    async fn after_write(&self, who: &Principal, id: i64) -> AppResult<Option<TicketDetail>> {
        match self.get_ticket(who, id).await {
            Err(AppError::NotFound(_)) => Ok(None),
            other => other.map(Some),
        }
    }
}

impl Logbuch {
    /// Merges ticket `merged` into `survivor` (same tenant): its messages,
    /// files and watchers move, it is resolved and points to the survivor,
    /// and mail naming it lands in the survivor. Needs the right to resolve
    /// the one and to write on the other (404 for what is out of reach).
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = survivor, merged = merged))]
    pub async fn merge_tickets(&self, who: &Principal, survivor: i64, merged: i64) -> AppResult<TicketDetail> {
        if survivor == merged {
            return Err(AppError::validation("ticket", "Ein Ticket lässt sich nicht mit sich selbst zusammenführen."));
        }
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let m = self.load_ticket(&txn, who, merged, Action::Resolve, &dir).await?;
        let s = self.load_ticket(&txn, who, survivor, Action::AddNote, &dir).await?;
        if m.tenant_id != s.tenant_id {
            return Err(AppError::validation("ticket", "Zusammenführen geht nur innerhalb eines Verbands."));
        }
        for (t, what) in [(&m, "ist schon"), (&s, "ist selbst")] {
            if let Some(into) = logbuch_store::merges::survivor_of(&txn, t.id).await? {
                return Err(AppError::Conflict(format!("Ticket #{} {what} in #{into} zusammengeführt.", t.id)));
            }
        }
        logbuch_store::merges::merge(&txn, m.id, s.id, who.user.0).await?;
        let mut row: ticket::ActiveModel = m.clone().into();
        let mut changes = vec![("merged", None, Some(format!("in #{}", s.id)))];
        if m.status != Status::Resolved.as_str() {
            super::status_with_clock(&m, &mut row, Status::Resolved, dir.calendar(m.tenant_id));
            changes.push(("status", Some(m.status.clone()), Some(Status::Resolved.as_str().to_owned())));
        }
        self.save_changes(&txn, who, row, m.id, changes).await?;
        let row: ticket::ActiveModel = s.clone().into();
        self.save_changes(&txn, who, row, s.id, vec![("merged", None, Some(format!("#{} hierher", m.id)))]).await?;
        txn.commit().await?;
        self.get_ticket(who, survivor).await
    }
}
