//! Tenant administration: the tenant's queues (as the federation file sets
//! them) and its mail templates and canned responses, editable. Only for
//! people who manage queues in that tenant (403, or 404 without any role there).

use super::{Nav, NoFields, StaffForm, UiError, UiResult, nav, page, page_session, page_with, see_other, strings as s};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use logbuch_core::templates::TemplateInput;
use logbuch_core::{AppError, Logbuch};
use serde::Deserialize;

struct QueueRow {
    slug: String,
    name: String,
    addresses: String,
    priority: &'static str,
    sla: String,
}

struct TemplateRow {
    name: String,
    label: String,
    source: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    nav: Option<Nav>,
    tenant: String,
    queues: Vec<QueueRow>,
    templates: Vec<TemplateRow>,
}

#[derive(Template)]
#[template(path = "admin_index.html")]
struct AdminIndex {
    nav: Option<Nav>,
}

/// `GET /ui/verwaltung`: the tenants the person administers.
pub async fn admin_index(State(app): State<Logbuch>, headers: HeaderMap) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    let nav = nav(&app, &sp).await?;
    if nav.admin_of.is_empty() {
        return Err(UiError(AppError::NotFound("Du verwaltest keinen Verband.".into())));
    }
    Ok(page(&AdminIndex { nav: Some(nav) }))
}

fn minutes(m: Option<i32>) -> String {
    m.map_or_else(|| "–".to_owned(), |m| s::span(chrono::Duration::minutes(i64::from(m))))
}

/// `GET /ui/verwaltung/{tenant}`.
pub async fn admin(State(app): State<Logbuch>, headers: HeaderMap, Path(tenant): Path<String>) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    // Templates first: they carry the admin check (403/404).
    let templates = app
        .list_templates(&sp.principal, &tenant)
        .await?
        .into_iter()
        .map(|t| TemplateRow { source: s::template_source(&t.source), name: t.name, label: t.label })
        .collect();
    let queues = app
        .list_queues(&sp.principal, &tenant)
        .await?
        .into_iter()
        .map(|q| QueueRow {
            sla: format!("{} / {}", minutes(q.first_response_minutes), minutes(q.resolution_minutes)),
            priority: s::priority(&q.default_priority),
            addresses: q.addresses.join(", "),
            slug: q.slug,
            name: q.name,
        })
        .collect();
    Ok(page(&AdminPage { nav: Some(nav(&app, &sp).await?), tenant, queues, templates }))
}

#[derive(Template)]
#[template(path = "template.html")]
struct TemplatePage {
    nav: Option<Nav>,
    csrf: String,
    tenant: String,
    name: String,
    label: String,
    source: String,
    own: bool,
    subject: String,
    body: String,
    html: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NewName {
    /// For a new canned response: the part after `canned.`.
    neu: Option<String>,
}

/// `GET /ui/verwaltung/{tenant}/vorlagen/{name}` (or `…/vorlagen/neu?neu=austritt`).
pub async fn edit_template(
    State(app): State<Logbuch>,
    headers: HeaderMap,
    Path((tenant, name)): Path<(String, String)>,
    Query(q): Query<NewName>,
) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    let all = app.list_templates(&sp.principal, &tenant).await?;
    let name = match q.neu.as_deref().map(str::trim) {
        Some(n) if name == "neu" => format!("canned.{}", n.to_lowercase()),
        _ => name,
    };
    // Only names Logbuch knows reach the page: the name goes into the form's address.
    if !logbuch_core::templates::valid_name(&name) {
        return Err(UiError(AppError::NotFound(
            "Diese Vorlage gibt es nicht. Namen für Textbausteine: Kleinbuchstaben, Ziffern und Bindestriche.".into(),
        )));
    }
    let found = all.into_iter().find(|t| t.name == name);
    let code = tenant.to_lowercase();
    let page_data = match found {
        Some(t) => TemplatePage {
            nav: Some(nav(&app, &sp).await?),
            csrf: sp.csrf.clone(),
            own: t.source == code,
            source: s::template_source(&t.source),
            label: t.label,
            subject: t.subject,
            body: t.body,
            html: t.html.unwrap_or_default(),
            tenant,
            name,
            error: None,
        },
        None if name.starts_with("canned.") => TemplatePage {
            nav: Some(nav(&app, &sp).await?),
            csrf: sp.csrf.clone(),
            own: false,
            source: s::NEW_CANNED.to_owned(),
            label: s::NEW_CANNED.to_owned(),
            subject: "Re: {{ ticket.subject }}".to_owned(),
            body: String::new(),
            html: String::new(),
            tenant,
            name,
            error: None,
        },
        None => return Err(UiError(AppError::NotFound(format!("Eine Vorlage „{name}“ gibt es nicht.")))),
    };
    Ok(page(&page_data))
}

#[derive(Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    html: String,
}

/// `POST /ui/verwaltung/{tenant}/vorlagen/{name}`: saves; a template that
/// does not render comes back with the reason and the text as typed.
pub async fn save_template(
    State(app): State<Logbuch>,
    Path((tenant, name)): Path<(String, String)>,
    StaffForm { sp, form }: StaffForm<TemplateForm>,
) -> UiResult {
    let input = TemplateInput {
        subject: form.subject.clone(),
        body: form.body.clone(),
        html: Some(form.html.clone()).filter(|h| !h.trim().is_empty()),
    };
    match app.save_template(&sp.principal, &tenant, &name, input).await {
        Ok(_) => Ok(see_other(&format!("/ui/verwaltung/{tenant}"))),
        Err(e @ (AppError::Validation { .. } | AppError::TooLarge(_)))
            if logbuch_core::templates::valid_name(&name) =>
        {
            let code = tenant.to_lowercase();
            let own =
                app.list_templates(&sp.principal, &tenant).await?.iter().any(|t| t.name == name && t.source == code);
            let status = if matches!(e, AppError::TooLarge(_)) {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let page_data = TemplatePage {
                nav: Some(nav(&app, &sp).await?),
                csrf: sp.csrf.clone(),
                own,
                source: String::new(),
                label: name.clone(),
                subject: form.subject,
                body: form.body,
                html: form.html,
                error: Some(e.to_string()),
                tenant,
                name,
            };
            Ok(page_with(&page_data, status))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /ui/verwaltung/{tenant}/vorlagen/{name}/loeschen`: the tenant's own version goes.
pub async fn delete_template(
    State(app): State<Logbuch>,
    Path((tenant, name)): Path<(String, String)>,
    StaffForm { sp, .. }: StaffForm<NoFields>,
) -> UiResult {
    app.delete_template(&sp.principal, &tenant, &name).await?;
    Ok(see_other(&format!("/ui/verwaltung/{tenant}")))
}
