//! Mail as Logbuch reads it: parsing (MIME, charsets, encoded words),
//! classification (normal, auto-reply, bounce, our own loop), bounce reports
//! and recipient addresses. Pure functions, no I/O.

mod bounce;
mod classify;
mod parse;

#[cfg(test)]
mod fixtures_test;

pub use bounce::{BounceReport, FailedRecipient, Reason};
pub use classify::{MailKind, classify};
pub use parse::{MailAttachment, ParsedMail, parse_mail};

/// The header Logbuch puts on every mail it sends, to recognise its own mail coming back.
pub const LOOP_HEADER: &str = "X-Logbuch-Loop";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MailError {
    #[error("die Mail lässt sich nicht lesen (kein gültiges Internet-Mail-Format)")]
    Unparsable,
    #[error(
        "die Mail hat keine Absenderadresse und ist weder eine Unzustellbarkeitsmeldung noch eine automatische Antwort"
    )]
    NoSender,
}

/// Normalises a Message-ID for storage and comparison: without angle brackets and blanks.
pub fn normalize_message_id(raw: &str) -> Option<String> {
    let id = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
    (!id.is_empty() && id.len() <= 900 && !id.chars().any(char::is_whitespace)).then(|| id.to_owned())
}

/// Normalises an address for routing: lower case; `local+tag@domain` also yields `local@domain`.
pub fn address_variants(raw: &str) -> Vec<String> {
    let a = raw.trim().trim_start_matches('<').trim_end_matches('>').to_lowercase();
    let mut out = vec![a.clone()];
    if let Some((local, domain)) = a.split_once('@')
        && let Some((base, _tag)) = local.split_once('+')
        && !base.is_empty()
    {
        out.push(format!("{base}@{domain}"));
    }
    out
}

/// The ticket number in a subject tag like `[Logbuch #123]`.
pub fn ticket_tag(subject: &str) -> Option<i64> {
    let lower = subject.to_lowercase();
    let start = lower.find("[logbuch #")? + "[logbuch #".len();
    let rest = &lower[start..];
    let end = rest.find(']')?;
    rest[..end].trim().parse().ok().filter(|n| *n > 0)
}

/// Every subject tag of another tracker in a subject, as `name #number` in
/// lower case with single blanks: `Re: [RT.Example #12] …` gives
/// `rt.example #12` (Request Tracker's `[$rtname #id]` or a queue's own
/// tag). Imported tickets are found by these.
pub fn foreign_tags(subject: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = subject;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        let inner = &rest[..close];
        if let Some((name, number)) = inner.rsplit_once('#') {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
            let number = number.trim();
            if !name.is_empty()
                && name.len() <= 100
                && !number.is_empty()
                && number.len() <= 18
                && number.bytes().all(|b| b.is_ascii_digit())
            {
                out.push(format!("{name} #{number}"));
            }
        }
        rest = &rest[close..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_normalise() {
        assert_eq!(normalize_message_id(" <abc@x> ").as_deref(), Some("abc@x"));
        assert_eq!(normalize_message_id("<>"), None);
        assert_eq!(normalize_message_id("a b@x"), None);
    }

    #[test]
    fn plus_addressing_and_case() {
        assert_eq!(
            address_variants("Presse+Anfrage@NRW.example"),
            vec!["presse+anfrage@nrw.example", "presse@nrw.example"]
        );
        assert_eq!(address_variants("<a@b>"), vec!["a@b"]);
        assert_eq!(address_variants("+x@b"), vec!["+x@b"]);
    }

    #[test]
    fn ticket_tags() {
        assert_eq!(ticket_tag("Re: [Logbuch #42] Austritt"), Some(42));
        assert_eq!(ticket_tag("AW: [LOGBUCH #7]"), Some(7));
        assert_eq!(ticket_tag("[Logbuch #x] hm"), None);
        assert_eq!(ticket_tag("Logbuch #5"), None);
    }

    #[test]
    fn foreign_subject_tags() {
        assert_eq!(foreign_tags("Re: [RT.Example  #12] Umzug"), vec!["rt.example #12"]);
        assert_eq!(foreign_tags("AW: [Presse NRW #7] [logbuch.test #8]"), vec!["presse nrw #7", "logbuch.test #8"]);
        assert_eq!(foreign_tags("[Logbuch #3] x"), vec!["logbuch #3"]);
        assert!(foreign_tags("[#12] [rt #x] [rt 12] [rt #12").is_empty());
        assert!(foreign_tags("ohne Tag").is_empty());
    }
}

/// The Message-ID from the header block, without parsing the whole mail
/// (the key under which a raw mail is stored once). Falls back to a hash of
/// the bytes, as [`parse_mail`] does.
pub fn message_id_of(raw: &[u8]) -> String {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("message-id")
        {
            let mut v = value.trim().to_owned();
            while let Some(next) = lines.peek().filter(|l| l.starts_with([' ', '\t'])) {
                v.push_str(next.trim());
                lines.next();
            }
            if let Some(id) = normalize_message_id(&v) {
                return id;
            }
        }
    }
    hashed_message_id(raw)
}

pub(crate) fn hashed_message_id(raw: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("sha256-{}@logbuch.invalid", hex::encode(Sha256::digest(raw)))
}

#[cfg(test)]
mod id_tests {
    use super::*;

    #[test]
    fn message_id_from_headers_matches_the_parser() {
        let raw =
            b"From: a@b.example\r\nMessage-ID:\r\n <folded@x.example>\r\nSubject: x\r\n\r\nMessage-ID: <body@x>\r\n";
        assert_eq!(message_id_of(raw), "folded@x.example");
        assert_eq!(parse_mail(raw).unwrap().message_id, "folded@x.example");
        let none = b"From: a@b.example\r\n\r\nbody";
        assert_eq!(message_id_of(none), parse_mail(none).unwrap().message_id);
    }
}
