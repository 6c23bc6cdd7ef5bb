//! The staff pages: server-rendered HTML (askama, checked at compile time),
//! German, plain forms. Each page reads through the same use cases as the
//! API, so it sees what the person may see and nothing else. Forms carry the
//! session's CSRF token; mail HTML is sanitized (`sanitize`), and a strict
//! Content-Security-Policy forbids scripts and remote loads besides.

mod sanitize;
mod strings;

use crate::error::ApiError;
use crate::extract::{SESSION_COOKIE, cookie, same_secret};
use crate::routes::auth::{redirect, session_cookie_cleared};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use logbuch_core::sso::SessionPrincipal;
use logbuch_core::tickets::ListQuery;
use logbuch_core::{AppError, Logbuch};
use serde::Deserialize;
use strings as s;

pub use sanitize::mail_html;

/// No scripts, nothing from elsewhere, no framing; styles only inline.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

fn page(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => {
            let mut r = Html(html).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => ApiError(AppError::Internal(anyhow::anyhow!("template: {e}"))).into_response(),
    }
}

fn see_other(to: &str) -> Response {
    redirect(to, &[])
}

async fn session(app: &Logbuch, headers: &HeaderMap) -> Option<SessionPrincipal> {
    app.authenticate_session(cookie(headers, SESSION_COOKIE)?).await.ok()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    sso: bool,
}

struct QueueRow {
    tenant: String,
    queue: String,
    open: i64,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    name: String,
    csrf: String,
    queues: Vec<QueueRow>,
}

/// `GET /`: my queues, or the login page.
pub async fn home(State(app): State<Logbuch>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(sp) = session(&app, &headers).await else {
        return Ok(page(&LoginPage { sso: app.settings.oidc.issuer.is_some() }));
    };
    let who = &sp.principal;
    let counts = app.count_tickets(who, None).await?;
    let mut queues = Vec::new();
    let me = app.me(who).await?;
    let mut tenants: Vec<String> = Vec::new();
    if me.roles.iter().any(|r| r.tenant.is_none()) {
        tenants = app.list_tenants(who).await?.into_iter().map(|t| t.code).collect();
    } else {
        for code in me.roles.iter().filter_map(|r| r.tenant.clone()) {
            if !tenants.contains(&code) {
                tenants.push(code);
            }
        }
    }
    for t in &tenants {
        for q in app.list_queues(who, t).await? {
            let open = counts
                .iter()
                .filter(|c| c.tenant == q.tenant && c.queue == q.slug && c.status != "resolved")
                .map(|c| c.count)
                .sum();
            queues.push(QueueRow { tenant: q.tenant, queue: q.slug, open });
        }
    }
    Ok(page(&HomePage { name: who.display_name.clone(), csrf: sp.csrf.clone(), queues }))
}

struct TicketRow {
    number: i64,
    subject: String,
    priority: &'static str,
    status: &'static str,
    owner: String,
    tenant: String,
}

impl From<logbuch_core::views::TicketSummary> for TicketRow {
    fn from(t: logbuch_core::views::TicketSummary) -> Self {
        TicketRow {
            number: t.number,
            subject: t.subject,
            priority: s::priority(&t.priority),
            status: s::status(&t.status),
            owner: t.owner.map_or_else(|| s::NOBODY.to_owned(), |o| o.display_name),
            tenant: t.tenant,
        }
    }
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct TicketsPage {
    name: String,
    csrf: String,
    title: String,
    tickets: Vec<TicketRow>,
}

#[derive(Deserialize)]
pub struct ListParams {
    tenant: Option<String>,
    queue: Option<String>,
}

/// `GET /ui/tickets?tenant=…&queue=…`: a queue's open tickets, most urgent first.
pub async fn tickets(
    State(app): State<Logbuch>,
    headers: HeaderMap,
    Query(p): Query<ListParams>,
) -> Result<Response, ApiError> {
    let Some(sp) = session(&app, &headers).await else { return Ok(see_other("/")) };
    let title = match (&p.tenant, &p.queue) {
        (Some(t), Some(q)) => format!("{} – {t}/{q}", s::OPEN_TICKETS),
        _ => s::OPEN_TICKETS.to_owned(),
    };
    let q = ListQuery { tenant: p.tenant, queue: p.queue, ..Default::default() };
    let list = app.list_tickets(&sp.principal, q).await?;
    let tickets = list.tickets.into_iter().map(TicketRow::from).collect();
    Ok(page(&TicketsPage { name: sp.principal.display_name.clone(), csrf: sp.csrf.clone(), title, tickets }))
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    name: String,
    csrf: String,
    q: String,
    searched: bool,
    tickets: Vec<TicketRow>,
}

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
}

/// `GET /ui/search?q=…`: full-text search in everything the person may see.
pub async fn search(
    State(app): State<Logbuch>,
    headers: HeaderMap,
    Query(p): Query<SearchParams>,
) -> Result<Response, ApiError> {
    let Some(sp) = session(&app, &headers).await else { return Ok(see_other("/")) };
    let q = p.q.unwrap_or_default();
    let searched = !q.trim().is_empty();
    let tickets = if searched {
        let query = ListQuery { q: Some(q.clone()), ..Default::default() };
        app.list_tickets(&sp.principal, query).await?.tickets.into_iter().map(TicketRow::from).collect()
    } else {
        Vec::new()
    };
    Ok(page(&SearchPage { name: sp.principal.display_name.clone(), csrf: sp.csrf.clone(), q, searched, tickets }))
}

