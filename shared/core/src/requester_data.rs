//! A requester's data (issue 17, DSGVO Art. 15 and 17): a federal officer,
//! or a tenant admin within their tenant, finds everything about one mail
//! address across tenants — tickets, messages, files, raw mails, history,
//! access log, bounces — downloads it as one ZIP (JSON and the original
//! files), or erases it. The export is on each ticket's history; an erasure
//! leaves a tombstone per ticket naming who erased it.
//!
//! Reach is the caller's `memberdata.manage` scope, enforced here through
//! the same scoped reads as every ticket route: an address with nothing in
//! reach answers 404, whether or not it exists elsewhere.

use crate::{AppError, AppResult, Logbuch, Principal};
use logbuch_domain::{AccessScope, Action};
use logbuch_store::{history, intake, messages, retention, tickets, tickets::Ticket, users};
use serde::Serialize;
use std::collections::BTreeMap;

/// A requester's ticket as the overview lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequesterTicket {
    pub number: i64,
    /// The address's own ticket (requester, status link, bounce); else
    /// another's ticket in which it sent or received a message.
    pub own: bool,
    pub tenant: String,
    pub queue: String,
    pub subject: String,
    pub status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What is stored about an address within the caller's reach.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequesterOverview {
    pub address: String,
    pub tickets: Vec<RequesterTicket>,
    /// Bounces recorded for the address (failed deliveries to it).
    pub bounces: usize,
    /// Reads of the address's own tickets by staff, newest first.
    pub accesses: Vec<AccessEntry>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessEntry {
    pub ticket: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The staff member's display name.
    pub who: String,
    /// view, history, download, …
    pub what: String,
}

/// What an erasure did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    /// Tickets anonymised.
    pub tickets: u64,
    /// Tickets kept because of a legal hold (their numbers).
    pub held: Vec<i64>,
    /// Other people's tickets the address was taken out of (its messages
    /// gone, its name replaced); their history still names it.
    pub redacted: Vec<i64>,
}

/// The largest export built (it is assembled in memory).
const MAX_EXPORT_BYTES: usize = 200 * 1000 * 1000;

/// The export: `auskunft.json`'s content and the original files.
#[derive(Debug, Serialize)]
struct Export {
    address: String,
    exported_at: chrono::DateTime<chrono::Utc>,
    exported_by: String,
    tickets: Vec<serde_json::Value>,
    bounces: Vec<serde_json::Value>,
}

/// A whole mail address in lower case, or a 422 (never a fragment such as
/// `@` or a domain, which would match everybody).
fn address_of(raw: &str) -> AppResult<String> {
    crate::tickets::validate_address("address", raw).map_err(|_| {
        AppError::validation("address", "Bitte eine vollständige Mailadresse angeben, z. B. mitglied@example.org.")
    })
}

fn not_found() -> AppError {
    AppError::NotFound("Zu dieser Adresse ist in Ihrer Reichweite nichts gespeichert.".into())
}

/// A file name safe inside the ZIP.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' })
        .take(100)
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim().to_owned();
    if cleaned.is_empty() { "datei".into() } else { cleaned }
}

impl Logbuch {
    /// The tickets naming `address` within the caller's reach (each with
    /// whether it is the address's own), and that reach.
    async fn requester_tickets(
        &self,
        who: &Principal,
        raw: &str,
    ) -> AppResult<(String, AccessScope, Vec<(Ticket, bool)>)> {
        let address = address_of(raw)?;
        let dir = self.directory().await?;
        if dir.queue_for_address(&address).is_some() {
            return Err(AppError::validation(
                "address",
                "Das ist eine Adresse eines Bereichs von Logbuch, keine Person.",
            ));
        }
        let scope = self.authz.scope(who, Action::ManageMemberData, &dir.tenant_refs());
        if matches!(&scope, AccessScope::Only(g) if g.is_empty()) {
            return Err(not_found());
        }
        let db = &self.store.db;
        let mut found = Vec::new();
        for (id, own) in retention::tickets_of_address(db, &address).await? {
            if let Some(t) = tickets::find_scoped(db, &scope, id, false).await? {
                found.push((t, own));
            }
        }
        Ok((address, scope, found))
    }

