//! The scoped ticket repository: every read takes the caller's scope and
//! puts it into the SQL, so nothing outside it can come back.

use crate::Result;
use crate::entity::{ticket, ticket_watcher};
use crate::search::Term;
use logbuch_domain::AccessScope;
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

pub use ticket::Model as Ticket;

/// The SQL form of a scope.
pub(crate) fn scope_condition(scope: &AccessScope) -> Condition {
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

/// The active statuses, as SQL text: the partial indexes of the working
/// lists (migration m0006) carry this very predicate, so it is never a parameter.
const ACTIVE: &str = "tickets.status IN ('new', 'open', 'waiting')";

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
    /// Created at or after.
    pub created_from: Option<chrono::DateTime<chrono::Utc>>,
    /// Created before.
    pub created_before: Option<chrono::DateTime<chrono::Utc>>,
    /// Full-text search: only matching tickets, best first.
    pub search: Option<Vec<Term>>,
    /// Priority ranks; empty means any.
    pub priorities: Vec<i16>,
    /// Only tickets with this tag.
    pub tag: Option<String>,
    /// Only tickets whose due time that counts (see [`DUE`]) lies before this.
    pub overdue_at: Option<chrono::DateTime<chrono::Utc>>,
    pub sort: Sort,
    pub offset: u64,
    pub limit: u64,
}

/// The order of a list (a search is ranked by match instead).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Most urgent, then longest untouched.
    #[default]
    Urgent,
    Newest,
    Oldest,
    /// The due time that counts, soonest first; tickets without one last.
    Due,
    /// Last changed first.
    Updated,
}

/// The due time that matters: the first answer while none is given, else the resolution.
const DUE: &str = "CASE WHEN tickets.first_responded_at IS NULL AND tickets.first_response_due IS NOT NULL \
                   THEN tickets.first_response_due ELSE tickets.resolution_due END";

impl TicketFilter {
    /// The filters (not the scope, not the search) as SQL on `tickets`.
    fn condition(&self) -> Condition {
        let mut c = self.condition_but_tenant();
        // A queue belongs to one tenant: naming both would only mislead the planner.
        if let (Some(t), None) = (self.tenant, self.queue) {
            c = c.add(ticket::Column::TenantId.eq(t));
        }
        c
    }

