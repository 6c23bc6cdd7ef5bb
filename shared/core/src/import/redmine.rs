//! Redmine through its REST API (Redmine 5): issues by project (and,
//! where the map says so, by a custom field's value such as the
//! Landesverband), then each issue with its journals, attachments and
//! watchers, a few side by side; people by id once per import (their mail
//! address needs an administrator's key).
//!
//! The issue's description is the request (by its author, the requester);
//! a journal's notes are a message (private notes: an internal note), its
//! details (status, assignee, fields) the old history. A file belongs to the
//! journal that added it, else to the request.

use super::map::{Defaults, ImportMap, QueueMap, StatusMap};
use super::{Fetched, ItemKind, Listed, SourceFile, SourceItem, SourceTicket, SourceUser, parse_time};
use crate::{AppError, AppResult};
use futures_util::{StreamExt, TryStreamExt};
use logbuch_domain::{Priority, Status};
use logbuch_store::imports::Record;
use serde_json::Value;
use std::collections::HashMap;

/// Redmine's default statuses, German and English.
const STATUSES: &[(&str, StatusMap)] = &[
    ("Neu", StatusMap::To(Status::New)),
    ("In Bearbeitung", StatusMap::To(Status::Open)),
    ("Feedback", StatusMap::To(Status::Waiting)),
    ("Gelöst", StatusMap::To(Status::Resolved)),
    ("Erledigt", StatusMap::To(Status::Resolved)),
    ("Abgewiesen", StatusMap::To(Status::Resolved)),
    ("New", StatusMap::To(Status::New)),
    ("In Progress", StatusMap::To(Status::Open)),
    ("Resolved", StatusMap::To(Status::Resolved)),
    ("Closed", StatusMap::To(Status::Resolved)),
    ("Rejected", StatusMap::To(Status::Resolved)),
];

/// Redmine's default priorities, German and English.
const PRIORITIES: &[(&str, Priority)] = &[
    ("Niedrig", Priority::Low),
    ("Normal", Priority::Normal),
    ("Hoch", Priority::High),
    ("Dringend", Priority::Urgent),
    ("Sofort", Priority::Urgent),
    ("Low", Priority::Low),
    ("High", Priority::High),
    ("Urgent", Priority::Urgent),
    ("Immediate", Priority::Urgent),
];

/// Issues read at once.
const PARALLEL: usize = 4;

pub(crate) struct Redmine {
    http: reqwest::Client,
    url: String,
    api_key: String,
    source: String,
    /// People by Redmine id.
    users: tokio::sync::Mutex<HashMap<i64, SourceUser>>,
    /// Names of statuses, priorities and trackers by id, for history values.
    names: tokio::sync::OnceCell<HashMap<String, String>>,
}

fn failed(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("Redmine: {what}: {e}"))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

