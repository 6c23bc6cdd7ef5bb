//! Text bounces: the mail servers that explain a failure in prose (Exim,
//! qmail, old Sendmail, Exchange 2003, Notes, Courier, GMX, 1&1, Yahoo, the
//! Japanese carriers, …), in English and German. A mail counts as such a
//! bounce when it comes from a mailer daemon or the null sender and says so in
//! its subject or first lines, or names its failed recipients in a header.

use super::{
    ADDRESS, BounceReport, FailedRecipient, Reason, STATUS, clean_address, is_automatic_sender, is_daemon, null_sender,
    original,
};
use mail_parser::{Message, PartType};
use regex::Regex;
use std::sync::LazyLock;

const SUBJECTS: &[&str] = &[
    "undeliver",
    "undelivered",
    "delivery status notification",
    "delivery notification",
    "delivery failure",
    "delivery failed",
    "delivery problem",
    "delivery error",
    "delivery report",
    "mail delivery failed",
    "mail delivery system",
    "failure notice",
    "failure delivery",
    "returned mail",
    "return mail",
    "returned to sender",
    "could not be delivered",
    "delivery has failed",
    "message not delivered",
    "message delivery",
    "nondeliverable",
    "non-deliverable",
    "non delivery",
    "non-delivery",
    "not delivered",
    "mail system error",
    "mail error",
    "email delivery failure",
    "warning: could not send",
    "warning: message",
    "delayed mail",
    "delivery delayed",
    "delivery (failure)",
    "mail could not be delivered",
    "permanent error",
    "rejected",
    "nicht zustellbar",
    "unzustellbar",
    "zustellung fehlgeschlagen",
    "fehlgeschlagene zustellung",
    "zustellungsfehler",
    "unzustellbare",
    "konnte nicht zugestellt",
    "no se ha podido entregar",
    "non remis",
    "non recapitabile",
    "erreur de distribution",
    "onbestelbaar",
    "error sending",
    "mail delivery problem",
    "delivery unsuccessful",
    "unable to deliver",
    "bounce",
    "returned message",
    "message status",
    "notification",
    "failed delivery",
    "failed mail",
    "your message",
    "security alert",
    "email delivery failure",
    "[postmaster]",
    "mail failure",
    "mail failed",
    "returning to sender",
    "エラー",
    "not a member",
    "loop alert",
    "duplicated message-id",
    "are not member",
    "vous avez reçu",
    "pour information",
];

/// Phrases that mark the text of a delivery failure.
const PHRASES: &[&str] = &[
    "could not be delivered",
    "couldn't be delivered",
    "failed addresses",
    "has been returned",
    "intended recipient",
    "returned mail follows",
    "duplicated message-id",
    "loop alert",
    "you are not a member",
    "not a member of this",
    "was not delivered",
    "wasn't delivered",
    "not be delivered",
    "undeliverable",
    "delivery failed",
    "delivery has failed",
    "delivery to the following",
    "failed to deliver",
    "unable to deliver",
    "permanent error",
    "permanent fatal error",
    "fatal errors",
    "delivery errors",
    "delivery error",
    "delivery problem",
    "did not reach",
    "could not deliver",
    "couldn't deliver",
    "i'm sorry to have to inform you",
    "i'm afraid i wasn't able to deliver",
    "this is the mail system at host",
    "this is the mail delivery agent",
    "this message was created automatically by mail delivery software",
    "the following address(es) failed",
    "the following addresses had",
    "the following recipient",
    "mailbox unavailable",
    "user unknown",
    "unknown user",
    "no such user",
    "message delivery has failed",
    "your message has been rejected",
    "your message was rejected",
    "was rejected",
    "has been rejected",
    "rejected your message",
    "message rejected",
    "returned to you",
    "hi. this is the qmail-send program",
    "delivery to the following recipients failed",
    "delivery has been delayed",
    "has not yet been delivered",
    "has been delayed",
    "will be retried",
    "will continue to try",
    "still trying",
    "is undeliverable",
    "not delivered",
    "delivery attempt",
    "failed permanently",
    "delivery to the recipient",
    "address not found",
    "message not delivered",
    "the original message was received",
    "transcript of session follows",
    "sorry, we were unable to deliver",
    "unable to be delivered",
    "cannot be delivered",
    "can not be delivered",
    "smtp error",
    "550 ",
    "554 ",
    "553 ",
    "552 ",
    "551 ",
    "421 ",
    "450 ",
    "451 ",
    "452 ",
    "5.1.1",
    "konnte nicht zugestellt werden",
    "nicht zugestellt",
    "nicht zustellbar",
    "unzustellbar",
    "zustellung fehlgeschlagen",
    "ist fehlgeschlagen",
    "fehlgeschlagen",
    "existiert nicht",
    "unbekannt",
    "送信できませんでした",
    "配信",
    "届きません",
];

