//! `/ui/abwesenheit`: one's own absence with a deputy.

use super::{Nav, NoFields, StaffForm, UiResult, nav, page, page_session, page_with, see_other, strings as s};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use logbuch_core::absence::AbsenceInput;
use logbuch_core::{AppError, Logbuch};
use serde::Deserialize;

#[derive(askama::Template)]
#[template(path = "absence.html")]
struct AbsencePage {
    nav: Option<Nav>,
    csrf: String,
    /// The recorded absence in words, if any.
    current: Option<String>,
    from: String,
    until: String,
    deputy: String,
    error: Option<String>,
}

/// `GET /ui/abwesenheit`.
pub async fn absence_page(State(app): State<Logbuch>, headers: HeaderMap) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    let mine = app.my_absence(&sp.principal).await?;
    let current = mine.as_ref().map(|a| {
        format!(
            "{} bis {}, vertreten von {} ({}){}",
            a.from,
            a.until,
            a.deputy.display_name,
            a.deputy.email,
            if a.active { " – jetzt" } else { "" }
        )
    });
    let page_data = AbsencePage {
        nav: Some(nav(&app, &sp).await?),
        csrf: sp.csrf.clone(),
        current,
        from: mine.as_ref().map(|a| a.from.clone()).unwrap_or_default(),
        until: mine.as_ref().map(|a| a.until.clone()).unwrap_or_default(),
        deputy: mine.map(|a| a.deputy.email).unwrap_or_default(),
        error: None,
    };
    Ok(page(&page_data))
}

#[derive(Deserialize)]
pub struct AbsenceForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    deputy: String,
}

/// `POST /ui/abwesenheit`: records it; a mistake comes back with what was typed.
pub async fn save_absence(State(app): State<Logbuch>, StaffForm { sp, form }: StaffForm<AbsenceForm>) -> UiResult {
    let input = AbsenceInput { from: form.from.clone(), until: form.until.clone(), deputy: form.deputy.clone() };
    match app.set_absence(&sp.principal, input).await {
        Ok(_) => Ok(see_other("/ui/abwesenheit")),
        Err(e @ AppError::Validation { .. }) => {
            let page_data = AbsencePage {
                nav: Some(nav(&app, &sp).await?),
                csrf: sp.csrf.clone(),
                current: None,
                from: form.from,
                until: form.until,
                deputy: form.deputy,
                error: Some(e.to_string()),
            };
            Ok(page_with(&page_data, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /ui/abwesenheit/beenden`.
pub async fn end_absence(State(app): State<Logbuch>, StaffForm { sp, .. }: StaffForm<NoFields>) -> UiResult {
    match app.clear_absence(&sp.principal).await {
        Ok(()) | Err(AppError::NotFound(_)) => Ok(see_other("/ui/abwesenheit")),
        Err(e) => Err(e.into()),
    }
}
