//! Tenants and queues by id, loaded once per use case to name things.

use crate::{AppError, AppResult};
use logbuch_authz::TenantRef;
use logbuch_domain::calendar::{Calendar, Land};
use logbuch_domain::{TenantCode, TenantId};
use logbuch_store::entity::{queue, tenant};
use logbuch_store::tenants;
use sea_orm::ConnectionTrait;
use std::collections::HashMap;

#[derive(Debug)]
pub(crate) struct Directory {
    tenants: HashMap<i64, tenant::Model>,
    queues: HashMap<i64, queue::Model>,
    /// Inbound address (lower case) → queue id.
    addresses: HashMap<String, i64>,
    /// Stored templates (overrides and canned responses) of every tenant.
    templates: Vec<logbuch_store::templates::Template>,
    /// People with a role, by id: owners and authors named on every list.
    staff: HashMap<i64, crate::views::UserRef>,
    /// Each tenant's help topics of the web form.
    topics: HashMap<i64, Vec<logbuch_config::ResolvedTopic>>,
    /// Each tenant's business calendar; `fallback` for a tenant without one.
    calendars: HashMap<i64, Calendar>,
    fallback: Calendar,
    /// Each tenant's processes.
    processes: HashMap<i64, Vec<logbuch_config::ResolvedProcess>>,
    /// Who is away (from–until, Berlin dates) and who covers.
    absences: Vec<logbuch_store::processes::Absence>,
}

impl Directory {
    pub(crate) async fn load(db: &impl ConnectionTrait) -> AppResult<Self> {
        let tenants: HashMap<i64, tenant::Model> =
            tenants::list_tenants(db).await?.into_iter().map(|t| (t.id, t)).collect();
        let topics = tenants
            .values()
            .map(|t| (t.id, t.topics.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default()))
            .collect();
        let calendars = tenants
            .values()
            .map(|t| {
                let stored = t.calendar.as_deref().and_then(|j| serde_json::from_str(j).ok());
                (t.id, stored.unwrap_or_else(|| Calendar { land: Land::from_code(&t.code), ..Calendar::default() }))
            })
            .collect();
        let processes = tenants
            .values()
            .map(|t| (t.id, t.processes.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default()))
            .collect();
        let absences = logbuch_store::processes::absences(db).await?;
        let queues = tenants::list_queues(db, None).await?.into_iter().map(|q| (q.id, q)).collect();
        let addresses = tenants::all_addresses(db).await?.into_iter().collect();
        let templates = logbuch_store::templates::all(db).await?;
        let staff = logbuch_store::users::staff(db)
            .await?
            .into_iter()
            .map(|u| (u.id, crate::views::UserRef { id: u.id, email: u.email, display_name: u.display_name }))
            .collect();
        Ok(Self {
            tenants,
            queues,
            addresses,
            templates,
            staff,
            topics,
            calendars,
            fallback: Calendar::default(),
            processes,
            absences,
        })
    }

    /// The business calendar due times of a tenant's tickets count in.
    pub(crate) fn calendar(&self, tenant_id: i64) -> &Calendar {
        self.calendars.get(&tenant_id).unwrap_or(&self.fallback)
    }

    /// The processes staff may start on a tenant's tickets.
    pub(crate) fn processes(&self, tenant_id: i64) -> &[logbuch_config::ResolvedProcess] {
        self.processes.get(&tenant_id).map_or(&[], Vec::as_slice)
    }

    /// Absences in effect on `day` (Berlin date).
    pub(crate) fn absent_on(&self, day: chrono::NaiveDate) -> impl Iterator<Item = &logbuch_store::processes::Absence> {
        let day = day.format("%Y-%m-%d").to_string();
        self.absences.iter().filter(move |a| a.from_day <= day && day <= a.until_day)
    }

    /// Who covers for `user_id` today, if they are away.
    pub(crate) fn deputy_of(&self, user_id: i64) -> Option<i64> {
        let today = logbuch_domain::calendar::utc_to_berlin(logbuch_store::now()).date_naive();
        self.absent_on(today).find(|a| a.user_id == user_id).map(|a| a.deputy_id)
    }

    /// A person's recorded absence (current or planned).
    pub(crate) fn absence_of(&self, user_id: i64) -> Option<&logbuch_store::processes::Absence> {
        self.absences.iter().find(|a| a.user_id == user_id)
    }

    /// The help topics of a tenant's web form.
    pub(crate) fn topics(&self, tenant_id: i64) -> &[logbuch_config::ResolvedTopic] {
        self.topics.get(&tenant_id).map_or(&[], Vec::as_slice)
    }

    /// A person with a role, as known when the directory was loaded.
    pub(crate) fn staff_member(&self, id: i64) -> Option<&crate::views::UserRef> {
        self.staff.get(&id)
    }

    /// A tenant's stored template of that name.
    pub(crate) fn template(&self, tenant_id: i64, name: &str) -> Option<&logbuch_store::templates::Template> {
        self.templates.iter().find(|t| t.tenant_id == tenant_id && t.name == name)
    }

