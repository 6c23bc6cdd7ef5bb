//! Bounces: delivery status notifications (RFC 3464 multipart/report) and
//! the common non-standard formats (Exim, qmail, Exchange, GMX, …), reduced
//! to the failed recipients, their status codes and the Message-ID of the
//! mail that bounced.

use mail_parser::{Message, MimeHeaders, PartType};
use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRecipient {
    pub address: String,
    /// RFC 3463 status like `5.1.1`, where the bounce names one.
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BounceReport {
    pub failed: Vec<FailedRecipient>,
    /// The Message-ID of the mail that could not be delivered, where the bounce quotes it.
    pub original_message_id: Option<String>,
}

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+=-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}").unwrap_or_else(|_| unreachable!())
});
static STATUS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([245]\.\d{1,3}\.\d{1,3})\b").unwrap_or_else(|_| unreachable!()));

const DAEMONS: &[&str] = &["mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mail.daemon"];
const SUBJECTS: &[&str] = &[
    "undeliver",
    "delivery status notification",
    "delivery failure",
    "delivery failed",
    "mail delivery failed",
    "failure notice",
    "returned mail",
    "could not be delivered",
    "delivery has failed",
    "message not delivered",
    "nondeliverable",
    "non-deliverable",
    "nicht zustellbar",
    "unzustellbar",
    "zustellung fehlgeschlagen",
    "fehlgeschlagene zustellung",
];
/// Lines where the quoted original mail starts in text bounces.
const SEPARATORS: &[&str] = &[
    "below this line is a copy of the message",
    "this is a copy of the message",
    "header of the original message",
    "original message",
    "original-nachricht",
    "ursprüngliche nachricht",
    "undelivered message",
    "returned message",
];

fn part_text(p: &mail_parser::MessagePart<'_>) -> String {
    match &p.body {
        PartType::Text(t) | PartType::Html(t) => t.to_string(),
        PartType::Binary(b) | PartType::InlineBinary(b) => String::from_utf8_lossy(b).into_owned(),
        PartType::Message(m) => String::from_utf8_lossy(m.raw_message()).into_owned(),
        PartType::Multipart(_) => String::new(),
    }
}

fn is_type(p: &mail_parser::MessagePart<'_>, ty: &str, sub: &str) -> bool {
    p.content_type()
        .is_some_and(|c| c.ctype().eq_ignore_ascii_case(ty) && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case(sub)))
}

/// Header lines (unfolded) of a header block given as text.
fn header_field(text: &str, name: &str) -> Option<String> {
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.trim().eq_ignore_ascii_case(name)
        {
            let mut value = v.trim().to_owned();
            while let Some(next) = lines.peek().filter(|l| l.starts_with([' ', '\t'])) {
                value.push(' ');
                value.push_str(next.trim());
                lines.next();
            }
            return Some(value);
        }
    }
    None
}

fn original_message_id(msg: &Message<'_>, tail: &str) -> Option<String> {
    for p in &msg.parts {
        if let PartType::Message(m) = &p.body
            && let Some(id) = m.message_id().and_then(crate::normalize_message_id)
        {
            return Some(id);
        }
        if is_type(p, "text", "rfc822-headers")
            && let Some(id) =
                header_field(part_text(p).trim_start(), "Message-ID").and_then(|v| crate::normalize_message_id(&v))
        {
            return Some(id);
        }
    }
    // Text bounces quote the original after a separator line.
    tail.lines()
        .find_map(|l| {
            l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("message-id")).map(|(_, v)| v.to_owned())
        })
        .and_then(|v| crate::normalize_message_id(&v))
}

/// Reads the per-recipient blocks of a message/delivery-status part.
fn parse_dsn(text: &str) -> Vec<FailedRecipient> {
    let mut out: Vec<FailedRecipient> = Vec::new();
    let mut current: Option<FailedRecipient> = None;
    let mut action_ok = true;
    let unfolded = text.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ");
    for line in unfolded.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim();
        match key.as_str() {
            "final-recipient" | "original-recipient" => {
                let addr =
                    value.split_once(';').map_or(value, |(_, a)| a).trim().trim_matches(['<', '>']).to_lowercase();
                if key == "original-recipient" && current.is_some() {
                    continue;
                }
                if let Some(c) = current.take().filter(|_| action_ok) {
                    out.push(c);
                }
                action_ok = true;
                if addr.contains('@') {
                    current = Some(FailedRecipient { address: addr, status: None });
                }
            }
            "action" => action_ok = matches!(value.to_ascii_lowercase().as_str(), "failed" | "delayed"),
            "status" => {
                if let Some(c) = current.as_mut() {
                    c.status = STATUS.find(value).map(|m| m.as_str().to_owned());
                }
            }
            _ => {}
        }
    }
    if let Some(c) = current.filter(|_| action_ok) {
        out.push(c);
    }
    out
}

fn is_daemon(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or_default().to_ascii_lowercase();
    DAEMONS.iter().any(|d| local == *d)
}

