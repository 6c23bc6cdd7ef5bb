//! The requester's pages: the web form (`/anfrage/{tenant}`), the status
//! page behind a personal link (`/status/{token}`) and the form that mails a
//! fresh link (`/status`). No login; German; no JavaScript; the same CSP as
//! the staff pages. A refused form comes back with what was typed.

use super::{page_with, see_other};
use askama::Template;
use axum::extract::{ConnectInfo, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use logbuch_config::FieldKind;
use logbuch_core::portal::{FieldError, FormPage, FormSubmission, StatusView, Upload};
use logbuch_core::{AppError, Logbuch};
use serde::Deserialize;
use std::net::SocketAddr;

/// Text fields of a form are short; more than this is refused.
const MAX_TEXT_FIELD: usize = 200_000;

/// The client's address: the TCP peer, or behind a proxy the last address
/// of the configured header (the one the proxy itself added).
/// The TCP peer, when the server knows it (tests may call the router without one).
pub struct Peer(Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)))
    }
}

fn client(app: &Logbuch, peer: Option<SocketAddr>, headers: &HeaderMap) -> String {
    if let Some(h) = &app.settings.portal.client_ip_header
        && let Some(v) = headers.get(h.as_str()).and_then(|v| v.to_str().ok())
        && let Some(last) = v.rsplit(',').map(str::trim).find(|s| !s.is_empty())
    {
        return last.to_owned();
    }
    peer.map_or_else(|| "unbekannt".to_owned(), |p| p.ip().to_string())
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    logbuch_domain::calendar::utc_to_berlin(at).format("%d.%m.%Y, %H:%M Uhr").to_string()
}

fn size(bytes: i64) -> String {
    if bytes >= 1_000_000 { format!("{:.1} MB", bytes as f64 / 1e6) } else { format!("{} kB", (bytes + 999) / 1000) }
}

#[derive(Template)]
#[template(path = "portal_topics.html")]
struct TopicsPage {
    form: FormPage,
}

#[derive(Template)]
#[template(path = "portal_form.html")]
struct FormView {
    form: FormPage,
    topic: usize,
    values: Vec<(String, String)>,
    errors: Vec<FieldError>,
    /// A refusal of the whole form (spam checks, rate limit, size).
    general: Option<String>,
}

impl FormView {
    fn chosen(&self) -> &logbuch_core::portal::FormTopic {
        &self.form.topics[self.topic.min(self.form.topics.len().saturating_sub(1))]
    }

    fn value(&self, name: &str) -> &str {
        self.values.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == name).map(|e| e.message.as_str())
    }

    fn field_value(&self, name: &str) -> &str {
        self.value(&format!("feld_{name}"))
    }

    fn field_error(&self, name: &str) -> Option<&str> {
        self.error(&format!("feld_{name}"))
    }
}

#[derive(Template)]
#[template(path = "portal_done.html")]
struct DonePage {
    number: i64,
    tenant_name: String,
}

#[derive(Template)]
#[template(path = "portal_lookup.html")]
struct LookupPage {
    number: String,
    email: String,
    error: Option<String>,
    sent: bool,
}

#[derive(Template)]
#[template(path = "portal_status.html")]
struct StatusPage {
    token: String,
    v: StatusView,
    status: &'static str,
    resolved: bool,
    error: Option<String>,
    reply: String,
    notice: Option<&'static str>,
}

impl StatusPage {
    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        when(*at)
    }

    fn size(&self, bytes: &i64) -> String {
        size(*bytes)
    }
}

#[derive(Template)]
#[template(path = "portal_error.html")]
struct ErrorPage {
    title: &'static str,
    detail: String,
}

/// A use case's error on a public page: German, with the right status.
fn public_error(e: AppError) -> Response {
    let shown = crate::error::Shown::from(e);
    page_with(&ErrorPage { title: shown.title, detail: shown.detail }, shown.status)
}

/// A refusal shown on the page it came from: its status and its German message.
fn refusal(e: AppError) -> (StatusCode, String) {
    let status = match &e {
        AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    let message = match e {
        AppError::Validation { message, .. } => message,
        other => other.to_string(),
    };
    (status, message)
}

/// A multipart body that broke off: over the size limit, or cut short.
fn broken_form(e: &axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge("Die Dateien sind zusammen zu groß. Bitte wählen Sie kleinere oder weniger Dateien.".into())
    } else {
        AppError::validation("form", "Das Formular kam nicht vollständig an. Bitte senden Sie es noch einmal ab.")
    }
}

