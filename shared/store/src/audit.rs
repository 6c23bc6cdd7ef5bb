//! The tamper-evident record (issue 17): each ticket's history and its
//! access log are hash chains, and signed checkpoints commit to the ends of
//! all chains.
//!
//! Writers stay a single insert (the intake writes history for hundreds of
//! tickets in one statement); the **sealer** (scheduled work, one at a time
//! by a lock in the database) gives each new entry its place in its chain,
//! the hash of the entry before it and its own hash, within seconds. A
//! **checkpoint** closes a round: the SHA-256 over every chain's end and
//! every tombstone, chained to the checkpoint before and signed with a key
//! that is not in the database. **Verify** recomputes everything from the
//! rows: an entry changed behind Logbuch's back no longer matches its hash;
//! a chain cut short, removed or recomputed no longer matches the latest
//! checkpoint.
//!
//! A ticket removed by retention or erasure leaves a tombstone with its
//! chains' ends (and their ends as of the checkpoint before), so the
//! checkpoints stay verifiable without the removed rows.

use crate::entity::{access_log, history};
use crate::{Result, begin_write};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// The `prev_hash` of a chain's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The two chains every ticket has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Chain {
    /// `access_log`: who read the ticket (sorts first, as its name does).
    Access,
    /// `history`: every change.
    History,
}

impl Chain {
    pub const ALL: [Chain; 2] = [Chain::Access, Chain::History];

    /// The table, which is also the chain's kind in `audit_heads`.
    pub fn table(self) -> &'static str {
        match self {
            Chain::Access => "access_log",
            Chain::History => "history",
        }
    }
}

/// The hashed content of a history entry: everything but the chain columns.
pub fn history_content(e: &history::Model) -> Vec<u8> {
    let at = e.at.timestamp_micros();
    serde_json::to_vec(&(
        "history",
        e.id,
        e.ticket_id,
        e.actor_id,
        at,
        &e.field,
        &e.old_value,
        &e.new_value,
        &e.actor_label,
    ))
    .unwrap_or_default()
}

/// The hashed content of an access-log entry.
pub fn access_content(e: &access_log::Model) -> Vec<u8> {
    serde_json::to_vec(&("access_log", e.id, e.ticket_id, e.user_id, e.at.timestamp_micros(), &e.what))
        .unwrap_or_default()
}

/// An entry's hash: SHA-256 over the previous hash and the entry's content.
pub fn link(prev: &str, content: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(content);
    hex::encode(h.finalize())
}

/// One entry as the chain sees it.
#[derive(Debug, Clone)]
pub struct Link {
    pub id: i64,
    pub ticket_id: i64,
    pub content: Vec<u8>,
    pub chain_pos: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
    pub sealed_in: Option<i64>,
}

/// A [`Link`] from a row of either table (the same chain columns).
macro_rules! link_of {
    ($e:expr, $content:expr) => {{
        let e = $e;
        Link {
            content: $content(&e),
            id: e.id,
            ticket_id: e.ticket_id,
            chain_pos: e.chain_pos,
            prev_hash: e.prev_hash,
            hash: e.hash,
            sealed_in: e.sealed_in,
        }
    }};
}

fn history_link(e: history::Model) -> Link {
    link_of!(e, history_content)
}

fn access_link(e: access_log::Model) -> Link {
    link_of!(e, access_content)
}

/// Entries of a chain kind: the unsealed ones (oldest first), or those of a range of tickets.
async fn links(db: &impl ConnectionTrait, chain: Chain, pick: Pick) -> Result<Vec<Link>> {
    use access_log::Column as A;
    use history::Column as H;
    Ok(match chain {
        Chain::History => picked::<history::Entity>(pick, [H::Id, H::TicketId, H::Hash])
            .all(db)
            .await?
            .into_iter()
            .map(history_link)
            .collect(),
        Chain::Access => picked::<access_log::Entity>(pick, [A::Id, A::TicketId, A::Hash])
            .all(db)
            .await?
            .into_iter()
            .map(access_link)
            .collect(),
    })
}

