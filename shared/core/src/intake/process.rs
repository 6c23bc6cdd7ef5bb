//! Processing one stored mail: parse, then thread, route or collect — all in
//! one transaction together with marking the raw mail done.

use crate::outgoing::Notice;
use crate::tickets::{Directory, NewTicketRow, open_ticket};
use crate::{AppResult, Logbuch};
use logbuch_domain::{MessageKind, Priority, Status};
use logbuch_mail::{MailKind, ParsedMail};
use logbuch_store::entity::{message, queue, ticket};
use logbuch_store::intake::{self, PENDING, QUARANTINED, RawMail};
use logbuch_store::messages::{self, NewFile};
use logbuch_store::{history, now, tickets::Ticket};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Set, TransactionTrait};
use std::time::Duration;
use tracing::Instrument;

/// What one batch transaction keeps until its commit: the collection ticket
/// of each (tenant, day) it used (one lookup per batch instead of one per
/// bounce; never outliving the transaction, so a rolled-back ticket is never
/// reused) and the rows it writes at its end in one statement per table.
#[derive(Default)]
pub(super) struct Batch {
    pub collections: std::collections::HashMap<(i64, String), i64>,
    pub writes: logbuch_store::Deferred,
    /// (Message-ID, tenant) pairs taken before or in this batch.
    pub keys: std::collections::HashSet<(String, i64)>,
    /// A single mail claims its (Message-ID, tenant) first and waits for a
    /// concurrent worker holding the same claim: a duplicate is then seen
    /// cleanly. A batch reads the taken pairs once and records each new one
    /// with its ticket in one write; a concurrent duplicate fails the batch,
    /// which is then taken one by one.
    pub claim_first: bool,
    /// Who hears of a new ticket, per queue (looked up once per batch).
    pub recipients: crate::outgoing::Recipients,
    /// The tickets of the mails the batch's bounces report (read together
    /// at its start), and of the mails added in the batch (newer).
    pub reported: std::collections::HashMap<String, i64>,
    pub added: std::collections::HashMap<String, i64>,
}

impl Batch {
    /// Takes the (Message-ID, tenant) of a mail about to be added; false when
    /// it is already in a ticket of that tenant (an earlier delivery, or the
    /// same mail through another mailbox).
    async fn take_key(
        &mut self,
        txn: &DatabaseTransaction,
        m: &ParsedMail,
        tenant_id: i64,
        raw: i64,
    ) -> AppResult<bool> {
        if self.claim_first {
            return Ok(intake::claim_intake_key(txn, &m.message_id, tenant_id, raw).await?);
        }
        Ok(!self.keys.contains(&(m.message_id.clone(), tenant_id)))
    }

    /// Records which ticket the mail went to.
    async fn settle_key(
        &mut self,
        txn: &DatabaseTransaction,
        m: &ParsedMail,
        tenant_id: i64,
        ticket_id: i64,
        raw: i64,
    ) -> AppResult<()> {
        if self.claim_first {
            intake::settle_intake_key(txn, &m.message_id, tenant_id, ticket_id).await?;
        } else {
            self.writes.intake_key(&m.message_id, tenant_id, ticket_id, raw);
            self.keys.insert((m.message_id.clone(), tenant_id));
        }
        Ok(())
    }
}

/// What became of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// New tickets (more than one when the mail went to several tenants; they are linked).
    Opened(Vec<i64>),
    /// Added to an existing ticket (a reply).
    Appended(i64),
    /// A bounce attached to the ticket whose mail bounced.
    BounceAttached(i64),
    /// A bounce or auto-reply added to the tenant's collection ticket of the day.
    Collected(i64),
    /// Our own mail came back; nothing to do.
    OwnLoop,
    /// Already in every ticket it belongs to (the same mail via another mailbox).
    Duplicate,
    Quarantined(String),
    /// Not pending any more (done by another worker, or quarantined).
    Skipped,
}

/// The sender for history and summaries; reports and automatic answers may have none.
fn sender_of(m: &ParsedMail) -> &str {
    if m.from.is_empty() { "(ohne Absender)" } else { &m.from }
}

