//! Reading: lists, one ticket, its history, counts, tenants and queues.
//! Every read goes through the caller's scope; reads of a ticket are logged.

use super::Directory;
use crate::views::{
    AttachmentView, CountView, FieldView, HistoryView, MeView, MessageView, QueueOverview, QueueView, RoleView,
    StaffMenu, TenantView, TicketDetail, TicketPage, TicketSummary, UserRef,
};
use crate::{AppError, AppResult, Logbuch, Principal};
use logbuch_domain::{Action, Priority, Status};
use logbuch_store::{history, tenants, tickets, tickets::Ticket, users};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::IntoParams;

/// Filters and paging of a ticket list; all optional.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Tenant code (`bund`, `nw`, …).
    pub tenant: Option<String>,
    /// Queue slug; needs `tenant`.
    pub queue: Option<String>,
    /// Comma-separated statuses; default: new, open, waiting (resolved tickets leave the lists).
    pub status: Option<String>,
    /// Owner's mail address.
    pub owner: Option<String>,
    /// Only tickets nobody owns.
    pub unassigned: Option<bool>,
    /// Only my tickets.
    pub mine: Option<bool>,
    /// Requester's mail address.
    pub requester: Option<String>,
    /// Created on or after this day (`2026-01-31`).
    pub created_from: Option<String>,
    /// Created on or before this day.
    pub created_to: Option<String>,
    /// Full-text search in subject, messages and requester: all words, `"a phrase"`, `prefix*`.
    /// Ranked; finds resolved tickets too unless `status` is given.
    pub q: Option<String>,
    /// Comma-separated priorities: low, normal, high, urgent.
    pub priority: Option<String>,
    /// Only tickets past the due time that counts now.
    pub overdue: Option<bool>,
    /// Only tickets with this tag.
    pub tag: Option<String>,
    /// urgent (default: most urgent, then longest untouched), newest, oldest, due, updated.
    pub sort: Option<String>,
    /// Page number, from 1.
    pub page: Option<u64>,
    /// Tickets per page, 1–200 (default 50).
    pub per_page: Option<u64>,
}

pub(crate) async fn user_refs(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<HashMap<i64, UserRef>> {
    Ok(users::find_users(db, ids)
        .await?
        .into_iter()
        .map(|u| (u.id, UserRef { id: u.id, email: u.email, display_name: u.display_name }))
        .collect())
}

/// As [`user_refs`], from the directory where it knows the person.
async fn people(db: &impl ConnectionTrait, dir: &Directory, ids: &[i64]) -> AppResult<HashMap<i64, UserRef>> {
    let mut out: HashMap<i64, UserRef> =
        ids.iter().filter_map(|id| dir.staff_member(*id).map(|u| (*id, u.clone()))).collect();
    let missing: Vec<i64> = ids.iter().copied().filter(|id| !out.contains_key(id)).collect();
    out.extend(user_refs(db, &missing).await?);
    Ok(out)
}

/// The ticket's own strings move into the summary (a page has 50 rows).
pub(crate) fn summary(t: Ticket, dir: &Directory, people: &HashMap<i64, UserRef>) -> AppResult<TicketSummary> {
    let queue = dir.queue(t.queue_id)?;
    Ok(TicketSummary {
        number: t.id,
        tenant: dir.tenant(t.tenant_id)?.code.clone(),
        queue: queue.slug.clone(),
        queue_name: queue.name.clone(),
        subject: t.subject,
        status: t.status,
        priority: Priority::from_rank(t.priority).as_str().to_owned(),
        owner: t.owner_id.and_then(|o| people.get(&o).cloned()),
        requester: t.requester,
        requester_name: t.requester_name,
        created_at: t.created_at,
        updated_at: t.updated_at,
        resolved_at: t.resolved_at,
        first_response_due: t.first_response_due,
        resolution_due: t.resolution_due,
        first_responded_at: t.first_responded_at,
    })
}

/// Midnight UTC of a day given as `YYYY-MM-DD`.
fn start_of_day(field: &str, day: &str) -> AppResult<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| AppError::validation(field, format!("„{}“ ist kein Datum der Form 2026-01-31.", day.trim())))
}