#[derive(Deserialize)]
pub struct TopicParam {
    thema: Option<String>,
}

/// `/anfrage`: the Bund's form, where a member picks their LV.
pub async fn form_index() -> Response {
    see_other("/anfrage/bund")
}

/// The topics to choose from, or the form of the chosen topic.
pub async fn form(State(app): State<Logbuch>, Path(tenant): Path<String>, Query(q): Query<TopicParam>) -> Response {
    let form = match app.request_form(&tenant).await {
        Ok(f) => f,
        Err(e) => return public_error(e),
    };
    let chosen = match (q.thema.as_deref(), form.topics.len()) {
        (Some(slug), _) => form.topics.iter().position(|t| t.slug == slug),
        (None, 1) => Some(0),
        (None, _) => None,
    };
    match chosen {
        Some(topic) => {
            page_with(&FormView { form, topic, values: Vec::new(), errors: Vec::new(), general: None }, StatusCode::OK)
        }
        None if q.thema.is_some() => public_error(AppError::NotFound("Dieses Thema gibt es hier nicht.".into())),
        None => page_with(&TopicsPage { form }, StatusCode::OK),
    }
}

/// The fields of a multipart form; a body over the limit keeps what came before it.
async fn read_multipart(mut mp: Multipart) -> (Vec<(String, String)>, Vec<Upload>, Option<AppError>) {
    let mut values = Vec::new();
    let mut files = Vec::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return (values, files, Some(broken_form(&e))),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => return (values, files, Some(broken_form(&e))),
        };
        match filename {
            Some(filename) => files.push(Upload { filename, content: bytes.to_vec() }),
            None if bytes.len() <= MAX_TEXT_FIELD => {
                values.push((name, String::from_utf8_lossy(&bytes).replace("\r\n", "\n")))
            }
            None => {
                return (values, files, Some(AppError::TooLarge("Ein Textfeld ist zu lang.".into())));
            }
        }
    }
    (values, files, None)
}

