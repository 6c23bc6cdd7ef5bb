//! Retention and erasure (issue 17): a resolved ticket past its queue's
//! time, or every ticket of a requester who asked to be forgotten, is
//! anonymised (the ticket row stays with its queue, status and times, so the
//! reports keep their figures; subject and requester go) or deleted. Either
//! way its messages, files no other ticket uses, raw mails no other ticket
//! came from, search documents, history and access log, fields, tags,
//! drafts, links, status links and outgoing mails go, and a counted
//! tombstone stays. A legal hold keeps a ticket from retention.

use crate::{Result, audit, now, placeholders};
use sea_orm::{ConnectionTrait, Statement};
use std::collections::BTreeMap;

/// A ticket whose time has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub ticket_id: i64,
    pub tenant_id: i64,
    pub queue_id: i64,
    pub resolved_at: chrono::DateTime<chrono::Utc>,
    pub mode: String,
}

/// Resolved tickets past their queue's retention at `now`, not held, not
/// removed yet: oldest resolution first, at most `limit`.
pub async fn due(db: &impl ConnectionTrait, now: chrono::DateTime<chrono::Utc>, limit: u64) -> Result<Vec<Due>> {
    let backend = db.get_database_backend();
    let queues = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, retention_months, COALESCE(retention_mode, 'anonymise') FROM queues \
             WHERE retention_months IS NOT NULL ORDER BY id",
        ))
        .await?;
    let mut out = Vec::new();
    for q in queues {
        let (Ok(queue), Ok(months), Ok(mode)) =
            (q.try_get_by_index::<i64>(0), q.try_get_by_index::<i32>(1), q.try_get_by_index::<String>(2))
        else {
            continue;
        };
        let Some(cutoff) = now.checked_sub_months(chrono::Months::new(months.max(1) as u32)) else { continue };
        let sql = placeholders(
            backend,
            "SELECT t.id, t.tenant_id, t.resolved_at FROM tickets t WHERE t.queue_id = $1 AND t.status = 'resolved' \
             AND t.resolved_at < $2 \
             AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.ticket_id = t.id) \
             AND NOT EXISTS (SELECT 1 FROM ticket_tombstones x WHERE x.ticket_id = t.id) \
             ORDER BY t.resolved_at, t.id LIMIT $3",
        );
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [queue.into(), cutoff.into(), (limit as i64).into()],
            ))
            .await?;
        for r in rows {
            out.push(Due {
                ticket_id: r.try_get_by_index(0)?,
                tenant_id: r.try_get_by_index(1)?,
                resolved_at: r.try_get_by_index(2)?,
                queue_id: queue,
                mode: mode.clone(),
            });
        }
    }
    out.sort_by_key(|d| (d.resolved_at, d.ticket_id));
    out.truncate(limit as usize);
    Ok(out)
}

