//! Working a ticket: take, assign, watchers, priority and status, resolve, reopen.

use super::{Change, Directory};
use crate::views::TicketDetail;
use crate::{AppError, AppResult, Logbuch, Principal};
use logbuch_authz::Target;
use logbuch_domain::{Action, Priority, QueueId, Status};
use logbuch_store::{entity::ticket, tickets, tickets::Ticket, users};
use sea_orm::{ConnectionTrait, Set};
use serde::Deserialize;
use utoipa::ToSchema;

/// Tags to add to and remove from a ticket.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagChange {
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Most tags on one ticket.
const MAX_TAGS: usize = 20;

/// A tag as stored: trimmed, lower case, 1–40 letters, digits, `-` or `_`.
pub(crate) fn tag_of(raw: &str) -> AppResult<String> {
    let tag = raw.trim().trim_start_matches('#').to_lowercase();
    let ok = !tag.is_empty()
        && tag.chars().count() <= 40
        && tag.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(tag)
    } else {
        Err(AppError::validation(
            "tag",
            format!("„{}“ ist kein Schlagwort (1 bis 40 Buchstaben, Ziffern, - oder _).", raw.trim()),
        ))
    }
}

/// Fields to change on a ticket; missing fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketChange {
    /// low, normal, high, urgent.
    pub priority: Option<String>,
    /// new, open, waiting, resolved.
    pub status: Option<String>,
}

fn status_change(t: &Ticket, row: &mut ticket::ActiveModel, to: Status, dir: &Directory) -> Option<Change> {
    if t.status == to.as_str() {
        return None;
    }
    super::status_with_clock(t, row, to, dir.calendar(t.tenant_id));
    Some(("status", Some(t.status.clone()), Some(to.as_str().to_owned())))
}

