//! What kind of mail this is: a person's mail, an auto-reply, a bounce, a
//! mailing-list mail, or our own mail coming back.

use crate::bounce::{self, BounceReport, Report};
use mail_parser::Message;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailKind {
    /// Written by a person: opens or continues a ticket.
    Normal,
    /// From a mailing list or bulk sender: a ticket, but never acknowledged.
    List,
    /// Vacation notice or other automatic answer: never answered automatically.
    AutoReply,
    /// A delivery failure report.
    Bounce(BounceReport),
    /// Carries our own loop header: we sent it; it must not come back in.
    OwnLoop,
}

impl MailKind {
    /// Whether Logbuch may answer this mail automatically (acknowledgements).
    pub fn may_auto_answer(&self) -> bool {
        matches!(self, MailKind::Normal)
    }
}

const AUTO_SUBJECTS: &[&str] = &[
    "automatic reply",
    "auto reply",
    "autoreply",
    "auto-reply",
    "auto:",
    "out of office",
    "out of the office",
    "abwesenheitsnotiz",
    "automatische antwort",
    "abwesenheitsmeldung",
    "réponse automatique",
];

/// Classifies a parsed message; `from` is its sender, `own` our receiving addresses.
pub fn classify(msg: &Message<'_>, from: &str, own: &[String]) -> MailKind {
    if msg.header_raw(crate::LOOP_HEADER).is_some() {
        return MailKind::OwnLoop;
    }
    match bounce::detect(msg, from, own) {
        Some(Report::Failed(report)) => return MailKind::Bounce(report),
        // A report that the mail arrived: automatic, never a ticket of its own.
        Some(Report::Delivered) => return MailKind::AutoReply,
        None => {}
    }
    let header = |name: &str| msg.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    if header("Auto-Submitted").is_some_and(|v| !v.starts_with("no"))
        || ["X-Autoreply", "X-Autorespond", "X-Autoresponder"].iter().any(|h| header(h).is_some())
    {
        return MailKind::AutoReply;
    }
    let subject = msg.subject().unwrap_or_default().to_lowercase();
    if AUTO_SUBJECTS.iter().any(|s| subject.starts_with(s) || subject.contains(&format!(" {s}"))) {
        return MailKind::AutoReply;
    }
    // The null sender is reserved for automatic notices (RFC 5321 4.5.5), and a
    // mailer daemon writes nothing else: never a person's mail.
    if bounce::null_sender(msg) || bounce::is_daemon(from) {
        return MailKind::AutoReply;
    }
    match header("Precedence").as_deref() {
        Some("auto_reply") => return MailKind::AutoReply,
        Some("bulk" | "junk" | "list") => return MailKind::List,
        _ => {}
    }
    if header("List-Id").is_some() || header("List-Unsubscribe").is_some() {
        return MailKind::List;
    }
    MailKind::Normal
}
