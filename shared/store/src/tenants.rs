//! Tenants, queues and their mail addresses; applying the federation file.

use crate::entity::{group_mapping, queue, queue_address, tenant};
use crate::{Result, now};
use logbuch_config::{Federation, QueueSpec, parse_duration};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

pub async fn list_tenants(db: &impl ConnectionTrait) -> Result<Vec<tenant::Model>> {
    Ok(tenant::Entity::find().order_by_asc(tenant::Column::Id).all(db).await?)
}

pub async fn find_tenant_by_code(db: &impl ConnectionTrait, code: &str) -> Result<Option<tenant::Model>> {
    Ok(tenant::Entity::find().filter(tenant::Column::Code.eq(code)).one(db).await?)
}

pub async fn find_tenant(db: &impl ConnectionTrait, id: i64) -> Result<Option<tenant::Model>> {
    Ok(tenant::Entity::find_by_id(id).one(db).await?)
}

pub async fn list_queues(db: &impl ConnectionTrait, tenant_id: Option<i64>) -> Result<Vec<queue::Model>> {
    let mut q = queue::Entity::find();
    if let Some(t) = tenant_id {
        q = q.filter(queue::Column::TenantId.eq(t));
    }
    Ok(q.order_by_asc(queue::Column::TenantId).order_by_asc(queue::Column::Slug).all(db).await?)
}

pub async fn find_queue(db: &impl ConnectionTrait, id: i64) -> Result<Option<queue::Model>> {
    Ok(queue::Entity::find_by_id(id).one(db).await?)
}

