//! Opening a ticket on someone's behalf (phone call, letter, web form).

use super::Directory;
use super::messages::{decode_files, message_by, validate_body};
use crate::outgoing::Notice;
use crate::views::TicketDetail;
use crate::{AppError, AppResult, Logbuch, Principal};
use logbuch_authz::Target;
use logbuch_domain::{Action, MessageKind, Priority, QueueId, Status};
use logbuch_store::{entity::queue, entity::ticket, history, messages, now, tickets, tickets::Ticket};
use sea_orm::Set;
use serde::Deserialize;
use utoipa::ToSchema;

/// A file sent with a ticket or message, base64-encoded.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFile {
    pub filename: String,
    /// MIME type; `application/octet-stream` when missing.
    pub content_type: Option<String>,
    pub content_base64: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    /// Tenant code: `bund` or an LV code like `nw`.
    pub tenant: String,
    /// Queue slug; the tenant's default queue when missing.
    pub queue: Option<String>,
    pub subject: String,
    /// The request as the requester put it.
    pub body: String,
    /// The requester's mail address.
    pub requester: String,
    pub requester_name: Option<String>,
    /// low, normal, high, urgent; the queue's default when missing.
    pub priority: Option<String>,
    #[serde(default)]
    pub attachments: Vec<NewFile>,
}

/// Checks and normalises a mail address (no display name, no spaces).
pub(crate) fn validate_address(field: &str, raw: &str) -> AppResult<String> {
    let a = raw.trim().to_lowercase();
    let valid = a.len() <= 254
        && !a.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',')
        && a.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    if valid {
        Ok(a)
    } else {
        Err(AppError::validation(field, format!("„{}“ ist keine gültige Mailadresse.", raw.trim())))
    }
}

pub(crate) fn validate_subject(raw: &str, max_chars: usize) -> AppResult<String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(AppError::validation("subject", "Der Betreff darf nicht leer sein."));
    }
    if s.chars().count() > max_chars {
        return Err(AppError::validation("subject", format!("Der Betreff ist länger als {max_chars} Zeichen.")));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(AppError::validation("subject", "Der Betreff enthält Steuerzeichen."));
    }
    Ok(s.to_owned())
}

impl Logbuch {
    #[tracing::instrument(skip_all, fields(user = %who.user))]
    pub async fn create_ticket(&self, who: &Principal, input: NewTicket) -> AppResult<TicketDetail> {
        // Before the transaction: SQLite has one connection, the directory may need it.
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let tenant = dir.tenant_by_code("tenant", &input.tenant)?;
        let queue = dir.queue_in("queue", tenant, input.queue.as_deref())?;
        let tref = dir.tenant_ref(tenant.id)?;
        if !self.authz.allows(who, Action::CreateTicket, Target { tenant: &tref, queue: Some(QueueId(queue.id)) }) {
            // Whether the caller may see the tenant at all decides between 404 and 403.
            return Err(
                if self.authz.allows(who, Action::ReadTicket, Target { tenant: &tref, queue: Some(QueueId(queue.id)) })
                {
                    AppError::Forbidden(format!("Sie dürfen in {}/{} keine Tickets anlegen.", tenant.code, queue.slug))
                } else {
                    AppError::NotFound(format!(
                        "Die Queue {}/{} gibt es nicht, oder Sie haben keinen Zugriff darauf.",
                        tenant.code, queue.slug
                    ))
                },
            );
        }
        let limits = &self.settings.limits;
        let subject = validate_subject(&input.subject, limits.max_subject_chars)?;
        let requester = validate_address("requester", &input.requester)?;
        validate_body(&input.body, limits.max_body_bytes)?;
        let priority = match &input.priority {
            Some(p) => p.parse::<Priority>()?,
            None => Priority::from_rank(queue.default_priority),
        };
        let files = decode_files(&input.attachments, limits.max_attachment_bytes)?;
        let t = open_ticket(
            &txn,
            &dir,
            queue,
            NewTicketRow {
                subject: subject.clone(),
                requester: requester.clone(),
                requester_name: input.requester_name,
                priority,
                actor: Some(who.user.0),
                via: "API",
            },
            None,
        )
        .await?;
        let mut row = message_by(&t, who, MessageKind::Inbound, &input.body);
        row.from_addr = Set(Some(requester));
        row.subject = Set(Some(subject));
        messages::insert(&txn, row, &files).await?;
        let mails = self.notify(&txn, &dir, &t, Notice::Opened { acknowledge: None }, Some(who.user.0)).await?;
        txn.commit().await?;
        self.dispatch_outbox(&mails).await;
        self.get_ticket(who, t.id).await
    }
}

/// What a new ticket starts with, whoever opens it.
pub(crate) struct NewTicketRow {
    pub subject: String,
    pub requester: String,
    pub requester_name: Option<String>,
    pub priority: Priority,
    /// The person who opened it; none when a mail did.
    pub actor: Option<i64>,
    /// How it came in, for the history: `API`, `Mail`.
    pub via: &'static str,
}

/// Inserts a ticket in `queue` with its SLA due times and its "created"
/// history entry (written with a batch's other rows when `writes` is given).
pub(crate) async fn open_ticket(
    db: &impl sea_orm::ConnectionTrait,
    dir: &Directory,
    queue: &queue::Model,
    new: NewTicketRow,
    writes: Option<&mut logbuch_store::Deferred>,
) -> AppResult<Ticket> {
    let created = now();
    let (first_response_due, resolution_due) = super::due_times(dir.calendar(queue.tenant_id), queue, created);
    let t = tickets::insert(
        db,
        ticket::ActiveModel {
            tenant_id: Set(queue.tenant_id),
            queue_id: Set(queue.id),
            subject: Set(new.subject),
            status: Set(Status::New.as_str().to_owned()),
            priority: Set(new.priority.rank()),
            owner_id: Set(None),
            requester: Set(new.requester),
            requester_name: Set(new.requester_name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty())),
            created_at: Set(created),
            updated_at: Set(created),
            resolved_at: Set(None),
            first_response_due: Set(first_response_due),
            resolution_due: Set(resolution_due),
            first_responded_at: Set(None),
            waiting_since: Set(None),
            ..Default::default()
        },
    )
    .await?;
    let (via, path) = (Some(new.via.to_owned()), Some(dir.queue_path(queue.id)));
    match writes {
        Some(w) => w.history_by(t.id, new.actor, "created", via, path),
        None => history::record(db, t.id, new.actor, "created", via, path).await?,
    }
    Ok(t)
}