    fn condition_but_tenant(&self) -> Condition {
        let mut c = Condition::all();
        if let Some(queue) = self.queue {
            c = c.add(ticket::Column::QueueId.eq(queue));
        }
        if self.statuses.is_empty() {
            c = c.add(Expr::cust(ACTIVE));
        } else if !logbuch_domain::Status::ALL.iter().all(|s| self.statuses.iter().any(|f| f == s.as_str())) {
            c = c.add(ticket::Column::Status.is_in(self.statuses.clone()));
        }
        if let Some(o) = self.owner {
            c = c.add(ticket::Column::OwnerId.eq(o));
        }
        if self.unassigned {
            c = c.add(ticket::Column::OwnerId.is_null());
        }
        if let Some(r) = &self.requester {
            c = c.add(ticket::Column::Requester.eq(r.to_lowercase()));
        }
        if let Some(from) = self.created_from {
            c = c.add(ticket::Column::CreatedAt.gte(from));
        }
        if let Some(before) = self.created_before {
            c = c.add(ticket::Column::CreatedAt.lt(before));
        }
        if !self.priorities.is_empty() {
            c = c.add(ticket::Column::Priority.is_in(self.priorities.clone()));
        }
        if let Some(tag) = &self.tag {
            use crate::entity::ticket_tag;
            let tagged = sea_orm::sea_query::Query::select()
                .column(ticket_tag::Column::TicketId)
                .from(ticket_tag::Entity)
                .and_where(ticket_tag::Column::Tag.eq(tag.clone()))
                .to_owned();
            c = c.add(ticket::Column::Id.in_subquery(tagged));
        }
        if let Some(at) = self.overdue_at {
            // [`DUE`] before `at`, spelled out (a custom expression's placeholders differ per backend).
            let first_counts = Condition::all()
                .add(ticket::Column::FirstRespondedAt.is_null())
                .add(ticket::Column::FirstResponseDue.is_not_null());
            c = c.add(
                Condition::any()
                    .add(first_counts.clone().add(ticket::Column::FirstResponseDue.lt(at)))
                    .add(Condition::all().add(first_counts.not()).add(ticket::Column::ResolutionDue.lt(at))),
            );
        }
        c
    }
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

/// A page of tickets in scope, most urgent and longest-waiting first (or,
/// with a search, best match first). Returns up to `limit + 1` rows so the
/// caller knows whether there is more.
pub async fn list_scoped<C>(db: &C, scope: &AccessScope, f: &TicketFilter) -> Result<Vec<Ticket>>
where
    C: ConnectionTrait + sea_orm::TransactionTrait,
{
    if let Some(terms) = &f.search {
        // The tenants the documents may belong to: lets the database skip the rest early.
        let tenants = match (f.tenant, scope) {
            (Some(t), _) => Some(vec![t]),
            (None, AccessScope::All) => None,
            (None, AccessScope::Only(grants)) => Some(grants.iter().map(|g| g.tenant.0).collect::<Vec<_>>()),
        };
        // PostgreSQL keeps the tenant beside each document and filters on it
        // there; saying it again on `tickets` would make the planner believe
        // hardly any document matches (the two are one fact, not two). The
        // scope is enforced below, when the rows are read, and inside the
        // search where it names queues.
        let queue_grants = matches!(scope, AccessScope::Only(g) if g.iter().any(|g| g.queue.is_some()));
        let mut beside_tenant = f.condition_but_tenant();
        if queue_grants {
            beside_tenant = beside_tenant.add(scope_condition(scope));
        }
        let page = crate::search::Page {
            tenants: tenants.as_deref(),
            with_tenant: Condition::all().add(scope_condition(scope)).add(f.condition()),
            beside_tenant,
            offset: f.offset,
            limit: f.limit + 1,
        };
        let hits = crate::search::ranked_page(db, terms, page).await?;
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let rows = ticket::Entity::find()
            .filter(scope_condition(scope))
            .filter(ticket::Column::Id.is_in(hits.iter().copied()))
            .all(db)
            .await?;
        return Ok(hits.iter().filter_map(|id| rows.iter().find(|t| t.id == *id).cloned()).collect());
    }
    let q = ticket::Entity::find().filter(scope_condition(scope)).filter(f.condition());
    let q = match f.sort {
        Sort::Urgent => q.order_by_desc(ticket::Column::Priority).order_by_asc(ticket::Column::UpdatedAt),
        Sort::Newest => q.order_by_desc(ticket::Column::CreatedAt).order_by_desc(ticket::Column::Id),
        Sort::Oldest => q.order_by_asc(ticket::Column::CreatedAt),
        Sort::Due => q
            .order_by_asc(Expr::cust(format!("CASE WHEN ({DUE}) IS NULL THEN 1 ELSE 0 END")))
            .order_by_asc(Expr::cust(DUE)),
        Sort::Updated => q.order_by_desc(ticket::Column::UpdatedAt),
    };
    let page = q.order_by_asc(ticket::Column::Id).offset(f.offset).limit(f.limit + 1);
    let backend = db.get_database_backend();
    let rows = db.query_all_raw(sea_orm::QueryTrait::build(&page, backend)).await?;
    let by_position = rows.first().is_some_and(columns_in_model_order);
    rows.iter().map(|r| ticket_of(r, by_position)).collect()
}

/// How many tickets in scope match the filter (no search, no paging).
pub async fn count_filtered(db: &impl ConnectionTrait, scope: &AccessScope, f: &TicketFilter) -> Result<u64> {
    Ok(ticket::Entity::find().filter(scope_condition(scope)).filter(f.condition()).count(db).await?)
}

/// Whether a PostgreSQL row has exactly the model's columns, in its order.
fn columns_in_model_order(row: &sea_orm::QueryResult) -> bool {
    use sea_orm::sqlx::{Column, Row};
    use sea_orm::{Iden, Iterable};
    row.try_as_pg_row().is_some_and(|pg| {
        pg.len() == TICKET_COLUMNS
            && pg.columns().iter().zip(ticket::Column::iter()).all(|(c, m)| c.name() == m.to_string())
    })
}

/// A row of `ticket::Entity::find()`. On PostgreSQL, when the first row's
/// column names were checked against the model, the columns are read by
/// position in the model's order, without sea-orm's lookup by name and type
/// checks: that decoding was 28 % of the server's time for a list of 50
/// tickets (BENCHMARKS.md). Elsewhere, and for a row of another shape, by name.
fn ticket_of(row: &sea_orm::QueryResult, by_position: bool) -> Result<Ticket> {
    use sea_orm::sqlx::Row;
    let by_name = || Ok(sea_orm::FromQueryResult::from_query_result(row, "")?);
    let Some(pg) = row.try_as_pg_row().filter(|_| by_position) else { return by_name() };
    let decoded = (|| -> std::result::Result<Ticket, sea_orm::sqlx::Error> {
        Ok(Ticket {
            id: pg.try_get_unchecked(0)?,
            tenant_id: pg.try_get_unchecked(1)?,
            queue_id: pg.try_get_unchecked(2)?,
            subject: pg.try_get_unchecked(3)?,
            status: pg.try_get_unchecked(4)?,
            priority: pg.try_get_unchecked(5)?,
            owner_id: pg.try_get_unchecked(6)?,
            requester: pg.try_get_unchecked(7)?,
            requester_name: pg.try_get_unchecked(8)?,
            created_at: pg_time(pg, 9)?.ok_or(sea_orm::sqlx::Error::ColumnNotFound("created_at".into()))?,
            updated_at: pg_time(pg, 10)?.ok_or(sea_orm::sqlx::Error::ColumnNotFound("updated_at".into()))?,
            resolved_at: pg_time(pg, 11)?,
            first_response_due: pg_time(pg, 12)?,
            resolution_due: pg_time(pg, 13)?,
            first_responded_at: pg_time(pg, 14)?,
            waiting_since: pg_time(pg, 15)?,
        })
    })();
    decoded.map_err(|e| sea_orm::DbErr::Custom(format!("ticket row: {e}")).into())
}

/// Columns of the `tickets` table, as the model has them.
const TICKET_COLUMNS: usize = 16;

/// A `timestamptz` column. PostgreSQL sends it as microseconds since
/// 2000-01-01 UTC (binary format, which prepared statements use); this
/// shifts them to the Unix epoch and hands them to chrono, without sqlx's
/// decoder and its per-value type checks. Text format falls back to that
/// decoder.
fn pg_time(
    row: &sea_orm::sqlx::postgres::PgRow,
    i: usize,
) -> std::result::Result<Option<chrono::DateTime<chrono::Utc>>, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::postgres::PgValueFormat;
    use sea_orm::sqlx::{Row, ValueRef};
    const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(None);
    }
    if raw.format() != PgValueFormat::Binary {
        return row.try_get_unchecked(i);
    }
    let bytes: [u8; 8] = raw
        .as_bytes()
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| sea_orm::sqlx::Error::Decode("timestamptz is not 8 bytes".into()))?;
    let micros = i64::from_be_bytes(bytes).checked_add(PG_EPOCH_MICROS);
    micros
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(Some)
        .ok_or_else(|| sea_orm::sqlx::Error::Decode("timestamptz out of range".into()))
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