fn kind_name(k: &MailKind) -> &'static str {
    match k {
        MailKind::Normal => "normal",
        MailKind::List => "list",
        MailKind::AutoReply => "autoreply",
        MailKind::Bounce(_) => "bounce",
        MailKind::OwnLoop => "own",
    }
}

impl Logbuch {
    /// Processes a stored mail. Idempotent: a mail already done is skipped.
    pub async fn process_raw_mail(&self, id: i64) -> AppResult<Outcome> {
        Ok(self.process_mails(&[id]).await?.pop().unwrap_or(Outcome::Skipped))
    }

    /// Processes stored mails in one transaction: one commit for all of them
    /// (the big lever on a durable database). Unreadable or oversized mails are
    /// quarantined on their own first. If any mail fails, nothing of the batch
    /// is kept and the error is returned; the caller then takes them one by one.
    pub(crate) async fn process_mails(&self, ids: &[i64]) -> AppResult<Vec<Outcome>> {
        let db = &self.store.db;
        let limit = self.settings.intake.max_mail_bytes;
        let mut outcomes = Vec::new();
        let mut ready = Vec::new();
        for raw in intake::find_raws(db, ids).await? {
            let id = raw.id;
            if raw.state != PENDING {
                outcomes.push(Outcome::Skipped);
                continue;
            }
            if raw.content.len() > limit {
                let why = format!(
                    "Die Mail ist {:.1} MB groß; erlaubt sind {:.1} MB (intake.max_mail_bytes).",
                    raw.content.len() as f64 / 1e6,
                    limit as f64 / 1e6
                );
                outcomes.push(self.quarantine(id, why).await?);
                continue;
            }
            match self.parse_with_limit(&raw).instrument(tracing::info_span!("intake.parse", size = raw.size)).await {
                Ok(p) => {
                    let p = self.open_pgp(&raw.content, p).await;
                    ready.push((raw, p));
                }
                Err(why) => outcomes.push(self.quarantine(id, why).await?),
            }
        }
        if ready.is_empty() {
            return Ok(outcomes);
        }
        // Before the transaction: SQLite has one connection, the directory may need it.
        let dir = self.directory().await?;
        let commit = tracing::info_span!("intake.commit", mails = ready.len());
        let mut mails = Vec::new();
        let committed = async {
            let txn = logbuch_store::begin_write(&self.store.db).await?;
            let mut done = Vec::with_capacity(ready.len());
            let mut batch = Batch { claim_first: ready.len() == 1, ..Default::default() };
            if !batch.claim_first {
                let ids: Vec<String> = ready.iter().map(|(_, p)| p.message_id.clone()).collect();
                batch.keys.extend(intake::existing_intake_keys(&txn, &ids).await?);
            }
            let reported: Vec<String> = ready
                .iter()
                .filter_map(|(_, p)| match &p.kind {
                    MailKind::Bounce(r) => r.original_message_id.clone(),
                    _ => None,
                })
                .collect();
            batch.reported = intake::tickets_by_message_ids(&txn, &reported).await?;
            for (raw, parsed) in &ready {
                let outcome = match &parsed.kind {
                    MailKind::OwnLoop => Outcome::OwnLoop,
                    MailKind::Bounce(report) => self.take_bounce(&txn, &dir, raw, parsed, report, &mut batch).await?,
                    _ => self.take_mail(&txn, &dir, raw, parsed, &mut mails, &mut batch).await?,
                };
                done.push((raw.id, kind_name(&parsed.kind)));
                outcomes.push(outcome);
            }
            // All marked done in one statement per kind; a mail another worker
            // finished meanwhile undoes the batch.
            mails.extend(batch.writes.flush(&txn).await?);
            if intake::finish_raws(&txn, &done).await? != done.len() as u64 {
                txn.rollback().await?;
                if ready.len() == 1 {
                    outcomes.pop();
                    outcomes.push(Outcome::Skipped);
                    return Ok(false);
                }
                return Err(
                    anyhow::anyhow!("a mail of the batch was processed concurrently; taking it one by one").into()
                );
            }
            txn.commit().await?;
            AppResult::Ok(true)
        }
        .instrument(commit)
        .await?;
        if !committed {
            return Ok(outcomes);
        }
        self.dispatch_outbox(&mails).await;
        Ok(outcomes)
    }

