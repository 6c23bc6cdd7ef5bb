//! Moving in (issue 19): tickets from Request Tracker (REST2) and Redmine,
//! with their messages, notes, files, people and history, into the tenants
//! and queues a map file names.
//!
//! Each source turns its tickets into [`SourceTicket`]s; [`write`] puts one
//! into Logbuch in one transaction and records it under (source, `ticket`,
//! source id). A rerun lists the source's tickets with their last-updated
//! stamps, skips the unchanged ones without fetching them, and takes from
//! a changed one only the transactions after the last one taken — so an
//! interrupted import continues where it stopped and a second run adds
//! nothing. A ticket that cannot be read or written is reported and
//! skipped; the import goes on.

pub mod map;
pub mod redmine;
pub mod rt;
mod text;
mod write;

pub use map::ImportMap;

use crate::{AppResult, Logbuch};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A person of the old system.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceUser {
    /// Login or user name (RT: `root`; unprivileged RT users: their address).
    pub login: String,
    /// Mail address, lower case; empty for system users.
    pub email: String,
    pub name: String,
    /// Staff of the old system (RT: privileged; a requester's answer by mail is not).
    pub staff: bool,
}

impl SourceUser {
    /// How history names them: `Erika Muster <erika@…>`, or the login.
    pub fn label(&self) -> String {
        match (self.name.trim(), self.email.as_str()) {
            ("", "") => self.login.clone(),
            ("", e) => e.to_owned(),
            (n, "") => n.to_owned(),
            (n, e) => format!("{n} <{e}>"),
        }
    }
}

/// A file of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// What an item of a ticket's past is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    /// The request that opened the ticket.
    Request,
    /// A message to or from the requester (RT correspondence, Redmine public note).
    Correspondence,
    /// An internal comment: becomes a note.
    Comment,
    /// Any other change, described in German for the history.
    Change(String),
}

/// One transaction (RT) or journal (Redmine), oldest first.
#[derive(Debug, Clone)]
pub struct SourceItem {
    /// Ascending within the source: an update takes only items after the last one taken.
    pub id: i64,
    pub at: DateTime<Utc>,
    pub author: SourceUser,
    pub kind: ItemKind,
    pub subject: Option<String>,
    pub body: String,
    pub html: Option<String>,
    pub message_id: Option<String>,
    pub files: Vec<SourceFile>,
}

/// A ticket as the old system has it.
#[derive(Debug, Clone)]
pub struct SourceTicket {
    pub id: String,
    /// The last-updated stamp as the source gives it.
    pub updated: String,
    /// Index into the map's queues.
    pub queue: usize,
    /// How the old ticket is named: `RT logbuch.test #12`.
    pub reference: String,
    /// Subject tags that name it (`logbuch.test #12`, a queue's own tag).
    pub tags: Vec<String>,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub requesters: Vec<SourceUser>,
    pub owner: Option<SourceUser>,
    /// RT Cc and AdminCc, Redmine watchers.
    pub watchers: Vec<SourceUser>,
    pub created: DateTime<Utc>,
    pub resolved: Option<DateTime<Utc>>,
    pub items: Vec<SourceItem>,
    /// Parts that could not be read (a file that did not load), reported.
    pub problems: Vec<String>,
}

/// A ticket the source listed: id and last-updated stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: String,
    pub updated: String,
    pub queue: usize,
}

/// How far an import is, for the progress bar.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Tickets listed at the source (all mapped queues).
    pub total: u64,
    /// Of those, handled so far (written, unchanged or skipped).
    pub done: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub started: Option<Instant>,
}

impl Progress {
    /// Tickets handled per second since the start.
    pub fn rate(&self) -> f64 {
        let secs = self.started.map_or(0.0, |s| s.elapsed().as_secs_f64());
        self.done as f64 / secs.max(0.001)
    }
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub source: String,
    pub progress: Progress,
    pub messages: u64,
    pub notes: u64,
    pub files: u64,
    pub history: u64,
    /// Skipped tickets: (source id, why).
    pub skipped: Vec<(String, String)>,
    /// Things taken differently than they were (a person without a Logbuch
    /// account kept as an address, a file too big): what, how often.
    pub remarks: BTreeMap<String, u64>,
    /// Stopped early at `--limit`: a rerun continues.
    pub interrupted: bool,
    pub elapsed: Duration,
}

impl ImportReport {
    fn remark(&mut self, what: impl Into<String>) {
        *self.remarks.entry(what.into()).or_default() += 1;
    }

    /// The summary in German, one line per fact.
    pub fn summary(&self) -> String {
        let p = &self.progress;
        let mut s = format!(
            "Import aus {}: {} Tickets gelesen, {} neu, {} aktualisiert, {} unverändert, {} übersprungen \
             ({:.1} s, {:.0} Tickets/s).\n\
             Übernommen: {} Nachrichten, {} interne Notizen, {} Dateien, {} Verlaufseinträge.\n",
            self.source,
            p.done,
            p.created,
            p.updated,
            p.unchanged,
            p.skipped,
            self.elapsed.as_secs_f64(),
            p.done as f64 / self.elapsed.as_secs_f64().max(0.001),
            self.messages,
            self.notes,
            self.files,
            self.history,
        );
        if !self.skipped.is_empty() {
            s.push_str("Übersprungen:\n");
            for (id, why) in &self.skipped {
                s.push_str(&format!("  #{id}: {why}\n"));
            }
        }
        if !self.remarks.is_empty() {
            s.push_str("Hinweise:\n");
            for (what, n) in &self.remarks {
                s.push_str(&format!("  {what} ({n}×)\n"));
            }
        }
        if self.interrupted {
            s.push_str("Abgebrochen nach der Höchstzahl (--limit); ein neuer Lauf macht weiter.\n");
        }
        s
    }
}