impl Logbuch {
    /// The caller becomes the owner; a new ticket becomes open.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn take_ticket(&self, who: &Principal, id: i64) -> AppResult<TicketDetail> {
        self.set_owner(who, id, Some(who.user.0), Action::TakeTicket).await
    }

    /// Gives the ticket to someone who may work it (or to nobody).
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn assign_ticket(&self, who: &Principal, id: i64, assignee: Option<&str>) -> AppResult<TicketDetail> {
        let owner = match assignee {
            Some(email) => Some(
                users::find_user_by_email(&self.store.db, email)
                    .await?
                    .filter(|u| u.active)
                    .ok_or_else(|| {
                        AppError::validation("owner", format!("Eine aktive Person „{}“ gibt es nicht.", email.trim()))
                    })?
                    .id,
            ),
            None => None,
        };
        self.set_owner(who, id, owner, Action::AssignTicket).await
    }

    /// Adds and removes tags on a ticket the caller may write notes on; each change on the history.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn change_tags(&self, who: &Principal, id: i64, input: TagChange) -> AppResult<TicketDetail> {
        if input.add.len() + input.remove.len() > MAX_TAGS {
            return Err(AppError::validation("tag", format!("Höchstens {MAX_TAGS} Schlagwörter auf einmal.")));
        }
        let add = input.add.iter().map(|t| tag_of(t)).collect::<AppResult<Vec<_>>>()?;
        let remove = input.remove.iter().map(|t| tag_of(t)).collect::<AppResult<Vec<_>>>()?;
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let t = self.load_ticket(&txn, who, id, Action::AddNote, &dir).await?;
        let mut changed = false;
        for tag in &remove {
            if logbuch_store::tags::remove(&txn, t.id, tag).await? {
                logbuch_store::history::record(&txn, t.id, Some(who.user.0), "tag", Some(tag.clone()), None).await?;
                changed = true;
            }
        }
        for tag in &add {
            if logbuch_store::tags::add(&txn, t.id, tag).await? {
                logbuch_store::history::record(&txn, t.id, Some(who.user.0), "tag", None, Some(tag.clone())).await?;
                changed = true;
            }
        }
        if !changed {
            return Err(AppError::Conflict(format!("Ticket #{id}: nichts zu ändern, die Schlagwörter sind schon so.")));
        }
        if logbuch_store::tags::of_ticket(&txn, t.id).await?.len() > MAX_TAGS {
            return Err(AppError::validation("tag", format!("Ein Ticket trägt höchstens {MAX_TAGS} Schlagwörter.")));
        }
        tickets::touch(&txn, t.id).await?;
        txn.commit().await?;
        self.get_ticket(who, id).await
    }

    /// Whether person `user_id` may take ticket `t`.
    async fn may_take(&self, db: &impl ConnectionTrait, dir: &Directory, t: &Ticket, user_id: i64) -> AppResult<bool> {
        let Some(user) = users::find_user(db, user_id).await?.filter(|u| u.active) else { return Ok(false) };
        let principal = crate::auth::principal_on(db, user).await?;
        let tenant = dir.tenant_ref(t.tenant_id)?;
        Ok(self.authz.allows(
            &principal,
            Action::TakeTicket,
            Target { tenant: &tenant, queue: Some(QueueId(t.queue_id)) },
        ))
    }

    async fn set_owner(&self, who: &Principal, id: i64, owner: Option<i64>, action: Action) -> AppResult<TicketDetail> {
        // Before the transaction: SQLite has one connection, the directory may need it.
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let t = self.load_ticket(&txn, who, id, action, &dir).await?;
        let mut owner = owner;
        let mut covered = None;
        if let Some(o) = owner.filter(|o| *o != who.user.0 && action == Action::AssignTicket)
            && let Some(d) = dir.deputy_of(o)
            && self.may_take(&txn, &dir, &t, d).await?
        {
            // Away: the deputy gets it (if they may work this queue; else it stays as asked).
            covered = Some(o);
            owner = Some(d);
        }
        if let Some(o) = owner.filter(|o| *o != who.user.0)
            && !self.may_take(&txn, &dir, &t, o).await?
        {
            let user = users::find_user(&txn, o)
                .await?
                .ok_or_else(|| AppError::validation("owner", "Diese Person gibt es nicht."))?;
            return Err(AppError::validation(
                "owner",
                format!("{} darf Tickets in {} nicht bearbeiten.", user.email, dir.queue_path(t.queue_id)),
            ));
        }
        let mut row: ticket::ActiveModel = t.clone().into();
        let mut changes = Vec::new();
        if t.owner_id != owner {
            let names =
                super::read::user_refs(&txn, &[t.owner_id, owner].into_iter().flatten().collect::<Vec<_>>()).await?;
            let name = |id: Option<i64>| id.and_then(|i| names.get(&i)).map(|u| u.email.clone());
            changes.push(("owner", name(t.owner_id), name(owner)));
            row.owner_id = Set(owner);
        }
        if owner.is_some() && t.status == Status::New.as_str() {
            changes.extend(status_change(&t, &mut row, Status::Open, &dir));
        }
        if let Some(away) = covered {
            let names = super::read::user_refs(&txn, &[away]).await?;
            let name = names.get(&away).map_or_else(String::new, |u| u.email.clone());
            changes.push(("absence", Some(name), Some("abwesend, an die Vertretung gegeben".to_owned())));
        }
        let saved = self.save_changes(&txn, who, row, t.id, changes).await?;
        let mails = if owner.is_some() && owner != t.owner_id {
            self.notify(&txn, &dir, &saved, crate::outgoing::Notice::Assigned, Some(who.user.0)).await?
        } else {
            Vec::new()
        };
        txn.commit().await?;
        self.dispatch_outbox(&mails).await;
        self.get_ticket(who, id).await
    }

    /// The people who may work this ticket (an owner must be one of them), by name.
    pub async fn assignable_people(&self, who: &Principal, id: i64) -> AppResult<Vec<crate::views::UserRef>> {
        let dir = self.directory().await?;
        let t = self.load_ticket(&self.store.db, who, id, Action::ReadTicket, &dir).await?;
        let tenant = dir.tenant_ref(t.tenant_id)?;
        let target = Target { tenant: &tenant, queue: Some(QueueId(t.queue_id)) };
        Ok(users::with_roles_in(&self.store.db, t.tenant_id)
            .await?
            .into_iter()
            .map(|(u, roles)| crate::auth::principal_of(u, roles))
            .filter(|p| self.authz.allows(p, Action::TakeTicket, target))
            .map(|p| crate::views::UserRef { id: p.user.0, email: p.email, display_name: p.display_name })
            .collect())
    }

    /// Adds (`add`) or removes a watcher by mail address.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn set_watcher(&self, who: &Principal, id: i64, email: &str, add: bool) -> AppResult<TicketDetail> {
        // Before the transaction: SQLite has one connection, the directory may need it.
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let t = self.load_ticket(&txn, who, id, Action::WatchTicket, &dir).await?;
        let user = users::find_user_by_email(&txn, email).await?.filter(|u| u.active).ok_or_else(|| {
            AppError::validation("email", format!("Eine aktive Person „{}“ gibt es nicht.", email.trim()))
        })?;
        let changed = if add {
            tickets::add_watcher(&txn, t.id, user.id).await?
        } else {
            tickets::remove_watcher(&txn, t.id, user.id).await?
        };
        if !changed {
            return Err(AppError::Conflict(if add {
                format!("{} beobachtet Ticket #{id} schon.", user.email)
            } else {
                format!("{} beobachtet Ticket #{id} nicht.", user.email)
            }));
        }
        let change = if add { ("watcher", None, Some(user.email)) } else { ("watcher", Some(user.email), None) };
        self.save_changes(&txn, who, t.clone().into(), t.id, vec![change]).await?;
        txn.commit().await?;
        self.get_ticket(who, id).await
    }

    /// Changes priority and/or status.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn change_ticket(&self, who: &Principal, id: i64, input: TicketChange) -> AppResult<TicketDetail> {
        let priority = input.priority.as_deref().map(str::parse::<Priority>).transpose()?;
        let status = input.status.as_deref().map(str::parse::<Status>).transpose()?;
        if priority.is_none() && status.is_none() {
            return Err(AppError::validation("priority", "Bitte „priority“ und/oder „status“ angeben."));
        }
        // Before the transaction: SQLite has one connection, the directory may need it.
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let t = self.load_ticket(&txn, who, id, Action::ReadTicket, &dir).await?;
        let mut row: ticket::ActiveModel = t.clone().into();
        let mut changes = Vec::new();
        if let Some(p) = priority {
            self.require_on(who, Action::SetPriority, &t, &dir)?;
            if t.priority != p.rank() {
                row.priority = Set(p.rank());
                changes.push((
                    "priority",
                    Some(Priority::from_rank(t.priority).as_str().to_owned()),
                    Some(p.as_str().to_owned()),
                ));
            }
        }
        if let Some(s) = status {
            let action = match (t.status == Status::Resolved.as_str(), s) {
                (false, Status::Resolved) => Action::Resolve,
                (true, to) if to != Status::Resolved => Action::Reopen,
                _ => Action::SetStatus,
            };
            self.require_on(who, action, &t, &dir)?;
            changes.extend(status_change(&t, &mut row, s, &dir));
        }
        self.save_changes(&txn, who, row, t.id, changes).await?;
        txn.commit().await?;
        self.get_ticket(who, id).await
    }

    /// Marks a ticket done; it leaves the working lists.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn resolve_ticket(&self, who: &Principal, id: i64) -> AppResult<TicketDetail> {
        self.move_status(who, id, Action::Resolve, Status::Resolved).await
    }

    /// Opens a resolved ticket again.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn reopen_ticket(&self, who: &Principal, id: i64) -> AppResult<TicketDetail> {
        self.move_status(who, id, Action::Reopen, Status::Open).await
    }

    async fn move_status(&self, who: &Principal, id: i64, action: Action, to: Status) -> AppResult<TicketDetail> {
        // Before the transaction: SQLite has one connection, the directory may need it.
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let t = self.load_ticket(&txn, who, id, action, &dir).await?;
        let resolved = t.status == Status::Resolved.as_str();
        if (action == Action::Resolve) == resolved {
            return Err(AppError::Conflict(if resolved {
                format!("Ticket #{id} ist schon erledigt.")
            } else {
                format!("Ticket #{id} ist nicht erledigt und kann nicht wieder geöffnet werden.")
            }));
        }
        let mut row: ticket::ActiveModel = t.clone().into();
        let changes = status_change(&t, &mut row, to, &dir).into_iter().collect();
        self.save_changes(&txn, who, row, t.id, changes).await?;
        txn.commit().await?;
        self.get_ticket(who, id).await
    }
}
