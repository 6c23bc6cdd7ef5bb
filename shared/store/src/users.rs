//! People, their role assignments and their personal API tokens.

use crate::entity::{api_token, role_assignment, user};
use crate::{Result, now};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, sea_query::Expr,
};

pub async fn find_user(db: &impl ConnectionTrait, id: i64) -> Result<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

pub async fn find_user_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find().filter(user::Column::Email.eq(email.trim().to_lowercase())).one(db).await?)
}

pub async fn find_users(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<user::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(user::Entity::find().filter(user::Column::Id.is_in(ids.iter().copied())).all(db).await?)
}

pub async fn list_users(db: &impl ConnectionTrait) -> Result<Vec<user::Model>> {
    Ok(user::Entity::find().order_by_asc(user::Column::Email).all(db).await?)
}

pub async fn insert_user(
    db: &impl ConnectionTrait,
    email: &str,
    display_name: &str,
    subject: Option<&str>,
) -> Result<user::Model> {
    Ok(user::ActiveModel {
        subject: Set(subject.map(str::to_owned)),
        email: Set(email.trim().to_lowercase()),
        display_name: Set(display_name.trim().to_owned()),
        active: Set(true),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn assignments_of(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<role_assignment::Model>> {
    Ok(role_assignment::Entity::find()
        .filter(role_assignment::Column::UserId.eq(user_id))
        .order_by_asc(role_assignment::Column::Id)
        .all(db)
        .await?)
}

/// Adds an assignment unless the same one exists; returns whether it was new.
pub async fn grant_role(
    db: &impl ConnectionTrait,
    user_id: i64,
    role: &str,
    tenant_id: Option<i64>,
    queue_id: Option<i64>,
    source: &str,
) -> Result<bool> {
    let existing = assignments_of(db, user_id).await?;
    if existing.iter().any(|a| a.role == role && a.tenant_id == tenant_id && a.queue_id == queue_id) {
        return Ok(false);
    }
    role_assignment::ActiveModel {
        user_id: Set(user_id),
        role: Set(role.to_owned()),
        tenant_id: Set(tenant_id),
        queue_id: Set(queue_id),
        source: Set(source.to_owned()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(true)
}

/// Removes matching assignments; returns how many.
pub async fn revoke_role(
    db: &impl ConnectionTrait,
    user_id: i64,
    role: &str,
    tenant_id: Option<i64>,
    queue_id: Option<i64>,
) -> Result<u64> {
    let mut q = role_assignment::Entity::delete_many()
        .filter(role_assignment::Column::UserId.eq(user_id))
        .filter(role_assignment::Column::Role.eq(role));
    q = match tenant_id {
        Some(t) => q.filter(role_assignment::Column::TenantId.eq(t)),
        None => q.filter(role_assignment::Column::TenantId.is_null()),
    };
    q = match queue_id {
        Some(id) => q.filter(role_assignment::Column::QueueId.eq(id)),
        None => q.filter(role_assignment::Column::QueueId.is_null()),
    };
    Ok(q.exec(db).await?.rows_affected)
}

pub async fn insert_token(db: &impl ConnectionTrait, user_id: i64, name: &str, token_hash: &str) -> Result<()> {
    api_token::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.to_owned()),
        token_hash: Set(token_hash.to_owned()),
        created_at: Set(now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The active user owning a live token with this hash.
pub async fn user_by_token_hash(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<user::Model>> {
    let Some(token) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let user = find_user(db, token.user_id).await?.filter(|u| u.active);
    if user.is_some() {
        // Marking last use is best effort and must not fail the request.
        let stale = token.last_used_at.is_none_or(|t| now() - t > chrono::Duration::minutes(5));
        if stale {
            let _ = api_token::Entity::update_many()
                .col_expr(api_token::Column::LastUsedAt, Expr::value(now()))
                .filter(api_token::Column::Id.eq(token.id))
                .exec(db)
                .await;
        }
    }
    Ok(user)
}

/// Is there anyone holding the admin role?
pub async fn any_admin(db: &impl ConnectionTrait) -> Result<bool> {
    Ok(role_assignment::Entity::find().filter(role_assignment::Column::Role.eq("admin")).one(db).await?.is_some())
}

/// Active people holding one of `roles` on the whole tenant or on this queue of it.
pub async fn holders_in(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    queue_id: i64,
    roles: &[&str],
) -> Result<Vec<user::Model>> {
    let ids: Vec<i64> = role_assignment::Entity::find()
        .filter(role_assignment::Column::TenantId.eq(tenant_id))
        .filter(role_assignment::Column::Role.is_in(roles.iter().copied()))
        .filter(
            sea_orm::Condition::any()
                .add(role_assignment::Column::QueueId.is_null())
                .add(role_assignment::Column::QueueId.eq(queue_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.user_id)
        .collect();
    Ok(find_users(db, &ids).await?.into_iter().filter(|u| u.active).collect())
}
