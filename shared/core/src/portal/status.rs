//! The status page: reached by a personal link (from the acknowledgement or
//! asked for at `/status` with ticket number and mail address). The
//! requester sees the public exchange, who works the ticket and who opened
//! it, replies with files, and closes or reopens the request; every action
//! is on the ticket's history with the requester as actor.

use super::files::{Upload, check_uploads};
use super::token_hash;
use crate::outgoing::Notice;
use crate::tickets::validate_address;
use crate::{AppError, AppResult, Logbuch};
use chrono::{DateTime, Utc};
use logbuch_domain::{MessageKind, Status};
use logbuch_store::entity::{message, ticket};
use logbuch_store::tickets::Ticket;
use logbuch_store::{history, intake, messages, now, portal, users};
use sea_orm::{ConnectionTrait, Set};
use std::collections::BTreeMap;

/// What the requester sees of their ticket.
#[derive(Debug, Clone)]
pub struct StatusView {
    pub number: i64,
    pub subject: String,
    /// As stored (`new`, `open`, `waiting`, `resolved`).
    pub status: String,
    pub tenant_name: String,
    pub queue_name: String,
    /// Who works it: a display name, never an address.
    pub owner: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The help topic's fields as they were filled in.
    pub fields: Vec<(String, String)>,
    pub messages: Vec<PublicMessage>,
    /// Staff who opened the ticket, from the access log.
    pub visitors: Vec<Visitor>,
}

#[derive(Debug, Clone)]
pub struct PublicMessage {
    pub id: i64,
    /// Written by the requester (else a reply of ours).
    pub from_requester: bool,
    /// "Sie" or the staff member's display name.
    pub author: String,
    pub at: DateTime<Utc>,
    pub text: String,
    /// (id, file name, size in bytes)
    pub attachments: Vec<(i64, String, i64)>,
}

/// A staff member who read the ticket: when first and last, how often.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub name: String,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub times: usize,
}

/// How the history names the requester acting on the status page.
fn actor_label(requester: &str) -> String {
    format!("{requester} (Statusseite)")
}

/// Links end this long after the ticket was resolved; open tickets keep theirs.
fn link_alive(t: &Ticket, days_after: i64) -> bool {
    t.status != Status::Resolved.as_str()
        || t.resolved_at.is_none_or(|at| at + chrono::Duration::days(days_after) > Utc::now())
}