impl Redmine {
    pub(crate) fn new(url: &str, key: &str, map: &ImportMap) -> AppResult<Self> {
        let url = url.trim().trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(AppError::validation("url", format!("„{url}“ ist keine http(s)-Adresse von Redmine.")));
        }
        let http = super::source_client("Redmine")?;
        Ok(Self {
            http,
            url: url.to_owned(),
            api_key: key.trim().to_owned(),
            source: map.source.clone().unwrap_or_else(|| format!("redmine:{url}")),
            users: tokio::sync::Mutex::new(HashMap::new()),
            names: tokio::sync::OnceCell::new(),
        })
    }

    async fn response(&self, path: &str, query: &[(&str, String)], what: &str) -> AppResult<reqwest::Response> {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.url) };
        let res = self
            .http
            .get(url)
            .query(query)
            .header("X-Redmine-API-Key", &self.api_key)
            .send()
            .await
            .map_err(|e| failed(what, e))?;
        let status = res.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(AppError::validation("key", "Redmine nimmt den API-Schlüssel nicht an (401)."));
        }
        if !status.is_success() {
            return Err(failed(what, format!("HTTP {status}")));
        }
        Ok(res)
    }

    async fn get(&self, path: &str, query: &[(&str, String)], what: &str) -> AppResult<Value> {
        self.response(path, query, what).await?.json().await.map_err(|e| failed(what, e))
    }

    /// Names by `status/3`, `priority/2`, `tracker/1` (read once).
    async fn names(&self) -> &HashMap<String, String> {
        self.names
            .get_or_init(|| async {
                let mut out = HashMap::new();
                for (kind, path, list) in [
                    ("status", "/issue_statuses.json", "issue_statuses"),
                    ("priority", "/enumerations/issue_priorities.json", "issue_priorities"),
                    ("tracker", "/trackers.json", "trackers"),
                ] {
                    if let Ok(v) = self.get(path, &[], "Namen").await {
                        for x in v[list].as_array().into_iter().flatten() {
                            out.insert(format!("{kind}/{}", text(&x["id"])), text(&x["name"]));
                        }
                    }
                }
                out
            })
            .await
    }

    /// A person by Redmine id: the account's mail needs an administrator's key; a group or
    /// an account out of sight is known by its name only.
    async fn user(&self, v: &Value) -> SourceUser {
        let Some(id) = v["id"].as_i64() else { return SourceUser::default() };
        if let Some(u) = self.users.lock().await.get(&id) {
            return u.clone();
        }
        let mut u = SourceUser { login: format!("#{id}"), name: text(&v["name"]), staff: true, ..Default::default() };
        if let Ok(found) = self.get(&format!("/users/{id}.json"), &[], "Person").await {
            let f = &found["user"];
            u.login = text(&f["login"]);
            u.email = text(&f["mail"]).trim().to_lowercase();
            let name = format!("{} {}", text(&f["firstname"]), text(&f["lastname"]));
            if !name.trim().is_empty() {
                u.name = name.trim().to_owned();
            }
        }
        self.users.lock().await.insert(id, u.clone());
        u
    }

    async fn user_label(&self, id: &str) -> String {
        match id.parse::<i64>() {
            Ok(n) => self.user(&serde_json::json!({"id": n})).await.label(),
            Err(_) => "niemand".to_owned(),
        }
    }

    async fn describe(&self, d: &Value) -> Option<String> {
        let (prop, name) = (text(&d["property"]), text(&d["name"]));
        let (old, new) = (text(&d["old_value"]), text(&d["new_value"]));
        let names = self.names().await;
        let named = |kind: &str, id: &str| {
            if id.is_empty() {
                "–".to_owned()
            } else {
                names.get(&format!("{kind}/{id}")).cloned().unwrap_or(id.to_owned())
            }
        };
        Some(match (prop.as_str(), name.as_str()) {
            ("attachment", _) => return None,
            ("attr", "status_id") => format!("Status: {} → {}", named("status", &old), named("status", &new)),
            ("attr", "priority_id") => format!("Priorität: {} → {}", named("priority", &old), named("priority", &new)),
            ("attr", "tracker_id") => format!("Tracker: {} → {}", named("tracker", &old), named("tracker", &new)),
            ("attr", "assigned_to_id") => {
                format!("Bearbeitung: {} → {}", self.user_label(&old).await, self.user_label(&new).await)
            }
            ("attr", "subject") => format!("Betreff: „{old}“ → „{new}“"),
            ("attr", "description") => "Beschreibung geändert".to_owned(),
            ("cf", id) => format!("Feld {id}: „{old}“ → „{new}“"),
            (p, n) => format!("{p} {n}: „{old}“ → „{new}“"),
        })
    }

    async fn file(&self, a: &Value) -> AppResult<SourceFile> {
        let url = text(&a["content_url"]);
        let bytes = self.response(&url, &[], "Anhang").await?.bytes().await.map_err(|e| failed("Anhang", e))?;
        Ok(SourceFile {
            filename: text(&a["filename"]),
            content_type: Some(text(&a["content_type"]))
                .filter(|t| !t.is_empty())
                .unwrap_or("application/octet-stream".into()),
            content: bytes.to_vec(),
        })
    }

    async fn issue(&self, listed: &Listed) -> AppResult<SourceTicket> {
        let v = self
            .get(
                &format!("/issues/{}.json", listed.id),
                &[("include", "journals,attachments,watchers".into())],
                "Ticket",
            )
            .await?;
        let i = &v["issue"];
        let id = listed.id.clone();
        let mut author = self.user(&i["author"]).await;
        author.staff = false;
        let created =
            parse_time(&text(&i["created_on"])).ok_or_else(|| failed("Ticket", format!("#{id} ohne Anlegezeit")))?;
        // Files by the journal that added them; the rest came with the request.
        let mut by_journal: HashMap<i64, i64> = HashMap::new();
        for j in i["journals"].as_array().into_iter().flatten() {
            for d in j["details"].as_array().into_iter().flatten().filter(|d| d["property"] == "attachment") {
                if let Ok(a) = text(&d["name"]).parse::<i64>() {
                    by_journal.insert(a, j["id"].as_i64().unwrap_or(0));
                }
            }
        }
        let mut files: HashMap<i64, Vec<SourceFile>> = HashMap::new();
        for a in i["attachments"].as_array().into_iter().flatten() {
            let at = a["id"].as_i64().and_then(|a| by_journal.get(&a).copied()).unwrap_or(0);
            files.entry(at).or_default().push(self.file(a).await?);
        }
        let mut items = vec![SourceItem {
            id: 0,
            at: created,
            author: author.clone(),
            kind: ItemKind::Request,
            subject: Some(text(&i["subject"])),
            body: text(&i["description"]).replace("\r\n", "\n"),
            html: None,
            message_id: None,
            files: files.remove(&0).unwrap_or_default(),
        }];
        for j in i["journals"].as_array().into_iter().flatten() {
            let jid = j["id"].as_i64().unwrap_or(0);
            let mut who = self.user(&j["user"]).await;
            who.staff = who.login != author.login;
            let at = parse_time(&text(&j["created_on"])).unwrap_or(created);
            let notes = text(&j["notes"]).replace("\r\n", "\n");
            let jfiles = files.remove(&jid).unwrap_or_default();
            if !notes.trim().is_empty() || !jfiles.is_empty() {
                let private = j["private_notes"].as_bool().unwrap_or(false);
                items.push(SourceItem {
                    id: jid,
                    at,
                    author: who.clone(),
                    kind: if private { ItemKind::Comment } else { ItemKind::Correspondence },
                    subject: None,
                    body: notes,
                    html: None,
                    message_id: None,
                    files: jfiles,
                });
            }
            for d in j["details"].as_array().into_iter().flatten() {
                if let Some(what) = self.describe(d).await {
                    let author = who.clone();
                    let change = ItemKind::Change(what);
                    items.push(SourceItem {
                        id: jid,
                        at,
                        author,
                        kind: change,
                        subject: None,
                        body: String::new(),
                        html: None,
                        message_id: None,
                        files: vec![],
                    });
                }
            }
        }
        let mut watchers = Vec::new();
        for w in i["watchers"].as_array().into_iter().flatten() {
            watchers.push(self.user(w).await);
        }
        let owner = if i["assigned_to"].is_object() { Some(self.user(&i["assigned_to"]).await) } else { None };
        let (project, tracker) = (text(&i["project"]["name"]), text(&i["tracker"]["name"]));
        Ok(SourceTicket {
            updated: text(&i["updated_on"]),
            queue: listed.queue,
            reference: format!("Redmine #{id}"),
            // Redmine's mail subjects: "[Mitglieder NRW - Unterstützung #12] (Neu) …".
            tags: vec![format!("{project} - {tracker} #{id}")],
            subject: text(&i["subject"]),
            status: text(&i["status"]["name"]),
            priority: text(&i["priority"]["name"]),
            requesters: vec![author],
            owner,
            watchers,
            created,
            resolved: parse_time(&text(&i["closed_on"])),
            items,
            problems: Vec::new(),
            id,
        })
    }
}

