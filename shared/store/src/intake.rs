//! Intake storage: raw mails as received, the keys that make processing
//! idempotent, bounces and their collection tickets, ticket links.
//!
//! These are system paths (the intake worker acts for nobody); no person's
//! request reaches them without the use-case layer's checks.

use crate::entity::{bounce, bounce_collection, intake_key, queue_address, raw_mail, ticket, ticket_link};
use crate::{Result, now};
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};

pub use raw_mail::Model as RawMail;

pub const PENDING: &str = "pending";
pub const DONE: &str = "done";
pub const QUARANTINED: &str = "quarantined";

/// Stores a raw mail unless the same (source, Message-ID) is stored already.
/// Returns its id and whether it was new.
pub async fn insert_raw(
    db: &impl ConnectionTrait,
    source: &str,
    message_id: &str,
    sha256: &str,
    content: &[u8],
) -> Result<(i64, bool)> {
    // One statement when the mail is new (the common case): RETURNING gives its id.
    let new = NewRaw { message_id: message_id.to_owned(), sha256: sha256.to_owned(), content };
    if let Some(id) = insert_raws(db, source, std::slice::from_ref(&new)).await?.pop() {
        return Ok((id, true));
    }
    let id = raw_mail::Entity::find()
        .select_only()
        .column(raw_mail::Column::Id)
        .filter(raw_mail::Column::Source.eq(source))
        .filter(raw_mail::Column::MessageId.eq(message_id))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("raw mail {source}/{message_id}")))?;
    Ok((id, false))
}

/// A mail to store: its Message-ID, SHA-256 (hex) and bytes.
pub struct NewRaw<'a> {
    pub message_id: String,
    pub sha256: String,
    pub content: &'a [u8],
}

