//! Notes and replies on tickets, and the files that come with them.

use super::create::NewFile;
use crate::views::TicketDetail;
use crate::{AppError, AppResult, Logbuch, Principal};
use base64::Engine;
use logbuch_domain::{Action, MessageKind, Status};
use logbuch_store::messages::{self, NewFile as StoredFile};
use logbuch_store::{entity::message, entity::ticket, history, now, tickets::Ticket};
use sea_orm::Set;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    #[serde(default)]
    pub body: String,
    /// Name of a canned response (`canned.…`) to send instead of `body` (replies only).
    #[serde(default)]
    pub canned: Option<String>,
    #[serde(default)]
    pub attachments: Vec<NewFile>,
    /// The newest message id the writer had seen. When someone else has
    /// written on the ticket since, nothing is stored and the answer is 409
    /// naming the new message: read it first, then send again with its id.
    #[serde(default)]
    pub seen: Option<i64>,
}

pub(crate) fn validate_body(body: &str, max_bytes: usize) -> AppResult<()> {
    if body.trim().is_empty() {
        return Err(AppError::validation("body", "Der Text darf nicht leer sein."));
    }
    if body.len() > max_bytes {
        return Err(AppError::TooLarge(format!("Der Text ist größer als {} KiB.", max_bytes / 1024)));
    }
    Ok(())
}

/// Decodes base64 files and checks names and sizes before anything is stored.
pub(crate) fn decode_files(files: &[NewFile], max_bytes: usize) -> AppResult<Vec<StoredFile>> {
    files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let field = format!("attachments[{i}]");
            let filename: String = f
                .filename
                .trim()
                .chars()
                .map(|c| if c.is_control() || c == '/' || c == '\\' { '_' } else { c })
                .collect();
            if filename.is_empty() || filename.chars().count() > 255 {
                return Err(AppError::validation(field, "Der Dateiname muss 1 bis 255 Zeichen lang sein."));
            }
            // Cheap early check: base64 is 4/3 of the decoded size.
            if f.content_base64.len() / 4 * 3 > max_bytes + 3 {
                return Err(AppError::TooLarge(format!(
                    "{filename}: Anhänge dürfen höchstens {} MB groß sein.",
                    max_bytes / 1_000_000
                )));
            }
            let content = base64::engine::general_purpose::STANDARD
                .decode(f.content_base64.trim())
                .map_err(|e| AppError::validation(field.clone(), format!("{filename}: kein gültiges Base64 ({e}).")))?;
            if content.len() > max_bytes {
                return Err(AppError::TooLarge(format!(
                    "{filename}: Anhänge dürfen höchstens {} MB groß sein.",
                    max_bytes / 1_000_000
                )));
            }
            let content_type =
                f.content_type.as_deref().map(str::trim).filter(|c| !c.is_empty() && c.len() <= 255 && c.contains('/'));
            Ok(StoredFile {
                filename,
                content_type: content_type.unwrap_or("application/octet-stream").to_owned(),
                content,
            })
        })
        .collect()
}

/// A message row by a person (note or reply); the caller adds mail headers for replies.
pub(crate) fn message_by(t: &Ticket, who: &Principal, kind: MessageKind, body: &str) -> message::ActiveModel {
    message::ActiveModel {
        ticket_id: Set(t.id),
        kind: Set(kind.as_str().to_owned()),
        author_id: Set(Some(who.user.0)),
        from_addr: Set(None),
        to_addrs: Set(None),
        cc_addrs: Set(None),
        subject: Set(None),
        message_id_header: Set(None),
        in_reply_to: Set(None),
        references: Set(None),
        body_text: Set(body.to_owned()),
        body_html: Set(None),
        created_at: Set(now()),
        ..Default::default()
    }
}

