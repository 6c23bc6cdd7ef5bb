//! Who is told what: coordinators about new and handed-over tickets, the
//! owner about an assignment, owner and watchers about a requester's new
//! message, the requester about a new ticket (acknowledgement). A person is
//! only ever told about a ticket they may read.

use super::compose::defer_drafts;
use super::{Draft, queue_drafts};
use crate::tickets::Directory;
use crate::{AppResult, Logbuch};
use logbuch_authz::Target;
use logbuch_domain::{Action, QueueId};
use logbuch_store::entity::user;
use logbuch_store::tickets::Ticket;
use logbuch_store::{Deferred, tickets, users};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;

/// What happened to a ticket that people should hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice<'a> {
    /// A new ticket. `acknowledge` is the Message-ID of the requester's mail
    /// that opened it: the acknowledgement answers that mail. `None`: no
    /// acknowledgement (a ticket staff opened, or a mail never answered automatically).
    Opened {
        acknowledge: Option<&'a str>,
    },
    Assigned,
    RequesterWrote,
    HandedOver,
    /// A due time passed (told to the queue's people and the owner); `what`
    /// names it for the mail (`breach.what`: "Erste Antwort", "Schritt „…“").
    Breached {
        what: &'a str,
    },
}

/// Who hears of a new ticket, per queue, within one intake batch (the
/// queue's people do not change inside its transaction).
#[derive(Default)]
pub(crate) struct Recipients(HashMap<i64, Vec<String>>);

