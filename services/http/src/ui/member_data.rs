//! `/ui/datenschutz`: what is stored about a mail address within one's
//! reach (tickets, bounces, who read them), the export as a ZIP and the
//! erasure (issue 17); `/ui/tickets/{id}/zugriffe`: who read a ticket.

use super::{Nav, StaffForm, UiResult, nav, page, page_session, page_with, strings as s};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use logbuch_core::requester_data::{AccessEntry, RequesterOverview};
use logbuch_core::{AppError, Logbuch};
use serde::Deserialize;

#[derive(askama::Template)]
#[template(path = "member_data.html")]
struct MemberDataPage {
    nav: Option<Nav>,
    csrf: String,
    address: String,
    found: Option<RequesterOverview>,
    error: Option<String>,
    done: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "access_log.html")]
struct AccessLogPage {
    nav: Option<Nav>,
    number: i64,
    entries: Vec<AccessEntry>,
}

fn when(at: &chrono::DateTime<chrono::Utc>) -> String {
    logbuch_domain::calendar::utc_to_berlin(*at).format("%d.%m.%Y %H:%M").to_string()
}

impl MemberDataPage {
    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        when(at)
    }
}

impl AccessLogPage {
    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        when(at)
    }
}

#[derive(Deserialize)]
pub struct Lookup {
    #[serde(default)]
    adresse: String,
}

/// `GET /ui/datenschutz?adresse=…`.
pub async fn member_data(State(app): State<Logbuch>, headers: HeaderMap, Query(q): Query<Lookup>) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    let address = q.adresse.trim().to_owned();
    let (found, error, status) = if address.is_empty() {
        (None, None, StatusCode::OK)
    } else {
        match app.requester_overview(&sp.principal, &address).await {
            Ok(f) => (Some(f), None, StatusCode::OK),
            Err(e @ (AppError::NotFound(_) | AppError::Validation { .. })) => {
                let status = if matches!(e, AppError::NotFound(_)) {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                (None, Some(e.to_string()), status)
            }
            Err(e) => return Err(e.into()),
        }
    };
    let p =
        MemberDataPage { nav: Some(nav(&app, &sp).await?), csrf: sp.csrf.clone(), address, found, error, done: None };
    Ok(page_with(&p, status))
}

#[derive(Deserialize)]
pub struct AddressForm {
    #[serde(default)]
    adresse: String,
    #[serde(default)]
    bestaetigt: Option<String>,
}

/// `POST /ui/datenschutz/auskunft`: the ZIP (a POST: it is on the tickets' history).
pub async fn export(State(app): State<Logbuch>, StaffForm { sp, form }: StaffForm<AddressForm>) -> UiResult {
    let zip = app.export_requester(&sp.principal, &form.adresse).await?;
    Ok(crate::routes::member_data::zip_response(zip))
}

/// `POST /ui/datenschutz/loeschen`: erases after the box was ticked.
pub async fn erase(State(app): State<Logbuch>, StaffForm { sp, form }: StaffForm<AddressForm>) -> UiResult {
    let address = form.adresse.trim().to_owned();
    if form.bestaetigt.is_none() {
        let found = app.requester_overview(&sp.principal, &address).await.ok();
        let p = MemberDataPage {
            nav: Some(nav(&app, &sp).await?),
            csrf: sp.csrf.clone(),
            address,
            found,
            error: Some("Bitte bestätigen, dass alles zu dieser Adresse gelöscht werden soll.".into()),
            done: None,
        };
        return Ok(page_with(&p, StatusCode::UNPROCESSABLE_ENTITY));
    }
    let erased = app.erase_requester(&sp.principal, &address).await?;
    let n = erased.tickets;
    let numbers = |v: &[i64]| v.iter().map(|t| format!("#{t}")).collect::<Vec<_>>().join(", ");
    let mut more = String::new();
    if !erased.redacted.is_empty() {
        more.push_str(&format!(
            " Aus Tickets anderer Personen ({}) sind ihre Nachrichten entfernt und die Adresse ersetzt; ihr Verlauf nennt sie noch.",
            numbers(&erased.redacted)
        ));
    }
    if !erased.held.is_empty() {
        more.push_str(&format!(" Wegen eines Sperrvermerks bleiben: {}.", numbers(&erased.held)));
    }
    let tickets = if n == 1 { "1 Ticket ist".to_owned() } else { format!("{n} Tickets sind") };
    let p = MemberDataPage {
        nav: Some(nav(&app, &sp).await?),
        csrf: sp.csrf.clone(),
        address: address.clone(),
        found: None,
        error: None,
        done: Some(format!(
            "Gelöscht: {tickets} zu {address} anonymisiert, Rückläufer und Mails entfernt. Je Ticket bleibt ein Grabstein (wann, von wem, wie viel).{more}"
        )),
    };
    Ok(page(&p))
}

/// `GET /ui/tickets/{id}/zugriffe`.
pub async fn access_log(State(app): State<Logbuch>, headers: HeaderMap, Path(id): Path<i64>) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    let entries = app.ticket_access_log(&sp.principal, id).await?;
    Ok(page(&AccessLogPage { nav: Some(nav(&app, &sp).await?), number: id, entries }))
}

#[derive(Deserialize)]
pub struct HoldForm {
    #[serde(default)]
    grund: String,
    #[serde(default)]
    aufheben: Option<String>,
}

/// `POST /ui/tickets/{id}/sperrvermerk`: sets (with a reason) or lifts the legal hold.
pub async fn hold(
    State(app): State<Logbuch>,
    Path(id): Path<i64>,
    StaffForm { sp, form }: StaffForm<HoldForm>,
) -> UiResult {
    let reason = form.aufheben.is_none().then_some(form.grund.as_str());
    app.set_legal_hold(&sp.principal, id, reason).await?;
    Ok(super::see_other(&format!("/ui/tickets/{id}#sperrvermerk")))
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    schluessel: String,
}

/// `POST /ui/tickets/{id}/schluessel`: files the requester's OpenPGP key.
pub async fn requester_key(
    State(app): State<Logbuch>,
    Path(id): Path<i64>,
    StaffForm { sp, form }: StaffForm<KeyForm>,
) -> UiResult {
    app.set_requester_key(&sp.principal, id, &form.schluessel).await?;
    Ok(super::see_other(&format!("/ui/tickets/{id}")))
}