/// Stores several raw mails of one source, many to a statement; returns the
/// ids of those that were new (one already stored under the same source and
/// Message-ID, or twice among these, is stored once).
pub async fn insert_raws(db: &impl ConnectionTrait, source: &str, mails: &[NewRaw<'_>]) -> Result<Vec<i64>> {
    /// Rows and bytes per statement.
    const ROWS: usize = 100;
    const BYTES: usize = 8 << 20;
    let backend = db.get_database_backend();
    let mut ids = Vec::with_capacity(mails.len());
    let mut rest = mails;
    while !rest.is_empty() {
        let mut n = 0;
        let mut bytes = 0;
        while n < rest.len() && n < ROWS && (n == 0 || bytes + rest[n].content.len() <= BYTES) {
            bytes += rest[n].content.len();
            n += 1;
        }
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        let at = now();
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 7);
        let mut rows = Vec::with_capacity(chunk.len());
        for (i, m) in chunk.iter().enumerate() {
            let p = 7 * i;
            rows.push(format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 0)",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7
            ));
            values.extend([
                source.into(),
                m.message_id.as_str().into(),
                m.sha256.as_str().into(),
                i64::try_from(m.content.len()).unwrap_or(i64::MAX).into(),
                m.content.to_vec().into(),
                at.into(),
                PENDING.into(),
            ]);
        }
        let sql = crate::placeholders(
            backend,
            &format!(
                "INSERT INTO raw_mails (source, message_id, sha256, size, content, received_at, state, attempts) \
                 VALUES {} ON CONFLICT (source, message_id) DO NOTHING RETURNING id",
                rows.join(", ")
            ),
        );
        for row in db.query_all_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await? {
            ids.push(row.try_get_by_index::<i64>(0)?);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

pub async fn find_raw(db: &impl ConnectionTrait, id: i64) -> Result<Option<RawMail>> {
    Ok(raw_mail::Entity::find_by_id(id).one(db).await?)
}

/// Several raw mails in one read, in the order of `ids` (missing ones left out).
pub async fn find_raws(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<RawMail>> {
    let mut rows = raw_mail::Entity::find().filter(raw_mail::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    rows.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
    Ok(rows)
}

/// Marks pending raw mails done, each with its kind, in one statement per
/// kind; returns how many were still pending (the caller compares).
pub async fn finish_raws(db: &impl ConnectionTrait, done: &[(i64, &str)]) -> Result<u64> {
    let mut kinds: Vec<&str> = done.iter().map(|(_, k)| *k).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let mut changed = 0;
    for kind in kinds {
        let ids = done.iter().filter(|(_, k)| *k == kind).map(|(id, _)| *id);
        let r = raw_mail::Entity::update_many()
            .col_expr(raw_mail::Column::State, Expr::value(DONE))
            .col_expr(raw_mail::Column::Kind, Expr::value(Some(kind.to_owned())))
            .col_expr(raw_mail::Column::Reason, Expr::value(Option::<String>::None))
            .col_expr(raw_mail::Column::ProcessedAt, Expr::value(Some(now())))
            .col_expr(raw_mail::Column::Attempts, Expr::col(raw_mail::Column::Attempts).add(1))
            .filter(raw_mail::Column::Id.is_in(ids))
            .filter(raw_mail::Column::State.eq(PENDING))
            .exec(db)
            .await?;
        changed += r.rows_affected;
    }
    Ok(changed)
}

/// Moves a raw mail from `from` to `to` state; false if it was not in `from`
/// (someone else finished it). Leaving `pending` counts a processing attempt.
pub async fn set_raw_state(
    db: &impl ConnectionTrait,
    id: i64,
    from: &str,
    to: &str,
    kind: Option<&str>,
    reason: Option<&str>,
) -> Result<bool> {
    let r = raw_mail::Entity::update_many()
        .col_expr(raw_mail::Column::State, Expr::value(to))
        .col_expr(raw_mail::Column::Kind, Expr::value(kind.map(str::to_owned)))
        .col_expr(raw_mail::Column::Reason, Expr::value(reason.map(str::to_owned)))
        .col_expr(raw_mail::Column::ProcessedAt, Expr::value((to != PENDING).then(now)))
        .col_expr(
            raw_mail::Column::Attempts,
            Expr::col(raw_mail::Column::Attempts).add(if from == PENDING { 1 } else { 0 }),
        )
        .filter(raw_mail::Column::Id.eq(id))
        .filter(raw_mail::Column::State.eq(from))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Raw mails in a state, newest first, without their bytes.
pub async fn list_raw(db: &impl ConnectionTrait, state: &str, limit: u64) -> Result<Vec<RawMail>> {
    Ok(raw_mail::Entity::find()
        .filter(raw_mail::Column::State.eq(state))
        .order_by_desc(raw_mail::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|mut m| {
            m.content = Vec::new();
            m
        })
        .collect())
}

/// Ids of mails still pending that arrived before `before` (their job may be lost).
pub async fn stale_pending(
    db: &impl ConnectionTrait,
    before: chrono::DateTime<chrono::Utc>,
    limit: u64,
) -> Result<Vec<i64>> {
    Ok(raw_mail::Entity::find()
        .select_only()
        .column(raw_mail::Column::Id)
        .filter(raw_mail::Column::State.eq(PENDING))
        .filter(raw_mail::Column::ReceivedAt.lt(before))
        .order_by_asc(raw_mail::Column::Id)
        .limit(limit)
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

pub async fn count_raw(db: &impl ConnectionTrait, state: &str) -> Result<u64> {
    Ok(raw_mail::Entity::find().filter(raw_mail::Column::State.eq(state)).count(db).await?)
}

/// The queue an address belongs to.
pub async fn queue_for_address(db: &impl ConnectionTrait, address: &str) -> Result<Option<i64>> {
    Ok(queue_address::Entity::find_by_id(address.to_owned()).one(db).await?.map(|a| a.queue_id))
}

/// Claims (Message-ID, tenant) for this raw mail: false when another
/// transaction has it already (the same mail via another mailbox). Waits
/// for a concurrent claimer to finish, so it never fails on a race.
pub async fn claim_intake_key(
    db: &impl ConnectionTrait,
    message_id: &str,
    tenant_id: i64,
    raw_mail_id: i64,
) -> Result<bool> {
    let n = intake_key::Entity::insert(intake_key::ActiveModel {
        message_id: Set(message_id.to_owned()),
        tenant_id: Set(tenant_id),
        ticket_id: Set(0),
        raw_mail_id: Set(raw_mail_id),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    Ok(matches!(n, sea_orm::TryInsertResult::Inserted(1)))
}

/// Records which ticket a claimed (Message-ID, tenant) went to.
pub async fn settle_intake_key(
    db: &impl ConnectionTrait,
    message_id: &str,
    tenant_id: i64,
    ticket_id: i64,
) -> Result<()> {
    intake_key::Entity::update_many()
        .col_expr(intake_key::Column::TicketId, Expr::value(ticket_id))
        .filter(intake_key::Column::MessageId.eq(message_id))
        .filter(intake_key::Column::TenantId.eq(tenant_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The (Message-ID, tenant) pairs already taken, of these Message-IDs: a batch
/// reads them once and then records each new one with its ticket in one write.
pub async fn existing_intake_keys(db: &impl ConnectionTrait, message_ids: &[String]) -> Result<Vec<(String, i64)>> {
    if message_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(intake_key::Entity::find()
        .select_only()
        .column(intake_key::Column::MessageId)
        .column(intake_key::Column::TenantId)
        .filter(intake_key::Column::MessageId.is_in(message_ids.iter().cloned()))
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?)
}

/// Records a (Message-ID, tenant) with its ticket (written with the batch's
/// other rows, [`crate::Deferred::intake_key`]). A concurrent transaction
/// that recorded the same pair makes the write fail (the unique key), and
/// with it the whole transaction: the mail is never in two tickets.
pub(crate) fn intake_key_row(
    message_id: &str,
    tenant_id: i64,
    ticket_id: i64,
    raw_mail_id: i64,
) -> intake_key::ActiveModel {
    intake_key::ActiveModel {
        message_id: Set(message_id.to_owned()),
        tenant_id: Set(tenant_id),
        ticket_id: Set(ticket_id),
        raw_mail_id: Set(raw_mail_id),
    }
}

/// The ticket holding a message with one of these Message-IDs (the newest match).
pub async fn ticket_by_message_ids(db: &impl ConnectionTrait, ids: &[String]) -> Result<Option<i64>> {
    Ok(newest_messages(db, ids).await?.into_values().max().map(|(_, ticket)| ticket))
}

/// The ticket of the newest message with each of these Message-IDs, in one
/// read per 500 (a batch's bounces look up the mails they report together).
pub async fn tickets_by_message_ids(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<std::collections::HashMap<String, i64>> {
    Ok(newest_messages(db, ids).await?.into_iter().map(|(m, (_, ticket))| (m, ticket)).collect())
}

/// The newest message (id, ticket) with each of these Message-IDs.
async fn newest_messages(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<std::collections::HashMap<String, (i64, i64)>> {
    let backend = db.get_database_backend();
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let list = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        // One equality lookup per Message-ID on PostgreSQL: a plan for
        // `IN (…)` made while the table was small stays a sequential scan
        // on a prepared statement (20 ms a read at 10,000 messages).
        let sql = if backend == sea_orm::DbBackend::Postgres {
            format!(
                "SELECT k.mid, m.id, m.ticket_id FROM unnest(ARRAY[{list}]::text[]) AS k(mid) CROSS JOIN LATERAL \
                 (SELECT id, ticket_id FROM messages WHERE message_id_header = k.mid ORDER BY id DESC LIMIT 1) m"
            )
        } else {
            crate::placeholders(
                backend,
                &format!(
                    "SELECT message_id_header, id, ticket_id FROM messages WHERE message_id_header IN ({list}) ORDER BY id"
                ),
            )
        };
        let values = chunk.iter().map(|m| m.as_str().into());
        for row in db.query_all_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await? {
            let message = (row.try_get_by_index::<i64>(1)?, row.try_get_by_index::<i64>(2)?);
            out.insert(row.try_get_by_index::<String>(0)?, message);
        }
    }
    Ok(out)
}

/// A ticket by number, for the system (intake threading); never for a person's request.
pub async fn find_ticket_for_system(db: &impl ConnectionTrait, id: i64) -> Result<Option<ticket::Model>> {
    // A ticket anonymised by retention or erasure takes no more mail: an
    // answer quoting its number opens a new ticket.
    let q = ticket::Entity::find_by_id(id).filter(sea_orm::sea_query::Expr::cust(
        "NOT EXISTS (SELECT 1 FROM ticket_tombstones x WHERE x.ticket_id = tickets.id)",
    ));
    let q = if db.get_database_backend() == sea_orm::DbBackend::Postgres { q.lock_exclusive() } else { q };
    Ok(q.one(db).await?)
}

pub async fn link_tickets(db: &impl ConnectionTrait, a: i64, b: i64) -> Result<()> {
    for (x, y) in [(a, b), (b, a)] {
        ticket_link::Entity::insert(ticket_link::ActiveModel { ticket_id: Set(x), linked_id: Set(y) })
            .on_conflict_do_nothing()
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

pub async fn links_of(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<i64>> {
    Ok(ticket_link::Entity::find()
        .filter(ticket_link::Column::TicketId.eq(ticket_id))
        .order_by_asc(ticket_link::Column::LinkedId)
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.linked_id)
        .collect())
}

pub async fn find_collection(db: &impl ConnectionTrait, tenant_id: i64, day: &str) -> Result<Option<i64>> {
    Ok(bounce_collection::Entity::find_by_id((tenant_id, day.to_owned())).one(db).await?.map(|c| c.ticket_id))
}

/// Registers the collection ticket of a tenant and day; false when another
/// transaction registered one first (then use that one).
pub async fn claim_collection(db: &impl ConnectionTrait, tenant_id: i64, day: &str, ticket_id: i64) -> Result<bool> {
    let n = bounce_collection::Entity::insert(bounce_collection::ActiveModel {
        tenant_id: Set(tenant_id),
        day: Set(day.to_owned()),
        ticket_id: Set(ticket_id),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    Ok(matches!(n, sea_orm::TryInsertResult::Inserted(1)))
}

pub async fn bounces_of_ticket(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<bounce::Model>> {
    Ok(bounce::Entity::find()
        .filter(bounce::Column::TicketId.eq(ticket_id))
        .order_by_asc(bounce::Column::Id)
        .all(db)
        .await?)
}

/// Bounces recorded for an address, newest first, in these tenants (all: `None`).
pub async fn bounces_of_address(
    db: &impl ConnectionTrait,
    address: &str,
    tenants: Option<&[i64]>,
    limit: u64,
) -> Result<Vec<bounce::Model>> {
    let mut q = bounce::Entity::find().filter(bounce::Column::Address.eq(address.trim().to_lowercase()));
    if let Some(t) = tenants {
        q = q.filter(bounce::Column::TenantId.is_in(t.iter().copied()));
    }
    Ok(q.order_by_desc(bounce::Column::Id).limit(limit).all(db).await?)
}

/// The polling state of a mailbox (created on first use).
pub async fn mailbox_state(db: &impl ConnectionTrait, name: &str) -> Result<crate::entity::mailbox::Model> {
    use crate::entity::mailbox;
    mailbox::Entity::insert(mailbox::ActiveModel {
        name: Set(name.to_owned()),
        uid_validity: Set(None),
        last_uid: Set(0),
        lease_owner: Set(None),
        lease_until: Set(None),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    mailbox::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("mailbox {name}")).into())
}

/// Takes or renews the polling lease of a mailbox until `until_ms`; false
/// when another live worker holds it. Exactly one worker polls a mailbox.
pub async fn take_mailbox_lease(
    db: &impl ConnectionTrait,
    name: &str,
    owner: &str,
    now_ms: i64,
    until_ms: i64,
) -> Result<bool> {
    use crate::entity::mailbox;
    mailbox_state(db, name).await?;
    let r = mailbox::Entity::update_many()
        .col_expr(mailbox::Column::LeaseOwner, Expr::value(owner))
        .col_expr(mailbox::Column::LeaseUntil, Expr::value(until_ms))
        .filter(mailbox::Column::Name.eq(name))
        .filter(
            sea_orm::Condition::any()
                .add(mailbox::Column::LeaseOwner.is_null())
                .add(mailbox::Column::LeaseOwner.eq(owner))
                .add(mailbox::Column::LeaseUntil.lt(now_ms)),
        )
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn release_mailbox_lease(db: &impl ConnectionTrait, name: &str, owner: &str) -> Result<()> {
    use crate::entity::mailbox;
    mailbox::Entity::update_many()
        .col_expr(mailbox::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(mailbox::Column::LeaseUntil, Expr::value(Option::<i64>::None))
        .filter(mailbox::Column::Name.eq(name))
        .filter(mailbox::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

/// Records progress, only while `owner` still holds the lease.
pub async fn set_mailbox_progress(
    db: &impl ConnectionTrait,
    name: &str,
    owner: &str,
    uid_validity: i64,
    last_uid: i64,
) -> Result<bool> {
    use crate::entity::mailbox;
    let r = mailbox::Entity::update_many()
        .col_expr(mailbox::Column::UidValidity, Expr::value(uid_validity))
        .col_expr(mailbox::Column::LastUid, Expr::value(last_uid))
        .filter(mailbox::Column::Name.eq(name))
        .filter(mailbox::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Mails stored and not yet processed, per source: how many, and when the oldest arrived.
pub async fn pending_by_source(db: &impl ConnectionTrait) -> Result<Vec<(String, i64, chrono::DateTime<chrono::Utc>)>> {
    Ok(raw_mail::Entity::find()
        .filter(raw_mail::Column::State.eq(PENDING))
        .select_only()
        .column(raw_mail::Column::Source)
        .column_as(raw_mail::Column::Id.count(), "n")
        .column_as(Expr::col(raw_mail::Column::ReceivedAt).min(), "oldest")
        .group_by(raw_mail::Column::Source)
        .into_tuple()
        .all(db)
        .await?)
}

/// The raw mails a ticket came from: its intake keys' and its bounces'.
pub async fn raw_mails_of_ticket(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<RawMail>> {
    let sql = format!(
        "SELECT raw_mail_id FROM intake_keys WHERE ticket_id = {ticket_id} \
         UNION SELECT raw_mail_id FROM bounces WHERE ticket_id = {ticket_id}"
    );
    let ids: Vec<i64> = db
        .query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
        .collect();
    find_raws(db, &ids).await
}
