//! Processes on tickets: a list of steps (send a canned response, wait for
//! the requester, note the evidence) with deadlines in business time. Staff
//! start one on a ticket and tick its steps off; a step that waits for the
//! requester is ticked off by their answer from the ticket's address only.
//! An overdue step counts as a breach, recorded and notified once.

use crate::outgoing::Notice;
use crate::tickets::{Directory, NewMessage};
use crate::views::{OverdueStep, ProcessChoice, ProcessView, StepView, TicketDetail, UserRef};
use crate::{AppError, AppResult, Logbuch, Principal};
use chrono::{DateTime, Utc};
use logbuch_domain::{Action, MessageKind, Status};
use logbuch_store::processes::{self, Step};
use logbuch_store::{history, tickets, tickets::Ticket};
use sea_orm::DatabaseTransaction;
use std::collections::HashMap;

/// Longest evidence note (a booking reference, a ticket number, a short sentence).
const MAX_EVIDENCE_CHARS: usize = 500;
/// Overdue steps looked at per breach round and shown on the start page.
const ROUND: u64 = 200;

/// Who finished a step: a person (with the evidence they noted), or the requester's mail.
enum Doer<'a> {
    Person(&'a Principal, Option<&'a str>),
    Requester(String),
}

impl Logbuch {
    /// Starts the tenant's process `slug` on ticket `id`; its first step is due
    /// after its deadline in the tenant's business time.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn start_process(&self, who: &Principal, id: i64, slug: &str) -> AppResult<TicketDetail> {
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let t = self.load_ticket(&txn, who, id, Action::AddReply, &dir).await?;
        let spec = dir.processes(t.tenant_id).iter().find(|p| p.slug == slug.trim()).ok_or_else(|| {
            let known: Vec<&str> = dir.processes(t.tenant_id).iter().map(|p| p.slug.as_str()).collect();
            AppError::validation(
                "process",
                format!("Den Ablauf „{}“ gibt es hier nicht; möglich: {}.", slug.trim(), known.join(", ")),
            )
        })?;
        if t.status == Status::Resolved.as_str() {
            return Err(AppError::Conflict(format!("Ticket #{id} ist erledigt; öffnen Sie es zuerst wieder.")));
        }
        let running = processes::of_ticket(&txn, t.id).await?;
        if running.iter().any(|(p, _)| p.slug == spec.slug && p.completed_at.is_none()) {
            return Err(AppError::Conflict(format!("Auf Ticket #{id} läuft der Ablauf „{}“ schon.", spec.name)));
        }
        let now = logbuch_store::now();
        let cal = dir.calendar(t.tenant_id);
        let first_due =
            spec.steps.first().and_then(|s| s.deadline_minutes).map(|m| cal.add_business_minutes(now, i64::from(m)));
        processes::start(&txn, t.id, spec, who.user.0, first_due).await?;
        history::record(
            &txn,
            t.id,
            Some(who.user.0),
            "process",
            None,
            Some(format!("Ablauf „{}“ begonnen", spec.name)),
        )
        .await?;
        tickets::touch(&txn, t.id).await?;
        txn.commit().await?;
        self.get_ticket(who, id).await
    }

    /// Ticks off the current step `step_id` of a process on ticket `id`:
    /// sends its canned response, records who did it and the evidence, and
    /// makes the next step due (or completes the process).
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id, step = step_id))]
    pub async fn complete_step(
        &self,
        who: &Principal,
        id: i64,
        step_id: i64,
        evidence: Option<String>,
    ) -> AppResult<TicketDetail> {
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let t = self.load_ticket(&txn, who, id, Action::AddReply, &dir).await?;
        let all = processes::of_ticket(&txn, t.id).await?;
        let not_found = || AppError::NotFound(format!("Ticket #{id} hat keinen Schritt {step_id}."));
        let (process, steps) = all.iter().find(|(_, s)| s.iter().any(|s| s.id == step_id)).ok_or_else(not_found)?;
        let step = steps.iter().find(|s| s.id == step_id).ok_or_else(not_found)?;
        if step.done_at.is_some() {
            return Err(AppError::Conflict(format!("Der Schritt „{}“ ist schon erledigt.", step.name)));
        }
        if let Some(before) = steps.iter().find(|s| s.done_at.is_none() && s.position < step.position) {
            return Err(AppError::Conflict(format!(
                "Erst ist „{}“ dran; die Schritte von „{}“ gehen der Reihe nach.",
                before.name, process.name
            )));
        }
        if step.wait_requester {
            return Err(AppError::Conflict(format!(
                "Dieser Schritt erledigt sich mit der Antwort von {} auf das Ticket; eine Antwort von einer anderen \
                 Adresse zählt nicht.",
                t.requester
            )));
        }
        let evidence = evidence.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
        if let Some(label) = &step.evidence_label {
            let Some(e) = &evidence else {
                return Err(AppError::validation(
                    "evidence",
                    format!("Ohne Nachweis kein Abschluss: bitte „{label}“ angeben."),
                ));
            };
            if e.chars().count() > MAX_EVIDENCE_CHARS {
                return Err(AppError::validation(
                    "evidence",
                    format!("Der Nachweis ist länger als {MAX_EVIDENCE_CHARS} Zeichen."),
                ));
            }
        }
        let mut mails = Vec::new();
        if let Some(name) = &step.send {
            let input =
                NewMessage { body: String::new(), canned: Some(name.clone()), attachments: Vec::new(), seen: None };
            mails.extend(self.write_message(&txn, &dir, who, &t, input, MessageKind::Outbound).await?);
        }
        if !processes::mark_done(&txn, step.id, Some(who.user.0), None, evidence.clone()).await? {
            return Err(AppError::Conflict(format!("Der Schritt „{}“ ist schon erledigt.", step.name)));
        }
        self.advance(&txn, &dir, &t, process, step, &Doer::Person(who, evidence.as_deref())).await?;
        if step.send.is_none() {
            tickets::touch(&txn, t.id).await?;
        }
        txn.commit().await?;
        self.dispatch_outbox(&mails).await;
        self.get_ticket(who, id).await
    }

    /// Mail (or a status-page message) from `from` arrived on ticket `t`:
    /// if it is the requester's own address, the steps waiting for their
    /// answer are done. Any other sender changes nothing.
    pub(crate) async fn requester_answered(
        &self,
        txn: &DatabaseTransaction,
        dir: &Directory,
        t: &Ticket,
        from: &str,
    ) -> AppResult<()> {
        if from.trim().is_empty() || !from.trim().eq_ignore_ascii_case(t.requester.trim()) {
            return Ok(());
        }
        for step in processes::waiting_for_requester(txn, t.id).await? {
            let label = format!("{} (Antwort)", t.requester);
            if !processes::mark_done(txn, step.id, None, Some(label.clone()), None).await? {
                continue;
            }
            let all = processes::of_ticket(txn, t.id).await?;
            if let Some((process, _)) = all.iter().find(|(p, _)| p.id == step.process_id) {
                self.advance(txn, dir, t, process, &step, &Doer::Requester(label)).await?;
            }
        }
        Ok(())
    }

    /// After `step` is done: the history says so, the next step becomes due
    /// or the process is complete.
    async fn advance(
        &self,
        txn: &DatabaseTransaction,
        dir: &Directory,
        t: &Ticket,
        process: &processes::Process,
        step: &Step,
        by: &Doer<'_>,
    ) -> AppResult<()> {
        let evidence = if let Doer::Person(_, e) = by { *e } else { None };
        let what = match evidence {
            Some(e) => format!("{}: „{}“ erledigt, Nachweis: {e}", process.name, step.name),
            None => format!("{}: „{}“ erledigt", process.name, step.name),
        };
        match by {
            Doer::Person(who, _) => history::record(txn, t.id, Some(who.user.0), "process", None, Some(what)).await?,
            Doer::Requester(label) => history::record_by(txn, t.id, label, "process", None, Some(what)).await?,
        }
        match processes::next_step(txn, process.id, step.position).await? {
            Some(next) => {
                let now = logbuch_store::now();
                let due =
                    next.deadline_minutes.map(|m| dir.calendar(t.tenant_id).add_business_minutes(now, i64::from(m)));
                processes::set_due(txn, next.id, due).await?;
                if next.wait_requester
                    && let Doer::Person(who, _) = by
                {
                    self.wait_on_requester(txn, dir, who, t.id).await?;
                }
            }
            None => {
                processes::complete(txn, process.id).await?;
                let done = format!("Ablauf „{}“ abgeschlossen", process.name);
                history::record(txn, t.id, None, "process", None, Some(done)).await?;
            }
        }
        Ok(())
    }

    /// The process now waits on the requester: so does the ticket (its clocks pause).
    async fn wait_on_requester(
        &self,
        txn: &DatabaseTransaction,
        dir: &Directory,
        who: &Principal,
        id: i64,
    ) -> AppResult<()> {
        let Some(t) = tickets::find(txn, id).await? else { return Ok(()) };
        if t.status == Status::Waiting.as_str() || t.status == Status::Resolved.as_str() {
            return Ok(());
        }
        let mut row: logbuch_store::entity::ticket::ActiveModel = t.clone().into();
        crate::tickets::status_with_clock(&t, &mut row, Status::Waiting, dir.calendar(t.tenant_id));
        let change = ("status", Some(t.status.clone()), Some(Status::Waiting.as_str().to_owned()));
        self.save_changes(txn, who, row, id, vec![change]).await?;
        Ok(())
    }

    /// Overdue process steps on open tickets the caller may read, earliest first.
    pub async fn overdue_steps(&self, who: &Principal) -> AppResult<Vec<OverdueStep>> {
        let db = &self.store.db;
        let dir = self.directory().await?;
        let steps = processes::overdue(db, logbuch_store::now(), false, ROUND).await?;
        let names = processes::names(db, &steps.iter().map(|s| s.process_id).collect::<Vec<_>>()).await?;
        let mut out = Vec::new();
        for s in steps {
            let Some(due_at) = s.due_at else { continue };
            let t = match self.load_ticket(db, who, s.ticket_id, Action::ReadTicket, &dir).await {
                Ok(t) if t.status != Status::Resolved.as_str() => t,
                Ok(_) | Err(AppError::NotFound(_) | AppError::Forbidden(_)) => continue,
                Err(e) => return Err(e),
            };
            out.push(OverdueStep {
                ticket: t.id,
                subject: t.subject,
                tenant: dir.tenant(t.tenant_id)?.code.clone(),
                process: names.get(&s.process_id).cloned().unwrap_or_default(),
                step: s.name,
                due_at,
            });
        }
        Ok(out)
    }

    /// Overdue steps not yet recorded as breaches: each gets one, on the
    /// history and notified once (the breach row decides, as for tickets).
    pub(crate) async fn record_step_breaches(&self, now: DateTime<Utc>) -> AppResult<usize> {
        let dir = self.directory().await?;
        let steps = processes::overdue(&self.store.db, now, true, ROUND).await?;
        let mut recorded = 0;
        for s in steps {
            let Some(due) = s.due_at else { continue };
            let txn = logbuch_store::begin_write(&self.store.db).await?;
            let Some(t) = tickets::find(&txn, s.ticket_id).await? else {
                txn.rollback().await?;
                continue;
            };
            if t.status == Status::Resolved.as_str()
                || !tickets::record_breach(&txn, t.id, &step_clock(s.id), due).await?
            {
                txn.rollback().await?;
                continue;
            }
            let when = logbuch_domain::calendar::utc_to_berlin(due).format("%d.%m.%Y %H:%M");
            history::record_at(
                &txn,
                t.id,
                None,
                now,
                "breach",
                None,
                Some(format!("Schritt „{}“ war fällig am {when}", s.name)),
            )
            .await?;
            let what = format!("Schritt „{}“", s.name);
            let mails = self.notify(&txn, &dir, &t, Notice::Breached { what: &what }, None).await?;
            txn.commit().await?;
            self.dispatch_outbox(&mails).await;
            recorded += 1;
        }
        Ok(recorded)
    }
}

