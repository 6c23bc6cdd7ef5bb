//! One item of an old ticket: a message (request, correspondence, comment)
//! with its author, time and files, or an entry of the old history.

use super::{Context, Counts, key_of};
use crate::AppResult;
use crate::import::{ItemKind, SourceItem, SourceTicket};
use logbuch_domain::MessageKind;
use logbuch_store::entity::message;
use logbuch_store::messages::{self, NewFile};
use logbuch_store::{Deferred, history};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};

impl Context<'_> {
    /// One item of the old ticket: a message with its files, or a history entry.
    pub(super) async fn add_item(
        &self,
        txn: &DatabaseTransaction,
        t: &SourceTicket,
        id: i64,
        item: &SourceItem,
        counts: &mut Counts,
        writes: &mut Deferred,
    ) -> AppResult<()> {
        let staff = self.map.user(&key_of(&item.author)).or_else(|| self.map.user(&item.author.login));
        let kind = match &item.kind {
            ItemKind::Change(what) => {
                let mut row = history::entry(id, None, item.at, "imported", None, Some(what.clone()));
                row.actor_label = Set(Some(item.author.label()));
                row.actor_id = Set(staff);
                row.insert(txn).await?;
                counts.history += 1;
                return Ok(());
            }
            ItemKind::Request => MessageKind::Inbound,
            ItemKind::Comment => MessageKind::Note,
            // Someone outside writing (a requester, or a Cc by mail) is inbound; staff answered.
            ItemKind::Correspondence
                if Self::written_by_requester(t, &item.author) || (staff.is_none() && !item.author.staff) =>
            {
                MessageKind::Inbound
            }
            ItemKind::Correspondence => MessageKind::Outbound,
        };
        // The request's sender is the requester even when staff typed it in (as on the phone).
        let by_staff = staff.is_some() || item.author.staff || item.author.email.is_empty();
        let from = match (&item.kind, Self::requester_of(t)) {
            (ItemKind::Request, Some(r)) if by_staff => r.email.clone(),
            _ => item.author.email.clone(),
        };
        let body = if item.body.trim().is_empty() && item.html.is_none() && item.files.is_empty() {
            "(ohne Text)".to_owned()
        } else {
            item.body.clone()
        };
        let max_body = self.limits().max_body_bytes;
        let body = if body.len() > max_body {
            counts.remarks.push(format!("Text über {} KiB gekürzt", max_body / 1024));
            let mut end = max_body;
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            body[..end].to_owned()
        } else {
            body
        };
        let row = message::ActiveModel {
            ticket_id: Set(id),
            kind: Set(kind.as_str().to_owned()),
            author_id: Set(if kind == MessageKind::Inbound && item.kind != ItemKind::Request { None } else { staff }),
            from_addr: Set(Some(from).filter(|f| !f.is_empty())),
            to_addrs: Set(None),
            cc_addrs: Set(None),
            subject: Set(item.subject.clone().filter(|s| !s.trim().is_empty())),
            message_id_header: Set(item.message_id.clone()),
            in_reply_to: Set(None),
            references: Set(None),
            body_text: Set(body),
            body_html: Set(item.html.clone()),
            created_at: Set(item.at),
            ..Default::default()
        };
        let max_file = self.limits().max_attachment_bytes;
        let mut files = Vec::new();
        for f in &item.files {
            if f.content.len() > max_file {
                counts.remarks.push(format!("Datei über {} MB nicht übernommen", max_file / 1_000_000));
                continue;
            }
            files.push(NewFile {
                filename: f.filename.clone(),
                content_type: f.content_type.clone(),
                content: f.content.clone(),
            });
        }
        messages::insert_indexed(txn, row, &files, None, Some(writes)).await?;
        counts.files += files.len() as u64;
        if kind == MessageKind::Note {
            counts.notes += 1;
        } else {
            counts.messages += 1;
        }
        Ok(())
    }
}
