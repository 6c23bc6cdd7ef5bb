//! Ticket use cases. Each public method checks authorization first (through
//! [`Logbuch::load_ticket`] or a scope), changes the ticket in one
//! transaction, and writes a history entry for every field it changes.

mod bulk;
mod create;
mod directory;
mod messages;
mod read;
mod route;
mod work;

pub use bulk::{BulkAction, BulkResult, MAX_BULK, Refused};
pub use create::{NewFile, NewTicket};
pub use messages::NewMessage;
pub use read::ListQuery;
pub use route::HandOver;
pub use work::{TagChange, TicketChange};

pub(crate) use create::{NewTicketRow, open_ticket, validate_address, validate_subject};
pub(crate) use directory::Directory;
pub(crate) use read::user_refs;

use crate::{AppError, AppResult, Logbuch, Principal};
use chrono::{DateTime, Utc};
use logbuch_authz::Target;
use logbuch_domain::calendar::Calendar;
use logbuch_domain::{Action, QueueId, Status};
use logbuch_store::{entity::ticket, history, tickets, tickets::Ticket};
use sea_orm::{ConnectionTrait, Set};

/// German words for actions, used in "you may not …" messages.
pub fn action_label(a: Action) -> &'static str {
    match a {
        Action::ReadTicket => "Tickets lesen",
        Action::CreateTicket => "Tickets anlegen",
        Action::TakeTicket => "Tickets übernehmen",
        Action::AssignTicket => "Tickets zuweisen",
        Action::WatchTicket => "Beobachter ändern",
        Action::SetPriority => "die Priorität ändern",
        Action::SetStatus => "den Status ändern",
        Action::MoveQueue => "Tickets in eine andere Queue verschieben",
        Action::HandOver => "Tickets an einen anderen Verband übergeben",
        Action::HandBack => "Tickets an den Bund zurückgeben",
        Action::AddNote => "interne Notizen schreiben",
        Action::AddReply => "Antworten schreiben",
        Action::Resolve => "Tickets erledigen",
        Action::Reopen => "Tickets wieder öffnen",
        Action::ManageQueues => "Queues verwalten",
        Action::ManageUsers => "Personen verwalten",
        Action::ManageIntake => "den Mail-Eingang verwalten",
        Action::ReadReports => "Berichte sehen",
        Action::ManageMemberData => "Mitgliederdaten verwalten (Sperrvermerk, Zugriffsprotokoll, Auskunft, Löschung)",
    }
}

/// A queue's due times for a ticket created at `created`, in business time.
pub(crate) fn due_times(
    cal: &Calendar,
    queue: &logbuch_store::entity::queue::Model,
    created: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let due = |m: Option<i32>| m.map(|m| cal.add_business_minutes(created, i64::from(m)));
    (due(queue.first_response_minutes), due(queue.resolution_minutes))
}

/// A status change with what it does to the resolution time and the
/// clocks (the one place a ticket's status is set): waiting on the
/// requester pauses them (from now), leaving waiting moves each due time
/// on by the business time that was left when the pause began (a due time
/// already passed then stays).
pub(crate) fn status_with_clock(t: &Ticket, row: &mut ticket::ActiveModel, to: Status, cal: &Calendar) {
    let at = logbuch_store::now();
    let waiting = Status::Waiting.as_str();
    row.status = Set(to.as_str().to_owned());
    row.resolved_at = Set((to == Status::Resolved).then_some(at));
    if to == Status::Waiting && t.status != waiting {
        row.waiting_since = Set(Some(at));
    } else if to != Status::Waiting && t.status == waiting {
        row.waiting_since = Set(None);
        if let Some(since) = t.waiting_since {
            let resume = |due: Option<DateTime<Utc>>| {
                due.map(|d| {
                    if d > since { cal.add_business_minutes(at, cal.business_minutes_between(since, d)) } else { d }
                })
            };
            if t.first_responded_at.is_none() {
                row.first_response_due = Set(resume(t.first_response_due));
            }
            row.resolution_due = Set(resume(t.resolution_due));
        }
    }
}

/// One field change for the history: field, old value, new value.
pub(crate) type Change = (&'static str, Option<String>, Option<String>);

impl Logbuch {
    /// Loads a ticket the caller may read (else 404) and checks `action` on it (else 403).
    pub(crate) async fn load_ticket(
        &self,
        db: &impl ConnectionTrait,
        who: &Principal,
        id: i64,
        action: Action,
        dir: &Directory,
    ) -> AppResult<Ticket> {
        let scope = self.authz.scope(who, Action::ReadTicket, &dir.tenant_refs());
        let lock = action != Action::ReadTicket;
        let t = tickets::find_scoped(db, &scope, id, lock).await?.ok_or_else(|| AppError::ticket_not_found(id))?;
        self.require_on(who, action, &t, dir)?;
        Ok(t)
    }

    /// Checks `action` on a ticket already loaded through the caller's scope.
    pub(crate) fn require_on(&self, who: &Principal, action: Action, t: &Ticket, dir: &Directory) -> AppResult<()> {
        let tenant = dir.tenant_ref(t.tenant_id)?;
        if self.authz.allows(who, action, Target { tenant: &tenant, queue: Some(QueueId(t.queue_id)) }) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("Sie dürfen bei Ticket #{} nicht {}.", t.id, action_label(action))))
        }
    }

    /// Writes the changed ticket and one history entry per change. Nothing
    /// changes a ticket except through here (or ticket creation).
    pub(crate) async fn save_changes(
        &self,
        db: &impl ConnectionTrait,
        who: &Principal,
        mut row: ticket::ActiveModel,
        id: i64,
        changes: Vec<Change>,
    ) -> AppResult<Ticket> {
        if changes.is_empty() {
            return Err(AppError::Conflict(format!("Ticket #{id}: nichts zu ändern, der Wert ist schon so.")));
        }
        row.updated_at = Set(logbuch_store::now());
        let saved = tickets::update(db, row).await?;
        for (field, old, new) in changes {
            history::record(db, id, Some(who.user.0), field, old, new).await?;
        }
        Ok(saved)
    }
}