    /// Parses off the async threads, within the stage time limit.
    async fn parse_with_limit(&self, raw: &RawMail) -> Result<ParsedMail, String> {
        let bytes = raw.content.clone();
        let limit = Duration::from_secs(self.settings.intake.stage_timeout_secs);
        match tokio::time::timeout(limit, tokio::task::spawn_blocking(move || logbuch_mail::parse_mail(&bytes))).await {
            Err(_) => {
                Err(format!("Das Lesen der Mail dauerte länger als {} s (intake.stage_timeout_secs).", limit.as_secs()))
            }
            Ok(Err(_)) => Err("Der Mail-Parser ist an dieser Mail abgestürzt.".into()),
            Ok(Ok(Err(e))) => Err(format!("Die Mail ist nicht lesbar: {e}.")),
            Ok(Ok(Ok(p))) => Ok(p),
        }
    }

    async fn quarantine(&self, id: i64, why: String) -> AppResult<Outcome> {
        tracing::warn!(raw_mail = id, reason = %why, "mail quarantined");
        intake::set_raw_state(&self.store.db, id, PENDING, QUARANTINED, None, Some(&why)).await?;
        Ok(Outcome::Quarantined(why))
    }

    async fn take_mail(
        &self,
        txn: &DatabaseTransaction,
        dir: &Directory,
        raw: &RawMail,
        m: &ParsedMail,
        mails: &mut Vec<i64>,
        batch: &mut Batch,
    ) -> AppResult<Outcome> {
        if let Some(t) = self.thread_of(txn, m).await? {
            if !batch.take_key(txn, m, t.tenant_id, raw.id).await? {
                return Ok(Outcome::Duplicate);
            }
            append_mail(txn, &t, m, self.settings.limits.max_subject_chars, batch).await?;
            batch.writes.history(t.id, "message", None, Some(format!("Mail von {}", sender_of(m))));
            // The requester wrote: a resolved ticket opens again, a waiting one's clocks run on.
            let waited = t.status == Status::Resolved.as_str() || t.status == Status::Waiting.as_str();
            if waited && matches!(m.kind, MailKind::Normal | MailKind::List) {
                reopen(txn, dir, &t).await?;
            }
            batch.settle_key(txn, m, t.tenant_id, t.id, raw.id).await?;
            if matches!(m.kind, MailKind::Normal | MailKind::List) {
                self.requester_answered(txn, dir, &t, &m.from).await?;
                mails.extend(self.notify(txn, dir, &t, Notice::RequesterWrote, None).await?);
            }
            return Ok(Outcome::Appended(t.id));
        }
        let queues = route(dir, m)?;
        if m.kind == MailKind::AutoReply {
            let Some(q) = queues.first() else { return Ok(Outcome::Duplicate) };
            let summary = format!("Automatische Antwort von {}: {}", sender_of(m), m.subject);
            let t = self.collect(txn, dir, q, m, &summary, batch).await?;
            return Ok(Outcome::Collected(t));
        }
        let mut opened = Vec::new();
        for q in queues {
            if !batch.take_key(txn, m, q.tenant_id, raw.id).await? {
                continue;
            }
            let subject = subject_of(m, self.settings.limits.max_subject_chars);
            let t = open_ticket(
                txn,
                dir,
                q,
                NewTicketRow {
                    subject,
                    requester: m.from.clone(),
                    requester_name: m.from_name.clone(),
                    priority: Priority::from_rank(q.default_priority),
                    actor: None,
                    via: "Mail",
                },
                Some(&mut batch.writes),
            )
            .await?;
            append_mail(txn, &t, m, self.settings.limits.max_subject_chars, batch).await?;
            batch.settle_key(txn, m, q.tenant_id, t.id, raw.id).await?;
            let acknowledge = m.kind.may_auto_answer().then_some(m.message_id.as_str());
            self.notify_in_batch(
                txn,
                dir,
                &t,
                Notice::Opened { acknowledge },
                &mut batch.writes,
                &mut batch.recipients,
            )
            .await?;
            opened.push(t.id);
        }
        for (i, a) in opened.iter().enumerate() {
            for b in &opened[i + 1..] {
                intake::link_tickets(txn, *a, *b).await?;
                batch.writes.history(*a, "link", None, Some(format!("#{b}")));
                batch.writes.history(*b, "link", None, Some(format!("#{a}")));
            }
        }
        Ok(if opened.is_empty() { Outcome::Duplicate } else { Outcome::Opened(opened) })
    }

