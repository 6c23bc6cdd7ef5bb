//! Browser sessions and logins under way (SSO), and the role assignments
//! an identity provider vouches for.

use crate::entity::{group_mapping, login_link, pending_login, role_assignment, session, user};
use crate::{Result, now};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// Assignments made from the provider's groups carry this source; only they
/// are removed when the provider stops vouching for them.
pub const SSO_SOURCE: &str = "sso";

pub async fn insert_pending(
    db: &impl ConnectionTrait,
    state: &str,
    nonce: &str,
    verifier: &str,
    return_to: &str,
) -> Result<()> {
    // Logins abandoned for an hour are forgotten.
    pending_login::Entity::delete_many()
        .filter(pending_login::Column::CreatedAt.lt(now() - chrono::Duration::hours(1)))
        .exec(db)
        .await?;
    pending_login::ActiveModel {
        state: Set(state.to_owned()),
        nonce: Set(nonce.to_owned()),
        pkce_verifier: Set(verifier.to_owned()),
        return_to: Set(return_to.to_owned()),
        created_at: Set(now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The login started with `state`, at most `max_age` ago; it can be taken once.
pub async fn take_pending(
    db: &impl ConnectionTrait,
    state: &str,
    max_age: chrono::Duration,
) -> Result<Option<pending_login::Model>> {
    let Some(p) = pending_login::Entity::find_by_id(state.to_owned()).one(db).await? else { return Ok(None) };
    let taken = pending_login::Entity::delete_by_id(state.to_owned()).exec(db).await?;
    Ok((taken.rows_affected == 1 && now() - p.created_at <= max_age).then_some(p))
}

pub async fn find_user_by_subject(db: &impl ConnectionTrait, subject: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find().filter(user::Column::Subject.eq(subject)).one(db).await?)
}

/// Links a user to the provider's subject and refreshes the name the provider gives.
pub async fn link_subject(db: &impl ConnectionTrait, u: user::Model, subject: &str, name: &str) -> Result<user::Model> {
    let mut row: user::ActiveModel = u.into();
    row.subject = Set(Some(subject.to_owned()));
    if !name.trim().is_empty() {
        row.display_name = Set(name.trim().to_owned());
    }
    Ok(row.update(db).await?)
}

/// The federation's mapping for these groups.
pub async fn mappings_for(db: &impl ConnectionTrait, groups: &[String]) -> Result<Vec<group_mapping::Model>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    Ok(group_mapping::Entity::find()
        .filter(group_mapping::Column::GroupName.is_in(groups.iter().cloned()))
        .all(db)
        .await?)
}

/// Makes the user's SSO assignments exactly `wanted` (role, tenant, queue);
/// assignments granted by hand are left alone. Returns (added, removed).
pub async fn sync_sso_roles(
    db: &impl ConnectionTrait,
    user_id: i64,
    wanted: &[(String, Option<i64>, Option<i64>)],
) -> Result<(usize, usize)> {
    let have = crate::users::assignments_of(db, user_id).await?;
    let mut removed = 0;
    for a in have.iter().filter(|a| a.source == SSO_SOURCE) {
        if !wanted.iter().any(|(r, t, q)| *r == a.role && *t == a.tenant_id && *q == a.queue_id) {
            role_assignment::Entity::delete_by_id(a.id).exec(db).await?;
            removed += 1;
        }
    }
    let mut added = 0;
    for (role, tenant, queue) in wanted {
        if crate::users::grant_role(db, user_id, role, *tenant, *queue, SSO_SOURCE).await? {
            added += 1;
        }
    }
    Ok((added, removed))
}

/// What an SSO login leaves with the session: the ID token (the logout
/// hint) and the access token (to ask the provider again later).
pub struct ProviderTokens {
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
}

pub async fn insert_session(
    db: &impl ConnectionTrait,
    token_hash: &str,
    user_id: i64,
    csrf: &str,
    provider: Option<ProviderTokens>,
) -> Result<()> {
    let (id_token, access_token, refresh_token) =
        provider.map_or((None, None, None), |p| (Some(p.id_token), Some(p.access_token), p.refresh_token));
    session::ActiveModel {
        token_hash: Set(token_hash.to_owned()),
        user_id: Set(user_id),
        csrf_token: Set(csrf.to_owned()),
        checked_at: Set(access_token.as_ref().map(|_| now())),
        id_token: Set(id_token),
        access_token: Set(access_token),
        refresh_token: Set(refresh_token),
        created_at: Set(now()),
        last_seen_at: Set(now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn find_session(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<session::Model>> {
    Ok(session::Entity::find_by_id(token_hash.to_owned()).one(db).await?)
}

/// Marks the session used now (callers do it at most once a minute).
pub async fn touch(db: &impl ConnectionTrait, token_hash: &str) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::LastSeenAt, sea_orm::sea_query::Expr::value(now()))
        .filter(session::Column::TokenHash.eq(token_hash))
        .exec(db)
        .await?;
    Ok(())
}

/// Notes that the provider was asked now; with new tokens when it gave some.
pub async fn mark_checked(
    db: &impl ConnectionTrait,
    token_hash: &str,
    renewed: Option<(String, Option<String>)>,
) -> Result<()> {
    use sea_orm::sea_query::Expr;
    let mut q = session::Entity::update_many().col_expr(session::Column::CheckedAt, Expr::value(now()));
    if let Some((access, refresh)) = renewed {
        q = q.col_expr(session::Column::AccessToken, Expr::value(access));
        if let Some(refresh) = refresh {
            q = q.col_expr(session::Column::RefreshToken, Expr::value(refresh));
        }
    }
    q.filter(session::Column::TokenHash.eq(token_hash)).exec(db).await?;
    Ok(())
}

/// Ends a session; returns it (its ID token is the logout hint).
pub async fn delete_session(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<session::Model>> {
    let s = find_session(db, token_hash).await?;
    session::Entity::delete_by_id(token_hash.to_owned()).exec(db).await?;
    Ok(s)
}

/// A one-time login link for a person, valid until `expires_at`.
pub async fn insert_login_link(
    db: &impl ConnectionTrait,
    token_hash: &str,
    user_id: i64,
    expires_at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    login_link::ActiveModel {
        token_hash: Set(token_hash.to_owned()),
        user_id: Set(user_id),
        expires_at: Set(expires_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Uses a login link: its person, once, if it has not expired.
pub async fn take_login_link(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<i64>> {
    let Some(l) = login_link::Entity::find_by_id(token_hash.to_owned()).one(db).await? else { return Ok(None) };
    let taken = login_link::Entity::delete_by_id(token_hash.to_owned()).exec(db).await?;
    Ok((taken.rows_affected == 1 && l.expires_at > now()).then_some(l.user_id))
}
