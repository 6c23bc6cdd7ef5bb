//! One ticket: its messages, notes, files, watchers and history, and a form
//! for every action the person may take on it. Each form posts with the
//! session's CSRF token and comes back to the ticket (303).

use super::{Choice, Nav, NoFields, StaffForm, UiResult, nav, page, page_session, see_other, strings as s};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use logbuch_core::tickets::{HandOver, NewMessage, TicketChange};
use logbuch_core::{AppError, Logbuch};
use logbuch_domain::MessageKind;
use serde::Deserialize;

struct FileRow {
    href: String,
    name: String,
    size: String,
}

struct MessageRow {
    kind: &'static str,
    note: bool,
    from: String,
    at: String,
    html: Option<String>,
    text: String,
    files: Vec<FileRow>,
    /// „verschlüsselt · signiert von …, geprüft“.
    pgp: Option<String>,
}

fn choices<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>, current: &str) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(v, l)| Choice { value: v.to_owned(), label: l.to_owned(), selected: v == current })
        .collect()
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    nav: Option<Nav>,
    csrf: String,
    number: i64,
    subject: String,
    tenant: String,
    queue: String,
    status: &'static str,
    priority: &'static str,
    owner: String,
    requester: String,
    due: Vec<(&'static str, String)>,
    links: Vec<i64>,
    can_take: bool,
    can_resolve: bool,
    can_reopen: bool,
    can_note: bool,
    can_reply: bool,
    /// Empty when the person may not assign.
    assignees: Vec<Choice>,
    /// Priority choices, empty when the person may not change it.
    priorities: Vec<Choice>,
    /// Status choices (new, open, waiting), empty when the person may not change it.
    statuses: Vec<Choice>,
    /// Queues of the same tenant, empty when the person may not move.
    queues: Vec<Choice>,
    /// Tenants the ticket can be handed to: (code, name).
    hand_over_to: Vec<(String, String)>,
    can_watch: bool,
    watchers: Vec<(String, String)>,
    /// People who could watch, for the add form: (email, name).
    watch_candidates: Vec<(String, String)>,
    canned: Vec<Choice>,
    reply_text: String,
    messages: Vec<MessageRow>,
    history: Vec<String>,
    /// The web form's topic and fields: (label, value).
    fields: Vec<(String, String)>,
    processes: Vec<ProcessRow>,
    process_choices: Vec<Choice>,
    /// The newest message id on the page: a reply or note says what it saw.
    seen: i64,
    merged_into: Option<i64>,
    /// Others who have this ticket's reply form open: "Name (seit 14:02)".
    also_here: Vec<String>,
    /// The tickets before and after this one in its queue's open list (most urgent first).
    previous: Option<i64>,
    next: Option<i64>,
    tags: Vec<String>,
    tag_suggestions: Vec<String>,
    /// Why a text came back unsent.
    warning: Option<String>,
    note_text: String,
    /// The requester's other tickets: (number, subject, status, age).
    requester_tickets: Vec<(i64, String, &'static str, String)>,
    /// Bounces of the requester's address, in words.
    requester_bounces: Vec<String>,
    /// May start processes and tick off steps.
    can_process: bool,
    /// May see the access log (member data of this tenant).
    can_audit: bool,
    /// Under a legal hold (shown with `can_audit`).
    held: bool,
    /// The requester's address, for filing their OpenPGP key.
    requester_address: String,
}

struct ProcessRow {
    name: String,
    done: bool,
    started: String,
    steps: Vec<StepRow>,
}

struct StepRow {
    id: i64,
    name: String,
    state: &'static str,
    state_label: &'static str,
    current: bool,
    overdue: bool,
    due: String,
    done_text: String,
    evidence: Option<String>,
    waits: bool,
    sends: bool,
}

fn process_rows(d: &logbuch_core::views::TicketDetail, now: chrono::DateTime<chrono::Utc>) -> Vec<ProcessRow> {
    let berlin =
        |at: chrono::DateTime<chrono::Utc>| logbuch_domain::calendar::utc_to_berlin(at).format("%d.%m.%Y %H:%M");
    d.processes
        .iter()
        .map(|p| ProcessRow {
            name: p.name.clone(),
            done: p.completed_at.is_some(),
            started: format!(
                "begonnen {} von {}",
                berlin(p.started_at),
                p.started_by.as_ref().map_or("–", |u| u.display_name.as_str())
            ),
            steps: p
                .steps
                .iter()
                .map(|st| {
                    let current = st.state == "current";
                    let by = st.done_by.as_ref().map(|u| u.display_name.clone()).or_else(|| st.done_label.clone());
                    let done_text = match (st.done_at, by) {
                        (Some(at), by) => {
                            let mut t = format!("{} von {}", berlin(at), by.unwrap_or_else(|| "–".into()));
                            if let Some(e) = &st.evidence {
                                t.push_str(&format!(" · Nachweis: {e}"));
                            }
                            t
                        }
                        (None, _) => String::new(),
                    };
                    StepRow {
                        id: st.id,
                        name: st.name.clone(),
                        state: match st.state.as_str() {
                            "done" => "done",
                            "current" => "current",
                            _ => "pending",
                        },
                        state_label: match st.state.as_str() {
                            "done" => s::STEP_STATE_DONE,
                            "current" => s::STEP_STATE_CURRENT,
                            _ => s::STEP_STATE_PENDING,
                        },
                        current,
                        overdue: st.overdue,
                        due: match st.due_at {
                            Some(at) if current => format!("{} {} ({})", s::DUE, berlin(at), s::due(at, now)),
                            _ => String::new(),
                        },
                        done_text,
                        evidence: st.evidence_label.clone(),
                        waits: st.wait_for_requester,
                        sends: st.send.is_some(),
                    }
                })
                .collect(),
        })
        .collect()
}

#[derive(Deserialize)]
pub struct TicketParams {
    /// A canned response to put into the reply field (`canned.…`).
    vorlage: Option<String>,
}

fn size(bytes: i64) -> String {
    if bytes < 10_000 { format!("{bytes} B") } else { format!("{} kB", bytes / 1000) }
}

/// `GET /ui/tickets/{id}`: a ticket with everything on it.
pub async fn ticket(
    State(app): State<Logbuch>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(p): Query<TicketParams>,
) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    render(&app, &sp, id, p.vorlage.as_deref(), Compose::default()).await
}