/// Options of a run.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Stop after writing this many tickets (new or updated); a rerun continues.
    pub limit: Option<u64>,
}

/// Tickets fetched together (RT's page size).
pub(crate) const CHUNK: usize = 100;
/// Tickets written in one transaction (each under its own savepoint).
const COMMIT_GROUP: usize = 25;
/// Chunks fetched side by side ahead of the writer.
const FETCH_AHEAD: usize = 2;

impl Logbuch {
    /// Imports from Request Tracker (REST2 at `url`, e.g. `https://rt.example/rt`).
    pub async fn import_rt(
        &self,
        url: &str,
        token: &str,
        map: &ImportMap,
        opts: &ImportOptions,
        progress: impl FnMut(&Progress),
    ) -> AppResult<ImportReport> {
        let source = rt::Rt::new(url, token, map)?;
        source.login().await;
        self.run_import(&source, map, opts, progress).await
    }

    /// Imports from Redmine (REST API at `url`) with an administrator's API key.
    pub async fn import_redmine(
        &self,
        url: &str,
        key: &str,
        map: &ImportMap,
        opts: &ImportOptions,
        progress: impl FnMut(&Progress),
    ) -> AppResult<ImportReport> {
        let source = redmine::Redmine::new(url, key, map)?;
        self.run_import(&source, map, opts, progress).await
    }

    async fn run_import<S: Source>(
        &self,
        source: &S,
        map: &ImportMap,
        opts: &ImportOptions,
        mut progress: impl FnMut(&Progress),
    ) -> AppResult<ImportReport> {
        let started = Instant::now();
        let dir = self.directory().await?;
        let resolved = map::Resolved::new(map, &dir, &self.store.db, source.defaults()).await?;
        let mut report = ImportReport { source: source.key().to_owned(), ..Default::default() };
        report.progress.started = Some(started);
        for u in &resolved.unknown_users {
            report.remark(format!("Zuordnung {u}: diese Person gibt es in Logbuch nicht"));
        }
        let known = logbuch_store::imports::records_of(&self.store.db, source.key(), "ticket").await?;
        // Everything listed first: the total for the bar, and what changed.
        let mut todo = Vec::new();
        for (i, q) in resolved.queues.iter().enumerate() {
            for l in source.list(i, &q.0).await? {
                report.progress.total += 1;
                match known.get(&l.id) {
                    Some(r) if r.source_updated == l.updated => report.progress.unchanged += 1,
                    _ => todo.push(l),
                }
            }
        }
        // In the old numbering's order, so the new numbers follow it.
        todo.sort_by_key(|l| (l.id.parse::<u64>().unwrap_or(u64::MAX), l.id.clone()));
        report.progress.done = report.progress.unchanged;
        progress(&report.progress);
        let ctx = write::Context { app: self, dir: &dir, map: &resolved, source: source.key(), started: Utc::now() };
        // The next chunks are fetched while this one is written: the old
        // system's answer times, not ours, set the pace.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Fetched>>(1);
        let fetching = async move {
            let mut chunks =
                futures_util::stream::iter(todo.chunks(CHUNK)).map(|c| source.fetch(c, &known)).buffered(FETCH_AHEAD);
            while let Some(batch) = chunks.next().await {
                if tx.send(batch).await.is_err() {
                    break; // the writer stopped
                }
            }
        };
        let writing = async {
            let mut written = 0u64;
            while let Some(mut batch) = rx.recv().await {
                while !batch.is_empty() {
                    let group: Vec<Fetched> = batch.drain(..COMMIT_GROUP.min(batch.len())).collect();
                    let allowance = opts.limit.map(|l| l.saturating_sub(written));
                    let (n, stopped) = ctx.write_group(group, &mut report, allowance).await;
                    written += n;
                    progress(&report.progress);
                    if stopped {
                        report.interrupted = true;
                        return;
                    }
                }
            }
        };
        tokio::join!(fetching, writing);
        report.elapsed = started.elapsed();
        progress(&report.progress);
        Ok(report)
    }
}

/// A ticket fetched, or why it could not be: (source id, reason).
pub(crate) type Fetched = Result<SourceTicket, (String, String)>;

/// An old system to import from.
pub(crate) trait Source {
    /// The import records' source key.
    fn key(&self) -> &str;
    /// The old system's statuses and priorities and what they become unless the map says otherwise.
    fn defaults(&self) -> &'static map::Defaults;
    /// Every ticket of the map's queue `index`, with its last-updated stamp.
    async fn list(&self, index: usize, queue: &map::QueueMap) -> AppResult<Vec<Listed>>;
    /// These tickets in full (one per listed ticket, in any order). Items
    /// up to a record's `last_item` may be left out. A source that fails
    /// as a whole fails every ticket of the chunk, never the import.
    async fn fetch(
        &self,
        tickets: &[Listed],
        known: &std::collections::HashMap<String, logbuch_store::imports::Record>,
    ) -> Vec<Fetched>;
}

/// A stamp of the old system (`2026-12-07T10:41:07Z`), or none for RT's "not set" (1970).
/// The HTTP client a source is read with (two minutes a call: a large
/// attachment); `source` names it in the error ("RT", "Redmine").
pub(crate) fn source_client(source: &str) -> AppResult<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| crate::AppError::Internal(anyhow::anyhow!("{source}: HTTP-Client: {e}")))
}

pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s.trim()).ok()?.with_timezone(&Utc);
    (t.timestamp() > 0).then_some(t)
}