impl Logbuch {
    /// The ticket behind a link token; the same 404 for an unknown token,
    /// an expired link and a link whose ticket changed hands.
    async fn ticket_of_link(&self, db: &impl ConnectionTrait, token: &str) -> AppResult<Ticket> {
        self.portal_enabled()?;
        let gone = || {
            AppError::NotFound(
                "Dieser Link gilt nicht (mehr). Einen neuen Link bekommen Sie unter /status mit Ticketnummer und Mailadresse."
                    .into(),
            )
        };
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(gone());
        }
        let link = portal::find_link(db, &token_hash(token)).await?.ok_or_else(gone)?;
        let t = intake::find_ticket_for_system(db, link.ticket_id).await?.ok_or_else(gone)?;
        if !t.requester.eq_ignore_ascii_case(&link.requester)
            || !link_alive(&t, self.settings.portal.link_days_after_resolution)
        {
            return Err(gone());
        }
        Ok(t)
    }

    /// The status page of the link's ticket.
    pub async fn portal_view(&self, token: &str) -> AppResult<StatusView> {
        let db = &self.store.db;
        let dir = self.directory().await?;
        let t = self.ticket_of_link(db, token).await?;
        let messages = public_exchange(db, &dir, &t).await?;
        let mut seen: BTreeMap<i64, Visitor> = BTreeMap::new();
        let accesses = history::access_of_ticket(db, t.id).await?;
        let ids: Vec<i64> = accesses.iter().map(|a| a.user_id).collect();
        let names: std::collections::HashMap<i64, String> =
            users::find_users(db, &ids).await?.into_iter().map(|u| (u.id, u.display_name)).collect();
        for a in accesses {
            let name = names.get(&a.user_id).cloned().unwrap_or_else(|| "Ein Mitglied des Teams".into());
            seen.entry(a.user_id)
                .and_modify(|v| {
                    v.last = a.at;
                    v.times += 1;
                })
                .or_insert(Visitor { name, first: a.at, last: a.at, times: 1 });
        }
        let mut visitors: Vec<Visitor> = seen.into_values().collect();
        visitors.sort_by_key(|v| v.first);
        Ok(StatusView {
            number: t.id,
            subject: t.subject.clone(),
            status: t.status.clone(),
            tenant_name: dir.tenant(t.tenant_id)?.name.clone(),
            queue_name: dir.queue(t.queue_id)?.name.clone(),
            owner: t.owner_id.map(|o| staff_name(&dir, Some(o))),
            created_at: t.created_at,
            fields: portal::fields_of(db, t.id).await?.into_iter().map(|f| (f.label, f.value)).collect(),
            messages,
            visitors,
        })
    }

    /// The requester's reply on the status page: a message on the ticket
    /// (reopening it if it was resolved), and the owner and watchers are told.
    pub async fn portal_reply(&self, token: &str, body: &str, files: Vec<Upload>) -> AppResult<()> {
        if body.trim().is_empty() {
            return Err(AppError::validation("body", "Bitte schreiben Sie eine Nachricht."));
        }
        if body.len() > self.settings.limits.max_body_bytes.min(100_000) {
            return Err(AppError::validation("body", "Die Nachricht ist zu lang (höchstens 100.000 Zeichen)."));
        }
        let files = check_uploads(files, self.settings.portal.max_upload_bytes)?;
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let t = self.ticket_of_link(&txn, token).await?;
        let label = actor_label(&t.requester);
        let row = message::ActiveModel {
            ticket_id: Set(t.id),
            kind: Set(MessageKind::Inbound.as_str().to_owned()),
            author_id: Set(None),
            from_addr: Set(Some(t.requester.clone())),
            subject: Set(Some(t.subject.clone())),
            message_id_header: Set(Some(crate::outgoing::new_message_id(Some(t.id), &self.settings.server.public_url))),
            body_text: Set(body.trim_end().to_owned()),
            created_at: Set(now()),
            ..Default::default()
        };
        let m = messages::insert(&txn, row, &files).await?;
        history::record_by(
            &txn,
            t.id,
            &label,
            "message",
            None,
            Some(format!("Nachricht {} über die Statusseite", m.id)),
        )
        .await?;
        let t = if t.status == Status::Resolved.as_str() || t.status == Status::Waiting.as_str() {
            set_status(&txn, &dir, &t, Status::Open, &label).await?
        } else {
            touch(&txn, &t).await?
        };
        // Through the requester's own link: it counts as their answer.
        let requester = t.requester.clone();
        self.requester_answered(&txn, &dir, &t, &requester).await?;
        let mails = self.notify(&txn, &dir, &t, Notice::RequesterWrote, None).await?;
        txn.commit().await?;
        self.dispatch_outbox(&mails).await;
        Ok(())
    }

    /// "Hat sich erledigt" (`done`) or reopening, by the requester.
    pub async fn portal_set_done(&self, token: &str, done: bool) -> AppResult<()> {
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let t = self.ticket_of_link(&txn, token).await?;
        let resolved = t.status == Status::Resolved.as_str();
        if done == resolved {
            return Err(AppError::Conflict(
                if done { "Die Anfrage ist schon erledigt." } else { "Die Anfrage ist schon offen." }.into(),
            ));
        }
        let label = actor_label(&t.requester);
        let t = set_status(&txn, &dir, &t, if done { Status::Resolved } else { Status::Open }, &label).await?;
        let mails = if done { Vec::new() } else { self.notify(&txn, &dir, &t, Notice::RequesterWrote, None).await? };
        txn.commit().await?;
        self.dispatch_outbox(&mails).await;
        Ok(())
    }

    /// A file of the public exchange of the link's ticket.
    pub async fn portal_download(
        &self,
        token: &str,
        attachment_id: i64,
    ) -> AppResult<(logbuch_store::messages::Attachment, Vec<u8>)> {
        let db = &self.store.db;
        let dir = self.directory().await?;
        let t = self.ticket_of_link(db, token).await?;
        let public = public_exchange(db, &dir, &t).await?;
        let found = if public.iter().any(|m| m.attachments.iter().any(|a| a.0 == attachment_id)) {
            messages::attachment_with_content(db, t.id, attachment_id).await?
        } else {
            None
        };
        found.ok_or_else(|| AppError::NotFound("Diese Datei gibt es hier nicht.".into()))
    }

    /// Mails a fresh status link when `number` and `address` belong
    /// together, and does nothing otherwise; the caller answers the same in
    /// both cases. Refused only when this client asked too often.
    pub async fn portal_send_link(&self, number: &str, address: &str, client: &str) -> AppResult<()> {
        self.portal_enabled()?;
        let number: i64 =
            number.trim().trim_start_matches('#').parse().map_err(|_| {
                AppError::validation("number", "Bitte geben Sie die Ticketnummer als Zahl an, z. B. 4711.")
            })?;
        let address = validate_address("email", address).map_err(|_| {
            AppError::validation("email", "Bitte geben Sie eine Mailadresse an, z. B. name@beispiel.de.")
        })?;
        let key = self.portal_key().await?;
        let limit = self.settings.portal.max_link_requests_per_hour;
        if !self.within_rate(&key, "link-ip", client, limit).await? {
            return Err(AppError::TooManyRequests(
                "Von Ihrem Anschluss kamen in der letzten Stunde schon viele Anfragen. Bitte versuchen Sie es später noch einmal.".into(),
            ));
        }
        // Per address quietly: a stranger must not learn that an address is known.
        if !self.within_rate(&key, "link-address", &address, (limit / 3).max(1)).await? {
            return Ok(());
        }
        let dir = self.directory().await?;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let Some(t) = intake::find_ticket_for_system(&txn, number).await? else {
            return Ok(());
        };
        if !t.requester.eq_ignore_ascii_case(&address)
            || !link_alive(&t, self.settings.portal.link_days_after_resolution)
        {
            return Ok(());
        }
        let mails = self.mail_portal_link(&txn, &dir, &t, super::LinkMail::Requested).await?;
        txn.commit().await?;
        self.dispatch_outbox(&mails).await;
        Ok(())
    }
}