struct MessageRow {
    kind: &'static str,
    note: bool,
    from: String,
    at: String,
    html: Option<String>,
    text: String,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    name: String,
    csrf: String,
    number: i64,
    subject: String,
    status: &'static str,
    priority: &'static str,
    owner: String,
    requester: String,
    can_take: bool,
    can_resolve: bool,
    /// Tenants the ticket can be handed to: (code, name).
    hand_over_to: Vec<(String, String)>,
    messages: Vec<MessageRow>,
    history: Vec<String>,
}

/// `GET /ui/tickets/{id}`: a ticket with its messages and history.
pub async fn ticket(State(app): State<Logbuch>, headers: HeaderMap, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let Some(sp) = session(&app, &headers).await else { return Ok(see_other("/")) };
    let d = app.get_ticket(&sp.principal, id).await?;
    let allowed = |a: &str| d.allowed_actions.iter().any(|x| x == a);
    let me = sp.principal.user.0;
    let t = &d.ticket;
    let messages = d
        .messages
        .iter()
        .map(|m| MessageRow {
            kind: s::kind(&m.kind),
            note: m.kind == "note",
            from: m.from.clone().or_else(|| m.author.as_ref().map(|a| a.display_name.clone())).unwrap_or_default(),
            at: m.created_at.format("%d.%m.%Y %H:%M").to_string(),
            html: m.body_html.as_deref().map(mail_html),
            text: m.body_text.clone(),
        })
        .collect();
    let history = d
        .history
        .iter()
        .map(|h| {
            format!(
                "{} · {} · {}: {} → {}",
                h.at.format("%d.%m.%Y %H:%M"),
                h.actor.as_ref().map_or("System", |a| a.display_name.as_str()),
                h.field,
                h.from.as_deref().unwrap_or("–"),
                h.to.as_deref().unwrap_or("–")
            )
        })
        .collect();
    let hand_over_to = if allowed("ticket.handover") {
        app.list_tenants(&sp.principal)
            .await?
            .into_iter()
            .filter(|x| x.code != t.tenant)
            .map(|x| (x.code, x.name))
            .collect()
    } else {
        Vec::new()
    };
    let page_data = TicketPage {
        name: sp.principal.display_name.clone(),
        csrf: sp.csrf.clone(),
        number: t.number,
        subject: t.subject.clone(),
        status: s::status(&t.status),
        priority: s::priority(&t.priority),
        owner: t.owner.as_ref().map_or_else(|| s::NOBODY.to_owned(), |o| o.display_name.clone()),
        requester: t.requester.clone(),
        can_take: allowed("ticket.take") && t.owner.as_ref().is_none_or(|o| o.id != me),
        can_resolve: allowed("ticket.resolve") && t.status != "resolved",
        hand_over_to,
        messages,
        history,
    };
    Ok(page(&page_data))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

async fn form_session(app: &Logbuch, headers: &HeaderMap, form: &CsrfForm) -> Result<SessionPrincipal, ApiError> {
    let sp = session(app, headers).await.ok_or(ApiError(AppError::Unauthenticated))?;
    if !same_secret(&form.csrf_token, &sp.csrf) {
        return Err(ApiError(AppError::Forbidden(
            "Das Formular ist abgelaufen (CSRF-Token fehlt oder stimmt nicht); bitte die Seite neu laden.".into(),
        )));
    }
    Ok(sp)
}

/// `POST /ui/tickets/{id}/take`.
pub async fn take(
    State(app): State<Logbuch>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, ApiError> {
    let sp = form_session(&app, &headers, &form).await?;
    app.take_ticket(&sp.principal, id).await?;
    Ok(see_other(&format!("/ui/tickets/{id}")))
}

/// `POST /ui/tickets/{id}/resolve`.
pub async fn resolve(
    State(app): State<Logbuch>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, ApiError> {
    let sp = form_session(&app, &headers, &form).await?;
    app.resolve_ticket(&sp.principal, id).await?;
    Ok(see_other(&format!("/ui/tickets/{id}")))
}

#[derive(Deserialize)]
pub struct HandOverForm {
    #[serde(default)]
    csrf_token: String,
    tenant: String,
}

/// `POST /ui/tickets/{id}/handover`: to another tenant (federal officers).
pub async fn hand_over(
    State(app): State<Logbuch>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<HandOverForm>,
) -> Result<Response, ApiError> {
    let sp = form_session(&app, &headers, &CsrfForm { csrf_token: form.csrf_token }).await?;
    let input = logbuch_core::tickets::HandOver { tenant: form.tenant, queue: None };
    app.hand_over_ticket(&sp.principal, id, input).await?;
    Ok(see_other(&format!("/ui/tickets/{id}")))
}

/// `POST /ui/logout`: the form version of `/auth/logout`.
pub async fn logout(
    State(app): State<Logbuch>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, ApiError> {
    form_session(&app, &headers, &form).await?;
    let token = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    let to = app.logout(token).await?;
    Ok(redirect(&to, &[session_cookie_cleared(&app)]))
}
