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

/// People holding at least one role: the ones who own, watch and work tickets.
pub async fn staff(db: &impl ConnectionTrait) -> Result<Vec<user::Model>> {
    use sea_orm::sea_query::Query;
    Ok(user::Entity::find()
        .filter(user::Column::Id.in_subquery(
            Query::select().column(role_assignment::Column::UserId).from(role_assignment::Entity).to_owned(),
        ))
        .all(db)
        .await?)
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

/// The assignments of several people in one read.
pub async fn assignments_of_many(db: &impl ConnectionTrait, user_ids: &[i64]) -> Result<Vec<role_assignment::Model>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(role_assignment::Entity::find()
        .filter(role_assignment::Column::UserId.is_in(user_ids.iter().copied()))
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

/// A person's tokens, newest first (hashes only; the clear text is never stored).
pub async fn tokens_of(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<api_token::Model>> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// Revokes a person's live tokens, all of them or those with this name;
/// returns how many.
pub async fn revoke_tokens(db: &impl ConnectionTrait, user_id: i64, name: Option<&str>) -> Result<u64> {
    let mut q = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now()))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null());
    if let Some(name) = name {
        q = q.filter(api_token::Column::Name.eq(name));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// The active user owning a live token with this hash.
/// The active user holding an unrevoked token, with their role assignments:
/// one round trip, as every API request asks it.
pub async fn user_and_roles_by_token_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<(user::Model, Vec<role_assignment::Model>)>> {
    let backend = db.get_database_backend();
    let sql = "SELECT u.id, u.subject, u.email, u.display_name, u.active, u.created_at, t.id, t.last_used_at, \
               r.id, r.role, r.tenant_id, r.queue_id, r.source, r.created_at \
               FROM api_tokens t JOIN users u ON u.id = t.user_id \
               LEFT JOIN role_assignments r ON r.user_id = u.id \
               WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active ORDER BY r.id";
    let sql = crate::placeholders(backend, sql);
    let rows = db.query_all_raw(sea_orm::Statement::from_sql_and_values(backend, sql, [token_hash.into()])).await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let user = user::Model {
        id: first.try_get_by_index(0)?,
        subject: first.try_get_by_index(1)?,
        email: first.try_get_by_index(2)?,
        display_name: first.try_get_by_index(3)?,
        active: first.try_get_by_index(4)?,
        created_at: first.try_get_by_index(5)?,
    };
    let token_id: i64 = first.try_get_by_index(6)?;
    let last_used: Option<chrono::DateTime<chrono::Utc>> = first.try_get_by_index(7)?;
    let mut roles = Vec::new();
    for r in &rows {
        let Some(id) = r.try_get_by_index::<Option<i64>>(8)? else { continue };
        roles.push(role_assignment::Model {
            id,
            user_id: user.id,
            role: r.try_get_by_index(9)?,
            tenant_id: r.try_get_by_index(10)?,
            queue_id: r.try_get_by_index(11)?,
            source: r.try_get_by_index(12)?,
            created_at: r.try_get_by_index(13)?,
        });
    }
    // Marking last use is best effort and must not fail the request.
    if last_used.is_none_or(|t| now() - t > chrono::Duration::minutes(5)) {
        let _ = api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now()))
            .filter(api_token::Column::Id.eq(token_id))
            .exec(db)
            .await;
    }
    Ok(Some((user, roles)))
}

/// Active people holding a role in this tenant or a federation-wide one,
/// with all their assignments (to check what each may do there).
pub async fn with_roles_in(
    db: &impl ConnectionTrait,
    tenant_id: i64,
) -> Result<Vec<(user::Model, Vec<role_assignment::Model>)>> {
    use sea_orm::sea_query::Query;
    let near = Query::select()
        .column(role_assignment::Column::UserId)
        .from(role_assignment::Entity)
        .cond_where(
            sea_orm::Condition::any()
                .add(role_assignment::Column::TenantId.eq(tenant_id))
                .add(role_assignment::Column::TenantId.is_null()),
        )
        .to_owned();
    let people = user::Entity::find()
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Id.in_subquery(near))
        .order_by_asc(user::Column::DisplayName)
        .all(db)
        .await?;
    let ids: Vec<i64> = people.iter().map(|u| u.id).collect();
    let mut roles = role_assignment::Entity::find()
        .filter(role_assignment::Column::UserId.is_in(ids))
        .order_by_asc(role_assignment::Column::Id)
        .all(db)
        .await?;
    Ok(people
        .into_iter()
        .map(|u| {
            let (mine, rest) = std::mem::take(&mut roles).into_iter().partition(|r| r.user_id == u.id);
            roles = rest;
            (u, mine)
        })
        .collect())
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
    use sea_orm::sea_query::Query;
    // One statement: the people whose assignments match.
    let holders = Query::select()
        .column(role_assignment::Column::UserId)
        .from(role_assignment::Entity)
        .and_where(role_assignment::Column::TenantId.eq(tenant_id))
        .and_where(role_assignment::Column::Role.is_in(roles.iter().copied()))
        .cond_where(
            sea_orm::Condition::any()
                .add(role_assignment::Column::QueueId.is_null())
                .add(role_assignment::Column::QueueId.eq(queue_id)),
        )
        .to_owned();
    Ok(user::Entity::find()
        .filter(user::Column::Id.in_subquery(holders))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?)
}

/// Several processes starting at once (HTTP replicas) take turns through the
/// start-up writes (federation, bootstrap admin): on PostgreSQL a lock held
/// until the transaction ends; SQLite serialises writers anyway.
pub async fn serialize_startup(txn: &impl ConnectionTrait) -> Result<()> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(hashtext('logbuch:startup'))").await?;
    }
    Ok(())
}