/// Splits a text bounce into the explanation and the quoted original.
fn split_at_separator(text: &str) -> (&str, &str) {
    let lower = text.to_lowercase();
    let mut cut = text.len();
    for line_start in std::iter::once(0).chain(lower.match_indices('\n').map(|(i, _)| i + 1)) {
        let line = lower[line_start..].lines().next().unwrap_or_default();
        let ruled = line.trim_start().starts_with("--") || line.trim_start().starts_with("==");
        let bare = line.trim_start_matches(['-', '=', ' ', '*', '\t']);
        let hit = SEPARATORS.iter().any(|s| if ruled { line.contains(s) } else { bare.starts_with(s) });
        if hit && text.is_char_boundary(line_start) {
            cut = line_start;
            break;
        }
    }
    text.split_at(cut)
}

/// Addresses a text bounce names as failed, with a status found near each.
fn text_failures(human: &str, exclude: &[String]) -> Vec<FailedRecipient> {
    let found: Vec<(usize, String)> = ADDRESS
        .find_iter(human)
        .map(|m| (m.start(), m.as_str().trim_end_matches('.').to_lowercase()))
        .filter(|(pos, a)| {
            !is_daemon(a) && !exclude.contains(a) && !human[..*pos].ends_with("//") && !human[..*pos].ends_with('=')
        })
        .collect();
    let mut out: Vec<FailedRecipient> = Vec::new();
    for (i, (pos, addr)) in found.iter().enumerate() {
        let end = found[i + 1..].iter().find(|(_, a)| a != addr).map_or(human.len(), |(p, _)| *p).min(pos + 600);
        let window = human.get(*pos..end).unwrap_or_default();
        let status = STATUS.find(window).map(|m| m.as_str().to_owned());
        match out.iter_mut().find(|f| &f.address == addr) {
            Some(f) => {
                if f.status.is_none() {
                    f.status = status;
                }
            }
            None => out.push(FailedRecipient { address: addr.clone(), status }),
        }
    }
    out
}

/// A bounce report if this mail is one.
pub(crate) fn detect(msg: &Message<'_>, from: &str, own: &[String]) -> Option<BounceReport> {
    // RFC 3464: a message/delivery-status part.
    if let Some(dsn) = msg
        .parts
        .iter()
        .find(|p| is_type(p, "message", "delivery-status") || is_type(p, "message", "global-delivery-status"))
    {
        let failed = parse_dsn(&part_text(dsn));
        if !failed.is_empty() {
            return Some(BounceReport { failed, original_message_id: original_message_id(msg, "") });
        }
    }
    let subject = msg.subject().unwrap_or_default().to_lowercase();
    let x_failed: Vec<String> = msg
        .header_values("X-Failed-Recipients")
        .filter_map(|v| v.as_text())
        .flat_map(|t| t.split(','))
        .map(|a| a.trim().trim_matches(['<', '>']).to_lowercase())
        .filter(|a| a.contains('@'))
        .collect();
    let null_sender =
        msg.header_raw("Return-Path").is_some_and(|r| r.trim().trim_matches(['<', '>']).trim().is_empty());
    let daemon = is_daemon(from) || null_sender;
    let bouncy_subject = SUBJECTS.iter().any(|s| subject.contains(s));
    if x_failed.is_empty() && !(daemon && bouncy_subject) {
        return None;
    }
    let body = msg.body_text(0).unwrap_or_default();
    let (human, tail) = split_at_separator(&body);
    let mut exclude: Vec<String> = own.to_vec();
    exclude.push(from.to_owned());
    let mut failed = text_failures(human, &exclude);
    if !x_failed.is_empty() {
        let mut ordered: Vec<FailedRecipient> = x_failed
            .iter()
            .map(|a| FailedRecipient {
                address: a.clone(),
                status: failed.iter().find(|f| &f.address == a).and_then(|f| f.status.clone()),
            })
            .collect();
        ordered.dedup();
        failed = ordered;
    }
    if failed.is_empty() {
        // Nothing named in the explanation: the original's recipients failed.
        let quoted_to = msg
            .parts
            .iter()
            .find_map(|p| match &p.body {
                PartType::Message(m) => {
                    m.to().map(|t| t.iter().filter_map(|a| a.address()).map(str::to_lowercase).collect::<Vec<_>>())
                }
                _ => None,
            })
            .or_else(|| {
                header_field(tail.lines().skip(1).collect::<Vec<_>>().join("\n").trim_start(), "To")
                    .map(|v| ADDRESS.find_iter(&v).map(|m| m.as_str().to_lowercase()).collect())
            })
            .unwrap_or_default();
        failed = quoted_to.into_iter().map(|address| FailedRecipient { address, status: None }).collect();
    }
    if failed.is_empty() {
        return None;
    }
    Some(BounceReport { failed, original_message_id: original_message_id(msg, tail) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_blocks() {
        let dsn = "Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; A@Example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
Final-Recipient: rfc822; b@example.org\r\nAction: delivered\r\nStatus: 2.0.0\r\n";
        assert_eq!(
            parse_dsn(dsn),
            vec![FailedRecipient { address: "a@example.org".into(), status: Some("5.1.1".into()) }]
        );
    }
}