/// The query of [`links`] for a table, given its id, ticket and hash columns.
fn picked<E: EntityTrait>(pick: Pick, [id, ticket, hash]: [E::Column; 3]) -> sea_orm::Select<E> {
    let q = E::find();
    match pick {
        Pick::Unsealed(n) => q.filter(hash.is_null()).order_by_asc(id).limit(n),
        Pick::Tickets(from, to) => {
            q.filter(ticket.gte(from)).filter(ticket.lt(to)).order_by_asc(ticket).order_by_asc(id)
        }
        Pick::Ticket(t) => q.filter(ticket.eq(t)).order_by_asc(id),
    }
}

#[derive(Clone, Copy)]
enum Pick {
    Unsealed(u64),
    Tickets(i64, i64),
    Ticket(i64),
}

/// Serialises sealers, checkpoints and removals: on PostgreSQL a
/// transaction-scoped advisory lock; SQLite's write transaction already is one.
async fn lock(db: &impl ConnectionTrait) -> Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("SELECT pg_advisory_xact_lock(1701700017)").await?;
    }
    Ok(())
}

/// The round entries sealed now belong to: the one after the latest checkpoint.
async fn current_round(db: &impl ConnectionTrait) -> Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COALESCE(MAX(id), 0) + 1 FROM audit_checkpoints",
        ))
        .await?;
    Ok(row.and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or(1))
}

/// The ends of the chains of `kind` of these tickets: ticket → (length, head).
async fn heads(db: &impl ConnectionTrait, chain: Chain, tickets: &[i64]) -> Result<HashMap<i64, (i64, String)>> {
    if tickets.is_empty() {
        return Ok(HashMap::new());
    }
    let list = tickets.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT ticket_id, length, head FROM audit_heads WHERE kind = '{}' AND ticket_id IN ({list})",
        chain.table()
    );
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some((r.try_get_by_index::<i64>(0).ok()?, (r.try_get_by_index(1).ok()?, r.try_get_by_index(2).ok()?)))
        })
        .collect())
}

/// Seals up to `limit` entries of each chain kind; returns how many it sealed.
pub async fn seal(db: &DatabaseConnection, limit: u64) -> Result<u64> {
    let txn = begin_write(db).await?;
    lock(&txn).await?;
    let round = current_round(&txn).await?;
    let mut sealed = 0;
    for chain in Chain::ALL {
        let pending = links(&txn, chain, Pick::Unsealed(limit)).await?;
        if pending.is_empty() {
            continue;
        }
        let mut tickets: Vec<i64> = pending.iter().map(|l| l.ticket_id).collect();
        tickets.sort_unstable();
        tickets.dedup();
        let mut ends = heads(&txn, chain, &tickets).await?;
        // Written into the statement below: a recorded end that is no hash is refused.
        if let Some((t, _)) = ends.iter().find(|(_, (_, h))| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(sea_orm::DbErr::Custom(format!("audit_heads of ticket {t} holds no hash")).into());
        }
        let mut values = Vec::with_capacity(pending.len());
        for l in &pending {
            let (length, head) = ends.entry(l.ticket_id).or_insert_with(|| (0, GENESIS.to_owned()));
            let hash = link(head, &l.content);
            *length += 1;
            // Only integers and hex digits: safe to write into the statement.
            values.push(format!("({}, {}, '{}', '{}')", l.id, length, head, hash));
            *head = hash;
        }
        for chunk in values.chunks(500) {
            let sql = format!(
                "UPDATE {t} SET chain_pos = v.column2, prev_hash = v.column3, hash = v.column4, sealed_in = {round} \
                 FROM (VALUES {rows}) AS v WHERE {t}.id = v.column1",
                t = chain.table(),
                rows = chunk.join(", ")
            );
            txn.execute_unprepared(&sql).await?;
        }
        let rows: Vec<String> =
            ends.iter().map(|(t, (len, head))| format!("({t}, '{}', {len}, '{head}')", chain.table())).collect();
        for chunk in rows.chunks(500) {
            txn.execute_unprepared(&format!(
                "INSERT INTO audit_heads (ticket_id, kind, length, head) VALUES {} \
                 ON CONFLICT (ticket_id, kind) DO UPDATE SET length = excluded.length, head = excluded.head",
                chunk.join(", ")
            ))
            .await?;
        }
        sealed += pending.len() as u64;
    }
    txn.commit().await?;
    Ok(sealed)
}