impl Logbuch {
    /// An internal note: stays inside, never sent.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn add_note(&self, who: &Principal, id: i64, input: NewMessage) -> AppResult<TicketDetail> {
        self.add_message(who, id, input, MessageKind::Note).await
    }

    /// A public reply to the requester. Stored now with its threading headers;
    /// sending comes with the outgoing-mail worker.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn add_reply(&self, who: &Principal, id: i64, input: NewMessage) -> AppResult<TicketDetail> {
        self.add_message(who, id, input, MessageKind::Outbound).await
    }

    async fn add_message(
        &self,
        who: &Principal,
        id: i64,
        input: NewMessage,
        kind: MessageKind,
    ) -> AppResult<TicketDetail> {
        let action = if kind == MessageKind::Note { Action::AddNote } else { Action::AddReply };
        // Before the transaction: SQLite has one connection, the directory may need it.
        let dir = self.directory().await?;
        // A network call, so before the transaction too.
        self.prefetch_wkd(who, id, kind).await;
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let t = self.load_ticket(&txn, who, id, action, &dir).await?;
        if let Some(seen) = input.seen {
            let newer = messages::newer_by_others(&txn, t.id, seen, who.user.0).await?;
            if let Some(m) = newer.last() {
                let by = match m.author_id {
                    Some(a) => super::read::user_refs(&txn, &[a]).await?.remove(&a).map(|u| u.display_name),
                    None => m.from_addr.clone(),
                };
                let at = logbuch_domain::calendar::utc_to_berlin(m.created_at).format("%d.%m.%Y %H:%M");
                return Err(AppError::Conflict(format!(
                    "Seit Sie das Ticket geöffnet haben, ist {} dazugekommen (zuletzt von {} am {at}, Nachricht {}). \
                     Bitte lesen Sie sie, bevor Sie senden; Ihr Text ist nicht verloren.",
                    if newer.len() == 1 {
                        "eine neue Nachricht".to_owned()
                    } else {
                        format!("{} neue Nachrichten", newer.len())
                    },
                    by.unwrap_or_else(|| "unbekannt".into()),
                    m.id
                )));
            }
        }
        let mails = self.write_message(&txn, &dir, who, &t, input, kind).await?;
        logbuch_store::drafts::delete(&txn, t.id, who.user.0, kind.as_str()).await?;
        txn.commit().await?;
        self.dispatch_outbox(&mails).await;
        self.get_ticket(who, id).await
    }

    /// Writes a note or reply by `who` on `t` (already authorized) inside
    /// the caller's transaction; returns the outbox mails to dispatch after commit.
    pub(crate) async fn write_message(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        dir: &super::Directory,
        who: &Principal,
        t: &Ticket,
        input: NewMessage,
        kind: MessageKind,
    ) -> AppResult<Vec<i64>> {
        let mut input = input;
        if let Some(name) = input.canned.take() {
            if kind != MessageKind::Outbound || !name.starts_with("canned.") {
                return Err(AppError::validation("canned", "Textbausteine gibt es nur für Antworten („canned.…“)."));
            }
            if !input.body.trim().is_empty() {
                return Err(AppError::validation("canned", "Entweder „body“ oder „canned“ angeben, nicht beides."));
            }
            let ctx = self.context_of(dir, t)?;
            let (_, body, _) = self
                .render_for(dir, &name, &ctx, t.tenant_id)
                .ok_or_else(|| AppError::validation("canned", format!("Den Textbaustein „{name}“ gibt es nicht.")))?;
            input.body = body;
        }
        validate_body(&input.body, self.settings.limits.max_body_bytes)?;
        let files = decode_files(&input.attachments, self.settings.limits.max_attachment_bytes)?;
        let mut row = message_by(t, who, kind, &input.body);
        let mut mails = Vec::new();
        let queue = dir.queue(t.queue_id)?;
        // OpenPGP: encrypted when the requester's key is on file; in a queue
        // that requires it, never in clear (a link to the status page instead, or held).
        let crypto = if kind == MessageKind::Outbound {
            self.reply_crypto(txn, queue, &t.requester).await?
        } else {
            crate::pgp::ReplyCrypto::Clear
        };
        let withhold = matches!(crypto, crate::pgp::ReplyCrypto::Withhold);
        if withhold {
            let why = if self.settings.portal.enabled {
                format!(
                    "Für {} ist kein OpenPGP-Schlüssel hinterlegt: die Antwort ging nicht per Mail, sondern als Link zur Statusseite.",
                    t.requester
                )
            } else {
                format!(
                    "Für {} ist kein OpenPGP-Schlüssel hinterlegt: die Antwort wurde nicht verschickt (Bereich verlangt Verschlüsselung).",
                    t.requester
                )
            };
            history::record(txn, t.id, Some(who.user.0), "encryption", None, Some(why)).await?;
        }
        if withhold && !self.settings.portal.enabled {
            // Held: on the ticket, never handed to SMTP.
            row.from_addr = Set(Some(who.email.clone()));
            row.to_addrs = Set(Some(t.requester.clone()));
        } else if kind == MessageKind::Outbound && (queue.portal_only || withhold) && self.settings.portal.enabled {
            // A sensitive queue: the reply stays here, the requester gets a link to read it.
            row.from_addr = Set(Some(who.email.clone()));
            row.to_addrs = Set(Some(t.requester.clone()));
            mails.extend(self.mail_portal_link(txn, dir, t, crate::portal::LinkMail::NewReply).await?);
        } else if kind == MessageKind::Outbound {
            // The reply goes out by mail: stored first, sent from the outbox,
            // threaded to the ticket's mails so an answer finds its way back.
            let from = dir.queue_address(t.queue_id).unwrap_or_else(|| self.fallback_from());
            let subject = format!("[Logbuch #{}] {}", t.id, t.subject);
            let message_id = crate::outgoing::new_message_id(Some(t.id), &self.settings.server.public_url);
            let earlier = messages::of_ticket(txn, t.id).await?;
            let references: Vec<String> = earlier.iter().filter_map(|m| m.message_id_header.clone()).collect();
            let in_reply_to = earlier
                .iter()
                .rev()
                .filter(|m| m.kind == MessageKind::Inbound.as_str())
                .find_map(|m| m.message_id_header.clone());
            row.from_addr = Set(Some(from.clone()));
            row.to_addrs = Set(Some(t.requester.clone()));
            row.subject = Set(Some(subject.clone()));
            row.message_id_header = Set(Some(message_id.clone()));
            row.in_reply_to = Set(in_reply_to.clone());
            row.references = Set(Some(references.join(" ")).filter(|r| !r.is_empty()));
            let seal = match crypto {
                crate::pgp::ReplyCrypto::Encrypt(s) => {
                    let state = crate::pgp::PgpState {
                        encrypted: true,
                        signed: true,
                        verified: true,
                        signer: Some(s.signer.clone()),
                        signer_address: Some(from.clone()),
                        error: None,
                    };
                    row.pgp = Set(state.to_json());
                    Some(s)
                }
                _ => None,
            };
            let draft = crate::outgoing::Draft {
                ticket_id: Some(t.id),
                kind: "reply",
                from_name: queue.name.clone(),
                from,
                to: vec![t.requester.clone()],
                subject,
                body: input.body.clone(),
                html: None,
                in_reply_to,
                references,
                automatic: false,
                limited: false,
                message_id: Some(message_id),
                seal,
            };
            mails.extend(crate::outgoing::queue_draft(self, txn, draft).await?);
        } else {
            row.from_addr = Set(Some(who.email.clone()));
        }
        let m = messages::insert(txn, row, &files).await?;
        let field = if kind == MessageKind::Note { "note" } else { "reply" };
        let mut changes = vec![(field, None, Some(format!("Nachricht {}", m.id)))];
        let mut row: ticket::ActiveModel = t.clone().into();
        if kind == MessageKind::Outbound {
            if t.first_responded_at.is_none() {
                row.first_responded_at = Set(Some(now()));
            }
            if t.status == Status::New.as_str() {
                row.status = Set(Status::Open.as_str().to_owned());
                changes.push(("status", Some(t.status.clone()), Some(Status::Open.as_str().to_owned())));
            }
        }
        self.save_changes(txn, who, row, t.id, changes).await?;
        Ok(mails)
    }

    /// Keeps the caller's unsent reply (`outbound`) or note (`note`) on a
    /// ticket they may write on; an empty text drops the draft.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn save_draft(&self, who: &Principal, id: i64, kind: MessageKind, body: &str) -> AppResult<()> {
        let action = match kind {
            MessageKind::Note => Action::AddNote,
            MessageKind::Outbound => Action::AddReply,
            _ => return Err(AppError::validation("kind", "Entwürfe gibt es für Antworten und Notizen.")),
        };
        let dir = self.directory().await?;
        let db = &self.store.db;
        let t = self.load_ticket(db, who, id, action, &dir).await?;
        if body.trim().is_empty() {
            logbuch_store::drafts::delete(db, t.id, who.user.0, kind.as_str()).await?;
            return Ok(());
        }
        validate_body(body, self.settings.limits.max_body_bytes)?;
        logbuch_store::drafts::save(db, t.id, who.user.0, kind.as_str(), body).await?;
        Ok(())
    }

    /// Notes that the caller has the reply form of a ticket open (they may
    /// reply there) and says who else had it open in the last ten minutes.
    pub async fn replying_now(
        &self,
        who: &Principal,
        id: i64,
    ) -> AppResult<Vec<(crate::views::UserRef, chrono::DateTime<chrono::Utc>)>> {
        let dir = self.directory().await?;
        let db = &self.store.db;
        let t = self.load_ticket(db, who, id, Action::ReadTicket, &dir).await?;
        let since = now() - chrono::Duration::minutes(10);
        let others = logbuch_store::presence::touch_and_others(db, t.id, who.user.0, since).await?;
        let ids: Vec<i64> = others.iter().map(|o| o.0).collect();
        let people = super::read::user_refs(db, &ids).await?;
        Ok(others.into_iter().filter_map(|(u, at)| people.get(&u).cloned().map(|p| (p, at))).collect())
    }

    /// The caller's draft of that kind on a ticket they may read.
    pub async fn draft(&self, who: &Principal, id: i64, kind: MessageKind) -> AppResult<Option<String>> {
        let dir = self.directory().await?;
        let db = &self.store.db;
        let t = self.load_ticket(db, who, id, Action::ReadTicket, &dir).await?;
        Ok(logbuch_store::drafts::get(db, t.id, who.user.0, kind.as_str()).await?.map(|d| d.body))
    }

    /// A file of a ticket the caller may read (404 otherwise), with its bytes.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn download_attachment(
        &self,
        who: &Principal,
        id: i64,
        attachment_id: i64,
    ) -> AppResult<(logbuch_store::messages::Attachment, Vec<u8>)> {
        let db = &self.store.db;
        let dir = self.directory().await?;
        let t = self.load_ticket(db, who, id, Action::ReadTicket, &dir).await?;
        let found = messages::attachment_with_content(db, t.id, attachment_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("Ticket #{id} hat keinen Anhang {attachment_id}.")))?;
        history::log_access(db, t.id, who.user.0, &format!("download {attachment_id}")).await?;
        Ok(found)
    }
}
