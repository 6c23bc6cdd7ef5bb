//! The staff pages: server-rendered HTML (askama, checked at compile time),
//! German, plain forms. Each page reads through the same use cases as the
//! API, so it sees what the person may see and nothing else. Forms carry the
//! session's CSRF token; mail HTML is sanitized (`sanitize`), and a strict
//! Content-Security-Policy forbids scripts and remote loads besides. Errors
//! are German HTML pages with the right status.

mod absence;
mod admin;
mod member_data;
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
pub use member_data::{
    access_log, erase as erase_requester, export as export_requester, hold, member_data, requester_key,
};
pub use reports::{csv as report_csv, report, wiki as report_wiki};
pub use sanitize::mail_html;
pub use ticket::{
    add_watcher, assign, change, complete_step, hand_over, merge, move_queue, note, remove_watcher, reopen, reply,
    resolve, start_process, tags, take, ticket,
};

/// The keyboard shortcuts, inline in every staff page; the only script, allowed by its hash.
pub(crate) const KEYS_JS: &str = include_str!("../../assets/keys.js");

/// Nothing from elsewhere, no framing; styles only inline; no script but the
/// keyboard shortcuts (by their SHA-256).
static CSP: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(KEYS_JS.as_bytes()));
    let csp = format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; img-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::from_str(&csp).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
});

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
    h.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
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
    views: Vec<ViewRow>,
}

/// A saved view on the start page, with how many tickets it finds now.
struct ViewRow {
    id: i64,
    name: String,
    href: String,
    count: String,
    shared_with: Option<String>,
    removable: bool,
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
    let mut views = Vec::new();
    for v in app.saved_views(&sp.principal).await? {
        let uri: axum::http::Uri = format!("/ui/tickets?{}", v.query).parse().unwrap_or_default();
        let count = match Query::<ListParams>::try_from_uri(&uri).ok().map(|Query(p)| list_query(&p)) {
            Some(Ok(q)) => match app.count_matching(&sp.principal, q).await {
                Ok(n) if n >= 999 => "999+".to_owned(),
                Ok(n) => n.to_string(),
                Err(AppError::Internal(e)) => return Err(UiError(AppError::Internal(e))),
                Err(_) => "–".to_owned(),
            },
            _ => "–".to_owned(),
        };
        views.push(ViewRow {
            href: format!("/ui/tickets?{}", v.query),
            id: v.id,
            name: v.name,
            count,
            shared_with: v.shared_with,
            removable: v.removable,
        });
    }
    Ok(page(&HomePage { nav: Some(nav(&app, &sp).await?), queues, overdue_steps, covering, views }))
}

/// An option of a select: value, label, selected.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

struct TicketRow {
    number: i64,
    subject: String,
    /// Name and address, or the address.
    requester: String,
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
            requester: match &t.requester_name {
                Some(n) if !n.trim().is_empty() => n.clone(),
                _ if t.requester.is_empty() => "–".to_owned(),
                _ => t.requester.clone(),
            },
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
    /// The filter form (none on the triage list), as chosen.
    filter: Option<Filter>,
}

/// The list's filters and order as the form shows them; the address keeps them.
#[derive(Default)]
struct Filter {
    tenant: String,
    queue: String,
    status: Vec<Choice>,
    owner: Vec<Choice>,
    priority: Vec<Choice>,
    sort: Vec<Choice>,
    overdue: bool,
    q: String,
    tag: String,
    /// The list's address, for the bulk form to come back to.
    back: String,
    /// Its parameters, for saving it as a view.
    query: String,
    /// The tenant admin may share the view with the tenant.
    can_share: bool,
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
            filter: None,
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    tenant: Option<String>,
    queue: Option<String>,
    mine: Option<bool>,
    page: Option<u64>,
    /// aktiv (default), neu, offen, wartet, erledigt, alle.
    status: Option<String>,
    /// alle (default), ich, niemand.
    besitz: Option<String>,
    /// alle (default), hoch (hoch und dringend), dringend, normal, niedrig.
    prioritaet: Option<String>,
    ueberfaellig: Option<String>,
    q: Option<String>,
    /// dringend (default), neu, alt, frist, geaendert.
    sortierung: Option<String>,
    schlagwort: Option<String>,
}