/// How many entries wait for the sealer.
pub async fn unsealed(db: &impl ConnectionTrait) -> Result<u64> {
    let mut n = 0;
    for chain in Chain::ALL {
        let sql = format!("SELECT COUNT(*) FROM {} WHERE hash IS NULL", chain.table());
        let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
        n += row.and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or(0) as u64;
    }
    Ok(n)
}

/// A chain's line in a checkpoint's digest.
fn head_line(ticket: i64, chain: Chain, length: i64, head: &str) -> String {
    format!("{ticket} {} {length} {head}\n", chain.table())
}

/// A removed ticket's line: the hash of its chains' lines at removal.
fn tombstone_line(ticket: i64, chains: &str) -> String {
    format!("{ticket} removed {}\n", hex::encode(Sha256::digest(chains.as_bytes())))
}

/// The digest of a checkpoint: the one before, every chain's end, every tombstone.
#[derive(Default)]
struct Digester {
    sha: Sha256,
    chains: u64,
    entries: u64,
}

impl Digester {
    fn new(prev: &str) -> Self {
        let mut d = Self::default();
        d.sha.update(prev.as_bytes());
        d.sha.update(b"\n");
        d
    }
    fn line(&mut self, line: &str) {
        self.sha.update(line.as_bytes());
    }
    fn finish(self) -> String {
        hex::encode(self.sha.finalize())
    }
}

/// A signed checkpoint.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub chains: i64,
    pub entries: i64,
    pub prev_digest: String,
    pub digest: String,
    pub signature: String,
    pub public_key: String,
}

fn checkpoint_of(r: &sea_orm::QueryResult) -> Option<Checkpoint> {
    Some(Checkpoint {
        id: r.try_get("", "id").ok()?,
        at: r.try_get("", "at").ok()?,
        chains: r.try_get("", "chains").ok()?,
        entries: r.try_get("", "entries").ok()?,
        prev_digest: r.try_get("", "prev_digest").ok()?,
        digest: r.try_get("", "digest").ok()?,
        signature: r.try_get("", "signature").ok()?,
        public_key: r.try_get("", "public_key").ok()?,
    })
}

/// Every checkpoint, oldest first.
pub async fn checkpoints(db: &impl ConnectionTrait) -> Result<Vec<Checkpoint>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, at, chains, entries, prev_digest, digest, signature, public_key FROM audit_checkpoints ORDER BY id",
        ))
        .await?;
    Ok(rows.iter().filter_map(checkpoint_of).collect())
}

/// Tombstones as a checkpoint of round `round` sees them: the lines of
/// those removed by then (in ticket order), and, for those removed after it,
/// the ends their chains had at it (ticket, lines), which belong among the
/// chains' ends.
async fn tombstone_lines(db: &impl ConnectionTrait, round: i64) -> Result<(String, Vec<(i64, String)>)> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT ticket_id, sealed_in, chains, checkpointed FROM ticket_tombstones ORDER BY ticket_id",
        ))
        .await?;
    let (mut removed, mut recent) = (String::new(), Vec::new());
    for r in rows {
        let (Ok(ticket), Ok(sealed_in), Ok(chains), Ok(checkpointed)) = (
            r.try_get_by_index::<i64>(0),
            r.try_get_by_index::<i64>(1),
            r.try_get_by_index::<String>(2),
            r.try_get_by_index::<String>(3),
        ) else {
            continue;
        };
        if sealed_in <= round {
            removed.push_str(&tombstone_line(ticket, &chains));
        } else if !checkpointed.is_empty() {
            recent.push((ticket, checkpointed));
        }
    }
    Ok((removed, recent))
}