pub async fn submit(
    State(app): State<Logbuch>,
    Path(tenant): Path<String>,
    peer: Peer,
    headers: HeaderMap,
    mp: Multipart,
) -> Response {
    let client = client(&app, peer.0, &headers);
    let (values, files, broken) = read_multipart(mp).await;
    let get = |n: &str| values.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    let topic_slug = get("topic");
    let outcome = match broken {
        Some(e) => Err(e),
        None => {
            let sub = FormSubmission {
                token: get("token"),
                honeypot: get("homepage"),
                lv: get("lv"),
                topic: topic_slug.clone(),
                name: get("name"),
                email: get("email"),
                subject: get("subject"),
                body: get("body"),
                fields: values
                    .iter()
                    .filter_map(|(k, v)| k.strip_prefix("feld_").map(|n| (n.to_owned(), v.clone())))
                    .collect(),
                files,
            };
            app.submit_request(&tenant, sub, &client).await
        }
    };
    let (status, errors, general) = match outcome {
        Ok(Ok(done)) => {
            return page_with(&DonePage { number: done.ticket, tenant_name: done.tenant_name }, StatusCode::OK);
        }
        Ok(Err(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None),
        Err(e @ (AppError::NotFound(_) | AppError::Internal(_))) => return public_error(e),
        Err(AppError::Validation { field, message }) if field != "form" => {
            (StatusCode::UNPROCESSABLE_ENTITY, vec![FieldError { field, message }], None)
        }
        Err(e) => {
            let (status, message) = refusal(e);
            (status, Vec::new(), Some(message))
        }
    };
    // Served afresh (new token) with what was typed.
    let form = match app.request_form(&tenant).await {
        Ok(f) => f,
        Err(e) => return public_error(e),
    };
    let topic = form.topics.iter().position(|t| t.slug == topic_slug).unwrap_or_default();
    let values = values.into_iter().filter(|(k, _)| k != "token" && k != "homepage").collect();
    page_with(&FormView { form, topic, values, errors, general }, status)
}

/// `/status`: ticket number and mail address; a link goes to the address if they belong together.
pub async fn lookup_page(State(app): State<Logbuch>) -> Response {
    if !app.settings.portal.enabled {
        return public_error(AppError::NotFound("Die Statusseite ist hier nicht eingeschaltet.".into()));
    }
    page_with(&LookupPage { number: String::new(), email: String::new(), error: None, sent: false }, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LookupForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    email: String,
}

pub async fn lookup(
    State(app): State<Logbuch>,
    peer: Peer,
    headers: HeaderMap,
    axum::Form(f): axum::Form<LookupForm>,
) -> Response {
    let client = client(&app, peer.0, &headers);
    let number: String = f.number.chars().take(40).collect();
    let email: String = f.email.chars().take(300).collect();
    match app.portal_send_link(&number, &email, &client).await {
        Ok(()) => page_with(&LookupPage { number, email, error: None, sent: true }, StatusCode::OK),
        Err(e @ (AppError::Internal(_) | AppError::NotFound(_))) => public_error(e),
        Err(e) => {
            let (status, message) = refusal(e);
            page_with(&LookupPage { number, email, error: Some(message), sent: false }, status)
        }
    }
}

#[derive(Deserialize)]
pub struct Notice {
    ok: Option<String>,
}

async fn status_page(
    app: &Logbuch,
    token: String,
    error: Option<(StatusCode, String)>,
    reply: String,
    notice: Option<&'static str>,
) -> Response {
    match app.portal_view(&token).await {
        Ok(v) => {
            let (status, error) = error.map_or((StatusCode::OK, None), |(s, e)| (s, Some(e)));
            let page = StatusPage {
                status: super::strings::status(&v.status),
                resolved: v.status == "resolved",
                token,
                v,
                error,
                reply,
                notice,
            };
            page_with(&page, status)
        }
        Err(e) => public_error(e),
    }
}

pub async fn status(State(app): State<Logbuch>, Path(token): Path<String>, Query(n): Query<Notice>) -> Response {
    let notice = match n.ok.as_deref() {
        Some("antwort") => Some("Danke, Ihre Nachricht ist angekommen."),
        Some("erledigt") => Some("Die Anfrage ist als erledigt vermerkt. Danke für die Rückmeldung!"),
        Some("offen") => Some("Die Anfrage ist wieder offen; wir kümmern uns darum."),
        _ => None,
    };
    status_page(&app, token, None, String::new(), notice).await
}

pub async fn reply(State(app): State<Logbuch>, Path(token): Path<String>, mp: Multipart) -> Response {
    let (values, files, broken) = read_multipart(mp).await;
    let body = values.iter().find(|(k, _)| k == "body").map(|(_, v)| v.clone()).unwrap_or_default();
    let result = match broken {
        Some(e) => Err(e),
        None => app.portal_reply(&token, &body, files).await,
    };
    match result {
        Ok(()) => see_other(&format!("/status/{token}?ok=antwort")),
        Err(e @ (AppError::NotFound(_) | AppError::Internal(_))) => public_error(e),
        Err(e) => status_page(&app, token, Some(refusal(e)), body, None).await,
    }
}

async fn set_done(app: Logbuch, token: String, done: bool) -> Response {
    match app.portal_set_done(&token, done).await {
        Ok(()) => see_other(&format!("/status/{token}?ok={}", if done { "erledigt" } else { "offen" })),
        Err(AppError::Conflict(m)) => {
            status_page(&app, token, Some((StatusCode::CONFLICT, m)), String::new(), None).await
        }
        Err(e) => public_error(e),
    }
}

pub async fn done(State(app): State<Logbuch>, Path(token): Path<String>) -> Response {
    set_done(app, token, true).await
}

pub async fn reopen(State(app): State<Logbuch>, Path(token): Path<String>) -> Response {
    set_done(app, token, false).await
}

pub async fn file(State(app): State<Logbuch>, Path((token, id)): Path<(String, i64)>) -> Response {
    match app.portal_download(&token, id).await {
        Ok((a, bytes)) => crate::routes::tickets::file_response(&a, bytes),
        Err(e) => public_error(e),
    }
}
