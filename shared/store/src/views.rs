//! Saved ticket lists: a person's own, and those shared with a tenant.

use crate::entity::saved_view;
use crate::{Result, now};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

pub use saved_view::Model as SavedView;

pub async fn create(
    db: &impl ConnectionTrait,
    user_id: i64,
    tenant_id: Option<i64>,
    name: &str,
    query: &str,
) -> Result<SavedView> {
    Ok(saved_view::ActiveModel {
        user_id: Set(user_id),
        tenant_id: Set(tenant_id),
        name: Set(name.to_owned()),
        query: Set(query.to_owned()),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// A person's own views and those shared with any of `tenants`, by name.
pub async fn visible(db: &impl ConnectionTrait, user_id: i64, tenants: Option<&[i64]>) -> Result<Vec<SavedView>> {
    let own = Condition::all().add(saved_view::Column::UserId.eq(user_id)).add(saved_view::Column::TenantId.is_null());
    let shared = match tenants {
        None => Condition::all().add(saved_view::Column::TenantId.is_not_null()),
        Some(t) => Condition::all().add(saved_view::Column::TenantId.is_in(t.iter().copied())),
    };
    Ok(saved_view::Entity::find()
        .filter(Condition::any().add(own).add(shared))
        .order_by_asc(saved_view::Column::Name)
        .order_by_asc(saved_view::Column::Id)
        .all(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<SavedView>> {
    Ok(saved_view::Entity::find_by_id(id).one(db).await?)
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    saved_view::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
