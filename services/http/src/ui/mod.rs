//! The staff pages: server-rendered HTML (askama, checked at compile time),
//! German, plain forms. Each page reads through the same use cases as the
//! API, so it sees what the person may see and nothing else. Forms carry the
//! session's CSRF token; mail HTML is sanitized (`sanitize`), and a strict
//! Content-Security-Policy forbids scripts and remote loads besides. Errors
//! are German HTML pages with the right status.

mod absence;
mod admin;
pub mod portal;
mod reports;
mod sanitize;
mod strings;
mod ticket;

use crate::error::Shown;
use crate::extract::{SESSION_COOKIE, cookie, same_secret};
use crate::routes::auth::{redirect, session_cookie_cleared};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use logbuch_core::sso::SessionPrincipal;
use logbuch_core::tickets::ListQuery;
use logbuch_core::views::TicketSummary;
use logbuch_core::{AppError, Logbuch};
use serde::Deserialize;
use strings as s;

pub use absence::{absence_page, end_absence, save_absence};
pub use admin::{admin, admin_index, delete_template, edit_template, save_template};
pub use reports::{csv as report_csv, report, wiki as report_wiki};
pub use sanitize::mail_html;
pub use ticket::{
    add_watcher, assign, change, complete_step, hand_over, move_queue, note, remove_watcher, reopen, reply, resolve,
    start_process, take, ticket,
};

/// No scripts, nothing from elsewhere, no framing; styles only inline.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

type UiResult = Result<Response, UiError>;

fn page(t: &impl Template) -> Response {
    page_with(t, axum::http::StatusCode::OK)
}

fn page_with(t: &impl Template, status: axum::http::StatusCode) -> Response {
    match t.render() {
        Ok(html) => html_response(html, status),
        Err(e) => UiError(AppError::Internal(anyhow::anyhow!("template: {e}"))).into_response(),
    }
}

fn html_response(html: String, status: axum::http::StatusCode) -> Response {
    let mut r = (status, Html(html)).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn see_other(to: &str) -> Response {
    redirect(to, &[])
}

/// The header every page shows to a logged-in person.
pub(crate) struct Nav {
    name: String,
    csrf: String,
    triage: Option<String>,
    admin_of: Vec<String>,
}

async fn nav(app: &Logbuch, sp: &SessionPrincipal) -> Result<Nav, UiError> {
    let menu = app.staff_menu(&sp.principal).await?;
    Ok(Nav {
        name: sp.principal.display_name.clone(),
        csrf: sp.csrf.clone(),
        triage: menu.triage,
        admin_of: menu.admin_of,
    })
}

/// A use case's error as a German page with the error's status; a missing
/// session sends the browser to the start page (the login).
pub struct UiError(pub AppError);

impl From<AppError> for UiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Option<Nav>,
    title: &'static str,
    detail: String,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        if matches!(self.0, AppError::Unauthenticated) {
            return see_other("/");
        }
        let shown = Shown::from(self.0);
        // Rendered here, not through `page`: an error page that fails must not loop.
        let body = ErrorPage { nav: None, title: shown.title, detail: shown.detail };
        match body.render() {
            Ok(html) => html_response(html, shown.status),
            Err(_) => (shown.status, body.detail).into_response(),
        }
    }
}

async fn session(app: &Logbuch, headers: &HeaderMap) -> Option<SessionPrincipal> {
    app.authenticate_session(cookie(headers, SESSION_COOKIE)?).await.ok()
}

/// The session of a page request; strangers are sent to the login.
async fn page_session(app: &Logbuch, headers: &HeaderMap) -> Result<SessionPrincipal, UiError> {
    session(app, headers).await.ok_or(UiError(AppError::Unauthenticated))
}

/// A form post from a logged-in person: the form's fields (`T`) and the
/// session, whose CSRF token the form's hidden `csrf_token` must match. Every
/// state-changing page form goes through here; strangers are sent to the
/// login, a missing or wrong token gets 403.
pub struct StaffForm<T> {
    sp: SessionPrincipal,
    form: T,
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
pub struct NoFields {}

#[derive(Deserialize)]
struct WithCsrf<T> {
    #[serde(default)]
    csrf_token: String,
    #[serde(flatten)]
    form: T,
}

impl<T: serde::de::DeserializeOwned + Send> axum::extract::FromRequest<Logbuch> for StaffForm<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, app: &Logbuch) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let axum::Form(WithCsrf { csrf_token, form }) =
            axum::Form::<WithCsrf<T>>::from_request(req, app).await.map_err(IntoResponse::into_response)?;
        let sp = page_session(app, &headers).await.map_err(IntoResponse::into_response)?;
        if !same_secret(&csrf_token, &sp.csrf) {
            return Err(UiError(AppError::Forbidden(
                "Das Formular ist abgelaufen (CSRF-Token fehlt oder stimmt nicht); bitte die Seite neu laden.".into(),
            ))
            .into_response());
        }
        Ok(Self { sp, form })
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Option<Nav>,
    sso: bool,
}

