//! Why a delivery failed, normalised from the RFC 3463 status code and the
//! server's own words (English and German), so the dunning team can tell a
//! gone mailbox from a full one or a spam block.

/// The normalised reason of one failed address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The mailbox does not exist (or moved without a forward).
    UserUnknown,
    /// The mailbox exists but is full.
    MailboxFull,
    /// The mail was bigger than the receiver takes.
    MessageTooLarge,
    /// Refused as spam, by policy, reputation, authentication or a filter.
    Blocked,
    /// Given up after retrying for too long.
    Expired,
    /// The domain or its mail server does not exist.
    HostUnknown,
    /// The mailbox exists but is disabled or suspended.
    Suspended,
    /// The recipient complained (a feedback report: marked as spam).
    Complaint,
    /// The receiving server could not be reached or broke the connection.
    NetworkError,
    /// The receiving system failed (its disk, its configuration).
    SystemError,
    /// Nothing more specific is said.
    Other,
}

impl Reason {
    /// The name stored beside the address and shown to staff.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UserUnknown => "user_unknown",
            Reason::MailboxFull => "mailbox_full",
            Reason::MessageTooLarge => "message_too_large",
            Reason::Blocked => "blocked",
            Reason::Expired => "expired",
            Reason::HostUnknown => "host_unknown",
            Reason::Suspended => "suspended",
            Reason::Complaint => "complaint",
            Reason::NetworkError => "network_error",
            Reason::SystemError => "system_error",
            Reason::Other => "other",
        }
    }

    /// The reason stored under `name` ([`Reason::as_str`]).
    pub fn from_name(name: &str) -> Option<Reason> {
        use Reason::*;
        [
            UserUnknown,
            MailboxFull,
            MessageTooLarge,
            Blocked,
            Expired,
            HostUnknown,
            Suspended,
            Complaint,
            NetworkError,
            SystemError,
            Other,
        ]
        .into_iter()
        .find(|r| r.as_str() == name)
    }

    /// The German words for the staff pages.
    pub fn label(self) -> &'static str {
        match self {
            Reason::UserUnknown => "Adresse unbekannt",
            Reason::MailboxFull => "Postfach voll",
            Reason::MessageTooLarge => "Mail zu groß",
            Reason::Blocked => "abgewiesen (Spam/Richtlinie)",
            Reason::Expired => "Zustellung aufgegeben",
            Reason::HostUnknown => "Domain unbekannt",
            Reason::Suspended => "Postfach gesperrt",
            Reason::Complaint => "Beschwerde (als Spam gemeldet)",
            Reason::NetworkError => "Server nicht erreichbar",
            Reason::SystemError => "Fehler beim Empfänger",
            Reason::Other => "sonstiger Grund",
        }
    }

    /// Sisimai's reason names mapped onto ours (for comparing with its corpus).
    pub fn from_sisimai(name: &str) -> Option<Reason> {
        Some(match name {
            "userunknown" | "hasmoved" => Reason::UserUnknown,
            "mailboxfull" => Reason::MailboxFull,
            "mesgtoobig" | "exceedlimit" => Reason::MessageTooLarge,
            "blocked" | "spamdetected" | "policyviolation" | "filtered" | "rejected" | "badreputation"
            | "requireptr" | "authfailure" | "securityerror" | "virusdetected" | "contenterror" | "notcompliantrfc"
            | "norelaying" | "speeding" | "toomanyconn" => Reason::Blocked,
            "expired" => Reason::Expired,
            "hostunknown" | "notaccept" => Reason::HostUnknown,
            "suspend" => Reason::Suspended,
            "feedback" => Reason::Complaint,
            "networkerror" => Reason::NetworkError,
            "systemerror" | "systemfull" | "mailererror" => Reason::SystemError,
            "undefined" | "onhold" | "syntaxerror" => Reason::Other,
            _ => return None,
        })
    }

    /// The reason for a failure, from its status code and the text around it.
    pub fn classify(status: Option<&str>, text: &str) -> Reason {
        let lower = text.to_lowercase();
        if let Some(r) = from_words(&lower) {
            return r;
        }
        status.and_then(from_status).unwrap_or(Reason::Other)
    }
}

