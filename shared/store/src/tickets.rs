//! The scoped ticket repository: every read takes the caller's scope and
//! puts it into the SQL, so nothing outside it can come back.

use crate::Result;
use crate::entity::{ticket, ticket_watcher};
use logbuch_domain::AccessScope;
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

pub use ticket::Model as Ticket;

/// The SQL form of a scope.
fn scope_condition(scope: &AccessScope) -> Condition {
    match scope {
        AccessScope::All => Condition::all(),
        AccessScope::Only(grants) if grants.is_empty() => Condition::all().add(Expr::val(1).eq(0)),
        AccessScope::Only(grants) => {
            let tenants: Vec<i64> = grants.iter().filter(|g| g.queue.is_none()).map(|g| g.tenant.0).collect();
            let queues: Vec<i64> = grants.iter().filter_map(|g| g.queue.map(|q| q.0)).collect();
            let mut any = Condition::any();
            if !tenants.is_empty() {
                any = any.add(ticket::Column::TenantId.is_in(tenants));
            }
            if !queues.is_empty() {
                any = any.add(ticket::Column::QueueId.is_in(queues));
            }
            any
        }
    }
}

/// List filters; all optional, combined with AND.
#[derive(Clone, Debug, Default)]
pub struct TicketFilter {
    pub tenant: Option<i64>,
    pub queue: Option<i64>,
    /// Empty means the active statuses (new, open, waiting).
    pub statuses: Vec<String>,
    pub owner: Option<i64>,
    pub unassigned: bool,
    pub requester: Option<String>,
    /// Only these tickets (full-text search hits), shown in this order.
    pub only: Option<Vec<i64>>,
    pub offset: u64,
    pub limit: u64,
}

/// One ticket the caller may see, or none — the caller cannot tell "not there" from "not yours".
pub async fn find_scoped(
    db: &impl ConnectionTrait,
    scope: &AccessScope,
    id: i64,
    lock: bool,
) -> Result<Option<Ticket>> {
    let mut q = ticket::Entity::find().filter(ticket::Column::Id.eq(id)).filter(scope_condition(scope));
    if lock && db.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    Ok(q.one(db).await?)
}

/// A page of tickets in scope, most urgent and longest-waiting first.
/// Returns up to `limit + 1` rows so the caller knows whether there is more.
pub async fn list_scoped(db: &impl ConnectionTrait, scope: &AccessScope, f: &TicketFilter) -> Result<Vec<Ticket>> {
    let mut q = ticket::Entity::find().filter(scope_condition(scope));
    if let Some(t) = f.tenant {
        q = q.filter(ticket::Column::TenantId.eq(t));
    }
    if let Some(queue) = f.queue {
        q = q.filter(ticket::Column::QueueId.eq(queue));
    }
    if f.statuses.is_empty() {
        q = q.filter(ticket::Column::Status.is_in(["new", "open", "waiting"]));
    } else {
        q = q.filter(ticket::Column::Status.is_in(f.statuses.clone()));
    }
    if let Some(o) = f.owner {
        q = q.filter(ticket::Column::OwnerId.eq(o));
    }
    if f.unassigned {
        q = q.filter(ticket::Column::OwnerId.is_null());
    }
    if let Some(r) = &f.requester {
        q = q.filter(ticket::Column::Requester.eq(r.to_lowercase()));
    }
    if let Some(ids) = &f.only {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Search hits: all matching rows (at most the hit limit), in the hits' order, then paged.
        let rows = q.filter(ticket::Column::Id.is_in(ids.iter().copied())).all(db).await?;
        let mut rows: Vec<Ticket> = ids.iter().filter_map(|id| rows.iter().find(|t| t.id == *id).cloned()).collect();
        let start = usize::try_from(f.offset).unwrap_or(usize::MAX).min(rows.len());
        rows.drain(..start);
        rows.truncate(usize::try_from(f.limit + 1).unwrap_or(usize::MAX));
        return Ok(rows);
    }
    Ok(q.order_by_desc(ticket::Column::Priority)
        .order_by_asc(ticket::Column::UpdatedAt)
        .order_by_asc(ticket::Column::Id)
        .offset(f.offset)
        .limit(f.limit + 1)
        .all(db)
        .await?)
}

