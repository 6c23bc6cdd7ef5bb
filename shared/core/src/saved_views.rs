//! Saved ticket lists (issue 18): a person keeps a list's filters under a
//! name; a tenant admin shares one with everyone who reads the tenant's
//! tickets. The start page shows each with its count.

use crate::{AppError, AppResult, Logbuch, Principal};
use logbuch_authz::Target;
use logbuch_domain::{AccessScope, Action};
use logbuch_store::views;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const MAX_NAME: usize = 80;
const MAX_QUERY: usize = 500;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewView {
    pub name: String,
    /// The list's address parameters, as on `/ui/tickets?…` (`tenant=nw&queue=presse&besitz=niemand`).
    pub query: String,
    /// A tenant code to share the view with everyone reading that tenant's tickets (its admins only).
    #[serde(default)]
    pub share_with: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SavedViewView {
    pub id: i64,
    pub name: String,
    pub query: String,
    /// The tenant it is shared with; none: one's own.
    pub shared_with: Option<String>,
    /// The caller may delete it.
    pub removable: bool,
}

impl Logbuch {
    fn may_share(&self, who: &Principal, tenant: &logbuch_authz::TenantRef) -> bool {
        self.authz.allows(who, Action::ManageQueues, Target { tenant, queue: None })
    }

    /// Saves a view of the caller's (or, with `share_with`, the tenant's).
    #[tracing::instrument(skip_all, fields(user = %who.user))]
    pub async fn save_view(&self, who: &Principal, input: NewView) -> AppResult<SavedViewView> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(AppError::validation("name", format!("Der Name muss 1 bis {MAX_NAME} Zeichen lang sein.")));
        }
        let query = input.query.trim().trim_start_matches('?');
        let allowed = |c: char| c.is_ascii_alphanumeric() || "=&%._,-+*~".contains(c);
        if query.len() > MAX_QUERY || !query.chars().all(allowed) {
            return Err(AppError::validation(
                "query",
                format!("Die Ansicht ist keine Listenadresse (höchstens {MAX_QUERY} Zeichen, nur Parameter)."),
            ));
        }
        let dir = self.directory().await?;
        let tenant = match input.share_with.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(code) => {
                let t = dir.tenant_by_code("share_with", code)?;
                let tref = dir.tenant_ref(t.id)?;
                if !self.may_share(who, &tref) {
                    return Err(AppError::Forbidden(format!("Ansichten für {} teilen nur dessen Admins.", t.name)));
                }
                Some((t.id, t.code.clone()))
            }
        };
        let v = views::create(&self.store.db, who.user.0, tenant.as_ref().map(|t| t.0), name, query).await?;
        Ok(SavedViewView { id: v.id, name: v.name, query: v.query, shared_with: tenant.map(|t| t.1), removable: true })
    }

    /// The caller's own views and those shared with tenants they read.
    pub async fn saved_views(&self, who: &Principal) -> AppResult<Vec<SavedViewView>> {
        let dir = self.directory().await?;
        let scope = self.authz.scope(who, Action::ReadTicket, &dir.tenant_refs());
        let tenants: Option<Vec<i64>> = match &scope {
            AccessScope::All => None,
            AccessScope::Only(g) => Some(g.iter().map(|g| g.tenant.0).collect()),
        };
        let mut out = Vec::new();
        for v in views::visible(&self.store.db, who.user.0, tenants.as_deref()).await? {
            let shared_with = match v.tenant_id {
                Some(t) => Some(dir.tenant(t)?.code.clone()),
                None => None,
            };
            let removable = match v.tenant_id {
                None => v.user_id == who.user.0,
                Some(t) => self.may_share(who, &dir.tenant_ref(t)?),
            };
            out.push(SavedViewView { id: v.id, name: v.name, query: v.query, shared_with, removable });
        }
        Ok(out)
    }

    /// Deletes a view: one's own, or a shared one as the tenant's admin (else 404).
    pub async fn delete_view(&self, who: &Principal, id: i64) -> AppResult<()> {
        let found = self.saved_views(who).await?.into_iter().find(|v| v.id == id && v.removable);
        if found.is_none() {
            return Err(AppError::NotFound(format!("Eine Ansicht {id} gibt es hier nicht.")));
        }
        views::delete(&self.store.db, id).await?;
        Ok(())
    }
}
