//! `/api/v1/tickets…`: thin handlers, one use case each.

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::json::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use logbuch_core::Logbuch;
use logbuch_core::tickets::{
    BulkAction, BulkResult, HandOver, ListQuery, NewMessage, NewTicket, TagChange, TicketChange,
};
use logbuch_core::views::{HistoryView, TicketDetail, TicketPage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// Mail address of the new owner; `null` gives the ticket back to the queue.
    pub owner: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Watcher {
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveTo {
    /// Slug of a queue of the same tenant.
    pub queue: String,
}

/// A ticket after a move or handover: shown if the caller may still read it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Moved {
    pub number: i64,
    /// False when the ticket now lies outside the caller's reach.
    pub visible: bool,
    pub message: String,
    pub ticket: Option<TicketDetail>,
}

fn moved(number: i64, ticket: Option<TicketDetail>) -> Json<Moved> {
    let message = match &ticket {
        Some(t) => format!("Ticket #{number} liegt jetzt in {}/{}.", t.ticket.tenant, t.ticket.queue),
        None => format!("Ticket #{number} wurde übergeben; Sie haben dort keinen Zugriff mehr."),
    };
    Json(Moved { number, visible: ticket.is_some(), message, ticket })
}

#[utoipa::path(get, path = "/api/v1/tickets", params(ListQuery), tag = "tickets",
    responses((status = 200, body = TicketPage), (status = 422, body = Problem)))]
pub async fn list(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<TicketPage>> {
    Ok(Json(app.list_tickets(&who, q).await?))
}

#[utoipa::path(post, path = "/api/v1/tickets", request_body = NewTicket, tag = "tickets",
    responses((status = 201, body = TicketDetail), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiJson(input): ApiJson<NewTicket>,
) -> ApiResult<Response> {
    let t = app.create_ticket(&who, input).await?;
    let location = format!("/api/v1/tickets/{}", t.ticket.number);
    let mut res = (StatusCode::CREATED, Json(t)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DetailQuery {
    /// Also the requester's other tickets and recorded bounces.
    pub context: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", params(("id" = i64, Path, description = "ticket number"), DetailQuery), tag = "tickets",
    responses((status = 200, body = TicketDetail), (status = 404, body = Problem)))]
pub async fn get(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DetailQuery>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(app.get_ticket_with(&who, id, q.context == Some(true)).await?))
}

#[utoipa::path(patch, path = "/api/v1/tickets/{id}", params(("id" = i64, Path)), request_body = TicketChange, tag = "tickets",
    responses((status = 200, body = TicketDetail), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn change(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<TicketChange>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(app.change_ticket(&who, id, input).await?))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/history", params(("id" = i64, Path)), tag = "tickets",
    responses((status = 200, body = [HistoryView]), (status = 404, body = Problem)))]