/// Phrases that name the reason, most specific first.
const WORDS: &[(Reason, &[&str])] = &[
    (
        Reason::MessageTooLarge,
        &[
            "message too large",
            "message is too large",
            "message size exceeds",
            "exceeds size limit",
            "size limit",
            "message too big",
            "mail too big",
            "message length exceeds",
            "exceeds the maximum size",
            "message exceeds",
            "too big for",
            "zu groß",
            "mesgtoobig",
        ],
    ),
    (
        Reason::MailboxFull,
        &[
            "mailbox full",
            "mailbox is full",
            "mailbox has exceeded",
            "over quota",
            "overquota",
            "quota exceeded",
            "exceeded storage",
            "exceeded its quota",
            "exceed the quota",
            "quota",
            "mailbox size limit",
            "insufficient storage",
            "not enough storage",
            "out of storage",
            "full mailbox",
            "mail box full",
            "user is over",
            "postfach voll",
            "postfach ist voll",
            "speicherplatz",
        ],
    ),
    (
        Reason::Suspended,
        &[
            "account disabled",
            "account has been disabled",
            "mailbox disabled",
            "mailbox is disabled",
            "is disabled",
            "suspended",
            "inactive",
            "deactivated",
            "no longer in use",
            "mailbox is not active",
            "gesperrt",
            "deaktiviert",
        ],
    ),
    (
        Reason::UserUnknown,
        &[
            "user unknown",
            "unknown user",
            "no such user",
            "no such recipient",
            "no such mailbox",
            "no such address",
            "no mailbox",
            "unknown recipient",
            "recipient unknown",
            "unknown address",
            "address unknown",
            "invalid recipient",
            "invalid mailbox",
            "invalid address",
            "mailbox not found",
            "mailbox unavailable",
            "mailbox does not exist",
            "user does not exist",
            "address does not exist",
            "recipient does not exist",
            "does not exist",
            "doesn't exist",
            "not a valid mailbox",
            "no account",
            "account does not exist",
            "not found in",
            "address not found",
            "user not found",
            "recipient not found",
            "unrouteable address",
            "unknown local part",
            "not listed in",
            "no valid recipients",
            "address rejected",
            "unknown or illegal alias",
            "user doesn't have",
            "no user",
            "unbekannt",
            "existiert nicht",
            "gibt es nicht",
            "userunknown",
        ],
    ),
    (
        Reason::HostUnknown,
        &[
            "host unknown",
            "unknown host",
            "host not found",
            "domain not found",
            "domain does not exist",
            "no such domain",
            "name service error",
            "name or service not known",
            "unrouteable mail domain",
            "no mx",
            "mx record",
            "does not accept mail",
            "null mx",
            "host or domain name not found",
            "unknown domain",
            "domain unknown",
        ],
    ),
    (Reason::Complaint, &["feedback-type: abuse", "feedback-type: fraud"]),
    (
        Reason::Blocked,
        &[
            "spam",
            "blacklist",
            "blocklist",
            "black list",
            "blocked",
            "block list",
            "listed at",
            "listed in",
            "rbl",
            "dnsbl",
            "spamhaus",
            "reputation",
            "policy",
            "not permitted",
            "not allowed",
            "relay access denied",
            "relaying denied",
            "relay not permitted",
            "unable to relay",
            "access denied",
            "denied",
            "rejected",
            "refused",
            "virus",
            "malware",
            "dmarc",
            "spf",
            "dkim",
            "reverse dns",
            "ptr record",
            "not authorized",
            "unauthenticated",
            "authentication required",
            "filtered",
            "content",
            "abgelehnt",
            "abgewiesen",
        ],
    ),
    (
        Reason::Expired,
        &[
            "expired",
            "retry timeout",
            "retry time",
            "could not be delivered for",
            "delivery time",
            "has been delayed",
            "delayed",
            "too long",
            "giving up",
            "gave up",
            "time limit",
            "was not delivered within",
            "not yet been delivered",
            "will retry",
            "still trying",
            "timed out",
            "timeout",
        ],
    ),
    (
        Reason::NetworkError,
        &["connection refused", "connection reset", "lost connection", "no route to host", "network is unreachable"],
    ),
    (
        Reason::SystemError,
        &["system resources", "temporary failure", "local error", "internal error", "configuration error", "i/o error"],
    ),
];

fn from_words(lower: &str) -> Option<Reason> {
    WORDS.iter().find(|(_, words)| words.iter().any(|w| lower.contains(w))).map(|(r, _)| *r)
}

/// RFC 3463 enhanced status codes: the subject and detail say the reason.
fn from_status(status: &str) -> Option<Reason> {
    let mut parts = status.split('.');
    let _class = parts.next()?;
    let subject: u16 = parts.next()?.parse().ok()?;
    let detail: u16 = parts.next()?.parse().ok()?;
    Some(match (subject, detail) {
        (1, 1 | 3 | 6) => Reason::UserUnknown,
        (1, 2 | 10) => Reason::HostUnknown,
        (1, _) => Reason::UserUnknown,
        (2, 1) => Reason::Suspended,
        (2, 2) => Reason::MailboxFull,
        (2, 3) => Reason::MessageTooLarge,
        (2, _) => Reason::MailboxFull,
        (3, 4) => Reason::MessageTooLarge,
        (3, _) => Reason::SystemError,
        (4, 4) => Reason::HostUnknown,
        (4, 7) => Reason::Expired,
        (4, _) => Reason::NetworkError,
        (5, _) => Reason::Other,
        (6, _) => Reason::Blocked,
        (7, _) => Reason::Blocked,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_before_codes() {
        assert_eq!(
            Reason::classify(Some("5.1.1"), "550 5.1.1 <a@b>: Recipient address rejected: User unknown"),
            Reason::UserUnknown
        );
        assert_eq!(Reason::classify(Some("5.2.2"), "552 Mailbox full"), Reason::MailboxFull);
        assert_eq!(
            Reason::classify(Some("5.7.1"), "554 5.7.1 Service unavailable; blocked using zen.spamhaus.org"),
            Reason::Blocked
        );
        assert_eq!(Reason::classify(Some("4.4.7"), ""), Reason::Expired);
        assert_eq!(Reason::classify(Some("5.2.2"), ""), Reason::MailboxFull);
        assert_eq!(Reason::classify(None, "Das Postfach ist voll."), Reason::MailboxFull);
        assert_eq!(Reason::classify(None, "Die Adresse existiert nicht."), Reason::UserUnknown);
        assert_eq!(Reason::classify(None, "message size exceeds fixed limit"), Reason::MessageTooLarge);
        assert_eq!(Reason::classify(None, "Host or domain name not found"), Reason::HostUnknown);
        assert_eq!(Reason::classify(None, "sonstwas"), Reason::Other);
    }
}
