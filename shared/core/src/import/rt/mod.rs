//! Request Tracker through REST2 (RT 5): tickets by queue, then per chunk
//! of up to 100 tickets three searches — the tickets with their people,
//! their transactions, and the MIME parts of their messages — one for the
//! people not seen before, and one call per file only where a part's text
//! form cannot carry its bytes.
//!
//! RT stores a message as a tree of parts: the body is the first `text/plain`
//! (else `text/html`) part without a file name, files are the parts with one.
//! `EmailRecord` transactions are copies of RT's outgoing mail and are left
//! out, as are `Told` and the `SetWatcher` twin of an owner change.

mod client;

use super::map::{Defaults, ImportMap, QueueMap, StatusMap};
use super::text::{decode_words, encode, html_to_text};
use super::{Fetched, ItemKind, Listed, SourceFile, SourceItem, SourceTicket, SourceUser, parse_time};
use crate::{AppError, AppResult};
use base64::Engine;
use client::{Client, failed, text};
use logbuch_domain::Status;
use logbuch_store::imports::Record;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// RT's default lifecycle.
const STATUSES: &[(&str, StatusMap)] = &[
    ("new", StatusMap::To(Status::New)),
    ("open", StatusMap::To(Status::Open)),
    ("stalled", StatusMap::To(Status::Waiting)),
    ("resolved", StatusMap::To(Status::Resolved)),
    ("rejected", StatusMap::To(Status::Resolved)),
    ("deleted", StatusMap::Skip),
];

const ROLES: [&str; 4] = ["Owner", "Requestor", "Cc", "AdminCc"];

pub(crate) struct Rt {
    client: Client,
    key: String,
    rtname: Option<String>,
    /// Per map queue: its own subject tag, when it has one.
    queue_tags: Mutex<HashMap<usize, String>>,
}