/// A staff member as the requester sees them: the display name only.
fn staff_name(dir: &crate::tickets::Directory, id: Option<i64>) -> String {
    id.and_then(|i| dir.staff_member(i)).map(|u| u.display_name.clone()).unwrap_or_else(|| "Team".into())
}

/// The public exchange of a ticket: the requester's own messages and our
/// replies, with their files; never notes, never other senders.
async fn public_exchange(
    db: &impl ConnectionTrait,
    dir: &crate::tickets::Directory,
    t: &Ticket,
) -> AppResult<Vec<PublicMessage>> {
    let files = messages::attachments_of_ticket(db, t.id).await?;
    Ok(messages::of_ticket(db, t.id)
        .await?
        .into_iter()
        .filter_map(|m| {
            let from_requester = m.kind == MessageKind::Inbound.as_str()
                && m.from_addr.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(&t.requester));
            let reply = m.kind == MessageKind::Outbound.as_str();
            (from_requester || reply).then(|| PublicMessage {
                id: m.id,
                from_requester,
                author: if from_requester { "Sie".into() } else { staff_name(dir, m.author_id) },
                at: m.created_at,
                attachments: files
                    .iter()
                    .filter(|a| a.message_id == m.id)
                    .map(|a| (a.id, a.filename.clone(), a.size))
                    .collect(),
                text: m.body_text,
            })
        })
        .collect())
}

async fn touch(db: &impl ConnectionTrait, t: &Ticket) -> AppResult<Ticket> {
    let mut row: ticket::ActiveModel = t.clone().into();
    row.updated_at = Set(now());
    Ok(logbuch_store::tickets::update(db, row).await?)
}

async fn set_status(
    db: &impl ConnectionTrait,
    dir: &crate::tickets::Directory,
    t: &Ticket,
    to: Status,
    label: &str,
) -> AppResult<Ticket> {
    let mut row: ticket::ActiveModel = t.clone().into();
    crate::tickets::status_with_clock(t, &mut row, to, dir.calendar(t.tenant_id));
    row.updated_at = Set(now());
    let saved = logbuch_store::tickets::update(db, row).await?;
    history::record_by(db, t.id, label, "status", Some(t.status.clone()), Some(to.as_str().to_owned())).await?;
    Ok(saved)
}
