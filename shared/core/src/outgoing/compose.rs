//! Turning a draft into an outbox row: the raw RFC 5322 bytes, the envelope
//! and the Message-ID that stays the same however often sending is tried.

use crate::{AppResult, Logbuch};
use logbuch_store::entity::outbox;
use logbuch_store::{now, outbox as store};
use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use rand::RngCore;
use sea_orm::{ConnectionTrait, Set};

/// A mail to write to the outbox.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub ticket_id: Option<i64>,
    /// reply, acknowledgement or notification.
    pub kind: &'static str,
    pub from_name: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    /// Optional HTML alternative to `body`.
    pub html: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Sent by Logbuch on its own: marked Auto-Submitted.
    pub automatic: bool,
    /// Counted against the daily limit per address (mails to outside
    /// addresses, which could be an auto-responder; not staff notices).
    pub limited: bool,
    /// Use this Message-ID (replies store theirs on the ticket first).
    pub message_id: Option<String>,
    /// Encrypt and sign (OpenPGP, RFC 3156) before it is stored.
    pub seal: Option<crate::pgp::Sealing>,
}

/// The host name of Logbuch's public URL (for Message-IDs and the fallback sender).
pub(crate) fn host_of(public_url: &str) -> &str {
    public_url
        .split("://")
        .nth(1)
        .unwrap_or("logbuch.invalid")
        .split(['/', ':'])
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("logbuch.invalid")
}

pub(crate) fn new_message_id(ticket_id: Option<i64>, public_url: &str) -> String {
    let mut r = [0u8; 8];
    rand::rng().fill_bytes(&mut r);
    let host = host_of(public_url);
    match ticket_id {
        Some(t) => format!("logbuch.{t}.{}@{host}", hex::encode(r)),
        None => format!("logbuch.{}@{host}", hex::encode(r)),
    }
}

/// Writes one mail to the outbox (none when an automatic mail's daily limit
/// for the address is reached); returns its id.
pub(crate) async fn queue_draft(app: &Logbuch, db: &impl ConnectionTrait, d: Draft) -> AppResult<Option<i64>> {
    Ok(queue_drafts(app, db, vec![d]).await?.pop())
}

/// Writes several mails to the outbox in one statement; returns their ids.
pub(crate) async fn queue_drafts(app: &Logbuch, db: &impl ConnectionTrait, drafts: Vec<Draft>) -> AppResult<Vec<i64>> {
    let rows = outbox_rows(app, db, drafts).await?;
    Ok(store::insert_many(db, rows).await?)
}

/// The outbox rows of drafts; an automatic mail over its address's daily limit is held back.
pub(crate) async fn outbox_rows(
    app: &Logbuch,
    db: &impl ConnectionTrait,
    drafts: Vec<Draft>,
) -> AppResult<Vec<outbox::ActiveModel>> {
    let mut rows = Vec::with_capacity(drafts.len());
    for d in drafts {
        if let Some(row) = outbox_row(app, db, d).await? {
            rows.push(row);
        }
    }
    Ok(rows)
}

/// The outbox row of a draft: the mail built, the envelope sender chosen;
/// none when an automatic mail's daily limit for an address is reached.
async fn outbox_row(app: &Logbuch, db: &impl ConnectionTrait, d: Draft) -> AppResult<Option<outbox::ActiveModel>> {
    if d.limited {
        let day = now().format("%Y-%m-%d").to_string();
        for to in &d.to {
            if store::count_automatic(db, to, &day).await? > app.settings.outgoing.max_automatic_per_day {
                tracing::info!(ticket = ?d.ticket_id, kind = d.kind, "automatic mail held back: daily limit for the address reached");
                return Ok(None);
            }
        }
    }
    built_row(app, d).map(Some)
}

/// The drafts' rows into a batch's writes, counted against the daily limit there.
pub(crate) fn defer_drafts(app: &Logbuch, writes: &mut logbuch_store::Deferred, drafts: Vec<Draft>) -> AppResult<()> {
    let max = app.settings.outgoing.max_automatic_per_day;
    for d in drafts {
        let limited = if d.limited { d.to.clone() } else { Vec::new() };
        writes.outbox(built_row(app, d)?, limited, max);
    }
    Ok(())
}

