//! Stored templates (overrides of the built-in texts, and canned responses).

use crate::entity::template;
use crate::{Result, now};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

pub use template::Model as Template;

/// The templates of these tenants (e.g. an LV and the Bund).
pub async fn of_tenants(db: &impl ConnectionTrait, tenant_ids: &[i64]) -> Result<Vec<Template>> {
    Ok(template::Entity::find()
        .filter(template::Column::TenantId.is_in(tenant_ids.iter().copied()))
        .order_by_asc(template::Column::Name)
        .all(db)
        .await?)
}

/// Every stored template (a small table: overrides and canned responses).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Template>> {
    Ok(template::Entity::find().order_by_asc(template::Column::Id).all(db).await?)
}

pub async fn find(db: &impl ConnectionTrait, tenant_id: i64, name: &str) -> Result<Option<Template>> {
    Ok(template::Entity::find()
        .filter(template::Column::TenantId.eq(tenant_id))
        .filter(template::Column::Name.eq(name))
        .one(db)
        .await?)
}

/// Creates or replaces a tenant's template.
pub async fn upsert(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    name: &str,
    subject: &str,
    body: &str,
    html: Option<&str>,
    by: i64,
) -> Result<Template> {
    Ok(match find(db, tenant_id, name).await? {
        Some(t) => {
            let mut am: template::ActiveModel = t.into();
            am.subject = Set(subject.to_owned());
            am.body = Set(body.to_owned());
            am.html = Set(html.map(str::to_owned));
            am.updated_at = Set(now());
            am.updated_by = Set(Some(by));
            am.update(db).await?
        }
        None => {
            template::ActiveModel {
                tenant_id: Set(tenant_id),
                name: Set(name.to_owned()),
                subject: Set(subject.to_owned()),
                body: Set(body.to_owned()),
                html: Set(html.map(str::to_owned)),
                updated_at: Set(now()),
                updated_by: Set(Some(by)),
                ..Default::default()
            }
            .insert(db)
            .await?
        }
    })
}

pub async fn delete(db: &impl ConnectionTrait, tenant_id: i64, name: &str) -> Result<bool> {
    let r = template::Entity::delete_many()
        .filter(template::Column::TenantId.eq(tenant_id))
        .filter(template::Column::Name.eq(name))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}