impl Logbuch {
    /// The people who may read the ticket, of these (their roles read in one go).
    async fn readers(
        &self,
        db: &impl ConnectionTrait,
        dir: &Directory,
        people: Vec<user::Model>,
        t: &Ticket,
    ) -> AppResult<Vec<user::Model>> {
        let ids: Vec<i64> = people.iter().map(|u| u.id).collect();
        let mut rows = users::assignments_of_many(db, &ids).await?;
        let tenant = dir.tenant_ref(t.tenant_id)?;
        let target = Target { tenant: &tenant, queue: Some(QueueId(t.queue_id)) };
        let mut out = Vec::new();
        for u in people {
            let (own, rest): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.user_id == u.id);
            rows = rest;
            let p = crate::auth::principal_of(u.clone(), own);
            if self.authz.allows(&p, Action::ReadTicket, target) {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// Writes the mails a notice causes to the outbox; returns their ids (to dispatch after commit).
    pub(crate) async fn notify(
        &self,
        db: &impl ConnectionTrait,
        dir: &Directory,
        t: &Ticket,
        notice: Notice<'_>,
        actor: Option<i64>,
    ) -> AppResult<Vec<i64>> {
        let to = self.recipients(db, dir, t, notice, actor).await?;
        let drafts = self.notice_drafts(db, dir, t, notice, to, None).await?;
        queue_drafts(self, db, drafts).await
    }

    /// The same inside an intake batch: the mails and the status link go
    /// into the batch's writes (their ids come from its flush), and the
    /// queue's people of a new ticket are looked up once per batch.
    pub(crate) async fn notify_in_batch(
        &self,
        db: &impl ConnectionTrait,
        dir: &Directory,
        t: &Ticket,
        notice: Notice<'_>,
        writes: &mut Deferred,
        known: &mut Recipients,
    ) -> AppResult<()> {
        let to = match (notice, known.0.get(&t.queue_id)) {
            (Notice::Opened { .. }, Some(to)) => to.clone(),
            _ => {
                let to = self.recipients(db, dir, t, notice, None).await?;
                if let Notice::Opened { .. } = notice {
                    known.0.insert(t.queue_id, to.clone());
                }
                to
            }
        };
        let drafts = self.notice_drafts(db, dir, t, notice, to, Some(&mut *writes)).await?;
        defer_drafts(self, writes, drafts)?;
        Ok(())
    }

    /// Who hears of a notice: the people it concerns who may read the
    /// ticket (a deputy for someone away), never the actor; of a new or
    /// handed-over ticket also the queue's extra addresses.
    async fn recipients(
        &self,
        db: &impl ConnectionTrait,
        dir: &Directory,
        t: &Ticket,
        notice: Notice<'_>,
        actor: Option<i64>,
    ) -> AppResult<Vec<String>> {
        let queue = dir.queue(t.queue_id)?;
        let mut people: Vec<user::Model> = match notice {
            Notice::Opened { .. } | Notice::HandedOver => {
                users::holders_in(db, t.tenant_id, t.queue_id, &["helper", "tenant_admin"]).await?
            }
            Notice::Assigned => users::find_users(db, &t.owner_id.into_iter().collect::<Vec<_>>()).await?,
            Notice::Breached { .. } => {
                let mut people = users::holders_in(db, t.tenant_id, t.queue_id, &["helper", "tenant_admin"]).await?;
                for o in users::find_users(db, &t.owner_id.into_iter().collect::<Vec<_>>()).await? {
                    if !people.iter().any(|p| p.id == o.id) {
                        people.push(o);
                    }
                }
                people
            }
            Notice::RequesterWrote => {
                let mut ids = tickets::watchers(db, t.id).await?;
                ids.extend(t.owner_id);
                users::find_users(db, &ids).await?
            }
        };
        // Someone away is covered by their deputy (who must still be allowed to read the ticket).
        let deputies: Vec<i64> = people.iter().filter_map(|u| dir.deputy_of(u.id)).collect();
        if !deputies.is_empty() {
            people.retain(|u| dir.deputy_of(u.id).is_none());
            for d in users::find_users(db, &deputies).await? {
                if !people.iter().any(|p| p.id == d.id) {
                    people.push(d);
                }
            }
        }
        people.retain(|u| Some(u.id) != actor);
        let mut to: Vec<String> = Vec::new();
        for u in self.readers(db, dir, people, t).await? {
            if !to.contains(&u.email) {
                to.push(u.email);
            }
        }
        if matches!(notice, Notice::Opened { .. } | Notice::HandedOver) {
            for a in queue.notify.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|a| a.contains('@')) {
                if !to.iter().any(|t| t == a) {
                    to.push(a.to_owned());
                }
            }
        }
        Ok(to)
    }

    /// The mails of a notice to `to`, and of a new ticket the requester's
    /// acknowledgement (with a fresh status link, written to `writes` when given).
    async fn notice_drafts(
        &self,
        db: &impl ConnectionTrait,
        dir: &Directory,
        t: &Ticket,
        notice: Notice<'_>,
        to: Vec<String>,
        writes: Option<&mut Deferred>,
    ) -> AppResult<Vec<Draft>> {
        let queue = dir.queue(t.queue_id)?;
        let tenant = dir.tenant(t.tenant_id)?;
        let from = dir.queue_address(queue.id).unwrap_or_else(|| self.fallback_from());
        let mut ctx = self.context_of(dir, t)?;
        if let Notice::Breached { what } = notice {
            ctx = minijinja::context! { breach => minijinja::context! { what => what }, ..ctx };
        }
        let name = match notice {
            Notice::Opened { .. } => "notification.opened",
            Notice::Assigned => "notification.assigned",
            Notice::RequesterWrote => "notification.requester_wrote",
            Notice::HandedOver => "notification.handed_over",
            Notice::Breached { .. } => "notification.breached",
        };
        let mut drafts = Vec::new();
        if !to.is_empty()
            && let Some((subject, body, html)) = self.render_for(dir, name, &ctx, t.tenant_id)
        {
            // One mail per person: nobody sees who else was told.
            for addr in to {
                drafts.push(Draft {
                    ticket_id: Some(t.id),
                    kind: "notification",
                    from_name: format!("Logbuch {}", queue.name),
                    from: from.clone(),
                    to: vec![addr],
                    subject: subject.clone(),
                    body: body.clone(),
                    html: html.clone(),
                    in_reply_to: None,
                    references: Vec::new(),
                    automatic: true,
                    limited: false,
                    message_id: None,
                    seal: None,
                });
            }
        }
        if let Notice::Opened { acknowledge: Some(first_id) } = notice
            && queue.acknowledge
            && dir.queue_for_address(&t.requester).is_none()
        {
            // The personal link to the status page, when the requester's side is on.
            let link = match (self.settings.portal.enabled, writes) {
                (false, _) => String::new(),
                (true, Some(w)) => self.new_portal_link_deferred(w, t.id, &t.requester),
                (true, None) => self.new_portal_link(db, t.id, &t.requester).await?,
            };
            let ctx = crate::portal::with_link(ctx.clone(), &link);
            let Some((subject, body, html)) = self.render_for(dir, "acknowledgement", &ctx, t.tenant_id) else {
                return Ok(drafts);
            };
            drafts.push(Draft {
                ticket_id: Some(t.id),
                kind: "acknowledgement",
                from_name: tenant.name.clone(),
                from,
                to: vec![t.requester.clone()],
                subject,
                body,
                html,
                in_reply_to: Some(first_id.to_owned()),
                references: vec![first_id.to_owned()],
                automatic: true,
                limited: true,
                message_id: None,
                seal: None,
            });
        }
        Ok(drafts)
    }

    pub(crate) fn fallback_from(&self) -> String {
        format!("noreply@{}", super::compose::host_of(&self.settings.server.public_url))
    }
}