impl super::Source for Redmine {
    fn key(&self) -> &str {
        &self.source
    }

    fn defaults(&self) -> &'static Defaults {
        &Defaults { status: STATUSES, priority: PRIORITIES }
    }

    async fn list(&self, index: usize, queue: &QueueMap) -> AppResult<Vec<Listed>> {
        let project = queue.source.trim();
        // A custom field's value narrows the project: cf_<id>=<value>.
        let cf = match (&queue.field, &queue.value) {
            (Some(field), Some(value)) => {
                let fields = self.get("/custom_fields.json", &[], "Benutzerdefinierte Felder").await?;
                let id = fields["custom_fields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|f| text(&f["name"]).eq_ignore_ascii_case(field.trim()))
                    .map(|f| text(&f["id"]))
                    .ok_or_else(|| AppError::validation("field", format!("Redmine kennt das Feld „{field}“ nicht.")))?;
                Some((format!("cf_{id}"), value.clone()))
            }
            _ => None,
        };
        let page = |offset: u64| {
            let mut q: Vec<(&str, String)> = vec![
                ("project_id", project.to_owned()),
                ("subproject_id", "!*".to_owned()),
                ("status_id", "*".to_owned()),
                ("sort", "id".to_owned()),
                ("limit", "100".to_owned()),
                ("offset", offset.to_string()),
            ];
            if let Some((name, value)) = &cf {
                q.push((name.as_str(), value.clone()));
            }
            async move { self.get("/issues.json", &q, "Ticketliste").await }
        };
        let first = page(0).await.map_err(|e| match e {
            AppError::Internal(_) => {
                AppError::validation("queue", format!("Redmine kennt das Projekt „{project}“ nicht ({e})."))
            }
            e => e,
        })?;
        let total = first["total_count"].as_u64().unwrap_or(0);
        let offsets: Vec<u64> = (1..total.div_ceil(100)).map(|p| p * 100).collect();
        let mut pages = vec![first];
        pages.extend(futures_util::stream::iter(offsets).map(page).buffered(PARALLEL).try_collect::<Vec<_>>().await?);
        let mut out = Vec::new();
        for p in pages {
            for i in p["issues"].as_array().into_iter().flatten() {
                out.push(Listed { id: text(&i["id"]), updated: text(&i["updated_on"]), queue: index });
            }
        }
        // Paging under concurrent changes can show an issue twice.
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out.dedup_by(|a, b| a.id == b.id);
        Ok(out)
    }

    async fn fetch(&self, tickets: &[Listed], _known: &HashMap<String, Record>) -> Vec<Fetched> {
        futures_util::stream::iter(tickets)
            .map(|l| async move { self.issue(l).await.map_err(|e| (l.id.clone(), format!("nicht gelesen: {e}"))) })
            .buffered(PARALLEL)
            .collect()
            .await
    }
}
