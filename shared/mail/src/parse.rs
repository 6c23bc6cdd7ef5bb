//! Parsing a raw mail into what a ticket needs.

use crate::{MailError, normalize_message_id};
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAttachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A mail, decoded: charsets and encoded words are resolved, addresses lower case.
#[derive(Debug, Clone)]
pub struct ParsedMail {
    /// The Message-ID without brackets; synthesized from the content hash when missing.
    pub message_id: String,
    pub subject: String,
    /// The sender's address; empty only for bounces and automatic answers without one.
    pub from: String,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Delivered-To and X-Original-To: where the mail was really delivered.
    pub delivered_to: Vec<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<MailAttachment>,
    pub kind: crate::MailKind,
    /// OpenPGP state as stored with the message (JSON), set once the mail
    /// was decrypted or its signature checked; None: plain.
    pub pgp: Option<String>,
}

fn addresses(a: Option<&Address<'_>>) -> Vec<String> {
    a.map(|a| {
        a.iter().filter_map(|x| x.address()).map(|s| s.trim().to_lowercase()).filter(|s| s.contains('@')).collect()
    })
    .unwrap_or_default()
}

fn id_list(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => normalize_message_id(t).into_iter().collect(),
        HeaderValue::TextList(l) => l.iter().filter_map(|t| normalize_message_id(t)).collect(),
        _ => Vec::new(),
    }
}

/// Parses raw bytes. Fails only when nothing mail-like is there or no sender can be found.
pub fn parse_mail(raw: &[u8]) -> Result<ParsedMail, MailError> {
    let msg = MessageParser::default().parse(raw).ok_or(MailError::Unparsable)?;
    if msg.headers().is_empty() {
        return Err(MailError::Unparsable);
    }
    let from_addr = msg.from().and_then(|a| a.first());
    let from = from_addr
        .and_then(|a| a.address())
        .or_else(|| msg.return_address())
        .map(|s| s.trim().to_lowercase())
        .filter(|s| s.contains('@'))
        .unwrap_or_default();
    let from_name = from_addr.and_then(|a| a.name()).map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let message_id = msg.message_id().and_then(normalize_message_id).unwrap_or_else(|| crate::hashed_message_id(raw));
    let mut delivered_to = Vec::new();
    for name in ["Delivered-To", "X-Original-To", "Envelope-To"] {
        for v in msg.header_values(name) {
            if let Some(t) = v.as_text() {
                delivered_to.extend(crate::address_variants(t).into_iter().take(1));
            }
        }
    }
    let to_addrs = addresses(msg.to());
    let cc_addrs = addresses(msg.cc());
    let own: Vec<String> = to_addrs.iter().chain(&cc_addrs).chain(&delivered_to).cloned().collect();
    let text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let html = msg
        .body_html(0)
        .map(|h| h.into_owned())
        .filter(|_| msg.html_body_count() > 0 && !msg.html_body.iter().all(|id| msg.text_body.contains(id)));
    let attachments = msg
        .attachments()
        .filter_map(|part| {
            let content: Vec<u8> = match &part.body {
                PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
                PartType::Text(t) | PartType::Html(t) => t.as_bytes().to_vec(),
                PartType::Message(m) => m.raw_message().to_vec(),
                PartType::Multipart(_) => return None,
            };
            let content_type = part
                .content_type()
                .map(|c| match c.subtype() {
                    Some(sub) => format!("{}/{}", c.ctype(), sub),
                    None => c.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_lowercase();
            let filename = part.attachment_name().map(str::to_owned).unwrap_or_else(|| {
                if content_type == "message/rfc822" { "weitergeleitete-mail.eml".into() } else { "anhang".into() }
            });
            Some(MailAttachment { filename, content_type, content })
        })
        .collect();
    let kind = crate::classify(&msg, &from, &own);
    // Without a sender only a report or automatic answer is readable: a
    // person's mail needs someone to answer to.
    if from.is_empty() && matches!(kind, crate::MailKind::Normal | crate::MailKind::List) {
        return Err(MailError::NoSender);
    }
    Ok(ParsedMail {
        kind,
        message_id,
        subject: msg.subject().map(|s| s.trim().to_owned()).unwrap_or_default(),
        from,
        from_name,
        to: to_addrs,
        cc: cc_addrs,
        delivered_to,
        in_reply_to: id_list(msg.in_reply_to()),
        references: id_list(msg.references()),
        text,
        html,
        attachments,
        pgp: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_encoded_words_and_umlauts() {
        let raw = "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Example.org>\r\n\
To: Presse <presse@nrw.example>, mitglieder+x@nrw.example\r\n\
Subject: =?ISO-8859-1?Q?Beitragsminderung_f=FCr_2026_=28K=F6ln=29?=\r\n\
Message-ID: <abc@example.org>\r\n\
In-Reply-To: <x1@y>\r\n\
References: <x0@y> <x1@y>\r\n\
Content-Type: text/plain; charset=ISO-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\n\
Gr=FC=DFe aus K=F6ln\r\n";
        let m = parse_mail(raw.as_bytes()).unwrap();
        assert_eq!(m.subject, "Beitragsminderung für 2026 (Köln)");
        assert_eq!(m.from, "juergen@example.org");
        assert_eq!(m.from_name.as_deref(), Some("Jürgen Müller"));
        assert_eq!(m.to, vec!["presse@nrw.example", "mitglieder+x@nrw.example"]);
        assert_eq!(m.message_id, "abc@example.org");
        assert_eq!(m.in_reply_to, vec!["x1@y"]);
        assert_eq!(m.references, vec!["x0@y", "x1@y"]);
        assert!(m.text.contains("Grüße aus Köln"), "{}", m.text);
        assert!(m.html.is_none());
    }

    #[test]
    fn garbage_is_refused_and_missing_ids_are_stable() {
        assert!(parse_mail(b"").is_err());
        assert_eq!(parse_mail(b"Subject: hi\r\n\r\nno sender").unwrap_err(), MailError::NoSender);
        let raw = b"From: a@b.example\r\nSubject: x\r\n\r\nbody";
        assert_eq!(parse_mail(raw).unwrap().message_id, parse_mail(raw).unwrap().message_id);
    }

    #[test]
    fn attachments_and_html() {
        let raw = "From: a@b.example\r\nTo: c@d.example\r\nSubject: Anhang\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n\
Content-Type: multipart/alternative; boundary=YY\r\n\r\n--YY\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHallo\r\n\
--YY\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hallo</p>\r\n--YY--\r\n\
--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"=?UTF-8?Q?K=C3=BCndigung.pdf?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XX--\r\n";
        let m = parse_mail(raw.as_bytes()).unwrap();
        assert_eq!(m.text.trim(), "Hallo");
        assert_eq!(m.html.as_deref().map(str::trim), Some("<p>Hallo</p>"));
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].filename, "Kündigung.pdf");
        assert_eq!(m.attachments[0].content_type, "application/pdf");
        assert_eq!(m.attachments[0].content, b"%PDF-1.4\n");
    }
}