    fn scope_tenants(scope: &AccessScope) -> Option<Vec<i64>> {
        match scope {
            AccessScope::All => None,
            AccessScope::Only(g) => Some(g.iter().map(|g| g.tenant.0).collect()),
        }
    }

    /// What is stored about `address` within the caller's reach.
    #[tracing::instrument(skip_all, fields(user = %who.user))]
    pub async fn requester_overview(&self, who: &Principal, address: &str) -> AppResult<RequesterOverview> {
        let (address, scope, found) = self.requester_tickets(who, address).await?;
        let db = &self.store.db;
        let tenants = Self::scope_tenants(&scope);
        let bounces = intake::bounces_of_address(db, &address, tenants.as_deref(), 10_000).await?.len();
        if found.is_empty() && bounces == 0 {
            return Err(not_found());
        }
        let dir = self.directory().await?;
        let mut accesses = Vec::new();
        for (t, _) in found.iter().filter(|(_, own)| *own) {
            for a in history::access_of_ticket(db, t.id).await? {
                accesses.push((t.id, a));
            }
        }
        let ids: Vec<i64> = accesses.iter().map(|(_, a)| a.user_id).collect();
        let names: BTreeMap<i64, String> =
            users::find_users(db, &ids).await?.into_iter().map(|u| (u.id, u.display_name)).collect();
        let mut accesses: Vec<AccessEntry> = accesses
            .into_iter()
            .map(|(ticket, a)| AccessEntry {
                ticket,
                at: a.at,
                who: names.get(&a.user_id).cloned().unwrap_or_else(|| format!("Person {}", a.user_id)),
                what: a.what,
            })
            .collect();
        accesses.sort_by_key(|a| std::cmp::Reverse(a.at));
        let tickets = found
            .iter()
            .map(|(t, own)| RequesterTicket {
                own: *own,
                number: t.id,
                tenant: dir.tenant_ref(t.tenant_id).map(|r| r.code.as_str().to_owned()).unwrap_or_default(),
                queue: dir.queue(t.queue_id).map(|q| q.name.clone()).unwrap_or_default(),
                subject: t.subject.clone(),
                status: t.status.clone(),
                created_at: t.created_at,
            })
            .collect();
        Ok(RequesterOverview { address, tickets, bounces, accesses })
    }