/// What the reply and note forms hold when the page comes back from a refused send.
#[derive(Default)]
struct Compose {
    /// Why the text was not sent (someone wrote in between).
    warning: Option<String>,
    reply: Option<String>,
    note: Option<String>,
}

async fn render(
    app: &Logbuch,
    sp: &logbuch_core::sso::SessionPrincipal,
    id: i64,
    vorlage: Option<&str>,
    compose: Compose,
) -> UiResult {
    let app = app.clone();
    let who = &sp.principal;
    let d = app.get_ticket_with(who, id, true).await?;
    let allowed = |a: &str| d.allowed_actions.iter().any(|x| x == a);
    let me = who.user.0;
    let t = &d.ticket;
    let now = chrono::Utc::now();
    let resolved = t.status == "resolved";
    let messages = d
        .messages
        .iter()
        .map(|m| MessageRow {
            kind: s::kind(&m.kind),
            note: m.kind == "note",
            from: m.from.clone().or_else(|| m.author.as_ref().map(|a| a.display_name.clone())).unwrap_or_default(),
            at: m.created_at.format("%d.%m.%Y %H:%M").to_string(),
            html: m.body_html.as_deref().map(super::mail_html),
            text: m.body_text.clone(),
            pgp: m.pgp.clone(),
            files: m
                .attachments
                .iter()
                .map(|a| FileRow {
                    href: format!("/api/v1/tickets/{}/attachments/{}", t.number, a.id),
                    name: a.filename.clone(),
                    size: size(a.size),
                })
                .collect(),
        })
        .collect();
    let history = d
        .history
        .iter()
        .map(|h| {
            format!(
                "{} · {} · {}: {} → {}",
                h.at.format("%d.%m.%Y %H:%M"),
                h.actor.as_ref().map(|a| a.display_name.as_str()).or(h.actor_label.as_deref()).unwrap_or("System"),
                s::field(&h.field),
                h.from.as_deref().map_or("–", |v| s::value(&h.field, v)),
                h.to.as_deref().map_or("–", |v| s::value(&h.field, v))
            )
        })
        .collect();
    // The due time that counts now, named for what is due.
    let due: Vec<(&'static str, String)> = t
        .due_at()
        .map(|at| {
            let what = if Some(at) == t.resolution_due { s::RESOLUTION_DUE } else { s::FIRST_RESPONSE_DUE };
            let when = logbuch_domain::calendar::utc_to_berlin(at).format("%d.%m.%Y %H:%M");
            let text = match d.business_minutes_left {
                _ if t.status == "waiting" => format!("{when} – {}", s::PAUSED),
                Some(m) if m >= 0 => format!("{when} – noch {} Arbeitszeit", s::span(chrono::Duration::minutes(m))),
                _ => format!("{when} – {}", s::due(at, now)),
            };
            (what, text)
        })
        .into_iter()
        .collect();
    let people = if allowed("ticket.assign") || allowed("ticket.watch") {
        app.assignable_people(who, id).await?
    } else {
        vec![]
    };
    let owner_email = t.owner.as_ref().map(|o| o.email.clone()).unwrap_or_default();
    let assignees = if allowed("ticket.assign") {
        let mut v = vec![Choice { value: String::new(), label: s::NOBODY.to_owned(), selected: t.owner.is_none() }];
        v.extend(people.iter().map(|u| Choice {
            value: u.email.clone(),
            label: u.display_name.clone(),
            selected: u.email == owner_email,
        }));
        v
    } else {
        Vec::new()
    };
    let priorities = if allowed("ticket.priority") {
        choices(["low", "normal", "high", "urgent"].map(|p| (p, s::priority(p))), &t.priority)
    } else {
        Vec::new()
    };
    let statuses = if allowed("ticket.status") && !resolved {
        choices(["new", "open", "waiting"].map(|p| (p, s::status(p))), &t.status)
    } else {
        Vec::new()
    };
    let queues = if allowed("ticket.move") {
        match app.list_queues(who, &t.tenant).await {
            Ok(qs) => {
                qs.into_iter().map(|q| Choice { selected: q.slug == t.queue, value: q.slug, label: q.name }).collect()
            }
            Err(AppError::NotFound(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        }
    } else {
        Vec::new()
    };
    // Federal officers hand over to any tenant; LV coordinators may give a ticket back to the Bund.
    let hand_over_to = if allowed("ticket.handover") || (allowed("ticket.handback") && t.tenant != "bund") {
        let everywhere = allowed("ticket.handover");
        app.list_tenants(who)
            .await?
            .into_iter()
            .filter(|x| x.code != t.tenant && (everywhere || x.code == "bund"))
            .map(|x| (x.code, x.name))
            .collect()
    } else {
        Vec::new()
    };
    let watchers: Vec<(String, String)> =
        d.watchers.iter().map(|w| (w.email.clone(), w.display_name.clone())).collect();
    let watch_candidates = if allowed("ticket.watch") {
        people
            .iter()
            .filter(|u| !d.watchers.iter().any(|w| w.id == u.id))
            .map(|u| (u.email.clone(), u.display_name.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let can_reply = allowed("ticket.reply");
    let (canned, reply_text) = if can_reply {
        let all = app.canned_for_ticket(who, id).await?;
        let chosen = vorlage.unwrap_or("");
        let text = match (compose.reply, all.iter().find(|c| c.name == chosen)) {
            (Some(typed), _) => typed,
            (None, Some(c)) => c.body.clone(),
            (None, None) => app.draft(who, id, MessageKind::Outbound).await?.unwrap_or_default(),
        };
        (all.into_iter().map(|c| Choice { selected: c.name == chosen, value: c.name, label: c.label }).collect(), text)
    } else {
        (Vec::new(), String::new())
    };
    let note_text = match compose.note {
        Some(typed) => typed,
        None if allowed("ticket.note") => app.draft(who, id, MessageKind::Note).await?.unwrap_or_default(),
        None => String::new(),
    };
    let seen = d.messages.iter().map(|m| m.id).max().unwrap_or(0);
    let can_process = can_reply && !resolved;
    let processes = process_rows(&d, now);
    let process_choices = d
        .available_processes
        .iter()
        .map(|p| Choice { value: p.slug.clone(), label: p.name.clone(), selected: false })
        .collect();
    let requester_tickets = d
        .requester_tickets
        .iter()
        .map(|o| (o.number, o.subject.clone(), s::status(&o.status), s::ago(o.created_at, now)))
        .collect();
    let requester_bounces = d
        .requester_bounces
        .iter()
        .map(|b| {
            let what =
                [b.reason_label.as_deref(), b.status.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ");
            let what = if what.is_empty() { "unzustellbar".to_owned() } else { what };
            format!("{} · {what} · Ticket #{}", b.at.format("%d.%m.%Y"), b.ticket)
        })
        .collect();
    // Neighbours in the queue's list as it is shown by default (the first 200).
    let (previous, next) = {
        let q = logbuch_core::tickets::ListQuery {
            tenant: Some(t.tenant.clone()),
            queue: Some(t.queue.clone()),
            per_page: Some(200),
            ..Default::default()
        };
        let numbers: Vec<i64> = app.list_tickets(who, q).await?.tickets.iter().map(|x| x.number).collect();
        match numbers.iter().position(|n| *n == t.number) {
            Some(i) => (i.checked_sub(1).map(|j| numbers[j]), numbers.get(i + 1).copied()),
            None => (None, None),
        }
    };
    let also_here = if can_reply {
        app.replying_now(who, id)
            .await?
            .into_iter()
            .map(|(u, at)| {
                format!("{} (zuletzt {})", u.display_name, logbuch_domain::calendar::utc_to_berlin(at).format("%H:%M"))
            })
            .collect()
    } else {
        Vec::new()
    };
    let page_data = TicketPage {
        also_here,
        previous,
        next,
        merged_into: d.merged_into,
        tags: d.tags.clone(),
        tag_suggestions: if allowed("ticket.note") { app.tag_suggestions(who, id).await? } else { Vec::new() },
        warning: compose.warning,
        note_text,
        seen,
        requester_tickets,
        requester_bounces,
        processes,
        process_choices,
        can_process,
        can_audit: allowed("memberdata.manage"),
        held: allowed("memberdata.manage") && app.legal_hold_of(who, id).await?,
        requester_address: t.requester.clone(),
        nav: Some(nav(&app, sp).await?),
        csrf: sp.csrf.clone(),
        number: t.number,
        subject: t.subject.clone(),
        tenant: t.tenant.clone(),
        queue: t.queue_name.clone(),
        status: s::status(&t.status),
        priority: s::priority(&t.priority),
        owner: t.owner.as_ref().map_or_else(|| s::NOBODY.to_owned(), |o| o.display_name.clone()),
        requester: match &t.requester_name {
            Some(name) => format!("{name} <{}>", t.requester),
            None => t.requester.clone(),
        },
        due,
        links: d.links.clone(),
        fields: d.fields.iter().map(|f| (f.label.clone(), f.value.clone())).collect(),
        can_take: allowed("ticket.take") && !resolved && t.owner.as_ref().is_none_or(|o| o.id != me),
        can_resolve: allowed("ticket.resolve") && !resolved,
        can_reopen: allowed("ticket.reopen") && resolved,
        can_note: allowed("ticket.note"),
        can_reply,
        assignees,
        priorities,
        statuses,
        queues,
        hand_over_to,
        can_watch: allowed("ticket.watch"),
        watchers,
        watch_candidates,
        canned,
        reply_text,
        messages,
        history,
    };
    Ok(page(&page_data))
}

fn back(id: i64) -> UiResult {
    Ok(see_other(&format!("/ui/tickets/{id}")))
}

#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    add: String,
    #[serde(default)]
    remove: String,
}

/// `POST /ui/tickets/{id}/tags`: adds the typed tags (comma or space separated) or removes one.
pub async fn tags(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<TagForm>) -> UiResult {
    let split = |s: &str| s.split([',', ' ']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
    let input = logbuch_core::tickets::TagChange { add: split(&f.form.add), remove: split(&f.form.remove) };
    app.change_tags(&f.sp.principal, id, input).await?;
    back(id)
}

#[derive(Deserialize)]
pub struct MergeForm {
    /// The other ticket's number (with or without `#`).
    #[serde(default)]
    ticket: String,
}

/// `POST /ui/tickets/{id}/merge`: merges the other ticket into this one.
pub async fn merge(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<MergeForm>) -> UiResult {
    let other: i64 =
        f.form.ticket.trim().trim_start_matches('#').parse().map_err(|_| {
            AppError::validation("ticket", format!("„{}“ ist keine Ticketnummer.", f.form.ticket.trim()))
        })?;
    app.merge_tickets(&f.sp.principal, id, other).await?;
    back(id)
}

#[derive(Deserialize)]
pub struct ProcessForm {
    process: String,
}

/// `POST /ui/tickets/{id}/processes`: starts a process.
pub async fn start_process(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<ProcessForm>) -> UiResult {
    app.start_process(&f.sp.principal, id, &f.form.process).await?;
    Ok(see_other(&format!("/ui/tickets/{id}#ablaeufe")))
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    evidence: Option<String>,
}

/// `POST /ui/tickets/{id}/steps/{step}`: ticks off a process step.
pub async fn complete_step(
    State(app): State<Logbuch>,
    Path((id, step)): Path<(i64, i64)>,
    f: StaffForm<StepForm>,
) -> UiResult {
    app.complete_step(&f.sp.principal, id, step, f.form.evidence).await?;
    Ok(see_other(&format!("/ui/tickets/{id}#ablaeufe")))
}

/// `POST /ui/tickets/{id}/take`.
pub async fn take(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<NoFields>) -> UiResult {
    app.take_ticket(&f.sp.principal, id).await?;
    back(id)
}

/// `POST /ui/tickets/{id}/resolve`.
pub async fn resolve(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<NoFields>) -> UiResult {
    app.resolve_ticket(&f.sp.principal, id).await?;
    back(id)
}

/// `POST /ui/tickets/{id}/reopen`.
pub async fn reopen(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<NoFields>) -> UiResult {
    app.reopen_ticket(&f.sp.principal, id).await?;
    back(id)
}

#[derive(Deserialize)]
pub struct AssignForm {
    /// Mail address; empty gives the ticket back to the queue.
    #[serde(default)]
    owner: String,
}

/// `POST /ui/tickets/{id}/assign`.
pub async fn assign(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<AssignForm>) -> UiResult {
    let owner = Some(f.form.owner.trim()).filter(|o| !o.is_empty());
    app.assign_ticket(&f.sp.principal, id, owner).await?;
    back(id)
}

#[derive(Deserialize)]
pub struct WatcherForm {
    email: String,
}

/// `POST /ui/tickets/{id}/watchers`: adds a watcher.
pub async fn add_watcher(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<WatcherForm>) -> UiResult {
    app.set_watcher(&f.sp.principal, id, &f.form.email, true).await?;
    back(id)
}

/// `POST /ui/tickets/{id}/watchers/remove`: removes a watcher.
pub async fn remove_watcher(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<WatcherForm>) -> UiResult {
    app.set_watcher(&f.sp.principal, id, &f.form.email, false).await?;
    back(id)
}

#[derive(Deserialize)]
pub struct ChangeForm {
    priority: Option<String>,
    status: Option<String>,
}

/// `POST /ui/tickets/{id}/change`: priority and/or status (only what differs).
pub async fn change(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<ChangeForm>) -> UiResult {
    let input = TicketChange {
        priority: f.form.priority.filter(|p| !p.is_empty()),
        status: f.form.status.filter(|p| !p.is_empty()),
    };
    app.change_ticket(&f.sp.principal, id, input).await?;
    back(id)
}

#[derive(Deserialize)]
pub struct MoveForm {
    queue: String,
}

/// `POST /ui/tickets/{id}/move`: to another queue of the same tenant.
pub async fn move_queue(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<MoveForm>) -> UiResult {
    let still_mine = app.move_ticket(&f.sp.principal, id, &f.form.queue).await?;
    if still_mine.is_some() { back(id) } else { Ok(see_other("/")) }
}

#[derive(Deserialize)]
pub struct HandOverForm {
    tenant: String,
    /// Where to go afterwards: `triage` for the triage list.
    #[serde(default)]
    from: String,
}

/// `POST /ui/tickets/{id}/handover`: to another tenant (federal officers).
pub async fn hand_over(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<HandOverForm>) -> UiResult {
    let input = HandOver { tenant: f.form.tenant, queue: None };
    let still_mine = app.hand_over_ticket(&f.sp.principal, id, input).await?;
    match (f.form.from.as_str(), still_mine) {
        ("triage", _) => Ok(see_other("/ui/triage")),
        (_, Some(_)) => back(id),
        // Handed back to the Bund: out of the person's reach now.
        (_, None) => Ok(see_other("/")),
    }
}

#[derive(Deserialize)]
pub struct TextForm {
    #[serde(default)]
    body: String,
    /// The newest message id the page showed.
    #[serde(default)]
    seen: Option<String>,
    /// Set by the "Entwurf speichern" button: keep the text, send nothing.
    #[serde(default)]
    entwurf: Option<String>,
}

/// `POST /ui/tickets/{id}/note`: an internal note (or its draft).
pub async fn note(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<TextForm>) -> UiResult {
    write(app, id, f, MessageKind::Note).await
}

/// `POST /ui/tickets/{id}/reply`: a reply by mail to the requester (or its draft).
pub async fn reply(State(app): State<Logbuch>, Path(id): Path<i64>, f: StaffForm<TextForm>) -> UiResult {
    write(app, id, f, MessageKind::Outbound).await
}

/// Sends (or keeps as a draft) a reply or note; when someone wrote on the
/// ticket since the page was loaded, the page comes back with the new
/// message, a warning and the text as typed (send again to send it anyway).
async fn write(app: Logbuch, id: i64, f: StaffForm<TextForm>, kind: MessageKind) -> UiResult {
    let who = &f.sp.principal;
    let anchor = if kind == MessageKind::Note { "notiz" } else { "antwort" };
    if f.form.entwurf.is_some() {
        app.save_draft(who, id, kind, &f.form.body).await?;
        return Ok(see_other(&format!("/ui/tickets/{id}#{anchor}")));
    }
    let seen = f.form.seen.as_deref().and_then(|s| s.trim().parse().ok());
    let input = NewMessage { body: f.form.body.clone(), canned: None, attachments: Vec::new(), seen };
    let sent = if kind == MessageKind::Note {
        app.add_note(who, id, input).await
    } else {
        app.add_reply(who, id, input).await
    };
    match sent {
        Ok(_) => back(id),
        Err(AppError::Conflict(why)) => {
            let mut compose = Compose { warning: Some(why), ..Compose::default() };
            if kind == MessageKind::Note {
                compose.note = Some(f.form.body);
            } else {
                compose.reply = Some(f.form.body);
            }
            let mut r = render(&app, &f.sp, id, None, compose).await?;
            *r.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}
