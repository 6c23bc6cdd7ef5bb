//! Absence with a deputy (seed 001: the service group covers for helpers on
//! holiday). While someone is away, tickets assigned to them go to their
//! deputy and their notifications reach the deputy; the deputy's start page
//! shows whose tickets they cover.

use crate::tickets::ListQuery;
use crate::views::{TicketSummary, UserRef};
use crate::{AppError, AppResult, Logbuch, Principal};
use chrono::NaiveDate;
use logbuch_store::{processes, users};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest absence one can record in one go.
const MAX_DAYS: i64 = 366;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbsenceInput {
    /// First day away (`2026-12-21`).
    pub from: String,
    /// Last day away, inclusive.
    pub until: String,
    /// The deputy's mail address.
    pub deputy: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AbsenceView {
    pub from: String,
    pub until: String,
    pub deputy: UserRef,
    /// Away today.
    pub active: bool,
}

/// Someone the caller covers for today, with their open tickets the caller may read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Covering {
    pub person: UserRef,
    pub until: String,
    pub tickets: Vec<TicketSummary>,
}

fn day(field: &str, text: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::validation(field, format!("„{}“ ist kein Datum der Form 2026-12-21.", text.trim())))
}

fn today() -> NaiveDate {
    logbuch_domain::calendar::utc_to_berlin(logbuch_store::now()).date_naive()
}

impl Logbuch {
    /// The caller's recorded absence, current or planned.
    pub async fn my_absence(&self, who: &Principal) -> AppResult<Option<AbsenceView>> {
        let dir = self.directory().await?;
        let Some(a) = dir.absence_of(who.user.0) else { return Ok(None) };
        let deputy = crate::tickets::user_refs(&self.store.db, &[a.deputy_id]).await?.remove(&a.deputy_id);
        let today = today().format("%Y-%m-%d").to_string();
        Ok(deputy.map(|deputy| AbsenceView {
            active: a.from_day <= today && today <= a.until_day,
            from: a.from_day.clone(),
            until: a.until_day.clone(),
            deputy,
        }))
    }

    /// Records the caller's absence (replacing an earlier one).
    #[tracing::instrument(skip_all, fields(user = %who.user))]
    pub async fn set_absence(&self, who: &Principal, input: AbsenceInput) -> AppResult<AbsenceView> {
        let from = day("from", &input.from)?;
        let until = day("until", &input.until)?;
        if until < from {
            return Err(AppError::validation("until", "Das Ende liegt vor dem Anfang."));
        }
        if until < today() {
            return Err(AppError::validation("until", "Die Abwesenheit liegt schon in der Vergangenheit."));
        }
        if (until - from).num_days() >= MAX_DAYS {
            return Err(AppError::validation("until", "Eine Abwesenheit dauert höchstens ein Jahr."));
        }
        let db = &self.store.db;
        let unknown = || {
            AppError::validation(
                "deputy",
                format!("Eine aktive Person mit Rolle „{}“ gibt es nicht.", input.deputy.trim()),
            )
        };
        let deputy =
            users::find_user_by_email(db, input.deputy.trim()).await?.filter(|u| u.active).ok_or_else(unknown)?;
        if crate::auth::principal_on(db, deputy.clone()).await?.assignments.is_empty() {
            return Err(unknown());
        }
        if deputy.id == who.user.0 {
            return Err(AppError::validation("deputy", "Man kann sich nicht selbst vertreten."));
        }
        let (f, u) = (from.format("%Y-%m-%d").to_string(), until.format("%Y-%m-%d").to_string());
        processes::set_absence(db, who.user.0, deputy.id, &f, &u).await?;
        self.invalidate_directory();
        tracing::info!(deputy = deputy.id, "absence recorded");
        Ok(AbsenceView {
            active: from <= today() && today() <= until,
            from: f,
            until: u,
            deputy: UserRef { id: deputy.id, email: deputy.email, display_name: deputy.display_name },
        })
    }

    /// Ends the caller's absence (back early, or a plan dropped).
    pub async fn clear_absence(&self, who: &Principal) -> AppResult<()> {
        if !processes::clear_absence(&self.store.db, who.user.0).await? {
            return Err(AppError::NotFound("Es ist keine Abwesenheit eingetragen.".into()));
        }
        self.invalidate_directory();
        Ok(())
    }

    /// Whom the caller covers for today, each with their open tickets in the caller's reach.
    pub async fn covering(&self, who: &Principal) -> AppResult<Vec<Covering>> {
        let dir = self.directory().await?;
        let absent: Vec<(i64, String)> = dir
            .absent_on(today())
            .filter(|a| a.deputy_id == who.user.0)
            .map(|a| (a.user_id, a.until_day.clone()))
            .collect();
        let mut out = Vec::new();
        for (user_id, until) in absent {
            let Some(person) = crate::tickets::user_refs(&self.store.db, &[user_id]).await?.remove(&user_id) else {
                continue;
            };
            let page =
                self.list_tickets(who, ListQuery { owner: Some(person.email.clone()), ..ListQuery::default() }).await?;
            out.push(Covering { person, until, tickets: page.tickets });
        }
        Ok(out)
    }
}