impl Rt {
    pub(crate) fn new(url: &str, token: &str, map: &ImportMap) -> AppResult<Self> {
        let url = url.trim().trim_end_matches('/');
        let url = url.strip_suffix("/REST/2.0").unwrap_or(url);
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(AppError::validation("url", format!("„{url}“ ist keine http(s)-Adresse von RT.")));
        }
        Ok(Self {
            client: Client::new(url, token)?,
            key: map.source.clone().unwrap_or_else(|| format!("rt:{url}")),
            rtname: map.rtname.clone().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            queue_tags: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) async fn login(&self) {
        self.client.login().await;
    }

    async fn describe(&self, tx: &Value) -> Option<String> {
        let c = &self.client;
        let (ty, field) = (text(&tx["Type"]), text(&tx["Field"]));
        let (old, new) = (text(&tx["OldValue"]), text(&tx["NewValue"]));
        Some(match (ty.as_str(), field.as_str()) {
            ("EmailRecord" | "CommentEmailRecord" | "Told" | "SetWatcher", _) => return None,
            ("Status", _) | ("Set", "Status") => format!("Status: {old} → {new}"),
            (_, "Owner") => {
                format!("Bearbeitung: {} → {}", c.name_of("user", &old).await, c.name_of("user", &new).await)
            }
            ("Set", "Subject") => format!("Betreff: „{old}“ → „{new}“"),
            ("Set", "Priority") => format!("Priorität: {old} → {new}"),
            ("Set", "Queue") => {
                format!("Queue: {} → {}", c.name_of("queue", &old).await, c.name_of("queue", &new).await)
            }
            ("AddWatcher", role) => format!("{role} hinzugefügt: {}", c.name_of("user", &new).await),
            ("DelWatcher", role) => format!("{role} entfernt: {}", c.name_of("user", &old).await),
            ("AddLink", kind) => format!("Verknüpfung {kind}: {new}"),
            ("DeleteLink", kind) => format!("Verknüpfung {kind} entfernt: {old}"),
            ("CustomField", _) => format!("Feld {field}: „{old}“ → „{new}“"),
            (ty, "") => format!("{ty} {}", text(&tx["Data"])).trim().to_owned(),
            (ty, f) => format!("{ty} {f}: {old} → {new}"),
        })
    }

    async fn fetch_chunk(&self, chunk: &[Listed], known: &HashMap<String, Record>) -> AppResult<Vec<Fetched>> {
        let c = &self.client;
        let ids: Vec<i64> = chunk.iter().filter_map(|l| l.id.parse().ok()).collect();
        let sql = ids.iter().map(|i| format!("id = {i}")).collect::<Vec<_>>().join(" OR ");
        let q = [
            ("query", sql),
            ("orderby", "id".to_owned()),
            ("fields", format!("Subject,Status,Priority,Created,Resolved,LastUpdated,{}", ROLES.join(","))),
        ];
        // Transactions after the oldest cursor of the chunk (a new ticket: all).
        let after = chunk.iter().map(|l| known.get(&l.id).map_or(0, |r| r.last_item)).min().unwrap_or(0);
        let filter = json!([
            {"field": "ObjectType", "value": "RT::Ticket"},
            {"field": "ObjectId", "operator": "IN", "value": ids},
            {"field": "id", "operator": ">", "value": after},
            {"field": "Type", "operator": "NOT IN", "value": ["EmailRecord", "CommentEmailRecord", "Told"]},
        ]);
        let tq = [
            ("fields", "Type,Creator,Created,Field,OldValue,NewValue,Data,ObjectId".to_owned()),
            ("orderby", "id".to_owned()),
        ];
        let (tickets, txns) = tokio::try_join!(
            c.search_all("/tickets", &q, None, "Tickets"),
            c.search_all("/transactions", &tq, Some(&filter), "Transaktionen"),
        )?;
        let messages: Vec<i64> = txns
            .iter()
            .filter(|t| matches!(text(&t["Type"]).as_str(), "Create" | "Correspond" | "Comment"))
            .filter_map(|t| text(&t["id"]).parse().ok())
            .collect();
        let mut names: HashSet<String> = txns.iter().map(|t| text(&t["Creator"]["id"])).collect();
        for t in &tickets {
            names.insert(text(&t["Owner"]["id"]));
            for role in &ROLES[1..] {
                names.extend(t[*role].as_array().into_iter().flatten().map(|u| text(&u["id"])));
            }
        }
        let parts_query = async {
            let mut parts: HashMap<String, Vec<Value>> = HashMap::new();
            for batch in messages.chunks(300) {
                let filter = json!([{"field": "TransactionId", "operator": "IN", "value": batch}]);
                let aq = [
                    ("fields", "TransactionId,Filename,ContentType,ContentLength,Content,Subject,MessageId".to_owned()),
                    ("orderby", "id".to_owned()),
                ];
                for p in c.search_all("/attachments", &aq, Some(&filter), "Anhänge").await? {
                    // A bare id in searches; an object elsewhere.
                    let tx = match &p["TransactionId"] {
                        Value::Object(o) => o.get("id").map(text).unwrap_or_default(),
                        v => text(v),
                    };
                    parts.entry(tx).or_default().push(p);
                }
            }
            AppResult::Ok(parts)
        };
        let (parts, ()) = tokio::try_join!(parts_query, c.learn_users(names))?;
        let mut by_ticket: HashMap<String, Vec<&Value>> = HashMap::new();
        for t in &txns {
            by_ticket.entry(text(&t["ObjectId"])).or_default().push(t);
        }
        let tags = self.queue_tags.lock().map(|m| m.clone()).unwrap_or_default();
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for t in &tickets {
            let id = text(&t["id"]);
            let Some(listed) = chunk.iter().find(|l| l.id == id) else { continue };
            seen.insert(id.clone());
            let txns = by_ticket.remove(&id).unwrap_or_default();
            out.push(
                self.ticket(t, listed, tags.get(&listed.queue), &txns, &parts)
                    .await
                    .map_err(|e| (id.clone(), format!("nicht lesbar: {e}"))),
            );
        }
        for l in chunk.iter().filter(|l| !seen.contains(&l.id)) {
            out.push(Err((l.id.clone(), "RT liefert das Ticket nicht mehr (gelöscht oder zusammengeführt?)".into())));
        }
        Ok(out)
    }

    async fn people(&self, v: &Value) -> Vec<SourceUser> {
        let mut out = Vec::new();
        for u in v.as_array().into_iter().flatten() {
            out.push(self.client.user(&text(&u["id"])).await);
        }
        out
    }

    async fn ticket(
        &self,
        t: &Value,
        listed: &Listed,
        queue_tag: Option<&String>,
        txns: &[&Value],
        parts: &HashMap<String, Vec<Value>>,
    ) -> AppResult<SourceTicket> {
        let id = listed.id.clone();
        let mut tags = Vec::new();
        if let Some(name) = &self.rtname {
            tags.push(format!("{name} #{id}"));
        }
        if let Some(tag) = queue_tag {
            tags.push(format!("{tag} #{id}"));
        }
        let reference = match &self.rtname {
            Some(name) => format!("RT {name} #{id}"),
            None => format!("RT #{id}"),
        };
        let mut watchers = self.people(&t["Cc"]).await;
        watchers.extend(self.people(&t["AdminCc"]).await);
        let owner = Some(self.client.user(&text(&t["Owner"]["id"])).await)
            .filter(|u| !u.login.is_empty() && u.login != "Nobody");
        let created =
            parse_time(&text(&t["Created"])).ok_or_else(|| failed("Ticket", format!("#{id} ohne Anlegezeit")))?;
        let mut items = Vec::new();
        for tx in txns {
            if let Some(item) = self.item(tx, parts).await? {
                items.push(item);
            }
        }
        items.sort_by_key(|i| i.id);
        Ok(SourceTicket {
            updated: text(&t["LastUpdated"]),
            queue: listed.queue,
            reference,
            tags,
            subject: text(&t["Subject"]),
            status: text(&t["Status"]),
            priority: text(&t["Priority"]),
            requesters: self.people(&t["Requestor"]).await,
            owner,
            watchers,
            created,
            resolved: parse_time(&text(&t["Resolved"])),
            items,
            problems: Vec::new(),
            id,
        })
    }

    async fn item(&self, tx: &Value, parts: &HashMap<String, Vec<Value>>) -> AppResult<Option<SourceItem>> {
        let id = text(&tx["id"]);
        let Ok(num) = id.parse::<i64>() else { return Ok(None) };
        let kind = match text(&tx["Type"]).as_str() {
            "Create" => ItemKind::Request,
            "Correspond" => ItemKind::Correspondence,
            "Comment" => ItemKind::Comment,
            _ => match self.describe(tx).await {
                Some(what) => ItemKind::Change(what),
                None => return Ok(None),
            },
        };
        let mut item = SourceItem {
            id: num,
            at: parse_time(&text(&tx["Created"])).unwrap_or_else(chrono::Utc::now),
            author: self.client.user(&text(&tx["Creator"]["id"])).await,
            kind,
            subject: None,
            body: String::new(),
            html: None,
            message_id: None,
            files: Vec::new(),
        };
        if matches!(item.kind, ItemKind::Change(_)) {
            return Ok(Some(item));
        }
        for p in parts.get(&id).map(Vec::as_slice).unwrap_or_default() {
            let ctype = text(&p["ContentType"]).to_lowercase();
            let filename = text(&p["Filename"]);
            if item.subject.is_none() {
                item.subject = Some(text(&p["Subject"])).filter(|s| !s.is_empty());
            }
            if item.message_id.is_none() {
                item.message_id = logbuch_mail::normalize_message_id(&text(&p["MessageId"]));
            }
            if !filename.is_empty() {
                let content = self.file_bytes(p).await?;
                item.files.push(SourceFile { content, filename: decode_words(&filename), content_type: ctype });
            } else if ctype == "text/plain" && item.body.is_empty() {
                item.body = text(&p["Content"]);
            } else if ctype == "text/html" && item.html.is_none() {
                item.html = Some(text(&p["Content"]));
            }
        }
        if item.body.is_empty()
            && let Some(html) = &item.html
        {
            item.body = html_to_text(html);
        }
        Ok(Some(item))
    }

    /// A file's exact bytes. RT's search gives a binary part's content as
    /// one character per byte: taken when that accounts for every byte; else
    /// (text, which RT decodes) the part is read on its own, as base64.
    async fn file_bytes(&self, p: &Value) -> AppResult<Vec<u8>> {
        let ctype = text(&p["ContentType"]).to_lowercase();
        let length: usize = text(&p["ContentLength"]).parse().unwrap_or(usize::MAX);
        if !ctype.starts_with("text/")
            && let Some(s) = p["Content"].as_str()
            && s.chars().count() == length
            && s.chars().all(|c| (c as u32) < 256)
        {
            return Ok(s.chars().map(|c| c as u8).collect());
        }
        let id = text(&p["id"]);
        let v = self.client.get(&format!("/attachment/{id}"), "Anhang").await?;
        let b64: String = text(&v["Content"]).chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| failed(&format!("Anhang {id}"), e))
    }
}