    /// The queue an inbound address belongs to.
    pub(crate) fn queue_for_address(&self, address: &str) -> Option<&queue::Model> {
        self.addresses.get(address).and_then(|id| self.queues.get(id))
    }

    /// The queue's sending address: the first of its inbound addresses.
    pub(crate) fn queue_address(&self, queue_id: i64) -> Option<String> {
        self.addresses.iter().filter(|(_, q)| **q == queue_id).map(|(a, _)| a).min().cloned()
    }

    /// For an unknown address at a domain only one tenant uses (like
    /// `piratenpartei-nrw.de`): that tenant's default queue.
    pub(crate) fn default_queue_for_domain(&self, address: &str) -> Option<&queue::Model> {
        let domain = address.rsplit_once('@')?.1;
        let mut tenants = self
            .addresses
            .iter()
            .filter(|(a, _)| a.rsplit_once('@').is_some_and(|(_, d)| d == domain))
            .filter_map(|(_, q)| self.queues.get(q).map(|q| q.tenant_id));
        let first = tenants.next()?;
        if tenants.any(|t| t != first) {
            return None;
        }
        let tenant = self.tenants.get(&first)?;
        self.queue_in("queue", tenant, None).ok()
    }

    pub(crate) fn tenant_refs(&self) -> Vec<TenantRef> {
        let mut v: Vec<TenantRef> = self
            .tenants
            .values()
            .filter_map(|t| TenantCode::parse(&t.code).ok().map(|code| TenantRef { id: TenantId(t.id), code }))
            .collect();
        v.sort_by_key(|t| t.id);
        v
    }

    pub(crate) fn tenant_ref(&self, id: i64) -> AppResult<TenantRef> {
        let t = self.tenant(id)?;
        let code = TenantCode::parse(&t.code).map_err(|e| AppError::Internal(anyhow::anyhow!("tenant {id}: {e}")))?;
        Ok(TenantRef { id: TenantId(id), code })
    }

    pub(crate) fn tenant(&self, id: i64) -> AppResult<&tenant::Model> {
        self.tenants.get(&id).ok_or_else(|| AppError::Internal(anyhow::anyhow!("tenant {id} vanished")))
    }

    pub(crate) fn queue(&self, id: i64) -> AppResult<&queue::Model> {
        self.queues.get(&id).ok_or_else(|| AppError::Internal(anyhow::anyhow!("queue {id} vanished")))
    }

    pub(crate) fn tenants(&self) -> impl Iterator<Item = &tenant::Model> {
        self.tenants.values()
    }

    pub(crate) fn queues(&self) -> impl Iterator<Item = &queue::Model> {
        self.queues.values()
    }

    /// A tenant by code; unknown codes are a validation error naming the field.
    pub(crate) fn tenant_by_code(&self, field: &str, code: &str) -> AppResult<&tenant::Model> {
        let code = TenantCode::parse(code).map_err(|e| AppError::validation(field, e.message))?;
        self.tenants
            .values()
            .find(|t| t.code == code.as_str())
            .ok_or_else(|| AppError::validation(field, format!("Den Verband „{code}“ gibt es nicht.")))
    }

    /// A queue of a tenant by slug, or the tenant's default queue when none is given.
    pub(crate) fn queue_in(&self, field: &str, tenant: &tenant::Model, slug: Option<&str>) -> AppResult<&queue::Model> {
        match slug.map(str::trim).filter(|s| !s.is_empty()) {
            Some(slug) => self.queues.values().find(|q| q.tenant_id == tenant.id && q.slug == slug).ok_or_else(|| {
                AppError::validation(field, format!("Verband {} hat keine Queue „{slug}“.", tenant.code))
            }),
            None => tenant.default_queue_id.and_then(|id| self.queues.get(&id)).ok_or_else(|| {
                AppError::validation(
                    field,
                    format!("Verband {} hat keine Standard-Queue; bitte eine Queue angeben.", tenant.code),
                )
            }),
        }
    }

    /// The Bund's tenant id.
    pub(crate) fn bund_id(&self) -> Option<i64> {
        self.tenants.values().find(|t| t.code == logbuch_domain::TenantCode::bund().as_str()).map(|t| t.id)
    }

    /// Where mail no queue claims goes: the Bund's default (triage) queue.
    pub(crate) fn bund_default_queue(&self) -> AppResult<&queue::Model> {
        let bund = self
            .bund_id()
            .and_then(|id| self.tenants.get(&id))
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the federation has no tenant bund")))?;
        self.queue_in("queue", bund, None)
    }

    /// `nw/presse` — how history names a queue.
    pub(crate) fn queue_path(&self, queue_id: i64) -> String {
        match self.queues.get(&queue_id) {
            Some(q) => {
                let t = self.tenants.get(&q.tenant_id).map(|t| t.code.as_str()).unwrap_or("?");
                format!("{t}/{}", q.slug)
            }
            None => format!("?/{queue_id}"),
        }
    }
}