/// The tickets that name `address` (lower case) across all tenants, each
/// with whether it is the address's own: its requester, its status link or
/// a bounce of a mail to it — or another's ticket where the address sent or
/// received a message (From, To, Cc, matched as a whole address). Never the
/// day's collections of bounces and automatic answers (other people's);
/// `forget_bounces` reaches into those.
pub async fn tickets_of_address(db: &impl ConnectionTrait, address: &str) -> Result<Vec<(i64, bool)>> {
    let backend = db.get_database_backend();
    let listed = format!("%, {}, %", address.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let not_collected = "NOT IN (SELECT ticket_id FROM bounce_collections)";
    let sql = placeholders(
        backend,
        &format!(
            "SELECT id, 1 FROM tickets WHERE lower(requester) = $1 AND id {not_collected} \
             UNION SELECT ticket_id, 1 FROM portal_links WHERE lower(requester) = $2 \
             UNION SELECT ticket_id, 1 FROM bounces WHERE lower(address) = $3 AND ticket_id {not_collected} \
             UNION SELECT ticket_id, 0 FROM messages WHERE ticket_id {not_collected} AND (lower(from_addr) = $4 \
               OR (', ' || lower(COALESCE(to_addrs, '')) || ', ') LIKE $5 ESCAPE '\\' \
               OR (', ' || lower(COALESCE(cc_addrs, '')) || ', ') LIKE $6 ESCAPE '\\') \
             ORDER BY 1"
        ),
    );
    let values = [address.into(), address.into(), address.into(), address.into(), listed.clone().into(), listed.into()];
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    let mut out: Vec<(i64, bool)> = Vec::new();
    for r in rows {
        let (Ok(t), Ok(own)) = (r.try_get_by_index::<i64>(0), r.try_get_by_index::<i32>(1)) else { continue };
        match out.last_mut() {
            Some(last) if last.0 == t => last.1 |= own == 1,
            _ => out.push((t, own == 1)),
        }
    }
    Ok(out)
}

/// Takes `address` out of another person's ticket it is named in (an
/// erasure): the messages it sent go with their files and intake keys; in
/// the others it is replaced by „[gelöscht]“ in the recipients and the
/// text; the raw mails of all of these go (they name it in their headers),
/// and so do search documents naming it. The ticket's history (a
/// tamper-evident chain) is left as it is. Returns rows changed per table.
pub async fn redact_address(db: &impl ConnectionTrait, ticket: i64, address: &str) -> Result<Counts> {
    let backend = db.get_database_backend();
    let t = ticket;
    let names = |list: &Option<String>| {
        list.as_deref().is_some_and(|l| l.split(',').any(|a| a.trim().eq_ignore_ascii_case(address)))
    };
    let (mut sent, mut named) = (Vec::new(), Vec::new());
    for m in crate::messages::of_ticket(db, t).await? {
        if m.from_addr.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(address)) {
            sent.push(m.id);
        } else if names(&m.to_addrs) || names(&m.cc_addrs) {
            named.push(m.id);
        }
    }
    let list = |ids: &[i64]| {
        if ids.is_empty() { "0".to_owned() } else { ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",") }
    };
    let (sent_ids, all_ids) = (list(&sent), list(&[sent.clone(), named.clone()].concat()));
    let doc = if backend == sea_orm::DbBackend::Postgres { "document::text" } else { "content" };
    let like = format!("%{}%", address.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let steps: [(&'static str, String, Vec<sea_orm::Value>); 8] = [
        (
            "raw_mails",
            format!(
                "DELETE FROM raw_mails WHERE id IN (SELECT k.raw_mail_id FROM intake_keys k JOIN messages m \
                 ON m.message_id_header = k.message_id AND m.ticket_id = k.ticket_id WHERE m.id IN ({all_ids}) \
                 AND NOT EXISTS (SELECT 1 FROM intake_keys o WHERE o.message_id = k.message_id AND o.ticket_id <> {t}))"
            ),
            vec![],
        ),
        (
            "intake_keys",
            format!(
                "DELETE FROM intake_keys WHERE ticket_id = {t} AND message_id IN \
                 (SELECT message_id_header FROM messages WHERE id IN ({sent_ids}))"
            ),
            vec![],
        ),
        ("attachments", format!("DELETE FROM attachments WHERE message_id IN ({sent_ids})"), vec![]),
        ("messages", format!("DELETE FROM messages WHERE id IN ({sent_ids})"), vec![]),
        (
            "search_docs",
            format!("DELETE FROM search_docs WHERE ticket_id = {t} AND lower({doc}) LIKE $1 ESCAPE '\\'"),
            vec![like.into()],
        ),
        (
            "messages.to",
            format!(
                "UPDATE messages SET to_addrs = REPLACE(lower(to_addrs), $1, '[gelöscht]') WHERE id IN ({all_ids})"
            ),
            vec![address.into()],
        ),
        (
            "messages.cc",
            format!(
                "UPDATE messages SET cc_addrs = REPLACE(lower(cc_addrs), $1, '[gelöscht]') WHERE id IN ({all_ids})"
            ),
            vec![address.into()],
        ),
        (
            "messages.text",
            format!(
                "UPDATE messages SET body_text = REPLACE(body_text, $1, '[gelöscht]'), \
                 body_html = REPLACE(body_html, $2, '[gelöscht]') WHERE ticket_id = {t}"
            ),
            vec![address.into(), address.into()],
        ),
    ];
    let mut counts = Counts::new();
    for (what, sql, values) in steps {
        let sql = placeholders(backend, &sql);
        let n = db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected();
        if n > 0 {
            counts.insert(what, n);
        }
    }
    Ok(counts)
}

/// Rows removed, per table.
pub type Counts = BTreeMap<&'static str, u64>;

/// Whether a ticket is under a legal hold.
pub async fn held(db: &impl ConnectionTrait, ticket_id: i64) -> Result<bool> {
    let sql = format!("SELECT COUNT(*) FROM legal_holds WHERE ticket_id = {ticket_id}");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    Ok(row.and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or(0) > 0)
}

/// Inside the removal's transaction: whether the ticket is still resolved,
/// not held and not removed (its row locked on PostgreSQL, so a reply or
/// reopening waits for the removal, or the removal sees it).
pub async fn still_due(db: &impl ConnectionTrait, ticket_id: i64) -> Result<bool> {
    let backend = db.get_database_backend();
    let lock = if backend == sea_orm::DbBackend::Postgres { " FOR UPDATE" } else { "" };
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!(
                "SELECT status FROM tickets WHERE id = {ticket_id} \
                 AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.ticket_id = {ticket_id}) \
                 AND NOT EXISTS (SELECT 1 FROM ticket_tombstones x WHERE x.ticket_id = {ticket_id}){lock}"
            ),
        ))
        .await?;
    Ok(row.and_then(|r| r.try_get_by_index::<String>(0).ok()).is_some_and(|s| s == "resolved"))
}

