//! Request Tracker through REST2 (RT 5): tickets by queue, then per chunk
//! of up to 100 tickets three searches — the tickets with their people,
//! their transactions, and the MIME parts of their messages — and one call
//! per file only where a part's text form cannot carry its bytes.
//!
//! RT stores a message as a tree of parts: the body is the first `text/plain`
//! (else `text/html`) part without a file name, files are the parts with one.
//! `EmailRecord` transactions are copies of RT's outgoing mail and are left
//! out, as are `Told` and the `SetWatcher` twin of an owner change.

use super::map::{ImportMap, QueueMap, StatusMap};
use super::{Fetched, ItemKind, Listed, SourceFile, SourceItem, SourceTicket, SourceUser, parse_time};
use crate::{AppError, AppResult};
use base64::Engine;
use logbuch_domain::Status;
use logbuch_store::imports::Record;
use serde_json::{Value, json};
use std::collections::HashMap;
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

const PEOPLE: &str = "Name,EmailAddress,RealName";

pub(crate) struct Rt {
    http: reqwest::Client,
    api: String,
    auth: String,
    key: String,
    rtname: Option<String>,
    /// Per map queue: its own subject tag, when it has one.
    queue_tags: Mutex<HashMap<usize, String>>,
    /// Users and queues by id, for the values of history entries.
    names: tokio::sync::Mutex<HashMap<String, String>>,
}

fn failed(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("RT: {what}: {e}"))
}