fn built_row(app: &Logbuch, d: Draft) -> AppResult<outbox::ActiveModel> {
    let message_id =
        d.message_id.clone().unwrap_or_else(|| new_message_id(d.ticket_id, &app.settings.server.public_url));
    let mut b = MessageBuilder::new()
        .from((d.from_name.as_str(), d.from.as_str()))
        .to(d.to.iter().map(String::as_str).collect::<Vec<_>>())
        .subject(d.subject.as_str())
        .message_id(message_id.as_str())
        .header(logbuch_mail::LOOP_HEADER, Raw::new(d.ticket_id.map_or("1".to_owned(), |t| t.to_string())))
        .text_body(d.body.as_str());
    if let Some(html) = &d.html {
        b = b.html_body(html.as_str());
    }
    if let Some(irt) = &d.in_reply_to {
        b = b.in_reply_to(irt.as_str());
    }
    if !d.references.is_empty() {
        b = b.references(d.references.iter().map(String::as_str).collect::<Vec<_>>());
    }
    if d.automatic {
        b = b.header("Auto-Submitted", Raw::new("auto-generated")).header("Precedence", Raw::new("bulk"));
    }
    let raw = b.write_to_vec().map_err(|e| anyhow::anyhow!("cannot build mail: {e}"))?;
    let raw = match &d.seal {
        Some(seal) => sealed(&raw, &d.body, seal)?,
        None => raw,
    };
    // The envelope sender names the ticket (VERP), so a bounce finds it
    // even when it quotes nothing of the mail.
    let envelope_from = match (&app.settings.outgoing.bounce_address, d.ticket_id) {
        (Some(base), Some(t)) => match base.split_once('@') {
            Some((local, domain)) => format!("{local}+t{t}@{domain}"),
            None => d.from.clone(),
        },
        _ => d.from.clone(),
    };
    Ok(outbox::ActiveModel {
        ticket_id: Set(d.ticket_id),
        kind: Set(d.kind.to_owned()),
        message_id: Set(message_id),
        envelope_from: Set(envelope_from),
        recipients: Set(d.to.join(", ")),
        raw: Set(raw),
        automatic: Set(d.automatic),
        state: Set(store::PENDING.to_owned()),
        attempts: Set(0),
        last_error: Set(None),
        created_at: Set(now()),
        sent_at: Set(None),
        ..Default::default()
    })
}

/// The mail `raw` (built in clear) with its body replaced by the RFC 3156
/// encryption of `body` to the recipients' keys and the queue's, signed by
/// the queue. The subject stays readable: it carries the ticket's tag.
fn sealed(raw: &[u8], body: &str, seal: &crate::pgp::Sealing) -> AppResult<Vec<u8>> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(body.as_bytes());
    let mut inner =
        String::from("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    for chunk in encoded.as_bytes().chunks(76) {
        inner.push_str(&String::from_utf8_lossy(chunk));
        inner.push_str("\r\n");
    }
    let recipients: Vec<&str> = seal.recipient_keys.iter().map(String::as_str).collect();
    let mime = logbuch_pgp::encrypt_and_sign_mime(inner.as_bytes(), &recipients, &seal.secret_key, &seal.passphrase)
        .map_err(|e| anyhow::anyhow!("cannot encrypt the mail: {e}"))?;
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut out = String::with_capacity(mime.body.len() + head.len() + 200);
    let mut skipping = false;
    for line in head.split("\r\n") {
        if !line.starts_with([' ', '\t']) {
            let name = line.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
            skipping = name.starts_with("content-") || name == "mime-version";
        }
        if !skipping {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("MIME-Version: 1.0\r\nContent-Type: ");
    out.push_str(&mime.content_type);
    out.push_str("\r\n\r\n");
    out.push_str(&mime.body);
    Ok(out.into_bytes())
}