/// Counts of tickets in scope by (tenant, queue, status).
pub async fn count_scoped(
    db: &impl ConnectionTrait,
    scope: &AccessScope,
    tenant: Option<i64>,
) -> Result<Vec<(i64, i64, String, i64)>> {
    let mut q = ticket::Entity::find().filter(scope_condition(scope));
    if let Some(t) = tenant {
        q = q.filter(ticket::Column::TenantId.eq(t));
    }
    Ok(q.select_only()
        .column(ticket::Column::TenantId)
        .column(ticket::Column::QueueId)
        .column(ticket::Column::Status)
        .column_as(ticket::Column::Id.count(), "n")
        .group_by(ticket::Column::TenantId)
        .group_by(ticket::Column::QueueId)
        .group_by(ticket::Column::Status)
        .into_tuple::<(i64, i64, String, i64)>()
        .all(db)
        .await?)
}

/// Inserts a new ticket (the caller has checked access and writes its history).
pub async fn insert(db: &impl ConnectionTrait, row: ticket::ActiveModel) -> Result<Ticket> {
    Ok(row.insert(db).await?)
}

/// Writes changed fields of a ticket loaded through [`find_scoped`].
pub async fn update(db: &impl ConnectionTrait, row: ticket::ActiveModel) -> Result<Ticket> {
    Ok(row.update(db).await?)
}

pub async fn watchers(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<i64>> {
    Ok(ticket_watcher::Entity::find()
        .filter(ticket_watcher::Column::TicketId.eq(ticket_id))
        .order_by_asc(ticket_watcher::Column::UserId)
        .all(db)
        .await?
        .into_iter()
        .map(|w| w.user_id)
        .collect())
}

/// Adds a watcher; false when already watching.
pub async fn add_watcher(db: &impl ConnectionTrait, ticket_id: i64, user_id: i64) -> Result<bool> {
    let n = ticket_watcher::Entity::insert(ticket_watcher::ActiveModel {
        ticket_id: Set(ticket_id),
        user_id: Set(user_id),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    Ok(matches!(n, sea_orm::TryInsertResult::Inserted(1)))
}

/// Removes a watcher; false when not watching.
pub async fn remove_watcher(db: &impl ConnectionTrait, ticket_id: i64, user_id: i64) -> Result<bool> {
    let r = ticket_watcher::Entity::delete_many()
        .filter(ticket_watcher::Column::TicketId.eq(ticket_id))
        .filter(ticket_watcher::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}

/// Total tickets (any scope) — for the admin overview and tests.
pub async fn count_all(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(ticket::Entity::find().count(db).await?)
}

/// Active tickets below urgent in queues that escalate, with the queue's step in minutes.
pub async fn escalation_candidates(db: &impl ConnectionTrait) -> Result<Vec<(Ticket, i32)>> {
    use crate::entity::queue;
    let queues = queue::Entity::find().filter(queue::Column::EscalationMinutes.is_not_null()).all(db).await?;
    let steps: std::collections::HashMap<i64, i32> =
        queues.iter().filter_map(|q| q.escalation_minutes.map(|m| (q.id, m))).collect();
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    let rows = ticket::Entity::find()
        .filter(ticket::Column::QueueId.is_in(steps.keys().copied()))
        .filter(ticket::Column::Status.is_in(["new", "open", "waiting"]))
        .filter(ticket::Column::Priority.lt(4))
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|t| steps.get(&t.queue_id).map(|s| (t.clone(), *s))).collect())
}

/// Sets the priority only if it still is `from`; true when it changed.
pub async fn set_priority_if(
    db: &impl ConnectionTrait,
    id: i64,
    from: i16,
    to: i16,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool> {
    let r = ticket::Entity::update_many()
        .col_expr(ticket::Column::Priority, Expr::value(to))
        .col_expr(ticket::Column::UpdatedAt, Expr::value(at))
        .filter(ticket::Column::Id.eq(id))
        .filter(ticket::Column::Priority.eq(from))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}