impl Rt {
    pub(crate) fn new(url: &str, token: &str, map: &ImportMap) -> AppResult<Self> {
        let url = url.trim().trim_end_matches('/');
        let url = url.strip_suffix("/REST/2.0").unwrap_or(url);
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(AppError::validation("url", format!("„{url}“ ist keine http(s)-Adresse von RT.")));
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .map_err(|e| failed("HTTP-Client", e))?;
        Ok(Self {
            http,
            api: format!("{url}/REST/2.0"),
            auth: format!("token {}", token.trim()),
            key: map.source.clone().unwrap_or_else(|| format!("rt:{url}")),
            rtname: map.rtname.clone().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            queue_tags: Mutex::new(HashMap::new()),
            names: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> AppResult<Value> {
        let res = req.header("Authorization", &self.auth).send().await.map_err(|e| failed(what, e))?;
        let status = res.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(AppError::validation("token", "RT nimmt das Token nicht an (401/403)."));
        }
        if !status.is_success() {
            let body: String = res.text().await.unwrap_or_default().chars().take(300).collect();
            return Err(failed(what, format!("HTTP {status}: {body}")));
        }
        res.json().await.map_err(|e| failed(what, e))
    }

    async fn get(&self, path: &str, query: &[(&str, String)], what: &str) -> AppResult<Value> {
        self.send(self.http.get(format!("{}{path}", self.api)).query(query), what).await
    }

    /// Every page of a search (RT gives at most 100 per page).
    async fn search_all(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        what: &str,
    ) -> AppResult<Vec<Value>> {
        let mut out = Vec::new();
        for page in 1.. {
            let mut q = query.to_vec();
            q.push(("per_page", "100".into()));
            q.push(("page", page.to_string()));
            let url = format!("{}{path}", self.api);
            let req = match body {
                Some(b) => self.http.post(url).query(&q).json(b),
                None => self.http.get(url).query(&q),
            };
            let v = self.send(req, what).await?;
            let items = v["items"].as_array().cloned().unwrap_or_default();
            let full = items.len() >= 100;
            out.extend(items);
            if v.get("next_page").is_none() && !full || v["items"].as_array().is_none_or(Vec::is_empty) {
                break;
            }
        }
        Ok(out)
    }

    /// A user's or queue's name by RT id (history values name them by id).
    async fn name_of(&self, kind: &str, id: &str) -> String {
        if id.is_empty() || id == "0" {
            return "niemand".into();
        }
        let key = format!("{kind}/{id}");
        if let Some(n) = self.names.lock().await.get(&key) {
            return n.clone();
        }
        let name = match self.get(&format!("/{key}"), &[], "Name").await {
            Ok(v) if kind == "user" => {
                let u = user_of(&v);
                if u.login == "Nobody" { "niemand".into() } else { u.label() }
            }
            Ok(v) => text(&v["Name"]),
            Err(_) => format!("#{id}"),
        };
        self.names.lock().await.insert(key, name.clone());
        name
    }

    async fn describe(&self, tx: &Value) -> Option<String> {
        let (ty, field) = (text(&tx["Type"]), text(&tx["Field"]));
        let (old, new) = (text(&tx["OldValue"]), text(&tx["NewValue"]));
        Some(match (ty.as_str(), field.as_str()) {
            ("EmailRecord" | "CommentEmailRecord" | "Told" | "SetWatcher", _) => return None,
            ("Status", _) | ("Set", "Status") => format!("Status: {old} → {new}"),
            (_, "Owner") => {
                format!("Bearbeitung: {} → {}", self.name_of("user", &old).await, self.name_of("user", &new).await)
            }
            ("Set", "Subject") => format!("Betreff: „{old}“ → „{new}“"),
            ("Set", "Priority") => format!("Priorität: {old} → {new}"),
            ("Set", "Queue") => {
                format!("Queue: {} → {}", self.name_of("queue", &old).await, self.name_of("queue", &new).await)
            }
            ("AddWatcher", role) => format!("{role} hinzugefügt: {}", self.name_of("user", &new).await),
            ("DelWatcher", role) => format!("{role} entfernt: {}", self.name_of("user", &old).await),
            ("AddLink", kind) => format!("Verknüpfung {kind}: {new}"),
            ("DeleteLink", kind) => format!("Verknüpfung {kind} entfernt: {old}"),
            ("CustomField", _) => format!("Feld {field}: „{old}“ → „{new}“"),
            (ty, "") => format!("{ty} {}", text(&tx["Data"])).trim().to_owned(),
            (ty, f) => format!("{ty} {f}: {old} → {new}"),
        })
    }

    async fn fetch_chunk(&self, chunk: &[Listed], known: &HashMap<String, Record>) -> AppResult<Vec<Fetched>> {
        let ids: Vec<i64> = chunk.iter().filter_map(|l| l.id.parse().ok()).collect();
        let sql = ids.iter().map(|i| format!("id = {i}")).collect::<Vec<_>>().join(" OR ");
        let mut q = vec![
            ("query", sql),
            ("orderby", "id".to_owned()),
            ("fields", "Subject,Status,Priority,Owner,Requestor,Cc,AdminCc,Created,Resolved,LastUpdated".into()),
        ];
        for role in ["Owner", "Requestor", "Cc", "AdminCc"] {
            q.push((role_field(role), PEOPLE.into()));
        }
        let tickets = self.search_all("/tickets", &q, None, "Tickets").await?;
        // Transactions after the oldest cursor of the chunk (a new ticket: all).
        let after = chunk.iter().map(|l| known.get(&l.id).map_or(0, |r| r.last_item)).min().unwrap_or(0);
        let filter = json!([
            {"field": "ObjectType", "value": "RT::Ticket"},
            {"field": "ObjectId", "operator": "IN", "value": ids},
            {"field": "id", "operator": ">", "value": after},
        ]);
        let tq = vec![
            ("fields", "Type,Creator,Created,Field,OldValue,NewValue,Data,ObjectId".to_owned()),
            ("fields[Creator]", PEOPLE.to_owned()),
            ("orderby", "id".to_owned()),
        ];
        let txns = self.search_all("/transactions", &tq, Some(&filter), "Transaktionen").await?;
        let messages: Vec<i64> = txns
            .iter()
            .filter(|t| matches!(text(&t["Type"]).as_str(), "Create" | "Correspond" | "Comment"))
            .filter_map(|t| text(&t["id"]).parse().ok())
            .collect();
        let mut parts: HashMap<String, Vec<Value>> = HashMap::new();
        for batch in messages.chunks(200) {
            let filter = json!([{"field": "TransactionId", "operator": "IN", "value": batch}]);
            let aq = vec![
                ("fields", "TransactionId,Filename,ContentType,ContentLength,Content,Subject,MessageId".to_owned()),
                ("orderby", "id".to_owned()),
            ];
            for p in self.search_all("/attachments", &aq, Some(&filter), "Anhänge").await? {
                // A bare id in searches; an object elsewhere.
                let tx = match &p["TransactionId"] {
                    Value::Object(o) => o.get("id").map(text).unwrap_or_default(),
                    v => text(v),
                };
                parts.entry(tx).or_default().push(p);
            }
        }
        let mut by_ticket: HashMap<String, Vec<&Value>> = HashMap::new();
        for t in &txns {
            by_ticket.entry(text(&t["ObjectId"])).or_default().push(t);
        }
        let tags = self.queue_tags.lock().map(|m| m.clone()).unwrap_or_default();
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
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
        let people = |role: &str| -> Vec<SourceUser> {
            t[role].as_array().map(|a| a.iter().map(user_of).collect()).unwrap_or_default()
        };
        let mut watchers = people("Cc");
        watchers.extend(people("AdminCc"));
        let owner = Some(user_of(&t["Owner"])).filter(|u| !u.login.is_empty() && u.login != "Nobody");
        let created =
            parse_time(&text(&t["Created"])).ok_or_else(|| failed("Ticket", format!("#{id} ohne Anlegezeit")))?;
        let mut items = Vec::new();
        for tx in txns {
            let Some(item) = self.item(tx, parts).await? else { continue };
            items.push(item);
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
            requesters: people("Requestor"),
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
        let at = parse_time(&text(&tx["Created"])).unwrap_or_else(chrono::Utc::now);
        let author = user_of(&tx["Creator"]);
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
            at,
            author,
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
                let filename = decode_words(&filename);
                item.files.push(SourceFile { content: self.file_bytes(p).await?, filename, content_type: ctype });
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
        let v = self.get(&format!("/attachment/{id}"), &[], "Anhang").await?;
        let b64: String = text(&v["Content"]).chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| failed(&format!("Anhang {id}"), e))
    }
}

impl super::Source for Rt {
    fn key(&self) -> &str {
        &self.key
    }

    fn default_status(&self) -> &'static [(&'static str, StatusMap)] {
        STATUSES
    }