/// Lines where the quoted original mail starts.
const SEPARATORS: &[&str] = &[
    "below this line is a copy of the message",
    "this is a copy of the message",
    "header of the original message",
    "headers of the original message",
    "original message follows",
    "original message headers",
    "original message",
    "original-nachricht",
    "ursprüngliche nachricht",
    "undelivered message",
    "returned message",
    "the original message",
    "unsent message below",
    "message headers follow",
    "content-type: message/rfc822",
    "--- below the next line",
    "------ this is a copy",
    "original mail info",
    "received: from",
];

/// Splits a text bounce into the explanation and the quoted original.
fn split_at_separator(text: &str) -> (&str, &str) {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        return split_ascii(text);
    }
    let mut cut = text.len();
    for line_start in std::iter::once(0).chain(lower.match_indices('\n').map(|(i, _)| i + 1)) {
        let line = lower[line_start..].lines().next().unwrap_or_default();
        let ruled = line.trim_start().starts_with("--") || line.trim_start().starts_with("==");
        let bare = line.trim_start_matches(['-', '=', ' ', '*', '\t', '_', '>']);
        let hit = SEPARATORS.iter().any(|s| if ruled { line.contains(s) } else { bare.starts_with(s) });
        if hit && line_start > 0 && text.is_char_boundary(line_start) {
            cut = line_start;
            break;
        }
    }
    text.split_at(cut)
}

/// The same for text whose lower case has another length (some non-ASCII letters).
fn split_ascii(text: &str) -> (&str, &str) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let lower = line.to_ascii_lowercase();
        let ruled = lower.trim_start().starts_with("--") || lower.trim_start().starts_with("==");
        let bare = lower.trim_start_matches(['-', '=', ' ', '*', '\t', '_', '>']);
        if offset > 0 && SEPARATORS.iter().any(|s| if ruled { lower.contains(s) } else { bare.starts_with(s) }) {
            return text.split_at(offset);
        }
        offset += line.len();
    }
    (text, "")
}

/// The explanation of every text part (a bounce may have its words in the second part).
fn report_text(msg: &Message<'_>) -> String {
    let mut out = String::new();
    for (i, p) in msg.parts.iter().enumerate() {
        if msg.attachments.contains(&(i as u32)) && !matches!(p.body, PartType::Text(_)) {
            continue;
        }
        match &p.body {
            PartType::Text(t) => {
                out.push_str(t);
                out.push('\n');
            }
            PartType::Html(h) if !msg.text_body.contains(&(i as u32)) || msg.text_body.is_empty() => {
                out.push_str(&html_to_text(h));
                out.push('\n');
            }
            _ => {}
        }
        if out.len() > 64 * 1024 {
            break;
        }
    }
    if out.trim().is_empty() {
        out = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    }
    if out.trim().is_empty() {
        // MIME the parser could not follow (a boundary on an unfolded line): the raw body.
        let raw = String::from_utf8_lossy(msg.raw_message());
        let start = raw.find("\r\n\r\n").or_else(|| raw.find("\n\n")).unwrap_or(raw.len());
        out = raw[start..].chars().take(64 * 1024).collect();
    }
    out
}