/// One queue's working figures: active tickets by status, how many are past
/// a due time, and the earliest due time still ahead or behind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueFigures {
    pub tenant_id: i64,
    pub queue_id: i64,
    pub new: i64,
    pub open: i64,
    pub waiting: i64,
    pub overdue: i64,
    pub next_due: Option<chrono::DateTime<chrono::Utc>>,
}

/// [`QueueFigures`] of every queue in scope with active tickets (only the
/// active ones are read, from the covering partial index of migration m0009).
pub async fn queue_figures(
    db: &impl ConnectionTrait,
    scope: &AccessScope,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<QueueFigures>> {
    let backend = db.get_database_backend();
    let due = DUE;
    let status = |s: &str| Expr::cust(format!("SUM(CASE WHEN tickets.status = '{s}' THEN 1 ELSE 0 END)"));
    let overdue = Expr::cust_with_values(
        crate::placeholders(backend, &format!("SUM(CASE WHEN ({due}) < $1 THEN 1 ELSE 0 END)")),
        [now],
    );
    let rows = ticket::Entity::find()
        .filter(scope_condition(scope))
        .filter(Expr::cust(ACTIVE))
        .select_only()
        .column(ticket::Column::TenantId)
        .column(ticket::Column::QueueId)
        .column_as(status("new"), "new")
        .column_as(status("open"), "open")
        .column_as(status("waiting"), "waiting")
        .column_as(overdue, "overdue")
        .column_as(Expr::cust(format!("MIN({due})")), "next_due")
        .group_by(ticket::Column::TenantId)
        .group_by(ticket::Column::QueueId)
        .into_tuple::<(i64, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<chrono::DateTime<chrono::Utc>>)>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(tenant_id, queue_id, new, open, waiting, overdue, next_due)| QueueFigures {
            tenant_id,
            queue_id,
            new: new.unwrap_or(0),
            open: open.unwrap_or(0),
            waiting: waiting.unwrap_or(0),
            overdue: overdue.unwrap_or(0),
            next_due,
        })
        .collect())
}

