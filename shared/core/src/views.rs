//! What use cases return: plain, serialisable views (the API's JSON bodies).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

mod time;

/// A person, as shown on tickets.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct UserRef {
    pub id: i64,
    pub email: String,
    pub display_name: String,
}

/// A ticket in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketSummary {
    /// The global ticket number (`#1234`).
    pub number: i64,
    /// Tenant code: `bund` or an LV code like `nw`.
    pub tenant: String,
    /// Queue slug within the tenant.
    pub queue: String,
    pub queue_name: String,
    pub subject: String,
    /// new, open, waiting or resolved.
    pub status: String,
    /// low, normal, high or urgent.
    pub priority: String,
    pub owner: Option<UserRef>,
    pub requester: String,
    pub requester_name: Option<String>,
    #[serde(serialize_with = "time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "time::rfc3339")]
    pub updated_at: DateTime<Utc>,
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub first_response_due: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub resolution_due: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub first_responded_at: Option<DateTime<Utc>>,
}

impl TicketSummary {
    /// The due time that matters now: the first answer while none was given,
    /// else the resolution; none once resolved. (The start page's SQL,
    /// `tickets::queue_figures`, says the same.)
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        if self.status == "resolved" {
            return None;
        }
        match (self.first_responded_at, self.first_response_due) {
            (None, Some(first)) => Some(first),
            _ => self.resolution_due,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub message_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    /// inbound, outbound or note.
    pub kind: String,
    pub author: Option<UserRef>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub cc: Option<String>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub body_text: String,
    /// The mail's HTML as received: untrusted, sanitize before rendering.
    pub body_html: Option<String>,
    #[serde(serialize_with = "time::rfc3339")]
    pub created_at: DateTime<Utc>,
    pub attachments: Vec<AttachmentView>,
    /// OpenPGP, in words: „verschlüsselt · signiert von …, geprüft“; absent for plain mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pgp: Option<String>,
}

/// A field of the web form, as the requester filled it in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldView {
    pub label: String,
    pub value: String,
}

/// One change on a ticket: who changed which field from what to what, when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryView {
    pub id: i64,
    #[serde(serialize_with = "time::rfc3339")]
    pub at: DateTime<Utc>,
    pub actor: Option<UserRef>,
    /// Who acted when it was no staff member: the requester on the status page.
    pub actor_label: Option<String>,
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A ticket with everything on it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: TicketSummary,
    pub watchers: Vec<UserRef>,
    /// Tickets opened from the same mail in other tenants (numbers; may lie outside the caller's reach).
    pub links: Vec<i64>,
    pub messages: Vec<MessageView>,
    pub history: Vec<HistoryView>,
    /// What the requester filled in on the web form (help topic and its fields).
    pub fields: Vec<FieldView>,
    /// Business minutes until the due time that counts now (negative: overdue
    /// by that much); none without a due time, when resolved, or while the
    /// ticket waits on the requester (its clocks are paused).
    pub business_minutes_left: Option<i64>,
    /// Actions the caller may take on this ticket (policy names like `ticket.take`).
    pub allowed_actions: Vec<String>,
    /// The requester's other tickets the caller may read, newest first (at most 10;
    /// with `?context=true`, else empty).
    pub requester_tickets: Vec<TicketSummary>,
    /// Bounces recorded for the requester's address in tenants the caller may read, newest first
    /// (with `?context=true`, else empty).
    pub requester_bounces: Vec<BounceView>,
    /// The ticket this one was merged into (mail naming this one lands there).
    pub merged_into: Option<i64>,
    pub tags: Vec<String>,
    /// Processes started on this ticket, oldest first.
    pub processes: Vec<ProcessView>,
    /// Processes of the ticket's tenant one may start (slug and name).
    pub available_processes: Vec<ProcessChoice>,
}

/// A mail to an address that came back.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BounceView {
    /// The SMTP status (`5.1.1`).
    pub status: Option<String>,
    /// user_unknown, mailbox_full, complaint, …
    pub reason: Option<String>,
    /// The reason in German words.
    pub reason_label: Option<String>,
    /// The ticket it was recorded on (the one whose mail bounced, or the collection).
    pub ticket: i64,
    #[serde(serialize_with = "time::rfc3339")]
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProcessChoice {
    pub slug: String,
    pub name: String,
}

/// A process on a ticket: its steps, which is due, which are done by whom.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProcessView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    #[serde(serialize_with = "time::rfc3339")]
    pub started_at: DateTime<Utc>,
    pub started_by: Option<UserRef>,
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub completed_at: Option<DateTime<Utc>>,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StepView {
    pub id: i64,
    /// From 1.
    pub position: i32,
    pub name: String,
    /// done, current or pending.
    pub state: String,
    /// The canned response this step sends when done.
    pub send: Option<String>,
    /// The step completes when the requester answers from their address.
    pub wait_for_requester: bool,
    /// What must be noted to finish the step (e.g. the booking in the member database).
    pub evidence_label: Option<String>,
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<UserRef>,
    /// Who did it when it was no staff member (the requester's answer).
    pub done_label: Option<String>,
    pub evidence: Option<String>,
}

/// A process step past its due time, for the start page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverdueStep {
    pub ticket: i64,
    pub subject: String,
    pub tenant: String,
    pub process: String,
    pub step: String,
    #[serde(serialize_with = "time::rfc3339")]
    pub due_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketPage {
    pub tickets: Vec<TicketSummary>,
    pub page: u64,
    pub per_page: u64,
    /// The next page's number, if there is one.
    pub next_page: Option<u64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantView {
    pub code: String,
    pub name: String,
    pub default_queue: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueView {
    pub tenant: String,
    pub slug: String,
    pub name: String,
    pub default_priority: String,
    pub first_response_minutes: Option<i32>,
    pub resolution_minutes: Option<i32>,
    pub escalation_minutes: Option<i32>,
    pub addresses: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountView {
    pub tenant: String,
    pub queue: String,
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleView {
    pub role: String,
    pub tenant: Option<String>,
    pub queue: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<RoleView>,
}

/// A queue on someone's start page: active tickets by status and what is due.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueOverview {
    pub tenant: String,
    pub tenant_name: String,
    pub queue: String,
    pub queue_name: String,
    pub new: i64,
    pub open: i64,
    pub waiting: i64,
    /// Active tickets past their first-response or resolution due time.
    pub overdue: i64,
    /// The earliest due time among the active tickets (may be past).
    #[serde(serialize_with = "time::rfc3339_opt")]
    pub next_due: Option<DateTime<Utc>>,
}

/// What a person's navigation offers: the Bund's triage queue (for those who
/// may hand its tickets over) and the tenants they administer.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct StaffMenu {
    /// The Bund's default queue slug, if the caller may hand its tickets to LVs.
    pub triage: Option<String>,
    /// Tenant codes where the caller manages queues and templates.
    pub admin_of: Vec<String>,
}
