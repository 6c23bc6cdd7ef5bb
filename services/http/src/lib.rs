//! The HTTP service: the REST API under `/api/v1`, its OpenAPI document and
//! docs, health probes, `/metrics` for Prometheus. Handlers are thin: extract, call one use case, render.

pub mod error;
pub mod extract;
mod json;
mod metrics;

pub use metrics::export_figures;
mod routes;
pub mod ui;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{Request, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use error::problem;
use logbuch_core::Logbuch;
use routes::{auth, intake, member_data, meta, templates, tickets};
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Logbuch API", description = "Request tracker for the Bund and the Landesverbände. Authenticate with a personal API token: `Authorization: Bearer lb_…` (`logbuch admin token create`)."),
    paths(
        meta::me, meta::views, meta::save_view, meta::delete_view, meta::absence, meta::set_absence, meta::clear_absence, meta::tenants, meta::queues, meta::counts,
        tickets::list, tickets::create, tickets::get, tickets::change, tickets::history,
        tickets::take, tickets::assign, tickets::add_watcher, tickets::remove_watcher,
        tickets::move_queue, tickets::hand_over, tickets::add_note, tickets::add_reply,
        tickets::resolve, tickets::reopen, tickets::download, tickets::start_process, tickets::complete_step, tickets::bulk, tickets::merge, tickets::tags, tickets::get_draft, tickets::save_draft,
        intake::status, intake::quarantine, intake::raw, intake::retry, intake::outbox_status, intake::outbox_resend,
        templates::list, templates::save, templates::delete, templates::canned,
        member_data::set_hold, member_data::lift_hold, member_data::access_log,
        member_data::requester, member_data::export, member_data::erase,
        member_data::set_key, member_data::get_key, member_data::delete_key,
    ),
    components(schemas(error::Problem)),
    modifiers(&BearerAuth),
    security(("token" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Interner Fehler",
        "Etwas ist schiefgegangen; der Fehler wurde protokolliert.".into(),
        None,
    )
}

async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "not-found",
        "Nicht gefunden",
        "Diese Adresse gibt es nicht. Die API liegt unter /api/v1, die Doku unter /api/docs.".into(),
        None,
    )
}

async fn method_not_allowed() -> Response {
    problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method",
        "Methode nicht erlaubt",
        "Diese Adresse kennt die Methode nicht; siehe /api/docs.".into(),
        None,
    )
}