/// The processes on a ticket as shown, and those one may start.
pub(crate) fn process_views(
    dir: &Directory,
    t: &Ticket,
    running: Vec<(processes::Process, Vec<Step>)>,
    people: &HashMap<i64, UserRef>,
) -> (Vec<ProcessView>, Vec<ProcessChoice>) {
    let now = logbuch_store::now();
    let views: Vec<ProcessView> = running
        .into_iter()
        .map(|(p, steps)| {
            let current = steps.iter().find(|s| s.done_at.is_none()).map(|s| s.id);
            ProcessView {
                id: p.id,
                slug: p.slug,
                name: p.name,
                started_at: p.started_at,
                started_by: p.started_by.and_then(|u| people.get(&u).cloned()),
                completed_at: p.completed_at,
                steps: steps
                    .into_iter()
                    .map(|s| {
                        let state = if s.done_at.is_some() {
                            "done"
                        } else if Some(s.id) == current {
                            "current"
                        } else {
                            "pending"
                        };
                        StepView {
                            id: s.id,
                            position: s.position + 1,
                            name: s.name,
                            state: state.to_owned(),
                            send: s.send,
                            wait_for_requester: s.wait_requester,
                            evidence_label: s.evidence_label,
                            overdue: state == "current" && s.due_at.is_some_and(|d| d < now),
                            due_at: s.due_at,
                            done_at: s.done_at,
                            done_by: s.done_by.and_then(|u| people.get(&u).cloned()),
                            done_label: s.done_label,
                            evidence: s.evidence,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let choices = dir
        .processes(t.tenant_id)
        .iter()
        .filter(|p| !views.iter().any(|v| v.slug == p.slug && v.completed_at.is_none()))
        .map(|p| ProcessChoice { slug: p.slug.clone(), name: p.name.clone() })
        .collect();
    (views, choices)
}

/// The breach clock of a process step (beside `first_response` and `resolution`).
pub(crate) fn step_clock(step_id: i64) -> String {
    format!("step-{step_id}")
}