pub async fn history(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<HistoryView>>> {
    Ok(Json(app.ticket_history(&who, id).await?))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/take", params(("id" = i64, Path)), tag = "tickets",
    responses((status = 200, body = TicketDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn take(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(app.take_ticket(&who, id).await?))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/assign", params(("id" = i64, Path)), request_body = Assign, tag = "tickets",
    responses((status = 200, body = TicketDetail), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn assign(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<Assign>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(app.assign_ticket(&who, id, input.owner.as_deref()).await?))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/watchers", params(("id" = i64, Path)), request_body = Watcher, tag = "tickets",
    responses((status = 200, body = TicketDetail), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn add_watcher(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<Watcher>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(app.set_watcher(&who, id, &input.email, true).await?))
}

#[utoipa::path(delete, path = "/api/v1/tickets/{id}/watchers/{email}", params(("id" = i64, Path), ("email" = String, Path)), tag = "tickets",
    responses((status = 200, body = TicketDetail), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn remove_watcher(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath((id, email)): ApiPath<(i64, String)>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(app.set_watcher(&who, id, &email, false).await?))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/move", params(("id" = i64, Path)), request_body = MoveTo, tag = "tickets",
    responses((status = 200, body = Moved), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn move_queue(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MoveTo>,
) -> ApiResult<Json<Moved>> {
    Ok(moved(id, app.move_ticket(&who, id, &input.queue).await?))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/handover", params(("id" = i64, Path)), request_body = HandOver, tag = "tickets",
    responses((status = 200, body = Moved), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn hand_over(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<HandOver>,
) -> ApiResult<Json<Moved>> {
    Ok(moved(id, app.hand_over_ticket(&who, id, input).await?))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/notes", params(("id" = i64, Path)), request_body = NewMessage, tag = "tickets",
    responses((status = 201, body = TicketDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn add_note(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NewMessage>,
) -> ApiResult<(StatusCode, Json<TicketDetail>)> {
    Ok((StatusCode::CREATED, Json(app.add_note(&who, id, input).await?)))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/replies", params(("id" = i64, Path)), request_body = NewMessage, tag = "tickets",
    responses((status = 201, body = TicketDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn add_reply(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NewMessage>,
) -> ApiResult<(StatusCode, Json<TicketDetail>)> {
    Ok((StatusCode::CREATED, Json(app.add_reply(&who, id, input).await?)))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/resolve", params(("id" = i64, Path)), tag = "tickets",
    responses((status = 200, body = TicketDetail), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn resolve(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(app.resolve_ticket(&who, id).await?))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/reopen", params(("id" = i64, Path)), tag = "tickets",
    responses((status = 200, body = TicketDetail), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn reopen(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(app.reopen_ticket(&who, id).await?))
}

/// Files are always downloaded, never rendered: mail attachments are untrusted.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/attachments/{attachment}", params(("id" = i64, Path), ("attachment" = i64, Path)), tag = "tickets",
    responses((status = 200, description = "the file"), (status = 404, body = Problem)))]
pub async fn download(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath((id, attachment)): ApiPath<(i64, i64)>,
) -> ApiResult<Response> {
    let (meta, bytes) = app.download_attachment(&who, id, attachment).await?;
    Ok(file_response(&meta, bytes))
}

/// A stored file as a download (never rendered: files come from strangers).
pub(crate) fn file_response(meta: &logbuch_store::messages::Attachment, bytes: Vec<u8>) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&meta.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let encoded = crate::percent_encode(&meta.filename);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{encoded}")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    res
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartProcess {
    /// The process's slug (`austritt`, `aufnahme`, or one of the tenant's own).
    pub process: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepDone {
    /// What was done where the step asks for it (e.g. the booking in the member database).
    #[serde(default)]
    pub evidence: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/processes", params(("id" = i64, Path)), request_body = StartProcess, tag = "processes",
    responses((status = 201, body = TicketDetail), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn start_process(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<StartProcess>,
) -> ApiResult<(StatusCode, Json<TicketDetail>)> {
    Ok((StatusCode::CREATED, Json(app.start_process(&who, id, &input.process).await?)))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/steps/{step}/done", params(("id" = i64, Path), ("step" = i64, Path)), request_body = StepDone, tag = "processes",
    responses((status = 200, body = TicketDetail), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn complete_step(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath((id, step)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<StepDone>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(app.complete_step(&who, id, step, input.evidence).await?))
}

#[utoipa::path(post, path = "/api/v1/tickets/bulk", request_body = BulkAction, tag = "tickets",
    responses((status = 200, body = BulkResult), (status = 422, body = Problem)))]
pub async fn bulk(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiJson(input): ApiJson<BulkAction>,
) -> ApiResult<Json<BulkResult>> {
    Ok(Json(app.bulk(&who, input).await?))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    /// The unsent text; empty drops the draft.
    pub body: String,
}

fn draft_kind(kind: &str) -> Result<logbuch_domain::MessageKind, ApiError> {
    match kind {
        "reply" => Ok(logbuch_domain::MessageKind::Outbound),
        "note" => Ok(logbuch_domain::MessageKind::Note),
        other => {
            Err(logbuch_core::AppError::NotFound(format!("Entwürfe gibt es als „reply“ und „note“, nicht „{other}“."))
                .into())
        }
    }
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/drafts/{kind}", params(("id" = i64, Path), ("kind" = String, Path, description = "reply or note")), tag = "tickets",
    responses((status = 200, body = Draft), (status = 404, body = Problem)))]
pub async fn get_draft(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath((id, kind)): ApiPath<(i64, String)>,
) -> ApiResult<Json<Draft>> {
    let body = app
        .draft(&who, id, draft_kind(&kind)?)
        .await?
        .ok_or_else(|| logbuch_core::AppError::NotFound(format!("Kein Entwurf für Ticket #{id}.")))?;
    Ok(Json(Draft { body }))
}

#[utoipa::path(put, path = "/api/v1/tickets/{id}/drafts/{kind}", params(("id" = i64, Path), ("kind" = String, Path, description = "reply or note")), request_body = Draft, tag = "tickets",
    responses((status = 204), (status = 404, body = Problem), (status = 413, body = Problem)))]
pub async fn save_draft(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath((id, kind)): ApiPath<(i64, String)>,
    ApiJson(input): ApiJson<Draft>,
) -> ApiResult<StatusCode> {
    app.save_draft(&who, id, draft_kind(&kind)?, &input.body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    /// The ticket to merge into this one (it is resolved and points here).
    pub ticket: i64,
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/merge", params(("id" = i64, Path)), request_body = Merge, tag = "tickets",
    responses((status = 200, body = TicketDetail), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn merge(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<Merge>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(app.merge_tickets(&who, id, input.ticket).await?))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/tags", params(("id" = i64, Path)), request_body = TagChange, tag = "tickets",
    responses((status = 200, body = TicketDetail), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn tags(
    State(app): State<Logbuch>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<TagChange>,
) -> ApiResult<Json<TicketDetail>> {
    Ok(Json(app.change_tags(&who, id, input).await?))
}