/// The whole HTTP application.
pub fn router(app: Logbuch) -> Router {
    let max_body = app.settings.limits.max_request_bytes;
    let http_metrics = std::sync::Arc::new(metrics::HttpMetrics::default());
    let scrape = {
        let m = http_metrics.clone();
        move |axum::extract::State(app): axum::extract::State<Logbuch>, headers: axum::http::HeaderMap| {
            metrics::scrape(app, m.clone(), headers)
        }
    };
    let api = Router::new()
        .route("/me", get(meta::me))
        .route("/views", get(meta::views).post(meta::save_view))
        .route("/views/{id}", axum::routing::delete(meta::delete_view))
        .route("/me/absence", get(meta::absence).put(meta::set_absence).delete(meta::clear_absence))
        .route("/tenants", get(meta::tenants))
        .route("/tenants/{tenant}/queues", get(meta::queues))
        .route("/counts", get(meta::counts))
        .route("/tickets", get(tickets::list).post(tickets::create))
        .route("/tickets/bulk", post(tickets::bulk))
        .route("/tickets/{id}", get(tickets::get).patch(tickets::change))
        .route("/tickets/{id}/history", get(tickets::history))
        .route("/tickets/{id}/take", post(tickets::take))
        .route("/tickets/{id}/assign", post(tickets::assign))
        .route("/tickets/{id}/watchers", post(tickets::add_watcher))
        .route("/tickets/{id}/watchers/{email}", axum::routing::delete(tickets::remove_watcher))
        .route("/tickets/{id}/move", post(tickets::move_queue))
        .route("/tickets/{id}/handover", post(tickets::hand_over))
        .route("/tickets/{id}/notes", post(tickets::add_note))
        .route("/tickets/{id}/replies", post(tickets::add_reply))
        .route("/tickets/{id}/resolve", post(tickets::resolve))
        .route("/tickets/{id}/reopen", post(tickets::reopen))
        .route("/tickets/{id}/processes", post(tickets::start_process))
        .route("/tickets/{id}/merge", post(tickets::merge))
        .route("/tickets/{id}/tags", post(tickets::tags))
        .route("/tickets/{id}/drafts/{kind}", get(tickets::get_draft).put(tickets::save_draft))
        .route("/tickets/{id}/steps/{step}/done", post(tickets::complete_step))
        .route("/tickets/{id}/attachments/{attachment}", get(tickets::download))
        .route("/tickets/{id}/canned", get(templates::canned))
        .route("/tickets/{id}/access", get(member_data::access_log))
        .route("/requesters/{address}", get(member_data::requester))
        .route("/keys/{address}", get(member_data::get_key).put(member_data::set_key).delete(member_data::delete_key))
        .route("/requesters/{address}/export", get(member_data::export))
        .route("/requesters/{address}/erase", post(member_data::erase))
        .route("/tickets/{id}/hold", axum::routing::put(member_data::set_hold).delete(member_data::lift_hold))
        .route("/tenants/{tenant}/templates", get(templates::list))
        .route("/tenants/{tenant}/templates/{name}", axum::routing::put(templates::save).delete(templates::delete))
        .route("/outbox/status", get(intake::outbox_status))
        .route("/outbox/{id}/resend", post(intake::outbox_resend))
        .route("/intake/status", get(intake::status))
        .route("/intake/quarantine", get(intake::quarantine))
        .route("/intake/quarantine/{id}/raw", get(intake::raw))
        .route("/intake/quarantine/{id}/retry", post(intake::retry));
    Router::new()
        .nest("/api/v1", api)
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", ApiDoc::openapi()))
        .route("/healthz", get(meta::healthz))
        .route("/pgp/{address}", get(member_data::queue_key))
        .route("/readyz", get(meta::readyz))
        .route("/metrics", get(scrape))
        .merge(portal_routes(&app))
        .route("/", get(ui::home))
        .route("/ui/tickets", get(ui::tickets))
        .route("/ui/tickets/sammel", post(ui::bulk))
        .route("/ui/ansichten", post(ui::save_view))
        .route("/ui/tastatur", get(ui::keys))
        .route("/ui/ansichten/{id}/loeschen", post(ui::delete_view))
        .route("/ui/search", get(ui::search))
        .route("/ui/tickets/{id}", get(ui::ticket))
        .route("/ui/tickets/{id}/take", post(ui::take))
        .route("/ui/tickets/{id}/zugriffe", get(ui::access_log))
        .route("/ui/tickets/{id}/sperrvermerk", post(ui::hold))
        .route("/ui/tickets/{id}/schluessel", post(ui::requester_key))
        .route("/ui/datenschutz", get(ui::member_data))
        .route("/ui/datenschutz/auskunft", post(ui::export_requester))
        .route("/ui/datenschutz/loeschen", post(ui::erase_requester))
        .route("/ui/tickets/{id}/resolve", post(ui::resolve))
        .route("/ui/tickets/{id}/handover", post(ui::hand_over))
        .route("/ui/tickets/{id}/reopen", post(ui::reopen))
        .route("/ui/tickets/{id}/assign", post(ui::assign))
        .route("/ui/tickets/{id}/watchers", post(ui::add_watcher))
        .route("/ui/tickets/{id}/watchers/remove", post(ui::remove_watcher))
        .route("/ui/tickets/{id}/change", post(ui::change))
        .route("/ui/tickets/{id}/move", post(ui::move_queue))
        .route("/ui/tickets/{id}/note", post(ui::note))
        .route("/ui/tickets/{id}/reply", post(ui::reply))
        .route("/ui/tickets/{id}/processes", post(ui::start_process))
        .route("/ui/tickets/{id}/merge", post(ui::merge))
        .route("/ui/tickets/{id}/tags", post(ui::tags))
        .route("/ui/tickets/{id}/steps/{step}", post(ui::complete_step))
        .route("/ui/abwesenheit", get(ui::absence_page).post(ui::save_absence))
        .route("/ui/abwesenheit/beenden", post(ui::end_absence))
        .route("/ui/triage", get(ui::triage))
        .route("/ui/verwaltung", get(ui::admin_index))
        .route("/ui/verwaltung/{tenant}", get(ui::admin))
        .route("/ui/verwaltung/{tenant}/vorlagen/{name}", get(ui::edit_template).post(ui::save_template))
        .route("/ui/verwaltung/{tenant}/vorlagen/{name}/loeschen", post(ui::delete_template))
        .route("/ui/berichte/{tenant}", get(ui::report))
        .route("/ui/berichte/{tenant}/csv", get(ui::report_csv))
        .route("/ui/berichte/{tenant}/wiki", get(ui::report_wiki))
        .route("/ui/{*rest}", get(ui::not_found))
        .route("/ui/logout", post(ui::logout))
        .route("/auth/login", get(auth::login))
        .route("/auth/callback", get(auth::callback))
        .route("/auth/session", get(auth::session))
        .route("/auth/link/{token}", get(auth::link))
        .route("/auth/logout", post(auth::logout))
        .route_layer(axum::middleware::from_fn_with_state(http_metrics, metrics::record))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            // Only the route template: paths and queries may carry addresses.
            let route = req.extensions().get::<MatchedPath>().map_or("-", |p| p.as_str());
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), route, request_id = id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// The requester's pages; their bodies may carry the upload limit and a
/// little more for the text (beyond it, the form comes back with what was typed).
fn portal_routes(app: &Logbuch) -> Router<Logbuch> {
    use ui::portal;
    let limit = app.settings.portal.max_upload_bytes + 1024 * 1024;
    Router::new()
        .route("/anfrage", get(portal::form_index))
        .route("/anfrage/{tenant}", get(portal::form).post(portal::submit))
        .route("/status", get(portal::lookup_page).post(portal::lookup))
        .route("/status/{token}", get(portal::status))
        .route("/status/{token}/antwort", post(portal::reply))
        .route("/status/{token}/erledigt", post(portal::done))
        .route("/status/{token}/wieder-oeffnen", post(portal::reopen))
        .route("/status/{token}/datei/{id}", get(portal::file))
        .layer(DefaultBodyLimit::max(limit))
}

/// Percent-encoding for a URL part or an RFC 5987 file name: letters,
/// digits and `.-_` stay, every other byte becomes `%XX`.
pub(crate) fn percent_encode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect()
}

/// Serves until `shutdown` completes.
pub async fn serve(
    app: Logbuch,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    app.follow_principal_changes();
    // Answers go out at once, not held back waiting for the client's ACK (Nagle).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    // The peer address reaches handlers: the requester's pages rate-limit by it.
    axum::serve(listener, router(app).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