/// Closes the current round: seals what is pending, then writes a checkpoint
/// over every chain's end and every tombstone, signed by `sign` (which
/// returns the signature and the public key, both hex).
pub async fn checkpoint(db: &DatabaseConnection, sign: impl Fn(&[u8]) -> (String, String)) -> Result<Checkpoint> {
    while seal(db, 5000).await? > 0 {}
    let txn = begin_write(db).await?;
    lock(&txn).await?;
    let round = current_round(&txn).await?;
    let prev = checkpoints(&txn).await?.pop().map_or_else(|| GENESIS.to_owned(), |c| c.digest);
    let mut d = Digester::new(&prev);
    // The ends, a page at a time (a million tickets have two million chains).
    let mut after = (i64::MIN, String::new());
    let backend = txn.get_database_backend();
    loop {
        let sql = crate::placeholders(
            backend,
            "SELECT ticket_id, kind, length, head FROM audit_heads WHERE ticket_id > $1 OR (ticket_id = $2 AND kind > $3) \
             ORDER BY ticket_id, kind LIMIT 10000",
        );
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [after.0.into(), after.0.into(), after.1.clone().into()],
            ))
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let (Ok(t), Ok(kind), Ok(len), Ok(head)) = (
                r.try_get_by_index::<i64>(0),
                r.try_get_by_index::<String>(1),
                r.try_get_by_index::<i64>(2),
                r.try_get_by_index::<String>(3),
            ) else {
                continue;
            };
            d.line(&format!("{t} {kind} {len} {head}\n"));
            d.chains += 1;
            d.entries += len as u64;
            after = (t, kind);
        }
    }
    let (tombstones, _) = tombstone_lines(&txn, round).await?;
    d.line("--\n");
    d.line(&tombstones);
    let (chains, entries) = (d.chains as i64, d.entries as i64);
    let digest = d.finish();
    let (signature, public_key) = sign(digest.as_bytes());
    let at = crate::now();
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        crate::placeholders(
            backend,
            "INSERT INTO audit_checkpoints (id, at, chains, entries, prev_digest, digest, signature, public_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        ),
        [
            round.into(),
            at.into(),
            chains.into(),
            entries.into(),
            prev.clone().into(),
            digest.clone().into(),
            signature.clone().into(),
            public_key.clone().into(),
        ],
    ))
    .await?;
    txn.commit().await?;
    Ok(Checkpoint { id: round, at, chains, entries, prev_digest: prev, digest, signature, public_key })
}

/// A place where a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub table: &'static str,
    pub id: i64,
    pub ticket_id: i64,
    pub what: &'static str,
}

/// What [`verify`] found.
#[derive(Debug, Default)]
pub struct Verified {
    pub chains: u64,
    pub entries: u64,
    /// Entries not sealed yet (written since the sealer last ran).
    pub unsealed: u64,
    /// The first break of each broken chain, in ticket order.
    pub breaks: Vec<Break>,
    /// Tickets whose chain ends elsewhere than `audit_heads` says.
    pub heads_differ: Vec<i64>,
    /// The latest checkpoint and the digest the rows give for it.
    pub checkpoint: Option<(Checkpoint, String)>,
    /// Checkpoints whose `prev_digest` is not the digest of the one before.
    pub unlinked_checkpoints: Vec<i64>,
    /// Checkpoint numbers missing before the latest (deleted behind Logbuch's back).
    pub missing_checkpoints: Vec<i64>,
    /// Entries sealed in a round whose checkpoint is gone (the latest was
    /// deleted: the entries after the one before it would go unchecked).
    pub sealed_beyond: u64,
}

/// Checks one chain; returns its end (length, head), its end as of round
/// `round` and its first break.
fn check_chain(chain: Chain, links: &[Link], round: i64) -> (i64, String, (i64, String), Option<Break>, u64) {
    let (mut len, mut head) = (0_i64, GENESIS.to_owned());
    let mut at_round = (0_i64, GENESIS.to_owned());
    let mut unsealed = 0;
    for l in links {
        let broken = |what| Some(Break { table: chain.table(), id: l.id, ticket_id: l.ticket_id, what });
        let Some(hash) = &l.hash else {
            unsealed += 1;
            continue;
        };
        if unsealed > 0 {
            return (len, head, at_round, broken("versiegelt nach einem unversiegelten Eintrag"), unsealed);
        }
        if l.chain_pos != Some(len + 1) {
            return (len, head, at_round, broken("Stelle in der Kette fehlt oder ist doppelt"), unsealed);
        }
        if l.prev_hash.as_deref() != Some(head.as_str()) {
            return (
                len,
                head,
                at_round,
                broken("Vorgänger-Hash passt nicht (Eintrag davor fehlt oder geändert)"),
                unsealed,
            );
        }
        if link(&head, &l.content) != *hash {
            return (len, head, at_round, broken("Inhalt geändert"), unsealed);
        }
        len += 1;
        head = hash.clone();
        if l.sealed_in.is_some_and(|r| r <= round) {
            at_round = (len, head.clone());
        }
    }
    (len, head, at_round, None, unsealed)
}