/// Rough text of an HTML part: tags become spaces, a few entities are decoded.
fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&nbsp;", " ").replace("&#64;", "@")
}

/// An address a text bounce names, and whether it stands at the start of its
/// line (where servers list the failed addresses).
struct Named {
    failed: FailedRecipient,
    listed: bool,
}

/// Addresses a text bounce names as failed, each with the status and reason found near it.
fn text_failures(human: &str, exclude: &[String]) -> Vec<Named> {
    let listed_at = |pos: usize| {
        let line_before = human[..pos].rsplit('\n').next().unwrap_or_default();
        line_before.trim_start_matches([' ', '\t', '<', '"', '\'', '-', '*', '>', ':']).is_empty()
    };
    let found: Vec<(usize, usize, String)> = ADDRESS
        .find_iter(human)
        .map(|m| (m.start(), m.end(), clean_address(m.as_str())))
        .filter(|(pos, _, a)| {
            let before = &human[..*pos];
            let line_before = before.rsplit('\n').next().unwrap_or_default().to_ascii_lowercase();
            !is_daemon(a)
                && (!exclude.contains(a) || listed_at(*pos))
                && !before.ends_with("//")
                && !before.ends_with('=')
                && !line_before.contains("message-id")
                && !line_before.trim_start().starts_with("from:")
                && !line_before.trim_start().starts_with("sender")
                && !line_before.trim_start().starts_with("reply-to")
                && !line_before.trim_start().starts_with("return-path")
                && !line_before.contains("mail from")
                && !line_before.contains("envelope-from")
                && !line_before.contains("smtp.mailfrom")
                && !line_before.contains("helo")
                && !line_before.contains("ehlo")
        })
        .collect();
    let mut out: Vec<Named> = Vec::new();
    for (i, (pos, end, addr)) in found.iter().enumerate() {
        let next = found[i + 1..].iter().find(|(_, _, a)| a != addr).map_or(human.len(), |(p, _, _)| *p);
        let window_end = next.min(end + 800);
        let window_start = human[..*pos].rfind('\n').unwrap_or(0);
        let window = human.get(window_start..window_end).unwrap_or_default();
        let status = STATUS.find(window).map(|m| m.as_str().to_owned());
        let reason = Reason::classify(status.as_deref(), human.get(*end..window_end).unwrap_or_default());
        let listed = listed_at(*pos);
        match out.iter_mut().find(|n| &n.failed.address == addr) {
            Some(n) => {
                n.listed |= listed;
                if n.failed.status.is_none() {
                    n.failed.status = status;
                }
            }
            None => out.push(Named { failed: FailedRecipient { address: addr.clone(), status, reason }, listed }),
        }
    }
    out
}

/// A bounce someone forwarded inline: the quoted text, when its quoted headers
/// say a mailer daemon wrote it.
fn forwarded_bounce(subject: &str, body: &str) -> Option<String> {
    let rest = ["fwd:", "fw:", "wg:", "tr:"].iter().find_map(|p| subject.trim_start().strip_prefix(p))?;
    if !SUBJECTS.iter().any(|s| rest.contains(s)) {
        return None;
    }
    let unquoted: String = body.lines().map(|l| l.trim_start_matches(['>', ' '])).collect::<Vec<_>>().join("\n");
    let from_daemon = unquoted.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("from:") && (l.contains("mailer-daemon") || l.contains("postmaster"))
    });
    from_daemon.then_some(unquoted)
}

/// Subjects only delivery reports carry: enough with machine evidence in the
/// text, whoever the sender is (virus scanners, gateways and list servers
/// send reports from addresses of every kind).
const REPORT_SUBJECTS: &[&str] = &[
    "undeliverable",
    "undelivered mail",
    "delivery status notification",
    "delivery notification",
    "delivery failure",
    "delivery failed",
    "mail delivery failed",
    "mail could not be delivered",
    "failure notice",
    "returned mail",
    "non-delivery",
    "nondeliverable",
    "non-deliverable",
    "non remis",
    "delivery problem",
    "error during delivery",
    "user unknown",
    "delayed mail",
    "nicht zustellbar",
    "unzustellbar",
];

