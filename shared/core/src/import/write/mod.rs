//! One old ticket into Logbuch, in one transaction: the ticket with its
//! original times, the messages with their authors and times, files,
//! watchers, the old history, search documents, the old subject tags and
//! the import record. An update adds only the items after the last one
//! taken and applies only the fields that changed at the source since.

use super::map::{Resolved, StatusMap};
use super::{Fetched, ImportReport, ItemKind, SourceItem, SourceTicket, SourceUser};
use crate::tickets::Directory;
use crate::{AppResult, Logbuch};
use chrono::{DateTime, Utc};
use logbuch_domain::{Priority, Status};
use logbuch_store::entity::ticket;
use logbuch_store::imports::{self, Saved};
use logbuch_store::{Deferred, history, now, tickets};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set, TransactionTrait};
use serde::{Deserialize, Serialize};

/// What the run shares while writing.
pub(super) struct Context<'a> {
    pub app: &'a Logbuch,
    pub dir: &'a Directory,
    pub map: &'a Resolved,
    pub source: &'a str,
    /// When the run began: a stamp this recent may still change within its second.
    pub started: DateTime<Utc>,
}

/// The fields of an old ticket as last imported (`import_records.state`).
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
struct State {
    subject: String,
    status: String,
    priority: String,
    owner: String,
    watchers: Vec<String>,
}

impl State {
    fn of(t: &SourceTicket) -> Self {
        let mut watchers: Vec<String> = t.watchers.iter().map(key_of).collect();
        watchers.sort();
        watchers.dedup();
        Self {
            subject: t.subject.clone(),
            status: t.status.clone(),
            priority: t.priority.clone(),
            owner: t.owner.as_ref().map(key_of).unwrap_or_default(),
            watchers,
        }
    }
}

fn key_of(u: &SourceUser) -> String {
    if u.email.is_empty() { u.login.to_lowercase() } else { u.email.clone() }
}

/// What became of one ticket.
enum Outcome {
    Created,
    Updated,
    Unchanged,
    Skipped(String),
}

mod items;

/// Counts of one ticket's writing, added to the report after its commit.
#[derive(Default)]
struct Counts {
    messages: u64,
    notes: u64,
    files: u64,
    history: u64,
    remarks: Vec<String>,
}

/// One ticket's outcome, counted into the report once its transaction committed.
struct Written {
    id: String,
    outcome: Outcome,
    counts: Counts,
    problems: Vec<String>,
}