/// Inserts a new ticket (the caller has checked access and writes its history).
/// A ticket by number, unscoped: for scheduled work only, never for a person's request.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Ticket>> {
    Ok(ticket::Entity::find_by_id(id).one(db).await?)
}

/// Marks a ticket as changed now (something beside its own fields changed).
pub async fn touch(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    ticket::Entity::update_many()
        .col_expr(ticket::Column::UpdatedAt, sea_orm::sea_query::Expr::value(crate::now()))
        .filter(ticket::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

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
        .filter(Expr::cust(ACTIVE))
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

/// Per tenant: active tickets, and those past a due time (first response
/// not given in time, or resolution overdue). For metrics.
pub async fn figures_per_tenant(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(i64, i64, i64)>> {
    let sql = "SUM(CASE WHEN tickets.resolution_due < $1 \
               OR (tickets.first_responded_at IS NULL AND tickets.first_response_due < $2) THEN 1 ELSE 0 END)";
    let breached = Expr::cust_with_values(crate::placeholders(db.get_database_backend(), sql), [now, now]);
    Ok(ticket::Entity::find()
        .filter(Expr::cust(ACTIVE))
        .select_only()
        .column(ticket::Column::TenantId)
        .column_as(ticket::Column::Id.count(), "open")
        .column_as(breached, "breached")
        .group_by(ticket::Column::TenantId)
        .into_tuple::<(i64, i64, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(t, open, breached)| (t, open, breached.unwrap_or(0)))
        .collect())
}

/// A ticket with everything its page shows.
#[derive(Debug, Clone)]
pub struct TicketParts {
    pub ticket: Ticket,
    pub messages: Vec<crate::messages::Message>,
    pub attachments: Vec<crate::messages::Attachment>,
    pub history: Vec<crate::history::Entry>,
    pub watchers: Vec<i64>,
    pub links: Vec<i64>,
}

/// A ticket in scope with its messages, files, history, watchers and links,
/// and `user_id`'s read of it in the access log (`what`); None outside the
/// scope, and then nothing is logged. PostgreSQL answers it all in one
/// statement (every round trip costs both sides about 0.1 ms); SQLite
/// reads part by part.
///
/// On PostgreSQL the access-log entry is committed without waiting for the
/// disk (`synchronous_commit = off` for this statement's transaction alone):
/// waiting halved the ticket page's throughput. If PostgreSQL itself
/// crashes, the reads of its last fraction of a second (at most three times
/// `wal_writer_delay`, 0.6 s by default) can be missing from the log;
/// nothing else is written here, and the database stays consistent. That
/// is why this takes the pool and not a transaction: inside one, the
/// setting would hold for everything else the transaction writes.
///
/// The entry is written when the ticket is in `scope`; callers pass the
/// scope of reading, so it is written exactly when the read is allowed.
pub async fn read_logged(
    db: &sea_orm::DatabaseConnection,
    scope: &AccessScope,
    id: i64,
    user_id: i64,
    what: &str,
) -> Result<Option<TicketParts>> {
    use crate::{history, intake, messages};
    let backend = db.get_database_backend();
    if backend != sea_orm::DbBackend::Postgres {
        let Some(ticket) = find_scoped(db, scope, id, false).await? else { return Ok(None) };
        let parts = TicketParts {
            messages: messages::of_ticket(db, id).await?,
            attachments: messages::attachments_of_ticket(db, id).await?,
            history: history::of_ticket(db, id).await?,
            watchers: watchers(db, id).await?,
            links: intake::links_of(db, id).await?,
            ticket,
        };
        history::log_access(db, id, user_id, what).await?;
        return Ok(Some(parts));
    }
    let mut scoped = sea_orm::QueryTrait::build(
        &ticket::Entity::find().filter(ticket::Column::Id.eq(id)).filter(scope_condition(scope)),
        backend,
    );
    let n = scoped.values.as_ref().map_or(0, |v| v.0.len());
    let sql = format!(
        "WITH t AS ({scoped_sql}), \
         quick AS (SELECT set_config('synchronous_commit', 'off', true) FROM t), \
         logged AS (INSERT INTO access_log (ticket_id, user_id, at, what) \
           SELECT id, ${u}, ${at}, ${what} FROM t, quick) \
         SELECT t.*, \
         (SELECT json_agg(m ORDER BY m.id) FROM messages m WHERE m.ticket_id = t.id)::text AS parts_messages, \
         (SELECT json_agg(a ORDER BY a.id) FROM attachments a WHERE a.ticket_id = t.id)::text AS parts_attachments, \
         (SELECT json_agg(h ORDER BY h.id) FROM history h WHERE h.ticket_id = t.id)::text AS parts_history, \
         (SELECT json_agg(w.user_id ORDER BY w.user_id) FROM ticket_watchers w WHERE w.ticket_id = t.id)::text \
           AS parts_watchers, \
         (SELECT json_agg(l.linked_id ORDER BY l.linked_id) FROM ticket_links l WHERE l.ticket_id = t.id)::text \
           AS parts_links \
         FROM t",
        scoped_sql = scoped.sql,
        u = n + 1,
        at = n + 2,
        what = n + 3,
    );
    let mut values = scoped.values.take().map_or_else(Vec::new, |v| v.0);
    values.extend([user_id.into(), crate::now().into(), what.into()]);
    let Some(row) = db.query_one_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await? else {
        return Ok(None);
    };
    fn parts<T: serde::de::DeserializeOwned>(row: &sea_orm::QueryResult, column: &str) -> Result<Vec<T>> {
        let Some(text) = row.try_get::<Option<String>>("", column)? else { return Ok(Vec::new()) };
        // serde's message could quote the text (a mail body): say only where.
        serde_json::from_str(&text).map_err(|e| {
            sea_orm::DbErr::Json(format!("{column}: {:?} at line {} column {}", e.classify(), e.line(), e.column()))
                .into()
        })
    }
    Ok(Some(TicketParts {
        ticket: sea_orm::FromQueryResult::from_query_result(&row, "")?,
        messages: parts(&row, "parts_messages")?,
        attachments: parts(&row, "parts_attachments")?,
        history: parts(&row, "parts_history")?,
        watchers: parts(&row, "parts_watchers")?,
        links: parts(&row, "parts_links")?,
    }))
}

/// Tickets past a due time that no breach was recorded for yet (not
/// resolved, not waiting on the requester): (ticket, clock, due time), at most `limit`.
pub async fn breach_candidates(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
    limit: u64,
) -> Result<Vec<(Ticket, &'static str, chrono::DateTime<chrono::Utc>)>> {
    let first = ticket::Column::FirstRespondedAt.is_null().and(ticket::Column::FirstResponseDue.lt(now));
    let rows = ticket::Entity::find()
        .filter(ticket::Column::Status.is_in(["new", "open"]))
        .filter(sea_orm::Condition::any().add(first).add(ticket::Column::ResolutionDue.lt(now)))
        .order_by_asc(ticket::Column::Id)
        .limit(limit * 2)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let backend = db.get_database_backend();
    let known: std::collections::HashSet<(i64, String)> = if ids.is_empty() {
        Default::default()
    } else {
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        db.query_all_raw(sea_orm::Statement::from_string(
            backend,
            format!("SELECT ticket_id, clock FROM sla_breaches WHERE ticket_id IN ({list})"),
        ))
        .await?
        .iter()
        .filter_map(|r| Some((r.try_get_by_index::<i64>(0).ok()?, r.try_get_by_index::<String>(1).ok()?)))
        .collect()
    };
    let mut out = Vec::new();
    for t in rows {
        let clocks = [
            ("first_response", t.first_response_due.filter(|d| t.first_responded_at.is_none() && *d < now)),
            ("resolution", t.resolution_due.filter(|d| *d < now)),
        ];
        for (clock, due) in clocks {
            if let Some(due) = due
                && !known.contains(&(t.id, clock.to_owned()))
            {
                out.push((t.clone(), clock, due));
            }
        }
    }
    out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(out)
}

/// Records a breach; true only for the one caller that recorded it (any
/// number of workers may try at once).
pub async fn record_breach(
    db: &impl ConnectionTrait,
    ticket_id: i64,
    clock: &str,
    due: chrono::DateTime<chrono::Utc>,
) -> Result<bool> {
    let backend = db.get_database_backend();
    let sql = crate::placeholders(
        backend,
        "INSERT INTO sla_breaches (ticket_id, clock, due_at, recorded_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (ticket_id, clock) DO NOTHING",
    );
    let r = db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            vec![ticket_id.into(), clock.into(), due.into(), crate::now().into()],
        ))
        .await?;
    Ok(r.rows_affected() == 1)
}
