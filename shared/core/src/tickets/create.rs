//! Opening a ticket on someone's behalf (phone call, letter, web form).

use super::Directory;
use super::messages::{NewFileDecoded, decode_files, store_message, validate_body};
use crate::views::TicketDetail;
use crate::{AppError, AppResult, Logbuch, Principal};
use logbuch_authz::Target;
use logbuch_domain::{Action, MessageKind, Priority, QueueId, Status};
use logbuch_store::{entity::ticket, history, now, tickets};
use sea_orm::{Set, TransactionTrait};
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
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',')
        && a.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if valid {
        Ok(a)
    } else {
        Err(AppError::validation(
            field,
            format!("„{}“ ist keine gültige Mailadresse.", raw.trim()),
        ))
    }
}

pub(crate) fn validate_subject(raw: &str, max_chars: usize) -> AppResult<String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(AppError::validation(
            "subject",
            "Der Betreff darf nicht leer sein.",
        ));
    }
    if s.chars().count() > max_chars {
        return Err(AppError::validation(
            "subject",
            format!("Der Betreff ist länger als {max_chars} Zeichen."),
        ));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(AppError::validation(
            "subject",
            "Der Betreff enthält Steuerzeichen.",
        ));
    }
    Ok(s.to_owned())
}

impl Logbuch {
    #[tracing::instrument(skip_all, fields(user = %who.user))]
    pub async fn create_ticket(
        &self,
        who: &Principal,
        input: NewTicket,
    ) -> AppResult<TicketDetail> {
        let txn = self.store.db.begin().await?;
        let dir = Directory::load(&txn).await?;
        let tenant = dir.tenant_by_code("tenant", &input.tenant)?;
        let queue = dir.queue_in("queue", tenant, input.queue.as_deref())?;
        let tref = dir.tenant_ref(tenant.id)?;
        if !self.authz.allows(
            who,
            Action::CreateTicket,
            Target {
                tenant: &tref,
                queue: Some(QueueId(queue.id)),
            },
        ) {
            // Whether the caller may see the tenant at all decides between 404 and 403.
            return Err(
                if self.authz.allows(
                    who,
                    Action::ReadTicket,
                    Target {
                        tenant: &tref,
                        queue: Some(QueueId(queue.id)),
                    },
                ) {
                    AppError::Forbidden(format!(
                        "Sie dürfen in {}/{} keine Tickets anlegen.",
                        tenant.code, queue.slug
                    ))
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
        let files: Vec<NewFileDecoded> =
            decode_files(&input.attachments, limits.max_attachment_bytes)?;
        let created = now();
        let due = |m: Option<i32>| m.map(|m| created + chrono::Duration::minutes(i64::from(m)));
        let t = tickets::insert(
            &txn,
            ticket::ActiveModel {
                tenant_id: Set(tenant.id),
                queue_id: Set(queue.id),
                subject: Set(subject.clone()),
                status: Set(Status::New.as_str().to_owned()),
                priority: Set(priority.rank()),
                owner_id: Set(None),
                requester: Set(requester.clone()),
                requester_name: Set(input
                    .requester_name
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty())),
                created_at: Set(created),
                updated_at: Set(created),
                resolved_at: Set(None),
                first_response_due: Set(due(queue.first_response_minutes)),
                resolution_due: Set(due(queue.resolution_minutes)),
                first_responded_at: Set(None),
                ..Default::default()
            },
        )
        .await?;
        history::record(
            &txn,
            t.id,
            Some(who.user.0),
            "created",
            None,
            Some(dir.queue_path(queue.id)),
        )
        .await?;
        store_message(
            &txn,
            &t,
            who,
            MessageKind::Inbound,
            Some(requester),
            Some(subject),
            &input.body,
            &files,
            None,
        )
        .await?;
        txn.commit().await?;
        self.get_ticket(who, t.id).await
    }
}
