//! Administration for the CLI (`logbuch admin …`) and start-up: federation
//! file, people, role assignments, tokens, the bootstrap admin.
//!
//! These run with the operator's authority (whoever can run the binary
//! against the database); the API's admin operations come with the staff
//! interface and check `users.manage` like every other use case.

use crate::{AppError, AppResult, Logbuch, auth};
use logbuch_config::Federation;
use logbuch_domain::Role;
use logbuch_store::{entity::user, tenants, users};

/// The bootstrap admin's address on the embedded default.
pub const BOOTSTRAP_EMAIL: &str = "admin@logbuch.local";

pub async fn apply_federation(app: &Logbuch, fed: &Federation) -> AppResult<tenants::ApplyReport> {
    let txn = logbuch_store::begin_write(&app.store.db).await?;
    users::serialize_startup(&txn).await?;
    let report = tenants::apply_federation(&txn, fed).await?;
    txn.commit().await?;
    app.invalidate_directory();
    app.ensure_queue_keys().await?;
    Ok(report)
}

pub async fn create_user(app: &Logbuch, email: &str, name: &str) -> AppResult<user::Model> {
    let email = crate::tickets::validate_address("email", email)?;
    if users::find_user_by_email(&app.store.db, &email).await?.is_some() {
        return Err(AppError::Conflict(format!("{email} gibt es schon.")));
    }
    let name = if name.trim().is_empty() { email.as_str() } else { name };
    Ok(users::insert_user(&app.store.db, &email, name, None).await?)
}

async fn user_by_email(app: &Logbuch, email: &str) -> AppResult<user::Model> {
    users::find_user_by_email(&app.store.db, email).await?.ok_or_else(|| {
        AppError::NotFound(format!("Eine Person „{email}“ gibt es nicht (erst `logbuch admin user create`)."))
    })
}

/// Resolves `tenant` and `queue` for a role; federal roles take neither.
async fn role_target(
    app: &Logbuch,
    role: Role,
    tenant: Option<&str>,
    queue: Option<&str>,
) -> AppResult<(Option<i64>, Option<i64>)> {
    match (role.is_global(), tenant) {
        (true, _) if queue.is_some() => {
            Err(AppError::validation("queue", format!("Die Rolle {role} gilt überall und nimmt keine Queue.")))
        }
        (true, Some(_)) => {
            Err(AppError::validation("tenant", format!("Die Rolle {role} gilt überall und nimmt keinen Verband.")))
        }
        (true, None) => Ok((None, None)),
        (false, None) => {
            Err(AppError::validation("tenant", format!("Die Rolle {role} braucht einen Verband (--tenant).")))
        }
        (false, Some(code)) => {
            let dir = app.directory().await?;
            let t = dir.tenant_by_code("tenant", code)?;
            let q = match queue {
                Some(slug) => Some(dir.queue_in("queue", t, Some(slug))?.id),
                None => None,
            };
            Ok((Some(t.id), q))
        }
    }
}

pub async fn grant_role(
    app: &Logbuch,
    email: &str,
    role: Role,
    tenant: Option<&str>,
    queue: Option<&str>,
) -> AppResult<bool> {
    let u = user_by_email(app, email).await?;
    let (t, q) = role_target(app, role, tenant, queue).await?;
    let granted = users::grant_role(&app.store.db, u.id, role.as_str(), t, q, "manual").await?;
    app.principals.changed();
    Ok(granted)
}

pub async fn revoke_role(
    app: &Logbuch,
    email: &str,
    role: Role,
    tenant: Option<&str>,
    queue: Option<&str>,
) -> AppResult<u64> {
    let u = user_by_email(app, email).await?;
    let (t, q) = role_target(app, role, tenant, queue).await?;
    let revoked = users::revoke_role(&app.store.db, u.id, role.as_str(), t, q).await?;
    app.principals.changed();
    Ok(revoked)
}

/// Creates a personal API token; the clear text is returned once and never stored.
pub async fn create_token(app: &Logbuch, email: &str, name: &str) -> AppResult<String> {
    let u = user_by_email(app, email).await?;
    let token = auth::generate_token();
    users::insert_token(&app.store.db, u.id, name, &auth::hash_token(&token)).await?;
    Ok(token)
}

/// A person's API tokens (name, dates; never the token itself), newest first.
pub async fn tokens(app: &Logbuch, email: &str) -> AppResult<Vec<logbuch_store::entity::api_token::Model>> {
    let u = user_by_email(app, email).await?;
    Ok(users::tokens_of(&app.store.db, u.id).await?)
}

/// Revokes a person's live API tokens, all or those named `name`; they are
/// refused from the next request on. Returns how many were revoked.
pub async fn revoke_tokens(app: &Logbuch, email: &str, name: Option<&str>) -> AppResult<u64> {
    let u = user_by_email(app, email).await?;
    let revoked = users::revoke_tokens(&app.store.db, u.id, name).await?;
    app.principals.changed();
    Ok(revoked)
}

/// On a database without any admin: creates the bootstrap admin and returns a
/// fresh token for them. `None` when an admin exists already.
pub async fn bootstrap_admin(app: &Logbuch) -> AppResult<Option<String>> {
    let txn = logbuch_store::begin_write(&app.store.db).await?;
    users::serialize_startup(&txn).await?;
    let any_admin = users::any_admin(&txn).await?;
    if any_admin {
        return Ok(None);
    }
    let u = match users::find_user_by_email(&txn, BOOTSTRAP_EMAIL).await? {
        Some(u) => u,
        None => users::insert_user(&txn, BOOTSTRAP_EMAIL, "Logbuch-Admin", None).await?,
    };
    users::grant_role(&txn, u.id, Role::Admin.as_str(), None, None, "bootstrap").await?;
    let token = auth::generate_token();
    users::insert_token(&txn, u.id, "bootstrap", &auth::hash_token(&token)).await?;
    txn.commit().await?;
    Ok(Some(token))
}

/// A one-time login link (24 hours) for a person, as a path: `/auth/link/…`.
pub async fn login_link(app: &Logbuch, email: &str) -> AppResult<String> {
    let u = user_by_email(app, email).await?;
    Ok(format!("/auth/link/{}", app.create_login_link(u.id).await?))
}

/// Whoever runs `logbuch admin` on the server: they hold the database, so
/// they act as an admin of everything (never a person of the directory).
pub fn operator() -> crate::Principal {
    crate::Principal {
        user: logbuch_domain::UserId(0),
        email: "operator@logbuch.invalid".into(),
        display_name: "logbuch admin".into(),
        assignments: vec![logbuch_authz::Assignment { role: Role::Admin, tenant: None, queue: None }],
    }
}