    /// Who read a ticket when (its access log), newest first; for those who
    /// manage member data of its tenant. Reading it is logged too.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn ticket_access_log(&self, who: &Principal, id: i64) -> AppResult<Vec<AccessEntry>> {
        let dir = self.directory().await?;
        let db = &self.store.db;
        self.load_ticket(db, who, id, Action::ManageMemberData, &dir).await?;
        let log = history::access_of_ticket(db, id).await?;
        let ids: Vec<i64> = log.iter().map(|a| a.user_id).collect();
        let names: BTreeMap<i64, String> =
            users::find_users(db, &ids).await?.into_iter().map(|u| (u.id, u.display_name)).collect();
        history::log_access(db, id, who.user.0, "access_log").await?;
        Ok(log
            .into_iter()
            .rev()
            .map(|a| AccessEntry {
                ticket: id,
                at: a.at,
                who: names.get(&a.user_id).cloned().unwrap_or_else(|| format!("Person {}", a.user_id)),
                what: a.what,
            })
            .collect())
    }

    /// Everything about `address` within reach as one ZIP: `auskunft.json`,
    /// each ticket's raw mails (`.eml`) and files. On each ticket's history.
    #[tracing::instrument(skip_all, fields(user = %who.user))]
    pub async fn export_requester(&self, who: &Principal, address: &str) -> AppResult<Vec<u8>> {
        let (address, scope, found) = self.requester_tickets(who, address).await?;
        let db = &self.store.db;
        let tenants = Self::scope_tenants(&scope);
        let bounces = intake::bounces_of_address(db, &address, tenants.as_deref(), 100_000).await?;
        if found.is_empty() && bounces.is_empty() {
            return Err(not_found());
        }
        let dir = self.directory().await?;
        let me = users::find_user(db, who.user.0).await?.map(|u| u.email).unwrap_or_default();
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut out = Vec::new();
        let mut size = 0usize;
        for (t, own) in &found {
            let base = format!("tickets/{}", t.id);
            if !own {
                // Another's ticket: only the messages the address sent or received (Art. 15(4)).
                let (msgs, files_of) = self.messages_naming(t.id, &address).await?;
                for (path, bytes) in files_of {
                    size += bytes.len();
                    files.push((format!("{base}/{path}"), bytes));
                }
                out.push(serde_json::json!({
                    "number": t.id, "role": "erwähnt",
                    "tenant": dir.tenant_ref(t.tenant_id).map(|r| r.code.as_str().to_owned()).unwrap_or_default(),
                    "messages": msgs,
                }));
                continue;
            }
            let mut attachments = Vec::new();
            for a in messages::attachments_of_ticket(db, t.id).await? {
                let path = format!("{base}/dateien/{}-{}", a.id, safe_name(&a.filename));
                if let Some((_, bytes)) = messages::attachment_with_content(db, t.id, a.id).await? {
                    size += bytes.len();
                    files.push((path.clone(), bytes));
                }
                attachments.push(serde_json::json!({
                    "message": a.message_id, "filename": a.filename, "content_type": a.content_type,
                    "size": a.size, "sha256": a.sha256, "path": path,
                }));
            }
            let mut raws = Vec::new();
            for raw in intake::raw_mails_of_ticket(db, t.id).await? {
                let path = format!("{base}/mails/{}.eml", raw.id);
                raws.push(serde_json::json!({"received_at": raw.received_at, "path": path}));
                size += raw.content.len();
                files.push((path, raw.content));
            }
            if size > MAX_EXPORT_BYTES {
                return Err(AppError::TooLarge(format!(
                    "Die Auskunft wäre größer als {} MB; bitte beim Betrieb anfragen (logbuch admin).",
                    MAX_EXPORT_BYTES / 1_000_000
                )));
            }
            let msgs: Vec<_> = messages::of_ticket(db, t.id)
                .await?
                .into_iter()
                .map(|m| {
                    serde_json::json!({
                        "id": m.id, "kind": m.kind, "from": m.from_addr, "to": m.to_addrs, "cc": m.cc_addrs,
                        "subject": m.subject, "created_at": m.created_at, "text": m.body_text,
                    })
                })
                .collect();
            let hist: Vec<_> = history::of_ticket(db, t.id)
                .await?
                .into_iter()
                .map(|h| serde_json::json!({"at": h.at, "actor": h.actor_id, "by": h.actor_label, "field": h.field, "old": h.old_value, "new": h.new_value}))
                .collect();
            let reads: Vec<_> = history::access_of_ticket(db, t.id)
                .await?
                .into_iter()
                .map(|a| serde_json::json!({"at": a.at, "person": a.user_id, "what": a.what}))
                .collect();
            let fields: Vec<_> = logbuch_store::portal::fields_of(db, t.id)
                .await?
                .into_iter()
                .map(|f| serde_json::json!({"label": f.label, "value": f.value}))
                .collect();
            out.push(serde_json::json!({
                "number": t.id, "role": "anfragend",
                "tenant": dir.tenant_ref(t.tenant_id).map(|r| r.code.as_str().to_owned()).unwrap_or_default(),
                "queue": dir.queue(t.queue_id).map(|q| q.name.clone()).unwrap_or_default(),
                "subject": t.subject, "status": t.status, "requester": t.requester, "requester_name": t.requester_name,
                "created_at": t.created_at, "resolved_at": t.resolved_at,
                "fields": fields, "messages": msgs, "attachments": attachments, "raw_mails": raws,
                "history": hist, "access_log": reads,
            }));
        }
        let bounces = bounces
            .into_iter()
            .map(|b| serde_json::json!({"ticket": b.ticket_id, "status": b.status, "reason": b.reason, "at": b.created_at}))
            .collect();
        let export = Export {
            address: address.clone(),
            exported_at: logbuch_store::now(),
            exported_by: me,
            tickets: out,
            bounces,
        };
        let json = serde_json::to_vec_pretty(&export).map_err(|e| AppError::Internal(e.into()))?;
        let readme = format!(
            "Datenauskunft nach Art. 15 DSGVO zu {address}\n\n\
             auskunft.json: alle Tickets, Nachrichten, Verlauf, Zugriffe (wer hat wann gelesen) und Rückläufer.\n\
             tickets/<Nummer>/mails/: die Mails im Original (.eml), tickets/<Nummer>/dateien/: die Anhänge.\n"
        );
        let zip = write_zip(&[("LIESMICH.txt".into(), readme.into_bytes()), ("auskunft.json".into(), json)], &files)
            .map_err(AppError::Internal)?;
        let txn = logbuch_store::begin_write(db).await?;
        for (t, _) in &found {
            history::record(&txn, t.id, Some(who.user.0), "export", None, Some("Datenauskunft (Art. 15 DSGVO)".into()))
                .await?;
        }
        txn.commit().await?;
        Ok(zip)
    }

    /// Erases `address` within reach (Art. 17): every ticket mentioning it is
    /// anonymised (figures stay, nothing personal), its bounces and their
    /// mails go. A ticket under a legal hold stays (Art. 17(3)(e)). Returns
    /// the tickets erased and those kept for their hold.
    #[tracing::instrument(skip_all, fields(user = %who.user))]
    pub async fn erase_requester(&self, who: &Principal, address: &str) -> AppResult<Erasure> {
        let (address, scope, found) = self.requester_tickets(who, address).await?;
        let db = &self.store.db;
        let tenants = Self::scope_tenants(&scope);
        let bounces = intake::bounces_of_address(db, &address, tenants.as_deref(), 1).await?;
        if found.is_empty() && bounces.is_empty() {
            return Err(not_found());
        }
        let reason = format!("erasure by {}", who.user.0);
        let mut out = Erasure::default();
        for (t, own) in &found {
            let txn = logbuch_store::begin_write(db).await?;
            if retention::held(&txn, t.id).await? {
                out.held.push(t.id);
                continue;
            }
            if *own {
                retention::remove_ticket(&txn, t.id, "anonymise", &reason).await?;
                out.tickets += 1;
            } else {
                retention::redact_address(&txn, t.id, &address).await?;
                out.redacted.push(t.id);
            }
            txn.commit().await?;
        }
        let txn = logbuch_store::begin_write(db).await?;
        retention::forget_bounces(&txn, &address, tenants.as_deref()).await?;
        txn.commit().await?;
        Ok(out)
    }
}