/// Words only machines write in a report: SMTP dialogue and fixed phrases.
const MACHINE: &[&str] = &[
    "created automatically by mail delivery software",
    "this is the mail system at host",
    "permanent fatal",
    "non-delivery report",
    "delivery attempts",
    "qmail-send",
    "smtp error",
    "remote host said",
    "rcpt to",
    "mailbox unavailable",
    "user unknown",
    "unknown user",
    "no such user",
    "following recipient",
    "failed recipient",
    "could not be delivered to",
    "will continue to be made",
    "still being retried",
    "not a valid user",
];

/// Whether the text opens like a person's letter: a member telling us their
/// mail bounced (and quoting the server) is a person to answer, not a report.
fn greets(text: &str) -> bool {
    const GREETINGS: &[&str] = &[
        "hallo",
        "hi ",
        "hi,",
        "liebe",
        "moin",
        "servus",
        "guten tag",
        "guten morgen",
        "sehr geehrte",
        "hello",
        "dear",
    ];
    let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default().to_lowercase();
    GREETINGS.iter().any(|g| first.starts_with(g))
}

/// Whether the text carries what only a mail server writes.
fn machine_written(text: &str) -> bool {
    static SMTP_REPLY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)(^|[\s(\[])[45]\d\d[ -]").unwrap_or_else(|_| unreachable!()));
    let head: String = text.chars().take(8000).collect::<String>().to_lowercase();
    MACHINE.iter().any(|m| head.contains(m)) || STATUS.is_match(&head) || SMTP_REPLY.is_match(&head)
}

/// Whether the mail's words say it is a delivery failure.
fn says_bounce(subject: &str, text: &str) -> bool {
    let head: String = text.chars().take(4000).collect::<String>().to_lowercase();
    SUBJECTS.iter().any(|s| subject.contains(s)) || PHRASES.iter().any(|p| head.contains(p))
}

/// A text bounce report if this mail is one.
pub(super) fn detect(msg: &Message<'_>, from: &str, own: &[String]) -> Option<BounceReport> {
    let subject = msg.subject().unwrap_or_default().to_lowercase();
    let x_failed: Vec<String> = msg
        .header_values("X-Failed-Recipients")
        .filter_map(|v| v.as_text())
        .flat_map(|t| t.split(','))
        .filter_map(super::first_address)
        .collect();
    let named = msg.from().and_then(|a| a.first()).and_then(|a| a.name()).unwrap_or_default().to_lowercase();
    let mut daemon_forwarded = false;
    let daemon = from.is_empty()
        || is_daemon(from)
        || null_sender(msg)
        || ["mailer-daemon", "mail delivery", "postmaster", "mail system"].iter().any(|n| named.contains(n));
    // Most mail is a person's: decided from the headers alone, before any body text is read.
    let report_subject = REPORT_SUBJECTS.iter().any(|s| subject.contains(s));
    let forward_subject = ["fwd:", "fw:", "wg:", "tr:"].iter().any(|p| subject.trim_start().starts_with(p));
    if x_failed.is_empty() && !daemon && !report_subject && !forward_subject && !is_automatic_sender(from) {
        return None;
    }
    let mut body = report_text(msg);
    if let Some(forwarded) = forwarded_bounce(&subject, &body) {
        body = forwarded;
        daemon_forwarded = true;
    }
    let daemon = daemon || daemon_forwarded;
    let stated = report_subject && says_bounce("", &body) && machine_written(&body) && !greets(&body);
    // A no-reply or list-admin sender must say it in the subject and the text.
    let weak = is_automatic_sender(from) && says_bounce(&subject, "") && says_bounce("", &body);
    let said = !x_failed.is_empty() || (daemon && says_bounce(&subject, &body)) || weak || stated;
    if !said && !daemon {
        return None;
    }
    let (human, tail) = split_at_separator(&body);
    let quoted = original(msg, tail);
    let mut exclude: Vec<String> = vec![from.to_owned()];
    exclude.extend(quoted.from.iter().cloned());
    let named = text_failures(human, &exclude);
    // A mailer daemon's mail in words we do not know: a bounce if it lists addresses.
    if !said && !named.iter().any(|n| n.listed) {
        return None;
    }
    // Our own addresses (the bounce's recipients) are the sender's, unless nothing else is named.
    let (theirs, ours): (Vec<_>, Vec<_>) =
        named.into_iter().partition(|n| n.listed || !own.contains(&n.failed.address));
    let mut failed: Vec<FailedRecipient> = theirs.into_iter().map(|n| n.failed).collect();
    if !x_failed.is_empty() {
        let mut ordered: Vec<FailedRecipient> = Vec::new();
        for a in &x_failed {
            if ordered.iter().any(|f| &f.address == a) {
                continue;
            }
            let near = failed.iter().find(|f| &f.address == a);
            let status = near
                .and_then(|f| f.status.clone())
                .or_else(|| (x_failed.len() == 1).then(|| STATUS.find(human).map(|m| m.as_str().to_owned())).flatten());
            let reason = near.map_or_else(|| Reason::classify(status.as_deref(), human), |f| f.reason);
            ordered.push(FailedRecipient { address: a.clone(), status, reason });
        }
        failed = ordered;
    }
    if failed.is_empty() {
        // Nothing named in the explanation: the original's recipients failed.
        let status = STATUS.find(human).map(|m| m.as_str().to_owned());
        let reason = Reason::classify(status.as_deref(), human);
        failed = quoted
            .to
            .iter()
            .filter(|a| !exclude.contains(a))
            .map(|address| FailedRecipient { address: address.clone(), status: status.clone(), reason })
            .collect();
    }
    if failed.is_empty() {
        failed = ours.into_iter().map(|n| n.failed).collect();
    }
    // A bounce that names no address is still a bounce: never a person's mail.
    Some(BounceReport { failed, original_message_id: quoted.message_id })
}

#[cfg(test)]
mod tests {
    use crate::{MailKind, parse_mail};

    fn kind(from: &str, subject: &str, body: &str) -> MailKind {
        let raw = format!(
            "From: {from}\r\nTo: mitglieder@piratenpartei.de\r\nSubject: {subject}\r\nMessage-ID: <m@x>\r\n\r\n{body}\r\n"
        );
        parse_mail(raw.as_bytes()).unwrap().kind
    }

    #[test]
    fn members_writing_about_bounces_are_members() {
        let cases = [
            (
                "Erika <erika@example.org>",
                "Meine Mail war unzustellbar",
                "Hallo,\r\nmeine Mail an den Vorstand kam zurück: 550 5.1.1 user unknown. Was nun?\r\nErika",
            ),
            ("Jürgen <j@example.org>", "Mail delivery failed?", "Guten Tag, ich bekam 'delivery failed' – warum?"),
            (
                "Kontaktformular <noreply@piratenpartei-nrw.de>",
                "Anfrage: Austritt",
                "Name: Max\r\nNachricht: Ich möchte austreten, meine alte Adresse ist unbekannt.",
            ),
            ("a@example.org", "Returned mail", "Ich habe euch das Formular zurückgeschickt."),
        ];
        for (from, subject, body) in cases {
            assert_eq!(kind(from, subject, body), MailKind::Normal, "{subject}");
        }
    }

    #[test]
    fn a_gateway_report_from_any_sender_is_a_bounce() {
        let k = kind(
            "Virenscanner <scanner@gw.example.net>",
            "Mail could not be delivered",
            "The following mail could not be delivered to <gone@example.org>:\r\n550 5.1.1 user unknown",
        );
        let MailKind::Bounce(r) = k else { panic!("{k:?}") };
        assert_eq!(r.failed[0].address, "gone@example.org");
    }
}