/// The lines of a ticket's chains (for a tombstone): its ends now, and as of the latest checkpoint.
pub async fn chain_lines(db: &impl ConnectionTrait, ticket: i64) -> Result<(String, String)> {
    let round = current_round(db).await? - 1;
    let (mut now, mut then) = (String::new(), String::new());
    for chain in Chain::ALL {
        let all = links(db, chain, Pick::Ticket(ticket)).await?;
        let mut sorted = all;
        sorted.sort_by_key(|l| (l.chain_pos.unwrap_or(i64::MAX), l.id));
        let (len, head, (rlen, rhead), _, _) = check_chain(chain, &sorted, round);
        if len > 0 {
            now.push_str(&head_line(ticket, chain, len, &head));
        }
        if rlen > 0 {
            then.push_str(&head_line(ticket, chain, rlen, &rhead));
        }
    }
    Ok((now, then))
}

/// Removes a ticket's chains and leaves the tombstone's chain columns;
/// call inside the removal's transaction after sealing. Returns the rows removed per chain.
pub async fn remove_chains(db: &impl ConnectionTrait, ticket: i64) -> Result<(String, String, i64, [u64; 2])> {
    lock(db).await?;
    let (now, then) = chain_lines(db, ticket).await?;
    let round = current_round(db).await?;
    let mut removed = [0; 2];
    for (i, chain) in Chain::ALL.into_iter().enumerate() {
        removed[i] = db
            .execute_unprepared(&format!("DELETE FROM {} WHERE ticket_id = {ticket}", chain.table()))
            .await?
            .rows_affected();
    }
    db.execute_unprepared(&format!("DELETE FROM audit_heads WHERE ticket_id = {ticket}")).await?;
    Ok((now, then, round, removed))
}