pub async fn find_queue_by_slug(db: &impl ConnectionTrait, tenant_id: i64, slug: &str) -> Result<Option<queue::Model>> {
    Ok(queue::Entity::find()
        .filter(queue::Column::TenantId.eq(tenant_id))
        .filter(queue::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

pub async fn queue_addresses(db: &impl ConnectionTrait, queue_id: i64) -> Result<Vec<String>> {
    Ok(queue_address::Entity::find()
        .filter(queue_address::Column::QueueId.eq(queue_id))
        .order_by_asc(queue_address::Column::Address)
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.address)
        .collect())
}

/// What applying a federation file changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub tenants_created: usize,
    pub queues_created: usize,
    pub queues_updated: usize,
    /// Queues in the database the file no longer lists (kept, with their tickets).
    pub queues_not_in_file: Vec<String>,
}

fn minutes(d: &Option<String>) -> Option<i32> {
    // Validated when the file was parsed; an unparsable value cannot reach here.
    d.as_deref().and_then(|s| parse_duration(s).ok()).map(|d| i32::try_from(d.as_secs() / 60).unwrap_or(i32::MAX))
}

/// Creates or updates tenants, queues, addresses and group mappings so the
/// database says what the file says. Idempotent.
pub async fn apply_federation(db: &impl ConnectionTrait, fed: &Federation) -> Result<ApplyReport> {
    let mut report = ApplyReport::default();
    let mut queue_ids = std::collections::HashMap::new();
    for t in &fed.tenants {
        let topics = serde_json::to_string(&fed.topics_for(t)).ok();
        let cal = fed.calendar_for(t);
        let calendar = serde_json::to_string(&cal).ok();
        let processes = serde_json::to_string(&fed.processes_for(t)).ok();
        let row = match find_tenant_by_code(db, t.code.as_str()).await? {
            Some(row) => {
                if row.name != t.name || row.topics != topics || row.calendar != calendar || row.processes != processes
                {
                    let mut am: tenant::ActiveModel = row.clone().into();
                    am.name = Set(t.name.clone());
                    am.topics = Set(topics);
                    am.calendar = Set(calendar);
                    am.processes = Set(processes);
                    am.update(db).await?
                } else {
                    row
                }
            }
            None => {
                report.tenants_created += 1;
                tenant::ActiveModel {
                    code: Set(t.code.as_str().to_owned()),
                    name: Set(t.name.clone()),
                    default_queue_id: Set(None),
                    created_at: Set(now()),
                    topics: Set(topics),
                    calendar: Set(calendar),
                    processes: Set(processes),
                    ..Default::default()
                }
                .insert(db)
                .await?
            }
        };
        let existing = list_queues(db, Some(row.id)).await?;
        for q in &t.queues {
            let retention = fed.retention_for(t, q).map(|(m, mode)| (m as i32, mode.as_str().to_owned()));
            let found = existing.iter().find(|e| e.slug == q.slug);
            let id = upsert_queue(db, row.id, q, found, &cal, retention, &mut report).await?;
            queue_ids.insert((t.code.as_str().to_owned(), q.slug.clone()), id);
            queue_address::Entity::delete_many().filter(queue_address::Column::QueueId.eq(id)).exec(db).await?;
        }
        for e in existing.iter().filter(|e| !t.queues.iter().any(|q| q.slug == e.slug)) {
            report.queues_not_in_file.push(format!("{}/{}", t.code, e.slug));
        }
        let default_id = queue_ids.get(&(t.code.as_str().to_owned(), t.default_queue.clone())).copied();
        if row.default_queue_id != default_id {
            let mut am: tenant::ActiveModel = row.into();
            am.default_queue_id = Set(default_id);
            am.update(db).await?;
        }
    }
    // Addresses are unique across queues: delete all of this file's queues' first (above), then insert.
    for t in &fed.tenants {
        for q in &t.queues {
            let Some(&id) = queue_ids.get(&(t.code.as_str().to_owned(), q.slug.clone())) else {
                continue;
            };
            for a in &q.addresses {
                let address = a.trim().to_ascii_lowercase();
                queue_address::Entity::delete_by_id(address.clone()).exec(db).await?;
                queue_address::ActiveModel { address: Set(address), queue_id: Set(id) }.insert(db).await?;
            }
        }
    }
    group_mapping::Entity::delete_many().exec(db).await?;
    for g in &fed.groups {
        let tenant_id = match &g.tenant {
            Some(code) => find_tenant_by_code(db, code.as_str()).await?.map(|t| t.id),
            None => None,
        };
        let queues: Vec<Option<i64>> = if g.queues.is_empty() {
            vec![None]
        } else {
            let code = g.tenant.as_ref().map(|c| c.as_str().to_owned()).unwrap_or_default();
            g.queues.iter().map(|s| queue_ids.get(&(code.clone(), s.clone())).copied()).collect()
        };
        for queue_id in queues {
            group_mapping::ActiveModel {
                group_name: Set(g.group.clone()),
                role: Set(g.role.as_str().to_owned()),
                tenant_id: Set(tenant_id),
                queue_id: Set(queue_id),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(report)
}

async fn upsert_queue(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    q: &QueueSpec,
    existing: Option<&queue::Model>,
    cal: &logbuch_domain::calendar::Calendar,
    retention: Option<(i32, String)>,
    report: &mut ApplyReport,
) -> Result<i64> {
    // Due times count business time of the tenant's calendar; the escalation step wall-clock time.
    let business = |d: &Option<String>| d.as_deref().and_then(|s| logbuch_config::business_minutes(s, cal));
    let notify =
        Some(q.notify.iter().map(|a| a.trim().to_lowercase()).collect::<Vec<_>>().join(", ")).filter(|s| !s.is_empty());
    let wanted = (
        q.name.clone(),
        q.default_priority.rank(),
        business(&q.first_response),
        business(&q.resolution),
        minutes(&q.escalation_step),
        notify,
        q.acknowledge,
        q.portal_only,
        retention.as_ref().map(|r| r.0),
        retention.map(|r| r.1),
        q.encryption.map(|e| e.as_str().to_owned()),
    );
    match existing {
        Some(e) => {
            let have = (
                e.name.clone(),
                e.default_priority,
                e.first_response_minutes,
                e.resolution_minutes,
                e.escalation_minutes,
                e.notify.clone(),
                e.acknowledge,
                e.portal_only,
                e.retention_months,
                e.retention_mode.clone(),
                e.encryption.clone(),
            );
            if have != wanted {
                report.queues_updated += 1;
                let mut am: queue::ActiveModel = e.clone().into();
                am.name = Set(wanted.0);
                am.default_priority = Set(wanted.1);
                am.first_response_minutes = Set(wanted.2);
                am.resolution_minutes = Set(wanted.3);
                am.escalation_minutes = Set(wanted.4);
                am.notify = Set(wanted.5);
                am.acknowledge = Set(wanted.6);
                am.portal_only = Set(wanted.7);
                am.retention_months = Set(wanted.8);
                am.retention_mode = Set(wanted.9);
                am.encryption = Set(wanted.10);
                am.update(db).await?;
            }
            Ok(e.id)
        }
        None => {
            report.queues_created += 1;
            let row = queue::ActiveModel {
                tenant_id: Set(tenant_id),
                slug: Set(q.slug.clone()),
                name: Set(wanted.0),
                default_priority: Set(wanted.1),
                first_response_minutes: Set(wanted.2),
                resolution_minutes: Set(wanted.3),
                escalation_minutes: Set(wanted.4),
                notify: Set(wanted.5),
                acknowledge: Set(wanted.6),
                portal_only: Set(wanted.7),
                retention_months: Set(wanted.8),
                retention_mode: Set(wanted.9),
                encryption: Set(wanted.10),
                created_at: Set(now()),
                ..Default::default()
            }
            .insert(db)
            .await?;
            Ok(row.id)
        }
    }
}

/// Every inbound address with its queue id.
pub async fn all_addresses(db: &impl ConnectionTrait) -> Result<Vec<(String, i64)>> {
    Ok(queue_address::Entity::find().all(db).await?.into_iter().map(|a| (a.address, a.queue_id)).collect())
}