    /// The ticket a mail answers: by the tag in its subject, else by In-Reply-To/References.
    async fn thread_of(&self, db: &impl ConnectionTrait, m: &ParsedMail) -> AppResult<Option<Ticket>> {
        if let Some(n) = logbuch_mail::ticket_tag(&m.subject)
            && let Some(t) = intake::find_ticket_for_system(
                db,
                // A merged ticket's number leads to the ticket it was merged into.
                logbuch_store::merges::survivor_of(db, n).await?.unwrap_or(n),
            )
            .await?
        {
            return Ok(Some(t));
        }
        // An imported ticket's old tag (`[rt.example #12]`): replies to mail the old system sent.
        let tags = logbuch_mail::foreign_tags(&m.subject);
        if let Some(n) = logbuch_store::imports::ticket_by_refs(db, &tags).await?
            && let Some(t) =
                intake::find_ticket_for_system(db, logbuch_store::merges::survivor_of(db, n).await?.unwrap_or(n))
                    .await?
        {
            return Ok(Some(t));
        }
        let ids: Vec<String> = m.in_reply_to.iter().chain(m.references.iter().rev()).cloned().collect();
        match intake::ticket_by_message_ids(db, &ids).await? {
            Some(n) => Ok(intake::find_ticket_for_system(db, n).await?),
            None => Ok(None),
        }
    }

    /// The tenant's collection ticket of the day (created on first use), with this mail added.
    pub(super) async fn collect(
        &self,
        txn: &DatabaseTransaction,
        dir: &Directory,
        q: &queue::Model,
        m: &ParsedMail,
        summary: &str,
        batch: &mut Batch,
    ) -> AppResult<i64> {
        let day = now().format("%Y-%m-%d").to_string();
        let known = match batch.collections.get(&(q.tenant_id, day.clone())) {
            Some(id) => Some(*id),
            None => intake::find_collection(txn, q.tenant_id, &day).await?,
        };
        let ticket_id = match known {
            Some(id) => id,
            None => {
                // Created under a savepoint: if a concurrent worker registers the
                // day's ticket first, ours is rolled back and theirs is used.
                let sp = txn.begin().await?;
                let t = open_ticket(
                    &sp,
                    dir,
                    q,
                    NewTicketRow {
                        subject: format!("Unzustellbare Mails und automatische Antworten vom {day}"),
                        requester: "mailer-daemon@logbuch.invalid".into(),
                        requester_name: Some("Logbuch-Sammelticket".into()),
                        priority: Priority::Low,
                        actor: None,
                        via: "Mail",
                    },
                    // Not deferred: the savepoint may be rolled back.
                    None,
                )
                .await?;
                if intake::claim_collection(&sp, q.tenant_id, &day, t.id).await? {
                    sp.commit().await?;
                    t.id
                } else {
                    sp.rollback().await?;
                    intake::find_collection(txn, q.tenant_id, &day)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("collection ticket vanished"))?
                }
            }
        };
        batch.collections.insert((q.tenant_id, day), ticket_id);
        let mut row = mail_row(ticket_id, m, self.settings.limits.max_subject_chars);
        row.body_text = Set(format!("{summary}\n\n{}", m.text));
        let document = format!("{}\n{summary}", m.subject);
        messages::insert_indexed(txn, row, &[], Some(&document), Some(&mut batch.writes)).await?;
        batch.added.insert(m.message_id.clone(), ticket_id);
        batch.writes.history(ticket_id, "collected", None, Some(summary.chars().take(300).collect()));
        Ok(ticket_id)
    }
}