impl Logbuch {
    #[tracing::instrument(skip_all, fields(user = %who.user))]
    /// The scope and filter of a list query, with its page and page size.
    async fn list_filter(
        &self,
        who: &Principal,
        dir: &Directory,
        q: ListQuery,
    ) -> AppResult<(logbuch_domain::AccessScope, tickets::TicketFilter, u64, u64)> {
        let db = &self.store.db;
        let scope = self.authz.scope(who, Action::ReadTicket, &dir.tenant_refs());
        let per_page = q.per_page.unwrap_or(50);
        if !(1..=200).contains(&per_page) {
            return Err(AppError::validation("per_page", "Erlaubt sind 1 bis 200 Tickets pro Seite."));
        }
        let page = q.page.unwrap_or(1);
        if !(1..=100_000).contains(&page) {
            return Err(AppError::validation("page", "Seiten zählen ab 1."));
        }
        let mut f = tickets::TicketFilter { limit: per_page, offset: (page - 1) * per_page, ..Default::default() };
        let tenant = match &q.tenant {
            Some(code) => Some(dir.tenant_by_code("tenant", code)?),
            None => None,
        };
        f.tenant = tenant.map(|t| t.id);
        if let Some(slug) = &q.queue {
            let t = tenant
                .ok_or_else(|| AppError::validation("queue", "Eine Queue braucht auch den Verband (tenant=…)."))?;
            f.queue = Some(dir.queue_in("queue", t, Some(slug))?.id);
        }
        if let Some(s) = &q.status {
            for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                f.statuses.push(part.parse::<Status>()?.as_str().to_owned());
            }
        }
        if let Some(owner) = &q.owner {
            // An unknown owner matches nothing rather than revealing who exists.
            f.owner = Some(users::find_user_by_email(db, owner).await?.map_or(-1, |u| u.id));
        }
        if q.mine == Some(true) {
            if f.owner.is_some_and(|o| o != who.user.0) {
                return Err(AppError::validation("mine", "„mine“ und „owner“ widersprechen sich."));
            }
            f.owner = Some(who.user.0);
        }
        f.unassigned = q.unassigned == Some(true);
        if f.unassigned && f.owner.is_some() {
            return Err(AppError::validation("unassigned", "„unassigned“ und ein Besitzer widersprechen sich."));
        }
        f.requester = q.requester.map(|r| r.trim().to_lowercase());
        if let Some(p) = &q.priority {
            for part in p.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                f.priorities.push(part.parse::<Priority>()?.rank());
            }
        }
        if let Some(tag) = q.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            f.tag = Some(super::work::tag_of(tag)?);
        }
        if q.overdue == Some(true) {
            f.overdue_at = Some(logbuch_store::now());
        }
        f.sort = match q.sort.as_deref().map(str::trim) {
            None | Some("" | "urgent") => tickets::Sort::Urgent,
            Some("newest") => tickets::Sort::Newest,
            Some("oldest") => tickets::Sort::Oldest,
            Some("due") => tickets::Sort::Due,
            Some("updated") => tickets::Sort::Updated,
            Some(other) => {
                return Err(AppError::validation(
                    "sort",
                    format!("„{other}“ ist keine Sortierung; möglich: urgent, newest, oldest, due, updated."),
                ));
            }
        };
        f.created_from = q.created_from.as_deref().map(|d| start_of_day("created_from", d)).transpose()?;
        f.created_before = q
            .created_to
            .as_deref()
            .map(|d| start_of_day("created_to", d).map(|t| t + chrono::Duration::days(1)))
            .transpose()?;
        if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            if text.chars().count() > 200 {
                return Err(AppError::validation("q", "Der Suchtext ist länger als 200 Zeichen."));
            }
            let terms = logbuch_store::search::parse_query(text);
            if terms.is_empty() {
                return Err(AppError::validation("q", "Der Suchtext enthält kein Wort."));
            }
            // Search finds resolved tickets too, unless a status is asked for.
            if f.statuses.is_empty() {
                f.statuses = Status::ALL.iter().map(|s| s.as_str().to_owned()).collect();
            }
            f.search = Some(terms);
        }
        Ok((scope, f, page, per_page))
    }

    /// How many tickets a list query finds (a text search counts up to 1,000).
    pub async fn count_matching(&self, who: &Principal, q: ListQuery) -> AppResult<u64> {
        let dir = self.directory().await?;
        let (scope, mut f, _, _) = self.list_filter(who, &dir, q).await?;
        if f.search.is_some() {
            f.offset = 0;
            f.limit = 999;
            return Ok(tickets::list_scoped(&self.store.db, &scope, &f).await?.len() as u64);
        }
        Ok(tickets::count_filtered(&self.store.db, &scope, &f).await?)
    }

    pub async fn list_tickets(&self, who: &Principal, q: ListQuery) -> AppResult<TicketPage> {
        let db = &self.store.db;
        let dir = self.directory().await?;
        let (scope, f, page, per_page) = self.list_filter(who, &dir, q).await?;
        let mut rows = tickets::list_scoped(db, &scope, &f).await?;
        let more = rows.len() as u64 > per_page;
        rows.truncate(usize::try_from(per_page).unwrap_or(usize::MAX));
        let owners: Vec<i64> = rows.iter().filter_map(|t| t.owner_id).collect();
        let people = people(db, &dir, &owners).await?;
        let tickets = rows.into_iter().map(|t| summary(t, &dir, &people)).collect::<AppResult<_>>()?;
        Ok(TicketPage { tickets, page, per_page, next_page: more.then_some(page + 1) })
    }

    /// One ticket with messages, files, watchers and history. The read is logged.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn get_ticket(&self, who: &Principal, id: i64) -> AppResult<TicketDetail> {
        self.get_ticket_with(who, id, false).await
    }

    /// As [`Logbuch::get_ticket`]; with `context`, also the requester's other
    /// tickets and bounces (a few more statements: the ticket page asks, the
    /// API on request).
    pub async fn get_ticket_with(&self, who: &Principal, id: i64, context: bool) -> AppResult<TicketDetail> {
        let db = &self.store.db;
        let dir = self.directory().await?;
        let scope = self.authz.scope(who, Action::ReadTicket, &dir.tenant_refs());
        let tickets::TicketParts { ticket: t, messages: msgs, attachments: files, history: hist, watchers, links } =
            tickets::read_logged(db, &scope, id, who.user.0, "view")
                .await?
                .ok_or_else(|| AppError::ticket_not_found(id))?;
        self.require_on(who, Action::ReadTicket, &t, &dir)?;
        let mut ids: Vec<i64> = watchers.clone();
        ids.extend(t.owner_id);
        ids.extend(msgs.iter().filter_map(|m| m.author_id));
        ids.extend(hist.iter().filter_map(|h| h.actor_id));
        let running = logbuch_store::processes::of_ticket(db, t.id).await?;
        let merged_into = logbuch_store::merges::survivor_of(db, t.id).await?;
        let tags = logbuch_store::tags::of_ticket(db, t.id).await?;
        for (p, steps) in &running {
            ids.extend(p.started_by);
            ids.extend(steps.iter().filter_map(|s| s.done_by));
        }
        ids.sort_unstable();
        ids.dedup();
        let people = people(db, &dir, &ids).await?;
        let messages = msgs
            .into_iter()
            .map(|m| MessageView {
                attachments: files
                    .iter()
                    .filter(|a| a.message_id == m.id)
                    .map(|a| AttachmentView {
                        id: a.id,
                        message_id: a.message_id,
                        filename: a.filename.clone(),
                        content_type: a.content_type.clone(),
                        size: a.size,
                        sha256: a.sha256.clone(),
                    })
                    .collect(),
                id: m.id,
                kind: m.kind,
                author: m.author_id.and_then(|a| people.get(&a).cloned()),
                from: m.from_addr,
                to: m.to_addrs,
                cc: m.cc_addrs,
                subject: m.subject,
                message_id: m.message_id_header,
                in_reply_to: m.in_reply_to,
                body_text: m.body_text,
                body_html: m.body_html,
                pgp: m.pgp.as_deref().and_then(crate::pgp::PgpState::describe),
                created_at: m.created_at,
            })
            .collect();
        let allowed_actions = Action::ALL
            .iter()
            .filter(|a| {
                !matches!(a, Action::ManageQueues | Action::ManageUsers | Action::CreateTicket | Action::ReadReports)
            })
            .filter(|a| self.require_on(who, **a, &t, &dir).is_ok())
            .map(|a| a.to_string())
            .collect();
        let fields = logbuch_store::portal::fields_of(db, t.id)
            .await?
            .into_iter()
            .map(|f| FieldView { label: f.label, value: f.value })
            .collect();
        let cal = dir.calendar(t.tenant_id);
        let now = logbuch_store::now();
        let (processes, available_processes) = crate::processes::process_views(&dir, &t, running, &people);
        let (requester_tickets, requester_bounces) =
            if context { self.requester_context(&dir, &scope, &t).await? } else { (Vec::new(), Vec::new()) };
        let summary = summary(t, &dir, &people)?;
        let business_minutes_left = summary.due_at().filter(|_| summary.status != "waiting").map(|due| {
            if due >= now { cal.business_minutes_between(now, due) } else { -cal.business_minutes_between(due, now) }
        });
        Ok(TicketDetail {
            fields,
            business_minutes_left,
            ticket: summary,
            watchers: watchers.iter().filter_map(|w| people.get(w).cloned()).collect(),
            links,
            messages,
            history: history_views(hist, &people),
            allowed_actions,
            processes,
            available_processes,
            requester_tickets,
            requester_bounces,
            merged_into,
            tags,
        })
    }

    /// Tags the ticket's tenant uses, most used first, for the tag field of a ticket the caller may read.
    pub async fn tag_suggestions(&self, who: &Principal, id: i64) -> AppResult<Vec<String>> {
        let dir = self.directory().await?;
        let t = self.load_ticket(&self.store.db, who, id, Action::ReadTicket, &dir).await?;
        Ok(logbuch_store::tags::of_tenant(&self.store.db, t.tenant_id, 30).await?)
    }

    /// The requester's other tickets in the caller's scope and the bounces recorded for the address.
    async fn requester_context(
        &self,
        dir: &Directory,
        scope: &logbuch_domain::AccessScope,
        t: &Ticket,
    ) -> AppResult<(Vec<TicketSummary>, Vec<crate::views::BounceView>)> {
        if t.requester.trim().is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let db = &self.store.db;
        let f = tickets::TicketFilter {
            requester: Some(t.requester.clone()),
            statuses: Status::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
            sort: tickets::Sort::Newest,
            limit: 11,
            ..Default::default()
        };
        let mut rows = tickets::list_scoped(db, scope, &f).await?;
        rows.retain(|r| r.id != t.id);
        rows.truncate(10);
        let owners: Vec<i64> = rows.iter().filter_map(|r| r.owner_id).collect();
        let people = people(db, dir, &owners).await?;
        let others = rows.into_iter().map(|r| summary(r, dir, &people)).collect::<AppResult<_>>()?;
        let tenants: Option<Vec<i64>> = match scope {
            logbuch_domain::AccessScope::All => None,
            logbuch_domain::AccessScope::Only(g) => Some(g.iter().map(|g| g.tenant.0).collect()),
        };
        let bounces = logbuch_store::intake::bounces_of_address(db, &t.requester, tenants.as_deref(), 10)
            .await?
            .into_iter()
            .map(|b| crate::views::BounceView {
                reason_label: b
                    .reason
                    .as_deref()
                    .and_then(logbuch_mail::Reason::from_name)
                    .map(|r| r.label().to_owned()),
                status: b.status,
                reason: b.reason,
                ticket: b.ticket_id,
                at: b.created_at,
            })
            .collect();
        Ok((others, bounces))
    }

    /// The history of a ticket the caller may read. The read is logged.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn ticket_history(&self, who: &Principal, id: i64) -> AppResult<Vec<HistoryView>> {
        let db = &self.store.db;
        let dir = self.directory().await?;
        let t = self.load_ticket(db, who, id, Action::ReadTicket, &dir).await?;
        let hist = history::of_ticket(db, t.id).await?;
        let ids: Vec<i64> = hist.iter().filter_map(|h| h.actor_id).collect();
        let people = user_refs(db, &ids).await?;
        history::log_access(db, t.id, who.user.0, "history").await?;
        Ok(history_views(hist, &people))
    }

    /// Ticket counts by tenant, queue and status, within the caller's scope.
    pub async fn count_tickets(&self, who: &Principal, tenant: Option<&str>) -> AppResult<Vec<CountView>> {
        let db = &self.store.db;
        let dir = self.directory().await?;
        let scope = self.authz.scope(who, Action::ReadTicket, &dir.tenant_refs());
        let tenant_id = match tenant {
            Some(code) => Some(dir.tenant_by_code("tenant", code)?.id),
            None => None,
        };
        let rows = tickets::count_scoped(db, &scope, tenant_id).await?;
        rows.into_iter()
            .map(|(t, q, status, count)| {
                Ok(CountView { tenant: dir.tenant(t)?.code.clone(), queue: dir.queue(q)?.slug.clone(), status, count })
            })
            .collect()
    }

    /// Every queue the caller may read, with its active tickets by status,
    /// the overdue ones and the next due time; Bund first, then by code.
    pub async fn queue_overview(&self, who: &Principal) -> AppResult<Vec<QueueOverview>> {
        let dir = self.directory().await?;
        let scope = self.authz.scope(who, Action::ReadTicket, &dir.tenant_refs());
        let figures = tickets::queue_figures(&self.store.db, &scope, logbuch_store::now()).await?;
        let mut out: Vec<QueueOverview> = dir
            .queues()
            .filter(|q| scope.allows(logbuch_domain::TenantId(q.tenant_id), logbuch_domain::QueueId(q.id)))
            .map(|q| {
                let tenant = dir.tenant(q.tenant_id)?;
                let f = figures.iter().find(|f| f.queue_id == q.id).cloned().unwrap_or_default();
                Ok(QueueOverview {
                    tenant: tenant.code.clone(),
                    tenant_name: tenant.name.clone(),
                    queue: q.slug.clone(),
                    queue_name: q.name.clone(),
                    new: f.new,
                    open: f.open,
                    waiting: f.waiting,
                    overdue: f.overdue,
                    next_due: f.next_due,
                })
            })
            .collect::<AppResult<_>>()?;
        out.sort_by(|a, b| (a.tenant != "bund", &a.tenant, &a.queue).cmp(&(b.tenant != "bund", &b.tenant, &b.queue)));
        Ok(out)
    }

    /// The caller's navigation: triage and the tenants they administer.
    pub async fn staff_menu(&self, who: &Principal) -> AppResult<StaffMenu> {
        use logbuch_authz::Target;
        let dir = self.directory().await?;
        let mut menu = StaffMenu::default();
        if let Ok(triage) = dir.bund_default_queue() {
            let bund = dir.tenant_ref(triage.tenant_id)?;
            let target = Target { tenant: &bund, queue: Some(logbuch_domain::QueueId(triage.id)) };
            if self.authz.allows(who, Action::HandOver, target) {
                menu.triage = Some(triage.slug.clone());
            }
        }
        for t in dir.tenant_refs() {
            if self.authz.allows(who, Action::ManageQueues, Target { tenant: &t, queue: None }) {
                menu.admin_of.push(t.code.to_string());
            }
        }
        menu.admin_of.sort_by(|a, b| (a != "bund", a).cmp(&(b != "bund", b)));
        Ok(menu)
    }

    /// Every tenant of the federation (names are no secret; needed to hand tickets over).
    pub async fn list_tenants(&self, _who: &Principal) -> AppResult<Vec<TenantView>> {
        let dir = self.directory().await?;
        let mut v: Vec<TenantView> = dir
            .tenants()
            .map(|t| TenantView {
                code: t.code.clone(),
                name: t.name.clone(),
                default_queue: t.default_queue_id.and_then(|q| dir.queue(q).ok()).map(|q| q.slug.clone()),
            })
            .collect();
        v.sort_by(|a, b| (a.code != "bund", &a.code).cmp(&(b.code != "bund", &b.code)));
        Ok(v)
    }

    /// The queues of a tenant where the caller holds any role (404 otherwise).
    pub async fn list_queues(&self, who: &Principal, tenant: &str) -> AppResult<Vec<QueueView>> {
        let db = &self.store.db;
        let dir = self.directory().await?;
        let t = dir
            .tenant_by_code("tenant", tenant)
            .map_err(|_| AppError::NotFound(format!("Den Verband „{tenant}“ gibt es nicht.")))?;
        let scope = self.authz.scope(who, Action::ReadTicket, &dir.tenant_refs());
        let mut out = Vec::new();
        let mut queues: Vec<_> = dir.queues().filter(|q| q.tenant_id == t.id).collect();
        queues.sort_by(|a, b| a.slug.cmp(&b.slug));
        for q in
            queues.into_iter().filter(|q| scope.allows(logbuch_domain::TenantId(t.id), logbuch_domain::QueueId(q.id)))
        {
            out.push(QueueView {
                tenant: t.code.clone(),
                slug: q.slug.clone(),
                name: q.name.clone(),
                default_priority: Priority::from_rank(q.default_priority).as_str().to_owned(),
                first_response_minutes: q.first_response_minutes,
                resolution_minutes: q.resolution_minutes,
                escalation_minutes: q.escalation_minutes,
                addresses: tenants::queue_addresses(db, q.id).await?,
            });
        }
        if out.is_empty() {
            return Err(AppError::NotFound(format!(
                "Den Verband „{tenant}“ gibt es nicht, oder Sie haben dort keine Rolle."
            )));
        }
        Ok(out)
    }

    /// Who the caller is and which roles they hold.
    pub async fn me(&self, who: &Principal) -> AppResult<MeView> {
        let dir = self.directory().await?;
        let roles = who
            .assignments
            .iter()
            .map(|a| RoleView {
                role: a.role.to_string(),
                tenant: a.tenant.and_then(|t| dir.tenant(t.0).ok()).map(|t| t.code.clone()),
                queue: a.queue.and_then(|q| dir.queue(q.0).ok()).map(|q| q.slug.clone()),
            })
            .collect();
        Ok(MeView { id: who.user.0, email: who.email.clone(), display_name: who.display_name.clone(), roles })
    }
}

fn history_views(hist: Vec<history::Entry>, people: &HashMap<i64, UserRef>) -> Vec<HistoryView> {
    hist.into_iter()
        .map(|h| HistoryView {
            id: h.id,
            at: h.at,
            actor: h.actor_id.and_then(|a| people.get(&a).cloned()),
            actor_label: h.actor_label,
            field: h.field,
            from: h.old_value,
            to: h.new_value,
        })
        .collect()
}
