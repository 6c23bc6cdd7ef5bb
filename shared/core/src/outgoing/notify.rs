//! Who is told what: coordinators about new and handed-over tickets, the
//! owner about an assignment, owner and watchers about a requester's new
//! message, the requester about a new ticket (acknowledgement). A person is
//! only ever told about a ticket they may read.

use super::{Draft, queue_draft};
use crate::tickets::Directory;
use crate::{AppResult, Logbuch};
use logbuch_authz::Target;
use logbuch_domain::{Action, QueueId};
use logbuch_store::entity::user;
use logbuch_store::tickets::Ticket;
use logbuch_store::{tickets, users};
use sea_orm::ConnectionTrait;

/// What happened to a ticket that people should hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    /// A new ticket; `acknowledge` also answers the requester.
    Opened {
        acknowledge: bool,
    },
    Assigned,
    RequesterWrote,
    HandedOver,
}

impl Logbuch {
    /// May this person read the ticket? (Checked for every recipient.)
    async fn may_read(
        &self,
        db: &impl ConnectionTrait,
        dir: &Directory,
        u: user::Model,
        t: &Ticket,
    ) -> AppResult<bool> {
        let p = crate::auth::principal_on(db, u).await?;
        let tenant = dir.tenant_ref(t.tenant_id)?;
        Ok(self.authz.allows(&p, Action::ReadTicket, Target { tenant: &tenant, queue: Some(QueueId(t.queue_id)) }))
    }

    /// Writes the mails a notice causes to the outbox; returns their ids (to dispatch after commit).
    pub(crate) async fn notify(
        &self,
        db: &impl ConnectionTrait,
        dir: &Directory,
        t: &Ticket,
        notice: Notice,
        actor: Option<i64>,
    ) -> AppResult<Vec<i64>> {
        let queue = dir.queue(t.queue_id)?;
        let tenant = dir.tenant(t.tenant_id)?;
        let from = dir.queue_address(queue.id).unwrap_or_else(|| self.fallback_from());
        let mut people: Vec<user::Model> = match notice {
            Notice::Opened { .. } | Notice::HandedOver => {
                users::holders_in(db, t.tenant_id, t.queue_id, &["helper", "tenant_admin"]).await?
            }
            Notice::Assigned => users::find_users(db, &t.owner_id.into_iter().collect::<Vec<_>>()).await?,
            Notice::RequesterWrote => {
                let mut ids = tickets::watchers(db, t.id).await?;
                ids.extend(t.owner_id);
                users::find_users(db, &ids).await?
            }
        };
        people.retain(|u| Some(u.id) != actor);
        let mut to: Vec<String> = Vec::new();
        for u in people {
            let email = u.email.clone();
            if !to.contains(&email) && self.may_read(db, dir, u, t).await? {
                to.push(email);
            }
        }
        if matches!(notice, Notice::Opened { .. } | Notice::HandedOver) {
            for a in queue.notify.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|a| a.contains('@')) {
                if !to.iter().any(|t| t == a) {
                    to.push(a.to_owned());
                }
            }
        }
        let ctx = self.context_of(dir, t)?;
        let name = match notice {
            Notice::Opened { .. } => "notification.opened",
            Notice::Assigned => "notification.assigned",
            Notice::RequesterWrote => "notification.requester_wrote",
            Notice::HandedOver => "notification.handed_over",
        };
        let mut ids = Vec::new();
        if !to.is_empty()
            && let Some((subject, body, html)) = self.render_for(dir, name, &ctx, t.tenant_id)
        {
            // One mail per person: nobody sees who else was told.
            for addr in to {
                let draft = Draft {
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
                };
                ids.extend(queue_draft(self, db, draft).await?);
            }
        }
        if let Notice::Opened { acknowledge: true } = notice
            && queue.acknowledge
            && dir.queue_for_address(&t.requester).is_none()
            && let Some((subject, body, html)) = self.render_for(dir, "acknowledgement", &ctx, t.tenant_id)
        {
            let inbound = logbuch_store::messages::of_ticket(db, t.id).await?;
            let first_id = inbound.iter().find_map(|m| m.message_id_header.clone());
            let draft = Draft {
                ticket_id: Some(t.id),
                kind: "acknowledgement",
                from_name: tenant.name.clone(),
                from,
                to: vec![t.requester.clone()],
                subject,
                body,
                html,
                in_reply_to: first_id.clone(),
                references: first_id.into_iter().collect(),
                automatic: true,
                limited: true,
                message_id: None,
            };
            ids.extend(queue_draft(self, db, draft).await?);
        }
        Ok(ids)
    }

    pub(crate) fn fallback_from(&self) -> String {
        format!("noreply@{}", super::compose::host_of(&self.settings.server.public_url))
    }
}
