//! Processes started on tickets and their steps, and absences with a deputy.
//! A step is done once (compare-and-set on `done_at`), so two people, or a
//! person and the requester's answer, never both finish it.

use crate::entity::{absence, process_step, ticket_process};
use crate::{Result, now};
use chrono::{DateTime, Utc};
use logbuch_config::ResolvedProcess;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

pub use absence::Model as Absence;
pub use process_step::Model as Step;
pub use ticket_process::Model as Process;

/// Starts `spec` on a ticket; the first step is due at `first_due`.
pub async fn start(
    db: &impl ConnectionTrait,
    ticket_id: i64,
    spec: &ResolvedProcess,
    by: i64,
    first_due: Option<DateTime<Utc>>,
) -> Result<Process> {
    let p = ticket_process::ActiveModel {
        ticket_id: Set(ticket_id),
        slug: Set(spec.slug.clone()),
        name: Set(spec.name.clone()),
        started_at: Set(now()),
        started_by: Set(Some(by)),
        completed_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let rows = spec.steps.iter().enumerate().map(|(i, s)| process_step::ActiveModel {
        process_id: Set(p.id),
        ticket_id: Set(ticket_id),
        position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
        name: Set(s.name.clone()),
        send: Set(s.send.clone()),
        wait_requester: Set(s.wait_for_requester),
        evidence_label: Set(s.evidence.clone()),
        deadline_minutes: Set(s.deadline_minutes),
        due_at: Set(if i == 0 { first_due } else { None }),
        done_at: Set(None),
        done_by: Set(None),
        done_label: Set(None),
        evidence: Set(None),
        ..Default::default()
    });
    process_step::Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(p)
}

/// A ticket's processes, oldest first, each with its steps in order.
pub async fn of_ticket(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<(Process, Vec<Step>)>> {
    let processes = ticket_process::Entity::find()
        .filter(ticket_process::Column::TicketId.eq(ticket_id))
        .order_by_asc(ticket_process::Column::Id)
        .all(db)
        .await?;
    if processes.is_empty() {
        return Ok(Vec::new());
    }
    let mut steps = process_step::Entity::find()
        .filter(process_step::Column::TicketId.eq(ticket_id))
        .order_by_asc(process_step::Column::ProcessId)
        .order_by_asc(process_step::Column::Position)
        .all(db)
        .await?;
    Ok(processes
        .into_iter()
        .map(|p| {
            let (own, rest): (Vec<Step>, Vec<Step>) =
                std::mem::take(&mut steps).into_iter().partition(|s| s.process_id == p.id);
            steps = rest;
            (p, own)
        })
        .collect())
}

/// The names of these processes, by id.
pub async fn names(db: &impl ConnectionTrait, ids: &[i64]) -> Result<std::collections::HashMap<i64, String>> {
    Ok(ticket_process::Entity::find()
        .select_only()
        .columns([ticket_process::Column::Id, ticket_process::Column::Name])
        .filter(ticket_process::Column::Id.is_in(ids.iter().copied()))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The step a running process of the ticket waits at for the requester's answer, if any.
pub async fn waiting_for_requester(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<Step>> {
    let open = process_step::Entity::find()
        .filter(process_step::Column::TicketId.eq(ticket_id))
        .filter(process_step::Column::DoneAt.is_null())
        .order_by_asc(process_step::Column::ProcessId)
        .order_by_asc(process_step::Column::Position)
        .all(db)
        .await?;
    let mut current: Vec<Step> = Vec::new();
    for s in open {
        if !current.iter().any(|c| c.process_id == s.process_id) {
            current.push(s);
        }
    }
    current.retain(|s| s.wait_requester);
    Ok(current)
}

/// Marks a step done; false when someone else did it first.
pub async fn mark_done(
    db: &impl ConnectionTrait,
    step_id: i64,
    by: Option<i64>,
    label: Option<String>,
    evidence: Option<String>,
) -> Result<bool> {
    let r = process_step::Entity::update_many()
        .col_expr(process_step::Column::DoneAt, Expr::value(now()))
        .col_expr(process_step::Column::DoneBy, Expr::value(by))
        .col_expr(process_step::Column::DoneLabel, Expr::value(label))
        .col_expr(process_step::Column::Evidence, Expr::value(evidence))
        .filter(process_step::Column::Id.eq(step_id))
        .filter(process_step::Column::DoneAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// The step after `position` in the process, to make it due.
pub async fn next_step(db: &impl ConnectionTrait, process_id: i64, position: i32) -> Result<Option<Step>> {
    Ok(process_step::Entity::find()
        .filter(process_step::Column::ProcessId.eq(process_id))
        .filter(process_step::Column::Position.gt(position))
        .order_by_asc(process_step::Column::Position)
        .one(db)
        .await?)
}

pub async fn set_due(db: &impl ConnectionTrait, step_id: i64, due: Option<DateTime<Utc>>) -> Result<()> {
    process_step::Entity::update_many()
        .col_expr(process_step::Column::DueAt, Expr::value(due))
        .filter(process_step::Column::Id.eq(step_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn complete(db: &impl ConnectionTrait, process_id: i64) -> Result<()> {
    ticket_process::Entity::update_many()
        .col_expr(ticket_process::Column::CompletedAt, Expr::value(now()))
        .filter(ticket_process::Column::Id.eq(process_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Current steps past their due time, earliest first (the current step of a
/// process is the only one with a due time and no `done_at`); with
/// `unrecorded`, only those without a breach row yet.
pub async fn overdue(db: &impl ConnectionTrait, now: DateTime<Utc>, unrecorded: bool, limit: u64) -> Result<Vec<Step>> {
    let mut q = process_step::Entity::find()
        .filter(process_step::Column::DoneAt.is_null())
        .filter(process_step::Column::DueAt.lt(now));
    if unrecorded {
        q = q.filter(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM sla_breaches b WHERE b.ticket_id = process_steps.ticket_id \
             AND b.clock = 'step-' || process_steps.id)",
        ));
    }
    Ok(q.order_by_asc(process_step::Column::DueAt).limit(limit).all(db).await?)
}

/// Every recorded absence (a handful; the directory caches them).
pub async fn absences(db: &impl ConnectionTrait) -> Result<Vec<Absence>> {
    Ok(absence::Entity::find().all(db).await?)
}

/// Records (or replaces) a person's absence.
pub async fn set_absence(
    db: &impl ConnectionTrait,
    user_id: i64,
    deputy_id: i64,
    from: &str,
    until: &str,
) -> Result<()> {
    absence::Entity::delete_by_id(user_id).exec(db).await?;
    absence::ActiveModel {
        user_id: Set(user_id),
        deputy_id: Set(deputy_id),
        from_day: Set(from.to_owned()),
        until_day: Set(until.to_owned()),
        created_at: Set(now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn clear_absence(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(absence::Entity::delete_by_id(user_id).exec(db).await?.rows_affected == 1)
}