/// Sets (reason) or lifts (None) a legal hold; returns whether anything changed.
pub async fn set_hold(db: &impl ConnectionTrait, ticket_id: i64, by: i64, reason: Option<&str>) -> Result<bool> {
    let backend = db.get_database_backend();
    let (sql, values): (&str, Vec<sea_orm::Value>) = match reason {
        Some(r) => (
            "INSERT INTO legal_holds (ticket_id, set_by, set_at, reason) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ticket_id) DO NOTHING",
            vec![ticket_id.into(), by.into(), now().into(), r.into()],
        ),
        None => ("DELETE FROM legal_holds WHERE ticket_id = $1", vec![ticket_id.into()]),
    };
    let r = db.execute_raw(Statement::from_sql_and_values(backend, placeholders(backend, sql), values)).await?;
    Ok(r.rows_affected() > 0)
}

/// Anonymises (`mode` "anonymise") or deletes a ticket and everything
/// personal about it; leaves the tombstone. Run inside a write transaction,
/// after sealing (its chains' ends go into the tombstone).
pub async fn remove_ticket(db: &impl ConnectionTrait, ticket_id: i64, mode: &str, reason: &str) -> Result<Counts> {
    let backend = db.get_database_backend();
    let t = ticket_id;
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT tenant_id, requester FROM tickets WHERE id = {t}"),
        ))
        .await?;
    let tenant = row.as_ref().and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or(0);
    let requester = row.and_then(|r| r.try_get_by_index::<String>(1).ok()).unwrap_or_default();
    let (chains, checkpointed, round, [access, history]) = audit::remove_chains(db, t).await?;
    let mut counts = Counts::new();
    counts.insert("access_log", access);
    counts.insert("history", history);
    // The files of this ticket, noted before their attachments go (hex digests only).
    let files: Vec<String> = db
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT DISTINCT sha256 FROM attachments WHERE ticket_id = {t}"),
        ))
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|h| format!("'{h}'"))
        .collect();
    let files = if files.is_empty() { "''".to_owned() } else { files.join(", ") };
    // Raw mails and files go only when no other ticket still came from or uses them.
    let steps: [(&'static str, String); 23] = [
        (
            "raw_mails",
            format!(
                // A mail to two tenants opened two tickets from one raw mail
                // (the same Message-ID, the intake key's first column); a
                // bounce belongs to one ticket only.
                "DELETE FROM raw_mails WHERE id IN (SELECT k.raw_mail_id FROM intake_keys k WHERE k.ticket_id = {t} \
                   AND NOT EXISTS (SELECT 1 FROM intake_keys o WHERE o.message_id = k.message_id AND o.ticket_id <> {t}) \
                 UNION SELECT raw_mail_id FROM bounces WHERE ticket_id = {t})"
            ),
        ),
        ("intake_keys", format!("DELETE FROM intake_keys WHERE ticket_id = {t}")),
        ("bounces", format!("DELETE FROM bounces WHERE ticket_id = {t}")),
        ("bounce_collections", format!("DELETE FROM bounce_collections WHERE ticket_id = {t}")),
        ("attachments", format!("DELETE FROM attachments WHERE ticket_id = {t}")),
        (
            "blobs",
            format!(
                "DELETE FROM blobs WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = blobs.sha256) \
             AND sha256 IN ({files})"
            ),
        ),
        ("messages", format!("DELETE FROM messages WHERE ticket_id = {t}")),
        ("search_docs", format!("DELETE FROM search_docs WHERE ticket_id = {t}")),
        ("ticket_fields", format!("DELETE FROM ticket_fields WHERE ticket_id = {t}")),
        ("ticket_tags", format!("DELETE FROM ticket_tags WHERE ticket_id = {t}")),
        // The old system's subject tag; its import record stays, so no rerun brings the ticket back.
        ("ticket_refs", format!("DELETE FROM ticket_refs WHERE ticket_id = {t}")),
        ("ticket_watchers", format!("DELETE FROM ticket_watchers WHERE ticket_id = {t}")),
        ("ticket_links", format!("DELETE FROM ticket_links WHERE ticket_id = {t} OR linked_id = {t}")),
        ("ticket_merges", format!("DELETE FROM ticket_merges WHERE merged_id = {t} OR survivor_id = {t}")),
        ("ticket_presence", format!("DELETE FROM ticket_presence WHERE ticket_id = {t}")),
        ("drafts", format!("DELETE FROM drafts WHERE ticket_id = {t}")),
        ("portal_links", format!("DELETE FROM portal_links WHERE ticket_id = {t}")),
        ("outbox", format!("DELETE FROM outbox WHERE ticket_id = {t}")),
        ("process_steps", format!("DELETE FROM process_steps WHERE ticket_id = {t}")),
        ("ticket_processes", format!("DELETE FROM ticket_processes WHERE ticket_id = {t}")),
        ("sla_breaches", format!("DELETE FROM sla_breaches WHERE ticket_id = {t}")),
        ("legal_holds", format!("DELETE FROM legal_holds WHERE ticket_id = {t}")),
        (
            "tickets",
            if mode == "delete" {
                format!("DELETE FROM tickets WHERE id = {t}")
            } else {
                format!(
                    "UPDATE tickets SET subject = '[anonymisiert]', requester = '', requester_name = NULL, \
                     owner_id = NULL WHERE id = {t}"
                )
            },
        ),
    ];
    // The requester's count of automatic mails of the day (a loop guard) names the address too.
    let forget = placeholders(backend, "DELETE FROM auto_mail_counts WHERE address = $1");
    let n = db
        .execute_raw(Statement::from_sql_and_values(backend, forget, [requester.to_lowercase().into()]))
        .await?
        .rows_affected();
    if n > 0 {
        counts.insert("auto_mail_counts", n);
    }
    for (table, sql) in steps {
        let n = db.execute_unprepared(&sql).await?.rows_affected();
        if n > 0 {
            counts.insert(table, n);
        }
    }
    let counts_json = serde_json::to_string(&counts).unwrap_or_default();
    let sql = placeholders(
        backend,
        "INSERT INTO ticket_tombstones (ticket_id, tenant_id, mode, removed_at, reason, counts, sealed_in, chains, checkpointed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    );
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [
            t.into(),
            tenant.into(),
            mode.into(),
            now().into(),
            reason.into(),
            counts_json.into(),
            round.into(),
            chains.into(),
            checkpointed.into(),
        ],
    ))
    .await?;
    Ok(counts)
}