impl super::Source for Rt {
    fn key(&self) -> &str {
        &self.key
    }

    fn defaults(&self) -> &'static Defaults {
        // RT's priorities are numbers a site gives its own meaning: the queue's default unless mapped.
        &Defaults { status: STATUSES, priority: &[] }
    }

    async fn list(&self, index: usize, queue: &QueueMap) -> AppResult<Vec<Listed>> {
        let name = queue.source.trim();
        let q = self.client.get(&format!("/queue/{}", encode(name)), "Queue").await.map_err(|e| match e {
            AppError::Internal(_) => AppError::validation("queue", format!("RT kennt die Queue „{name}“ nicht ({e}).")),
            e => e,
        })?;
        let tag = text(&q["SubjectTag"]);
        if !tag.is_empty()
            && let Ok(mut m) = self.queue_tags.lock()
        {
            m.insert(index, tag);
        }
        let query = [
            ("query", format!("Queue = '{}'", name.replace('\\', "\\\\").replace('\'', "\\'"))),
            ("fields", "LastUpdated".to_owned()),
            ("orderby", "id".to_owned()),
        ];
        Ok(self
            .client
            .search_all("/tickets", &query, None, "Ticketliste")
            .await?
            .iter()
            .map(|t| Listed { id: text(&t["id"]), updated: text(&t["LastUpdated"]), queue: index })
            .collect())
    }

    async fn fetch(&self, tickets: &[Listed], known: &HashMap<String, Record>) -> Vec<Fetched> {
        match self.fetch_chunk(tickets, known).await {
            Ok(out) => out,
            Err(e) => tickets.iter().map(|l| Err((l.id.clone(), format!("nicht gelesen: {e}")))).collect(),
        }
    }
}