const STATUS_CHOICES: [(&str, &str, &str); 6] = [
    ("aktiv", "neu, in Arbeit, wartet", ""),
    ("neu", "neu", "new"),
    ("offen", "in Arbeit", "open"),
    ("wartet", "wartet", "waiting"),
    ("erledigt", "erledigt", "resolved"),
    ("alle", "alle", "new,open,waiting,resolved"),
];
const OWNER_CHOICES: [(&str, &str); 3] = [("alle", "alle"), ("ich", "ich"), ("niemand", "niemand")];
const PRIORITY_CHOICES: [(&str, &str, &str); 6] = [
    ("alle", "alle", ""),
    ("hoch", "hoch und dringend", "high,urgent"),
    ("dringend", "dringend", "urgent"),
    ("normal", "normal", "normal"),
    ("niedrig", "niedrig", "low"),
    ("nicht-hoch", "normal und niedrig", "normal,low"),
];
const SORT_CHOICES: [(&str, &str, &str); 5] = [
    ("dringend", "dringendste zuerst", "urgent"),
    ("frist", "nächste Frist zuerst", "due"),
    ("neu", "neueste zuerst", "newest"),
    ("alt", "älteste zuerst", "oldest"),
    ("geaendert", "zuletzt geändert zuerst", "updated"),
];

fn pick<'a>(field: &str, given: Option<&str>, choices: &[(&'a str, &'a str, &'a str)]) -> Result<&'a str, UiError> {
    let given = given.map(str::trim).filter(|g| !g.is_empty()).unwrap_or(choices[0].0);
    choices.iter().find(|c| c.0 == given).map(|c| c.2).ok_or_else(|| {
        let known: Vec<&str> = choices.iter().map(|c| c.0).collect();
        UiError(AppError::validation(field, format!("„{given}“ gibt es hier nicht; möglich: {}.", known.join(", "))))
    })
}

fn shown(given: Option<&str>, choices: impl Iterator<Item = (&'static str, &'static str)>) -> Vec<Choice> {
    let mut v: Vec<Choice> = choices
        .map(|(value, label)| Choice { value: value.to_owned(), label: label.to_owned(), selected: false })
        .collect();
    let given = given.map(str::trim).filter(|g| !g.is_empty()).unwrap_or(&v[0].value).to_owned();
    for c in &mut v {
        c.selected = c.value == given;
    }
    v
}

fn owner_of(p: &ListParams) -> Option<&str> {
    if p.mine == Some(true) { Some("ich") } else { p.besitz.as_deref().map(str::trim) }
}

fn overdue_of(p: &ListParams) -> bool {
    p.ueberfaellig.as_deref().is_some_and(|v| !v.is_empty() && v != "0")
}

/// The list's parameters (German, as in the address) as a query of the core.
fn list_query(p: &ListParams) -> Result<ListQuery, UiError> {
    let owner = owner_of(p);
    if let Some(o) = owner.filter(|o| !["", "alle", "ich", "niemand"].contains(o)) {
        return Err(UiError(AppError::validation(
            "besitz",
            format!("„{o}“ gibt es hier nicht; möglich: alle, ich, niemand."),
        )));
    }
    let status = pick("status", p.status.as_deref(), &STATUS_CHOICES)?;
    let priority = pick("prioritaet", p.prioritaet.as_deref(), &PRIORITY_CHOICES)?;
    let sort = pick("sortierung", p.sortierung.as_deref(), &SORT_CHOICES)?;
    Ok(ListQuery {
        tenant: p.tenant.clone(),
        queue: p.queue.clone(),
        mine: (owner == Some("ich")).then_some(true),
        unassigned: (owner == Some("niemand")).then_some(true),
        status: Some(status.to_owned()).filter(|s| !s.is_empty()),
        priority: Some(priority.to_owned()).filter(|s| !s.is_empty()),
        overdue: overdue_of(p).then_some(true),
        sort: Some(sort.to_owned()),
        q: p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned),
        tag: p.schlagwort.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned),
        page: p.page,
        ..Default::default()
    })
}