/// A removed ticket's tombstone.
#[derive(Debug, Clone)]
pub struct Tombstone {
    pub ticket_id: i64,
    pub tenant_id: i64,
    pub mode: String,
    pub reason: String,
    pub removed_at: chrono::DateTime<chrono::Utc>,
    pub counts: String,
}

/// Tombstones, newest first, at most `limit`.
pub async fn tombstones(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<Tombstone>> {
    let sql = format!(
        "SELECT ticket_id, tenant_id, mode, reason, removed_at, counts FROM ticket_tombstones \
         ORDER BY removed_at DESC, ticket_id DESC LIMIT {limit}"
    );
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(Tombstone {
            ticket_id: r.try_get_by_index(0)?,
            tenant_id: r.try_get_by_index(1)?,
            mode: r.try_get_by_index(2)?,
            reason: r.try_get_by_index(3)?,
            removed_at: r.try_get_by_index(4)?,
            counts: r.try_get_by_index(5)?,
        });
    }
    Ok(out)
}

/// Forgets the daily counts of automatic mails (a loop guard that names
/// addresses) of days before `day` (`YYYY-MM-DD`); returns how many.
pub async fn sweep_counters(db: &impl ConnectionTrait, day: &str) -> Result<u64> {
    let backend = db.get_database_backend();
    let sql = placeholders(backend, "DELETE FROM auto_mail_counts WHERE day < $1");
    Ok(db.execute_raw(Statement::from_sql_and_values(backend, sql, [day.into()])).await?.rows_affected())
}