struct QueueRow {
    tenant: String,
    tenant_name: String,
    queue: String,
    queue_name: String,
    new: i64,
    open: i64,
    waiting: i64,
    overdue: i64,
    next_due: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Option<Nav>,
    queues: Vec<QueueRow>,
    /// Overdue process steps: (ticket, subject, process · step, since when).
    overdue_steps: Vec<(i64, String, String, String)>,
    covering: Vec<CoverRow>,
}

/// Someone one covers for: name, last day away, their open tickets (number, subject).
struct CoverRow {
    name: String,
    until: String,
    tickets: Vec<(i64, String)>,
}

/// `GET /`: my queues with counts by status and what is due, or the login page.
pub async fn home(State(app): State<Logbuch>, headers: HeaderMap) -> UiResult {
    let Some(sp) = session(&app, &headers).await else {
        return Ok(page(&LoginPage { nav: None, sso: app.settings.oidc.issuer.is_some() }));
    };
    let now = chrono::Utc::now();
    let queues = app
        .queue_overview(&sp.principal)
        .await?
        .into_iter()
        .map(|q| QueueRow {
            tenant: q.tenant,
            tenant_name: q.tenant_name,
            queue: q.queue,
            queue_name: q.queue_name,
            new: q.new,
            open: q.open,
            waiting: q.waiting,
            overdue: q.overdue,
            next_due: q.next_due.map(|d| s::due(d, now)).unwrap_or_default(),
        })
        .collect();
    let overdue_steps = app
        .overdue_steps(&sp.principal)
        .await?
        .into_iter()
        .map(|o| (o.ticket, o.subject, format!("{} · {}", o.process, o.step), s::due(o.due_at, now)))
        .collect();
    let covering = app
        .covering(&sp.principal)
        .await?
        .into_iter()
        .map(|c| {
            let until = chrono::NaiveDate::parse_from_str(&c.until, "%Y-%m-%d")
                .map_or(c.until.clone(), |d| d.format("%d.%m.%Y").to_string());
            CoverRow {
                name: c.person.display_name,
                until,
                tickets: c.tickets.into_iter().map(|t| (t.number, t.subject)).collect(),
            }
        })
        .collect();
    Ok(page(&HomePage { nav: Some(nav(&app, &sp).await?), queues, overdue_steps, covering }))
}

struct TicketRow {
    number: i64,
    subject: String,
    priority: &'static str,
    urgent: bool,
    status: &'static str,
    owner: String,
    tenant: String,
    queue: String,
    age: String,
    due: String,
    overdue: bool,
}

impl TicketRow {
    fn new(t: TicketSummary, now: chrono::DateTime<chrono::Utc>) -> Self {
        let due_at = t.due_at();
        TicketRow {
            number: t.number,
            subject: t.subject,
            priority: s::priority(&t.priority),
            urgent: matches!(t.priority.as_str(), "high" | "urgent"),
            status: s::status(&t.status),
            owner: t.owner.map_or_else(|| s::NOBODY.to_owned(), |o| o.display_name),
            tenant: t.tenant,
            queue: t.queue,
            age: s::ago(t.created_at, now),
            due: due_at.map(|d| s::due(d, now)).unwrap_or_default(),
            overdue: due_at.is_some_and(|d| d < now),
        }
    }