    async fn list(&self, index: usize, queue: &QueueMap) -> AppResult<Vec<Listed>> {
        let name = queue.source.trim();
        let q = self.send(self.http.get(format!("{}/queue/{}", self.api, encode(name))), "Queue").await.map_err(
            |e| match e {
                AppError::Internal(_) => {
                    AppError::validation("queue", format!("RT kennt die Queue „{name}“ nicht ({e})."))
                }
                e => e,
            },
        )?;
        let tag = text(&q["SubjectTag"]);
        if !tag.is_empty()
            && let Ok(mut m) = self.queue_tags.lock()
        {
            m.insert(index, tag);
        }
        let query = vec![
            ("query", format!("Queue = '{}'", name.replace('\\', "\\\\").replace('\'', "\\'"))),
            ("fields", "LastUpdated".to_owned()),
            ("orderby", "id".to_owned()),
        ];
        Ok(self
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

fn role_field(role: &str) -> &'static str {
    match role {
        "Owner" => "fields[Owner]",
        "Requestor" => "fields[Requestor]",
        "Cc" => "fields[Cc]",
        _ => "fields[AdminCc]",
    }
}

/// A JSON value as text: strings as they are, numbers written out, anything else empty.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A user object of RT (`{"id": "root", "EmailAddress": …, "RealName": …}`).
fn user_of(v: &Value) -> SourceUser {
    let login = text(&v["id"]);
    let email = text(&v["EmailAddress"]).trim().to_lowercase();
    let name = text(&v["RealName"]);
    // RT makes people who write in by mail unprivileged users named by their address.
    let staff = !login.is_empty() && !login.eq_ignore_ascii_case(&email) && login != "RT_System";
    SourceUser { login, email, name, staff }
}

/// A path segment: queue names have blanks and umlauts.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A file name RT kept MIME-encoded (`=?UTF-8?B?…?=`, as REST2 clients
/// must send non-ASCII names): decoded for UTF-8 and Latin-1, B and Q.
fn decode_words(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("=?") {
        let word = &rest[start + 2..];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        let decoded = match parts.as_slice() {
            [charset, enc, tail] => tail.find("?=").and_then(|end| {
                let text = &tail[..end];
                let bytes = match enc.to_ascii_uppercase().as_str() {
                    "B" => base64::engine::general_purpose::STANDARD.decode(text).ok()?,
                    "Q" => q_decode(text),
                    _ => return None,
                };
                let charset = charset.to_ascii_lowercase();
                let decoded = if charset == "utf-8" || charset == "us-ascii" {
                    String::from_utf8(bytes).ok()?
                } else if charset == "iso-8859-1" || charset == "latin1" || charset == "windows-1252" {
                    bytes.iter().map(|b| char::from(*b)).collect()
                } else {
                    return None;
                };
                // The word's whole length: "=?" charset "?" enc "?" text "?=".
                Some((decoded, 2 + charset.len() + 1 + enc.len() + 1 + end + 2))
            }),
            _ => None,
        };
        match decoded {
            Some((text, len)) => {
                let between = &rest[..start];
                // Blanks between two encoded words do not count.
                if !between.trim().is_empty() || out.is_empty() {
                    out.push_str(between);
                }
                out.push_str(&text);
                rest = &rest[start + len..];
            }
            None => {
                out.push_str(&rest[..start + 2]);
                rest = &rest[start + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn q_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'_' { b' ' } else { b[i] });
        i += 1;
    }
    out
}

/// Rough text of an HTML-only message, for search and the plain view.
fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&nbsp;", " ").replace("&quot;", "\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_staff() {
        let root = user_of(&json!({"id": "root", "EmailAddress": "Root@Localhost", "RealName": "Enoch Root"}));
        assert!(root.staff);
        assert_eq!(root.email, "root@localhost");
        let anna = user_of(&json!({"id": "anna@example.org", "EmailAddress": "anna@example.org"}));
        assert!(!anna.staff);
        assert!(!user_of(&json!({"id": "RT_System", "EmailAddress": ""})).staff);
    }

    #[test]
    fn queue_names_in_paths() {
        assert_eq!(encode("Presse NRW"), "Presse%20NRW");
        assert_eq!(encode("Mitglieder-Bü"), "Mitglieder-B%C3%BC");
    }

    #[test]
    fn encoded_file_names() {
        assert_eq!(
            decode_words("=?UTF-8?B?TWVsZGViZXNjaGVpbmlndW5nIE3DvGxsZXIucGRm?="),
            "Meldebescheinigung Müller.pdf"
        );
        assert_eq!(decode_words("=?ISO-8859-1?Q?Best=E4tigung_neu.txt?="), "Bestätigung neu.txt");
        assert_eq!(decode_words("=?UTF-8?Q?a?= =?UTF-8?Q?b?=.txt"), "ab.txt");
        assert_eq!(decode_words("plain =?x.txt"), "plain =?x.txt");
        assert_eq!(decode_words("Bestätigung.txt"), "Bestätigung.txt");
    }

    #[test]
    fn html_becomes_text() {
        assert_eq!(html_to_text("<p>Hallo &amp; danke</p>").trim(), "Hallo & danke");
    }
}