/// Erasure of an address's bounces (in these tenants; all: None): the
/// bounce rows, and in the day's collection tickets the messages that name
/// the address with their files, raw mails and search documents (the rest
/// of a collection is other people's and stays). Returns rows removed.
pub async fn forget_bounces(db: &impl ConnectionTrait, address: &str, tenants: Option<&[i64]>) -> Result<u64> {
    let backend = db.get_database_backend();
    let within = match tenants {
        None => String::new(),
        Some([]) => " AND 1 = 0".to_owned(),
        Some(t) => format!(" AND tenant_id IN ({})", t.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
    };
    let like = format!("%{}%", address.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let collections = format!("SELECT ticket_id FROM bounce_collections WHERE 1 = 1{within}");
    let mentioning =
        format!("SELECT id FROM messages WHERE ticket_id IN ({collections}) AND lower(body_text) LIKE $1 ESCAPE '\\'");
    let doc = if backend == sea_orm::DbBackend::Postgres { "document::text" } else { "content" };
    let steps = [
        format!(
            "DELETE FROM raw_mails WHERE id IN (SELECT k.raw_mail_id FROM intake_keys k JOIN messages m \
             ON m.message_id_header = k.message_id AND m.ticket_id = k.ticket_id WHERE m.id IN ({mentioning}))"
        ),
        format!(
            "DELETE FROM intake_keys WHERE EXISTS (SELECT 1 FROM messages m WHERE m.message_id_header = intake_keys.message_id \
             AND m.ticket_id = intake_keys.ticket_id AND m.id IN ({mentioning}))"
        ),
        format!("DELETE FROM attachments WHERE message_id IN ({mentioning})"),
        format!("DELETE FROM messages WHERE id IN ({mentioning})"),
        format!("DELETE FROM search_docs WHERE ticket_id IN ({collections}) AND lower({doc}) LIKE $1 ESCAPE '\\'"),
        // The bounce mails that report only this address (one may name several).
        format!(
            "DELETE FROM raw_mails WHERE id IN (SELECT raw_mail_id FROM bounces WHERE lower(address) = lower($1){within}) \
             AND NOT EXISTS (SELECT 1 FROM bounces o WHERE o.raw_mail_id = raw_mails.id AND lower(o.address) <> lower($2))"
        ),
        format!("DELETE FROM bounces WHERE lower(address) = lower($1){within}"),
        "DELETE FROM pgp_keys WHERE address = lower($1)".to_owned(),
    ];
    let mut n = 0;
    for (i, sql) in steps.iter().enumerate() {
        // The first five match the address in texts, the rest as a whole.
        let value: sea_orm::Value = if i >= 5 { address.into() } else { like.clone().into() };
        let values = if sql.contains("$2") { vec![value, address.into()] } else { vec![value] };
        let sql = placeholders(backend, sql);
        n += db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected();
    }
    Ok(n)
}