/// `GET /ui/tickets?tenant=…&queue=…` (a queue's open tickets, most urgent
/// and oldest first), `?besitz=ich` (my tickets), with filters and an order
/// kept in the address so a view can be bookmarked.
pub async fn tickets(State(app): State<Logbuch>, headers: HeaderMap, Query(p): Query<ListParams>) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    let owner = owner_of(&p);
    let mine = owner == Some("ich");
    let overdue = overdue_of(&p);
    let text = p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
    let (title, empty) = match (&p.tenant, &p.queue) {
        _ if mine && p.tenant.is_none() => (s::MY_TICKETS.to_owned(), s::NO_MY_TICKETS),
        (Some(t), Some(q)) => (format!("{} – {t}/{q}", s::OPEN_TICKETS), s::NO_TICKETS),
        _ => (s::OPEN_TICKETS.to_owned(), s::NO_TICKETS),
    };
    // The address of this view, without the page.
    let mut parts: Vec<String> = Vec::new();
    let mut keep = |k: &str, v: Option<&str>| {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", crate::percent_encode(v)));
        }
    };
    keep("tenant", p.tenant.as_deref());
    keep("queue", p.queue.as_deref());
    keep("besitz", owner.filter(|o| *o != "alle"));
    keep("status", p.status.as_deref().filter(|v| *v != "aktiv"));
    keep("prioritaet", p.prioritaet.as_deref().filter(|v| *v != "alle"));
    keep("ueberfaellig", overdue.then_some("1"));
    keep("q", text.as_deref());
    keep("schlagwort", p.schlagwort.as_deref());
    keep("sortierung", p.sortierung.as_deref().filter(|v| *v != "dringend"));
    let query = parts.join("&");
    let view = format!("/ui/tickets?{query}");
    let base = if parts.is_empty() { view.clone() } else { format!("{view}&") };
    let q = list_query(&p)?;
    let list = app.list_tickets(&sp.principal, q).await?;
    let nav = nav(&app, &sp).await?;
    let menu_admin = nav.admin_of.clone();
    let filter = Filter {
        tenant: p.tenant.clone().unwrap_or_default(),
        queue: p.queue.clone().unwrap_or_default(),
        status: shown(p.status.as_deref(), STATUS_CHOICES.iter().map(|c| (c.0, c.1))),
        owner: shown(owner, OWNER_CHOICES.iter().copied()),
        priority: shown(p.prioritaet.as_deref(), PRIORITY_CHOICES.iter().map(|c| (c.0, c.1))),
        sort: shown(p.sortierung.as_deref(), SORT_CHOICES.iter().map(|c| (c.0, c.1))),
        overdue,
        q: text.unwrap_or_default(),
        tag: p.schlagwort.clone().unwrap_or_default(),
        back: view,
        can_share: p.tenant.as_ref().is_some_and(|t| menu_admin.iter().any(|a| a == t)),
        query,
    };
    let page_data = TicketsPage { filter: Some(filter), ..TicketsPage::of(nav, title, empty, base, list) };
    Ok(page(&page_data))
}

#[derive(Template)]
#[template(path = "keys.html")]
struct KeysPage {
    nav: Option<Nav>,
}

/// `GET /ui/tastatur`: the keyboard shortcuts.
pub async fn keys(State(app): State<Logbuch>, headers: HeaderMap) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    Ok(page(&KeysPage { nav: Some(nav(&app, &sp).await?) }))
}

#[derive(Deserialize)]
pub struct ViewForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    teilen: String,
}

/// `POST /ui/ansichten`: saves the list as a view (shown on the start page).
pub async fn save_view(State(app): State<Logbuch>, f: StaffForm<ViewForm>) -> UiResult {
    let input = logbuch_core::saved_views::NewView {
        name: f.form.name,
        query: f.form.query,
        share_with: Some(f.form.teilen).filter(|t| !t.trim().is_empty()),
    };
    app.save_view(&f.sp.principal, input).await?;
    Ok(see_other("/#ansichten"))
}

/// `POST /ui/ansichten/{id}/loeschen`.
pub async fn delete_view(
    State(app): State<Logbuch>,
    axum::extract::Path(id): axum::extract::Path<i64>,
    f: StaffForm<NoFields>,
) -> UiResult {
    app.delete_view(&f.sp.principal, id).await?;
    Ok(see_other("/#ansichten"))
}

#[derive(Template)]
#[template(path = "bulk.html")]
struct BulkPage {
    nav: Option<Nav>,
    done: Vec<i64>,
    refused: Vec<(i64, String)>,
    back: String,
}

#[derive(Deserialize)]
pub struct BulkForm {
    /// take, resolve, reopen, priority:high, status:waiting, …
    #[serde(default)]
    aktion: String,
    #[serde(default)]
    zurueck: String,
    /// The tag for `aktion=tag`.
    #[serde(default)]
    schlagwort: String,
    /// The chosen tickets as `t1234=1`.
    #[serde(flatten)]
    chosen: std::collections::HashMap<String, String>,
}

/// `POST /ui/tickets/sammel`: one action on the chosen tickets, then what was done and what refused.
pub async fn bulk(State(app): State<Logbuch>, f: StaffForm<BulkForm>) -> UiResult {
    let tickets: Vec<i64> = f
        .form
        .chosen
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .filter_map(|(k, _)| k.strip_prefix('t')?.parse().ok())
        .collect();
    let mut tickets = tickets;
    tickets.sort_unstable();
    let (action, value) = match f.form.aktion.split_once(':') {
        Some((a, v)) => (a.to_owned(), Some(v.to_owned())),
        None if f.form.aktion == "tag" => ("tag".to_owned(), Some(f.form.schlagwort.clone())),
        None => (f.form.aktion.clone(), None),
    };
    let r = app.bulk(&f.sp.principal, logbuch_core::tickets::BulkAction { tickets, action, value }).await?;
    let back = Some(f.form.zurueck.trim())
        .filter(|b| b.starts_with("/ui/tickets") && !b.contains("//"))
        .unwrap_or("/ui/tickets")
        .to_owned();
    Ok(page(&BulkPage {
        nav: Some(nav(&app, &f.sp).await?),
        done: r.done,
        refused: r.refused.into_iter().map(|x| (x.ticket, x.reason)).collect(),
        back,
    }))
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