impl Context<'_> {
    /// Writes fetched tickets in one transaction, each under its own
    /// savepoint: one that fails is rolled back alone and reported, and one
    /// commit (one flush to disk) serves them all. Stops before the ticket
    /// that would exceed `allowance` written tickets. Returns how many were
    /// written (new or updated) and whether it stopped early.
    pub(super) async fn write_group(
        &self,
        group: Vec<Fetched>,
        report: &mut ImportReport,
        allowance: Option<u64>,
    ) -> (u64, bool) {
        let mut written = 0;
        let mut stopped = false;
        let mut done = Vec::with_capacity(group.len());
        let txn = match logbuch_store::begin_write(&self.app.store.db).await {
            Ok(txn) => Some(txn),
            Err(e) => {
                tracing::warn!(source = self.source, error = %e, "import: no transaction");
                None
            }
        };
        for fetched in group {
            if allowance.is_some_and(|a| written >= a) {
                stopped = true;
                break;
            }
            let t = match fetched {
                Ok(t) => t,
                Err((id, why)) => {
                    done.push(Written {
                        id,
                        outcome: Outcome::Skipped(why),
                        counts: Counts::default(),
                        problems: vec![],
                    });
                    continue;
                }
            };
            let mut counts = Counts::default();
            let outcome = match &txn {
                Some(txn) => self.write_saved(txn, &t, &mut counts).await,
                None => Err(anyhow::anyhow!("keine Datenbankverbindung").into()),
            };
            let outcome = outcome.unwrap_or_else(|e| {
                tracing::warn!(source = self.source, ticket = %t.id, error = %e, "import of a ticket failed");
                Outcome::Skipped(format!("nicht geschrieben: {e}"))
            });
            if matches!(outcome, Outcome::Created | Outcome::Updated) {
                written += 1;
            }
            done.push(Written { id: t.id, outcome, counts, problems: t.problems });
        }
        if let Some(txn) = txn
            && let Err(e) = txn.commit().await
        {
            tracing::warn!(source = self.source, error = %e, "import: commit failed");
            written = 0;
            for w in &mut done {
                if !matches!(w.outcome, Outcome::Skipped(_)) {
                    w.outcome = Outcome::Skipped(format!("nicht geschrieben: {e}"));
                }
            }
        }
        for w in done {
            Self::count(w, report);
        }
        (written, stopped)
    }

    /// One ticket under a savepoint of the group's transaction.
    async fn write_saved(
        &self,
        txn: &DatabaseTransaction,
        t: &SourceTicket,
        counts: &mut Counts,
    ) -> AppResult<Outcome> {
        let sp = txn.begin().await?;
        match self.write(&sp, t, counts).await {
            Ok(outcome) => {
                sp.commit().await?;
                Ok(outcome)
            }
            Err(e) => {
                let _ = sp.rollback().await;
                *counts = Counts::default();
                Err(e)
            }
        }
    }

    fn count(w: Written, report: &mut ImportReport) {
        let p = &mut report.progress;
        p.done += 1;
        match w.outcome {
            Outcome::Created => p.created += 1,
            Outcome::Updated => p.updated += 1,
            Outcome::Unchanged => p.unchanged += 1,
            Outcome::Skipped(why) => {
                p.skipped += 1;
                report.skipped.push((w.id, why));
                return;
            }
        }
        report.messages += w.counts.messages;
        report.notes += w.counts.notes;
        report.files += w.counts.files;
        report.history += w.counts.history;
        for r in w.counts.remarks.into_iter().chain(w.problems) {
            report.remark(r);
        }
    }

    async fn write(&self, txn: &DatabaseTransaction, t: &SourceTicket, counts: &mut Counts) -> AppResult<Outcome> {
        let status = match self.map.status(&t.status) {
            Some(StatusMap::To(s)) => s,
            Some(StatusMap::Skip) => {
                return Ok(Outcome::Skipped(format!("Status „{}“ wird laut Zuordnung nicht übernommen", t.status)));
            }
            None => {
                return Ok(Outcome::Skipped(format!(
                    "Status „{}“ ist nicht zugeordnet ([status] in der Zuordnungsdatei)",
                    t.status
                )));
            }
        };
        let Some((_, queue)) = self.map.queues.get(t.queue) else {
            return Ok(Outcome::Skipped("keine Queue zugeordnet".into()));
        };
        let record = imports::record(txn, self.source, "ticket", &t.id).await?;
        let mut writes = Deferred::default();
        let (ticket_id, outcome, last_item) = match &record {
            Some(r) => {
                if imports::removed(txn, r.target_id).await? {
                    return Ok(Outcome::Skipped(format!(
                        "Ticket #{} wurde in Logbuch gelöscht oder anonymisiert; es wird nicht wieder eingelesen",
                        r.target_id
                    )));
                }
                let before: State = serde_json::from_str(&r.state).unwrap_or_default();
                let changed = self.update(txn, t, r.target_id, status, &before, r.last_item, counts).await?;
                let new_items = t.items.iter().any(|i| i.id > r.last_item);
                let outcome = if changed || new_items { Outcome::Updated } else { Outcome::Unchanged };
                (r.target_id, outcome, r.last_item)
            }
            // Everything of a new ticket, also an item numbered 0 (Redmine's description).
            None => (self.create(txn, t, queue, status, counts).await?, Outcome::Created, i64::MIN),
        };
        let mut newest = last_item;
        for item in t.items.iter().filter(|i| i.id > last_item) {
            self.add_item(txn, t, ticket_id, item, counts, &mut writes).await?;
            newest = newest.max(item.id);
        }
        writes.flush(txn).await?;
        // A stamp from the last seconds may hide a change within the same second: look again next time.
        let settled = super::parse_time(&t.updated).is_some_and(|u| u < self.started - chrono::Duration::seconds(5));
        let stamp = if settled { t.updated.clone() } else { format!("{} (noch offen)", t.updated) };
        imports::save_record(
            txn,
            Saved {
                source: self.source,
                kind: "ticket",
                source_id: &t.id,
                target_id: ticket_id,
                source_updated: &stamp,
                last_item: newest.max(0),
                state: serde_json::to_string(&State::of(t)).map_err(anyhow::Error::new)?,
            },
        )
        .await?;
        Ok(outcome)
    }

    /// The requester: the first with an address, else whoever opened it.
    fn requester_of(t: &SourceTicket) -> Option<&SourceUser> {
        t.requesters.iter().find(|u| !u.email.is_empty()).or_else(|| {
            t.items.iter().find(|i| i.kind == ItemKind::Request).map(|i| &i.author).filter(|u| !u.email.is_empty())
        })
    }

    async fn create(
        &self,
        txn: &DatabaseTransaction,
        t: &SourceTicket,
        queue: &logbuch_store::entity::queue::Model,
        status: Status,
        counts: &mut Counts,
    ) -> AppResult<i64> {
        let requester = Self::requester_of(t);
        let priority = self.map.priority(&t.priority).unwrap_or(Priority::from_rank(queue.default_priority));
        let active = status.is_active();
        // Due times count from the import: an old open ticket is not overdue the moment it arrives.
        let (first_response_due, resolution_due) = if active {
            crate::tickets::due_times(self.dir.calendar(queue.tenant_id), queue, now())
        } else {
            (None, None)
        };
        let first_reply = t.items.iter().find(|i| self.is_staff_reply(t, i)).map(|i| i.at);
        let updated = t.items.iter().map(|i| i.at).max().unwrap_or(t.created).max(t.created);
        let subject: String =
            t.subject.chars().filter(|c| !c.is_control()).take(self.limits().max_subject_chars).collect();
        let row = tickets::insert(
            txn,
            ticket::ActiveModel {
                tenant_id: Set(queue.tenant_id),
                queue_id: Set(queue.id),
                subject: Set(if subject.trim().is_empty() { "(ohne Betreff)".into() } else { subject }),
                status: Set(status.as_str().to_owned()),
                priority: Set(priority.rank()),
                owner_id: Set(self.owner_of(t, counts)),
                requester: Set(requester.map(|u| u.email.clone()).unwrap_or_default()),
                requester_name: Set(requester.map(|u| u.name.trim().to_owned()).filter(|n| !n.is_empty())),
                created_at: Set(t.created),
                updated_at: Set(updated),
                resolved_at: Set((!active).then(|| t.resolved.unwrap_or(updated))),
                first_response_due: Set(first_response_due),
                resolution_due: Set(resolution_due),
                first_responded_at: Set(first_reply),
                waiting_since: Set((status == Status::Waiting).then(now)),
                ..Default::default()
            },
        )
        .await?;
        if requester.is_none() {
            counts.remarks.push("Ticket ohne Anfragende(n) mit Mailadresse: ohne Adresse übernommen".into());
        }
        let id = row.id;
        let entry = |at, field: &str, old: Option<String>, new: Option<String>| {
            history::entry(id, None, at, field, old, new).insert(txn)
        };
        entry(t.created, "created", Some("Import".into()), Some(self.dir.queue_path(queue.id))).await?;
        let mut marker = t.reference.clone();
        let unmapped: Vec<String> =
            t.watchers.iter().filter(|w| self.map.user(&key_of(w)).is_none()).map(SourceUser::label).collect();
        if !unmapped.is_empty() {
            marker.push_str(&format!("; Beobachter ohne Logbuch-Konto: {}", unmapped.join(", ")));
        }
        // Logbuch has one requester per ticket; RT may have several.
        let others: Vec<String> =
            t.requesters.iter().filter(|u| Some(*u) != requester).map(SourceUser::label).collect();
        if !others.is_empty() {
            marker.push_str(&format!("; weitere Anfragende: {}", others.join(", ")));
        }
        entry(now(), "import", None, Some(marker)).await?;
        if active {
            // Escalation counts from the import, not from the old creation.
            entry(now(), "priority", None, Some(priority.as_str().to_owned())).await?;
        }
        self.add_watchers(txn, id, t, &[], counts).await?;
        imports::add_refs(txn, id, self.source, &t.tags).await?;
        let doc = format!(
            "{}\n{}\n{}",
            t.reference,
            t.tags.iter().map(|g| format!("[{g}]")).collect::<Vec<_>>().join(" "),
            t.subject
        );
        logbuch_store::search::add_document(txn, id, &doc).await?;
        Ok(id)
    }

    fn limits(&self) -> &logbuch_config::LimitSettings {
        &self.app.settings.limits
    }

    fn owner_of(&self, t: &SourceTicket, counts: &mut Counts) -> Option<i64> {
        let o = t.owner.as_ref()?;
        let id = self.map.user(&key_of(o)).or_else(|| self.map.user(&o.login));
        if id.is_none() {
            counts.remarks.push(format!("Bearbeiter(in) {} ohne Logbuch-Konto: Ticket ohne Bearbeitung", o.label()));
        }
        id
    }

    /// Whether an item is staff answering the requester (the first one is the first response).
    fn is_staff_reply(&self, t: &SourceTicket, i: &SourceItem) -> bool {
        i.kind == ItemKind::Correspondence
            && !Self::written_by_requester(t, &i.author)
            && (i.author.staff || self.map.user(&key_of(&i.author)).is_some())
    }

    /// Whether an author is (one of) the requesters.
    fn written_by_requester(t: &SourceTicket, who: &SourceUser) -> bool {
        t.requesters.iter().any(|r| key_of(r) == key_of(who))
    }

    async fn add_watchers(
        &self,
        txn: &DatabaseTransaction,
        id: i64,
        t: &SourceTicket,
        before: &[String],
        counts: &mut Counts,
    ) -> AppResult<bool> {
        let mut added = false;
        for w in t.watchers.iter().filter(|w| !before.contains(&key_of(w))) {
            match self.map.user(&key_of(w)) {
                Some(user) => {
                    if tickets::add_watcher(txn, id, user).await? {
                        history::record(txn, id, None, "watcher", None, Some(w.label())).await?;
                        added = true;
                    }
                }
                None => counts.remarks.push("Beobachter ohne Logbuch-Konto: im Import-Eintrag genannt".into()),
            }
        }
        Ok(added)
    }

    /// Applies what changed at the source since the last import; true when anything did.
    #[allow(clippy::too_many_arguments)]
    async fn update(
        &self,
        txn: &DatabaseTransaction,
        t: &SourceTicket,
        id: i64,
        status: Status,
        before: &State,
        last_item: i64,
        counts: &mut Counts,
    ) -> AppResult<bool> {
        let Some(current) = tickets::find(txn, id).await? else { return Ok(false) };
        let now_state = State::of(t);
        let mut row: ticket::ActiveModel = current.clone().into();
        let mut changes: Vec<(&str, Option<String>, Option<String>)> = Vec::new();
        if now_state.subject != before.subject {
            let subject: String =
                t.subject.chars().filter(|c| !c.is_control()).take(self.limits().max_subject_chars).collect();
            row.subject = Set(subject.clone());
            changes.push(("subject", Some(current.subject.clone()), Some(subject)));
        }
        if now_state.status != before.status && current.status != status.as_str() {
            crate::tickets::status_with_clock(&current, &mut row, status, self.dir.calendar(current.tenant_id));
            if status == Status::Resolved {
                row.resolved_at = Set(Some(t.resolved.unwrap_or_else(now)));
            }
            changes.push(("status", Some(current.status.clone()), Some(status.as_str().to_owned())));
        }
        if now_state.priority != before.priority
            && let Some(p) = self.map.priority(&t.priority)
            && p.rank() != current.priority
        {
            row.priority = Set(p.rank());
            changes.push((
                "priority",
                Some(Priority::from_rank(current.priority).as_str().to_owned()),
                Some(p.as_str().to_owned()),
            ));
        }
        if now_state.owner != before.owner {
            let owner = self.owner_of(t, counts);
            if owner != current.owner_id {
                row.owner_id = Set(owner);
                let name = |u: Option<i64>| u.and_then(|u| self.dir.staff_member(u)).map(|u| u.email.clone());
                changes.push(("owner", name(current.owner_id), name(owner)));
            }
        }
        let newest = t.items.iter().filter(|i| i.id > last_item).map(|i| i.at).max();
        if current.first_responded_at.is_none()
            && let Some(reply) = t.items.iter().find(|i| i.id > last_item && self.is_staff_reply(t, i))
        {
            row.first_responded_at = Set(Some(reply.at));
        }
        if changes.is_empty() && newest.is_none() && now_state.watchers == before.watchers {
            return Ok(false);
        }
        row.updated_at = Set(newest.unwrap_or_else(now).max(current.updated_at));
        tickets::update(txn, row).await?;
        for (field, old, new) in &changes {
            history::record(txn, id, None, field, old.clone(), new.clone()).await?;
        }
        let watchers = self.add_watchers(txn, id, t, &before.watchers, counts).await?;
        history::record(txn, id, None, "import", None, Some(format!("{} (aktualisiert)", t.reference))).await?;
        imports::add_refs(txn, id, self.source, &t.tags).await?;
        Ok(!changes.is_empty() || watchers || newest.is_some())
    }
}
