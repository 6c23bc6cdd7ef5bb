//! Bounces and feedback reports, reduced to the failed recipients, each with
//! its status code and a normalised reason, and the Message-ID of the mail
//! that bounced. Reads RFC 3464 delivery status (with or without its part),
//! ARF feedback reports (RFC 5965), JSON notifications (Amazon SES,
//! SendGrid) and the text bounces of the common mail servers.

mod arf;
mod dsn;
mod reason;
mod text;

pub use reason::Reason;

use mail_parser::{Message, MimeHeaders, PartType};
use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRecipient {
    pub address: String,
    /// RFC 3463 status like `5.1.1`, where the bounce names one.
    pub status: Option<String>,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BounceReport {
    pub failed: Vec<FailedRecipient>,
    /// The Message-ID of the mail that could not be delivered, where the bounce quotes it.
    pub original_message_id: Option<String>,
}

/// What a delivery report says.
#[derive(Debug)]
pub(crate) enum Report {
    /// Some addresses failed (or complained).
    Failed(BounceReport),
    /// A report that every address was delivered, relayed or expanded.
    Delivered,
}

pub(crate) static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+='/&!#$*?^`{|}~-]*[A-Za-z0-9_%+=-]@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
        .unwrap_or_else(|_| unreachable!())
});
pub(crate) static STATUS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([245]\.\d{1,3}\.\d{1,3})\b").unwrap_or_else(|_| unreachable!()));

pub(crate) fn part_text(p: &mail_parser::MessagePart<'_>) -> String {
    match &p.body {
        PartType::Text(t) | PartType::Html(t) => t.to_string(),
        PartType::Binary(b) | PartType::InlineBinary(b) => String::from_utf8_lossy(b).into_owned(),
        PartType::Message(m) => String::from_utf8_lossy(m.raw_message()).into_owned(),
        PartType::Multipart(_) => String::new(),
    }
}

pub(crate) fn is_type(p: &mail_parser::MessagePart<'_>, ty: &str, sub: &str) -> bool {
    p.content_type()
        .is_some_and(|c| c.ctype().eq_ignore_ascii_case(ty) && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case(sub)))
}

/// A header field (unfolded) of a header block given as text.
pub(crate) fn header_field(text: &str, name: &str) -> Option<String> {
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim().is_empty() {
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

/// The first address in a text, lower case.
pub(crate) fn first_address(text: &str) -> Option<String> {
    ADDRESS.find(text).map(|m| clean_address(m.as_str()))
}

pub(crate) fn clean_address(a: &str) -> String {
    let a = a.trim_start_matches(['.', '\'', '/', '=']).trim_end_matches('.');
    // Exchange writes `SMTP=user@host`.
    let a = ["smtp=", "SMTP=", "rfc822="].iter().find_map(|p| a.strip_prefix(p)).unwrap_or(a);
    a.to_lowercase()
}

pub(crate) fn is_daemon(address: &str) -> bool {
    const DAEMONS: &[&str] = &[
        "mailer-daemon",
        "postmaster",
        "post_master",
        "mail-daemon",
        "mailerdaemon",
        "mail.daemon",
        "mailer_daemon",
        "mdaemon",
        "daemon",
    ];
    let local = address.split('@').next().unwrap_or_default().to_ascii_lowercase();
    DAEMONS.iter().any(|d| local == *d) || local.starts_with("mailer-daemon") || local.starts_with("postmaster")
}

/// A sender that writes only automatically, but whose mail may still be meant
/// for people (web forms send from no-reply addresses): a weaker sign.
pub(crate) fn is_automatic_sender(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or_default().to_ascii_lowercase();
    ["no-reply", "noreply", "do-not-reply", "donotreply", "bounce", "-admin", "-owner", "owner-", "-request"]
        .iter()
        .any(|p| local.contains(p))
}

/// The quoted original mail: its Message-ID, From and recipients, from a
/// message/rfc822 or text/rfc822-headers part, or from the text after a separator.
#[derive(Debug, Default)]
pub(crate) struct Original {
    pub message_id: Option<String>,
    pub from: Vec<String>,
    pub to: Vec<String>,
}

fn addresses_in(v: &str) -> Vec<String> {
    ADDRESS.find_iter(v).map(|m| clean_address(m.as_str())).collect()
}

pub(crate) fn original(msg: &Message<'_>, tail: &str) -> Original {
    let mut o = Original::default();
    for p in msg.parts.iter().skip(1) {
        let block = match &p.body {
            PartType::Message(m) => String::from_utf8_lossy(m.raw_message()).into_owned(),
            _ if is_type(p, "text", "rfc822-headers") || is_type(p, "message", "rfc822-headers") => part_text(p),
            _ => continue,
        };
        let block = block.trim_start();
        if o.message_id.is_none() {
            o.message_id = header_field(block, "Message-ID").and_then(|v| crate::normalize_message_id(&v));
        }
        o.from.extend(header_field(block, "From").map(|v| addresses_in(&v)).unwrap_or_default());
        o.from.extend(header_field(block, "Return-Path").map(|v| addresses_in(&v)).unwrap_or_default());
        o.to.extend(header_field(block, "To").map(|v| addresses_in(&v)).unwrap_or_default());
    }
    if !tail.is_empty() {
        // Text bounces quote the original after a separator line, often indented.
        let lines: Vec<&str> = tail.lines().skip(1).map(str::trim_start).collect();
        let block = lines.join("\n");
        let block = block.trim_start();
        let field = |name: &str| {
            lines.iter().find_map(|l| {
                l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned())
            })
        };
        if o.message_id.is_none() {
            o.message_id = field("Message-ID").and_then(|v| crate::normalize_message_id(&v));
        }
        if o.from.is_empty() {
            o.from.extend(
                header_field(block, "From").or_else(|| field("From")).map(|v| addresses_in(&v)).unwrap_or_default(),
            );
        }
        if o.to.is_empty() {
            o.to.extend(
                header_field(block, "To").or_else(|| field("To")).map(|v| addresses_in(&v)).unwrap_or_default(),
            );
        }
    }
    o
}

/// Whether the envelope sender is empty: by RFC 5321 only delivery reports have one.
pub(crate) fn null_sender(msg: &Message<'_>) -> bool {
    msg.header_raw("Return-Path").is_some_and(|r| r.trim().trim_matches(['<', '>']).trim().is_empty())
}

/// A delivery report if this mail is one.
pub(crate) fn detect(msg: &Message<'_>, from: &str, own: &[String]) -> Option<Report> {
    if let Some(r) = arf::detect(msg) {
        return Some(Report::Failed(r));
    }
    match dsn::detect(msg) {
        Some(Report::Failed(r)) if !r.failed.is_empty() => return Some(Report::Failed(r)),
        Some(Report::Delivered) => return Some(Report::Delivered),
        _ => {}
    }
    if let Some(r) = dsn::detect_json(msg) {
        return Some(r);
    }
    // A report forwarded as an attachment.
    for p in &msg.parts {
        if let PartType::Message(inner) = &p.body
            && let Some(Report::Failed(r)) = dsn::detect(inner).or_else(|| arf::detect(inner).map(Report::Failed))
            && !r.failed.is_empty()
        {
            return Some(Report::Failed(r));
        }
    }
    text::detect(msg, from, own).map(Report::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_cleaned() {
        assert_eq!(first_address("<A.B@Example.ORG>."), Some("a.b@example.org".into()));
        assert_eq!(first_address("to 'kijitora@example.jp'"), Some("kijitora@example.jp".into()));
        assert!(is_daemon("MAILER-DAEMON@x.example"));
        assert!(!is_daemon("erika@x.example"));
    }
}