impl Logbuch {
    /// The messages of a ticket `address` sent or received, and their files (`dateien/…`).
    async fn messages_naming(
        &self,
        ticket: i64,
        address: &str,
    ) -> AppResult<(Vec<serde_json::Value>, Vec<(String, Vec<u8>)>)> {
        let db = &self.store.db;
        let names = |list: &Option<String>| {
            list.as_deref().is_some_and(|l| l.split(',').any(|a| a.trim().eq_ignore_ascii_case(address)))
        };
        let mut msgs = Vec::new();
        let mut ids = Vec::new();
        for m in messages::of_ticket(db, ticket).await? {
            if m.from_addr.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(address))
                || names(&m.to_addrs)
                || names(&m.cc_addrs)
            {
                ids.push(m.id);
                msgs.push(serde_json::json!({
                    "id": m.id, "from": m.from_addr, "to": m.to_addrs, "cc": m.cc_addrs,
                    "subject": m.subject, "created_at": m.created_at, "text": m.body_text,
                }));
            }
        }
        let mut files = Vec::new();
        for a in messages::attachments_of_ticket(db, ticket).await?.into_iter().filter(|a| ids.contains(&a.message_id))
        {
            if let Some((_, bytes)) = messages::attachment_with_content(db, ticket, a.id).await? {
                files.push((format!("dateien/{}-{}", a.id, safe_name(&a.filename)), bytes));
            }
        }
        Ok((msgs, files))
    }
}

/// A ZIP of `meta` files and `files` (deflated).
fn write_zip(meta: &[(String, Vec<u8>)], files: &[(String, Vec<u8>)]) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut seen = std::collections::HashSet::new();
    for (path, bytes) in meta.iter().chain(files) {
        if !seen.insert(path.clone()) {
            continue;
        }
        zip.start_file(path.as_str(), opts)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_the_zip_stay_inside_it() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name("Brief an den Vorstand.pdf"), "Brief an den Vorstand.pdf");
        assert_eq!(safe_name(""), "datei");
        assert!(address_of("kein Name").is_err());
        assert_eq!(address_of(" Erika@Example.org ").map_err(|e| e.to_string()).ok(), Some("erika@example.org".into()));
    }
}
