//! One action on many tickets: each ticket goes through the same use case
//! (and so the same authorization and its own history entry) as when done
//! alone; what was refused is reported per ticket. A ticket the person may
//! not see is refused in the same words as one that does not exist.

use super::{HandOver, TicketChange};
use crate::{AppError, AppResult, Logbuch, Principal};
use logbuch_domain::{Priority, Status};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// At most this many tickets per action.
pub const MAX_BULK: usize = 200;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkAction {
    /// Ticket numbers (duplicates count once).
    pub tickets: Vec<i64>,
    /// take, assign, priority, status, resolve, reopen, move, handover, tag.
    pub action: String,
    /// assign: a mail address (empty: nobody); priority: low…urgent; status: new, open, waiting;
    /// move: a queue slug of the ticket's tenant; handover: a tenant code; tag: a tag to add.
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Refused {
    pub ticket: i64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkResult {
    /// Tickets changed, in the order given.
    pub done: Vec<i64>,
    /// Tickets not changed, each with the reason.
    pub refused: Vec<Refused>,
}

enum Op {
    Take,
    Assign(Option<String>),
    Priority(Priority),
    Status(Status),
    Resolve,
    Reopen,
    Move(String),
    HandOver(String),
    Tag(String),
}

fn op_of(action: &str, value: Option<&str>) -> AppResult<Op> {
    let value = value.map(str::trim);
    let needed = |what: &str| AppError::validation("value", format!("„{action}“ braucht {what} in „value“."));
    Ok(match action.trim() {
        "take" => Op::Take,
        "assign" => Op::Assign(value.filter(|v| !v.is_empty()).map(str::to_owned)),
        "priority" => Op::Priority(value.ok_or_else(|| needed("eine Priorität"))?.parse()?),
        "status" => {
            let s: Status = value.ok_or_else(|| needed("einen Status"))?.parse()?;
            if s == Status::Resolved { Op::Resolve } else { Op::Status(s) }
        }
        "resolve" => Op::Resolve,
        "reopen" => Op::Reopen,
        "move" => Op::Move(value.filter(|v| !v.is_empty()).ok_or_else(|| needed("eine Queue"))?.to_owned()),
        "handover" => Op::HandOver(value.filter(|v| !v.is_empty()).ok_or_else(|| needed("einen Verband"))?.to_owned()),
        "tag" => Op::Tag(super::work::tag_of(value.ok_or_else(|| needed("ein Schlagwort"))?)?),
        other => {
            return Err(AppError::validation(
                "action",
                format!(
                    "„{other}“ ist keine Sammelaktion; möglich: take, assign, priority, status, resolve, reopen, move, handover, tag."
                ),
            ));
        }
    })
}

impl Logbuch {
    /// Applies one action to each of `input.tickets`, one at a time.
    #[tracing::instrument(skip_all, fields(user = %who.user, tickets = input.tickets.len()))]
    pub async fn bulk(&self, who: &Principal, input: BulkAction) -> AppResult<BulkResult> {
        let op = op_of(&input.action, input.value.as_deref())?;
        let mut ids: Vec<i64> = Vec::new();
        for id in input.tickets {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Err(AppError::validation("tickets", "Bitte mindestens ein Ticket auswählen."));
        }
        if ids.len() > MAX_BULK {
            return Err(AppError::validation("tickets", format!("Höchstens {MAX_BULK} Tickets auf einmal.")));
        }
        let mut out = BulkResult { done: Vec::new(), refused: Vec::new() };
        for id in ids {
            let r = match &op {
                Op::Take => self.take_ticket(who, id).await.map(drop),
                Op::Assign(owner) => self.assign_ticket(who, id, owner.as_deref()).await.map(drop),
                Op::Priority(p) => {
                    let change = TicketChange { priority: Some(p.as_str().to_owned()), status: None };
                    self.change_ticket(who, id, change).await.map(drop)
                }
                Op::Status(s) => {
                    let change = TicketChange { priority: None, status: Some(s.as_str().to_owned()) };
                    self.change_ticket(who, id, change).await.map(drop)
                }
                Op::Resolve => self.resolve_ticket(who, id).await.map(drop),
                Op::Reopen => self.reopen_ticket(who, id).await.map(drop),
                Op::Move(q) => self.move_ticket(who, id, q).await.map(drop),
                Op::Tag(tag) => {
                    let change = super::TagChange { add: vec![tag.clone()], remove: Vec::new() };
                    self.change_tags(who, id, change).await.map(drop)
                }
                Op::HandOver(t) => {
                    self.hand_over_ticket(who, id, HandOver { tenant: t.clone(), queue: None }).await.map(drop)
                }
            };
            match r {
                Ok(()) => out.done.push(id),
                Err(AppError::Internal(e)) => return Err(AppError::Internal(e)),
                Err(AppError::NotFound(_)) => out
                    .refused
                    .push(Refused { ticket: id, reason: "Nicht gefunden (oder nicht in Ihrem Bereich).".into() }),
                Err(e) => out.refused.push(Refused { ticket: id, reason: e.to_string() }),
            }
        }
        tracing::info!(done = out.done.len(), refused = out.refused.len(), "bulk action");
        Ok(out)
    }
}