/// Recomputes every chain and the latest checkpoint's digest from the rows.
/// `progress` is told (tickets done, tickets in all) as it goes.
pub async fn verify(db: &impl ConnectionTrait, mut progress: impl FnMut(u64, u64)) -> Result<Verified> {
    let backend = db.get_database_backend();
    let all = checkpoints(db).await?;
    let mut out = Verified::default();
    let mut prev = GENESIS.to_owned();
    for (i, c) in all.iter().enumerate() {
        if c.prev_digest != prev {
            out.unlinked_checkpoints.push(c.id);
        }
        prev = c.digest.clone();
        let expected = i as i64 + 1 + out.missing_checkpoints.len() as i64;
        out.missing_checkpoints.extend(expected..c.id);
    }
    let latest = all.last().cloned();
    let round = latest.as_ref().map_or(0, |c| c.id);
    let mut d = Digester::new(latest.as_ref().map_or(GENESIS, |c| c.prev_digest.as_str()));
    let (tombstones, recent) = tombstone_lines(db, round).await?;
    let mut recent = recent.into_iter().peekable();
    let range = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT MIN(m), MAX(m) FROM (SELECT MIN(ticket_id) AS m FROM history UNION ALL SELECT MAX(ticket_id) FROM history \
             UNION ALL SELECT MIN(ticket_id) FROM access_log UNION ALL SELECT MAX(ticket_id) FROM access_log) AS x",
        ))
        .await?;
    let (lo, hi) = range
        .and_then(|r| Some((r.try_get_by_index::<Option<i64>>(0).ok()??, r.try_get_by_index::<Option<i64>>(1).ok()??)))
        .unwrap_or((0, -1));
    const PAGE: i64 = 2000;
    let total = (hi - lo + 1).max(0) as u64;
    let mut from = lo;
    while from <= hi {
        let to = from.saturating_add(PAGE);
        let mut by_ticket: BTreeMap<(i64, Chain), Vec<Link>> = BTreeMap::new();
        for chain in Chain::ALL {
            for l in links(db, chain, Pick::Tickets(from, to)).await? {
                by_ticket.entry((l.ticket_id, chain)).or_default().push(l);
            }
        }
        let tickets: Vec<i64> = by_ticket.keys().map(|k| k.0).collect();
        let mut recorded = HashMap::new();
        for chain in Chain::ALL {
            for (t, end) in heads(db, chain, &tickets).await? {
                recorded.insert((t, chain), end);
            }
        }
        for ((ticket, chain), mut links) in by_ticket {
            links.sort_by_key(|l| (l.chain_pos.unwrap_or(i64::MAX), l.id));
            let (len, head, (rlen, rhead), broken, unsealed) = check_chain(chain, &links, round);
            out.chains += 1;
            out.entries += links.len() as u64;
            out.sealed_beyond += links.iter().filter(|l| l.sealed_in.is_some_and(|r| r > round + 1)).count() as u64;
            out.unsealed += unsealed;
            if let Some(b) = broken {
                out.breaks.push(b);
            } else if recorded.get(&(ticket, chain)).is_some_and(|(l, h)| (*l, h.as_str()) != (len, head.as_str()))
                || (len > 0 && !recorded.contains_key(&(ticket, chain)))
            {
                out.heads_differ.push(ticket);
            }
            while let Some((_, lines)) = recent.next_if(|(t, _)| *t <= ticket) {
                d.line(&lines);
            }
            if rlen > 0 {
                d.line(&head_line(ticket, chain, rlen, &rhead));
            }
        }
        progress((to - lo).min(total as i64) as u64, total);
        from = to;
    }
    if let Some(c) = latest {
        for (_, lines) in recent {
            d.line(&lines);
        }
        d.line("--\n");
        d.line(&tombstones);
        out.checkpoint = Some((c, d.finish()));
    }
    out.heads_differ.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(id: i64, pos: i64, prev: &str, content: &[u8], round: i64) -> Link {
        Link {
            id,
            ticket_id: 7,
            content: content.to_vec(),
            chain_pos: Some(pos),
            prev_hash: Some(prev.to_owned()),
            hash: Some(link(prev, content)),
            sealed_in: Some(round),
        }
    }

    #[test]
    fn a_chain_holds_until_an_entry_changes() {
        let a = l(1, 1, GENESIS, b"a", 1);
        let b = l(2, 2, a.hash.as_deref().unwrap_or_default(), b"b", 2);
        let c = l(3, 3, b.hash.as_deref().unwrap_or_default(), b"c", 2);
        let (len, head, at1, broken, _) = check_chain(Chain::History, &[a.clone(), b.clone(), c.clone()], 1);
        assert_eq!((len, broken), (3, None));
        assert_eq!(Some(head), c.hash.clone());
        assert_eq!(at1, (1, a.hash.clone().unwrap_or_default()), "the end as of round 1");

        let mut changed = b.clone();
        changed.content = b"B".to_vec();
        let (_, _, _, broken, _) = check_chain(Chain::History, &[a.clone(), changed, c.clone()], 1);
        assert_eq!(broken.map(|b| (b.id, b.what)), Some((2, "Inhalt geändert")));

        let (_, _, _, broken, _) = check_chain(Chain::History, &[a.clone(), c.clone()], 1);
        assert_eq!(broken.map(|b| b.id), Some(3), "a missing entry breaks the next one");
    }

    #[test]
    fn unsealed_entries_may_only_trail() {
        let a = l(1, 1, GENESIS, b"a", 1);
        let mut pending = l(2, 2, GENESIS, b"b", 1);
        (pending.hash, pending.prev_hash, pending.chain_pos) = (None, None, None);
        let (len, _, _, broken, unsealed) = check_chain(Chain::Access, &[a.clone(), pending.clone()], 1);
        assert_eq!((len, broken, unsealed), (1, None, 1));
        let b = l(3, 2, a.hash.as_deref().unwrap_or_default(), b"c", 1);
        let (_, _, _, broken, _) = check_chain(Chain::Access, &[a, pending, b], 1);
        assert_eq!(broken.map(|b| b.id), Some(3));
    }
}