/// The queues a mail goes to: the first matching queue per tenant, in the
/// order Delivered-To, To, Cc. When none matches: the default queue of a
/// tenant that alone uses the address's domain, else the Bund's triage queue.
pub(super) fn route<'d>(dir: &'d Directory, m: &ParsedMail) -> AppResult<Vec<&'d queue::Model>> {
    let mut out: Vec<&queue::Model> = Vec::new();
    for addr in m.delivered_to.iter().chain(&m.to).chain(&m.cc) {
        for variant in logbuch_mail::address_variants(addr) {
            if let Some(q) = dir.queue_for_address(&variant) {
                if !out.iter().any(|o| o.tenant_id == q.tenant_id) {
                    out.push(q);
                }
                break;
            }
        }
    }
    if out.is_empty() {
        // Unknown addresses: the default queue of the tenant owning the domain, else the Bund's triage.
        let by_domain = m
            .delivered_to
            .iter()
            .chain(&m.to)
            .chain(&m.cc)
            .find_map(|a| dir.default_queue_for_domain(&a.to_lowercase()));
        out.push(match by_domain {
            Some(q) => q,
            None => dir.bund_default_queue()?,
        });
    }
    Ok(out)
}

fn subject_of(m: &ParsedMail, max: usize) -> String {
    let s: String = m.subject.chars().filter(|c| !c.is_control()).take(max).collect();
    if s.trim().is_empty() { "(ohne Betreff)".into() } else { s }
}

pub(super) fn mail_row(ticket_id: i64, m: &ParsedMail, max_subject: usize) -> message::ActiveModel {
    message::ActiveModel {
        ticket_id: Set(ticket_id),
        kind: Set(MessageKind::Inbound.as_str().to_owned()),
        author_id: Set(None),
        from_addr: Set((!m.from.is_empty()).then(|| m.from.clone())),
        to_addrs: Set(Some(m.to.join(", ")).filter(|s| !s.is_empty())),
        cc_addrs: Set(Some(m.cc.join(", ")).filter(|s| !s.is_empty())),
        subject: Set(Some(subject_of(m, max_subject))),
        message_id_header: Set(Some(m.message_id.clone())),
        in_reply_to: Set(m.in_reply_to.first().cloned()),
        references: Set(Some(m.references.join(" ")).filter(|s| !s.is_empty())),
        body_text: Set(m.text.clone()),
        body_html: Set(m.html.clone()),
        created_at: Set(now()),
        pgp: Set(m.pgp.clone()),
        ..Default::default()
    }
}

async fn append_mail(
    db: &impl ConnectionTrait,
    t: &Ticket,
    m: &ParsedMail,
    max_subject: usize,
    batch: &mut Batch,
) -> AppResult<()> {
    let files: Vec<NewFile> = m
        .attachments
        .iter()
        .map(|a| NewFile {
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            content: a.content.clone(),
        })
        .collect();
    messages::insert_indexed(db, mail_row(t.id, m, max_subject), &files, None, Some(&mut batch.writes)).await?;
    batch.added.insert(m.message_id.clone(), t.id);
    Ok(())
}

async fn reopen(db: &impl ConnectionTrait, dir: &Directory, t: &Ticket) -> AppResult<()> {
    let mut row: ticket::ActiveModel = t.clone().into();
    crate::tickets::status_with_clock(t, &mut row, Status::Open, dir.calendar(t.tenant_id));
    row.updated_at = Set(now());
    logbuch_store::tickets::update(db, row).await?;
    history::record(db, t.id, None, "status", Some(t.status.clone()), Some(Status::Open.as_str().to_owned())).await?;
    Ok(())
}