    fn all(list: Vec<TicketSummary>) -> Vec<Self> {
        let now = chrono::Utc::now();
        list.into_iter().map(|t| Self::new(t, now)).collect()
    }
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct TicketsPage {
    nav: Option<Nav>,
    title: String,
    empty: &'static str,
    tickets: Vec<TicketRow>,
    /// Tenants a triage ticket can be handed to: (code, name); empty elsewhere.
    hand_over_to: Vec<(String, String)>,
    /// This list's address without the page, ending in `&` or `?`.
    base: String,
    previous: Option<u64>,
    next: Option<u64>,
}

impl TicketsPage {
    /// A page of a ticket list, with links to the pages before and after it.
    fn of(nav: Nav, title: String, empty: &'static str, base: String, list: logbuch_core::views::TicketPage) -> Self {
        TicketsPage {
            nav: Some(nav),
            title,
            empty,
            previous: (list.page > 1).then(|| list.page - 1),
            next: list.next_page,
            tickets: TicketRow::all(list.tickets),
            hand_over_to: Vec::new(),
            base,
        }
    }
}

#[derive(Deserialize)]
pub struct ListParams {
    tenant: Option<String>,
    queue: Option<String>,
    mine: Option<bool>,
    page: Option<u64>,
}

/// `GET /ui/tickets?tenant=…&queue=…` (a queue's open tickets, most urgent
/// and oldest first) or `?mine=true` (my tickets).
pub async fn tickets(State(app): State<Logbuch>, headers: HeaderMap, Query(p): Query<ListParams>) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    let mine = p.mine == Some(true);
    let (title, empty, base) = match (&p.tenant, &p.queue) {
        _ if mine => (s::MY_TICKETS.to_owned(), s::NO_MY_TICKETS, "/ui/tickets?mine=true&".to_owned()),
        (Some(t), Some(q)) => (
            format!("{} – {t}/{q}", s::OPEN_TICKETS),
            s::NO_TICKETS,
            format!("/ui/tickets?tenant={}&queue={}&", crate::percent_encode(t), crate::percent_encode(q)),
        ),
        _ => (s::OPEN_TICKETS.to_owned(), s::NO_TICKETS, "/ui/tickets?".to_owned()),
    };
    let q = ListQuery {
        tenant: p.tenant.filter(|_| !mine),
        queue: p.queue.filter(|_| !mine),
        mine: mine.then_some(true),
        page: p.page,
        ..Default::default()
    };
    let list = app.list_tickets(&sp.principal, q).await?;
    Ok(page(&TicketsPage::of(nav(&app, &sp).await?, title, empty, base, list)))
}

/// `GET /ui/triage`: the Bund's triage queue, each ticket with a hand-over
/// form (federal officers; 404 for everyone else).
pub async fn triage(State(app): State<Logbuch>, headers: HeaderMap, Query(p): Query<ListParams>) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    let nav = nav(&app, &sp).await?;
    let Some(queue) = nav.triage.clone() else {
        return Err(UiError(AppError::NotFound("Die Triage sehen nur Bundesbeauftragte.".into())));
    };
    let q = ListQuery { tenant: Some("bund".into()), queue: Some(queue), page: p.page, ..Default::default() };
    let list = app.list_tickets(&sp.principal, q).await?;
    let hand_over_to = app
        .list_tenants(&sp.principal)
        .await?
        .into_iter()
        .filter(|t| t.code != "bund")
        .map(|t| (t.code, t.name))
        .collect();
    let page_data = TicketsPage {
        hand_over_to,
        ..TicketsPage::of(nav, s::TRIAGE.to_owned(), s::NO_TICKETS, "/ui/triage?".to_owned(), list)
    };
    Ok(page(&page_data))
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    nav: Option<Nav>,
    q: String,
    searched: bool,
    tickets: Vec<TicketRow>,
}

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
}

/// `GET /ui/search?q=…`: full-text search in everything the person may see.
pub async fn search(State(app): State<Logbuch>, headers: HeaderMap, Query(p): Query<SearchParams>) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    let q = p.q.unwrap_or_default();
    let searched = !q.trim().is_empty();
    let tickets = if searched {
        let query = ListQuery { q: Some(q.clone()), ..Default::default() };
        TicketRow::all(app.list_tickets(&sp.principal, query).await?.tickets)
    } else {
        Vec::new()
    };
    Ok(page(&SearchPage { nav: Some(nav(&app, &sp).await?), q, searched, tickets }))
}

/// `POST /ui/logout`: the form version of `/auth/logout`.
pub async fn logout(State(app): State<Logbuch>, headers: HeaderMap, _: StaffForm<NoFields>) -> UiResult {
    let token = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    let to = app.logout(token).await?;
    Ok(redirect(&to, &[session_cookie_cleared(&app)]))
}

/// Any other address under `/ui/`: a German 404 page.
pub async fn not_found() -> UiResult {
    Err(UiError(AppError::NotFound("Diese Seite gibt es nicht.".into())))
}
