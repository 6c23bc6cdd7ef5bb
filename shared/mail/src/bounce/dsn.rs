//! Machine-readable delivery reports: RFC 3464 delivery status (in its own
//! part, or pasted into the text by servers that skip the part) and the JSON
//! notifications of sending services (Amazon SES through SNS, SendGrid events).

use super::{BounceReport, FailedRecipient, Reason, Report, STATUS, is_type, original, part_text};
use mail_parser::Message;
use serde_json::Value;

/// One recipient block of a delivery-status text.
#[derive(Default)]
struct Block {
    address: Option<String>,
    original: Option<String>,
    action: Option<String>,
    status: Option<String>,
    diagnostic: String,
}

/// The address of a recipient field (`rfc822; a@b`), as written: quoted
/// local parts and local host names included.
fn recipient_of(value: &str) -> Option<String> {
    let addr = value.split_once(';').map_or(value, |(_, a)| a).trim();
    let addr = addr.split_whitespace().find(|w| w.contains('@')).unwrap_or(addr);
    let addr = addr.trim_start_matches('<').trim_end_matches(['>', ',', ';']).trim();
    // A source route (`@relay:user@host`) names the relay first.
    let addr = addr.rsplit_once(':').filter(|(r, _)| r.starts_with('@')).map_or(addr, |(_, a)| a);
    let (local, domain) = addr.rsplit_once('@')?;
    (!local.is_empty() && !domain.is_empty() && !addr.contains(['<', '>', ' '])).then(|| addr.to_lowercase())
}

/// Reads the per-recipient blocks; `None` when the text holds no recipient at all.
fn parse_blocks(text: &str) -> Vec<Block> {
    let unfolded = text.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ");
    let mut blocks: Vec<Block> = Vec::new();
    let mut current = Block::default();
    let push = |blocks: &mut Vec<Block>, b: Block| {
        if b.address.is_some() || b.original.is_some() {
            blocks.push(b);
        }
    };
    for line in unfolded.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim();
        match key.as_str() {
            "final-recipient" | "x-actual-recipient" => {
                if current.address.is_some() && key == "final-recipient" {
                    push(&mut blocks, std::mem::take(&mut current));
                }
                if current.address.is_none() {
                    current.address = recipient_of(value);
                }
            }
            "original-recipient" => {
                if current.original.is_some() || (current.address.is_some() && current.action.is_some()) {
                    push(&mut blocks, std::mem::take(&mut current));
                }
                current.original = recipient_of(value);
            }
            "action" => current.action = Some(value.to_ascii_lowercase()),
            "status" => current.status = STATUS.find(value).map(|m| m.as_str().to_owned()),
            "diagnostic-code" => current.diagnostic = value.to_owned(),
            _ => {}
        }
    }
    push(&mut blocks, current);
    blocks
}

fn failed_of(blocks: Vec<Block>) -> (Vec<FailedRecipient>, bool) {
    let mut failed: Vec<FailedRecipient> = Vec::new();
    let mut delivered = false;
    for b in blocks {
        let action = b.action.as_deref().unwrap_or("failed");
        let success = ["delivered", "deliverable", "relayed", "expanded"].iter().any(|a| action.starts_with(a))
            || (b.action.is_none() && b.status.as_deref().is_some_and(|s| s.starts_with('2')));
        if success {
            delivered = true;
            continue;
        }
        // A final recipient on a local host name (after a source route) says less than the original.
        let local = b.address.as_deref().is_some_and(|a| a.rsplit_once('@').is_some_and(|(_, d)| !d.contains('.')));
        let status = b
            .status
            .filter(|s| !s.starts_with('2'))
            .or_else(|| STATUS.find(&b.diagnostic).map(|m| m.as_str().to_owned()));
        let reason = Reason::classify(status.as_deref(), &b.diagnostic);
        // The final recipient is where delivery failed; the original one is the
        // address we wrote to (before aliases and forwards), the one the member
        // database knows. Both are recorded.
        let addresses = if local { [b.original, None] } else { [b.address, b.original] };
        for address in addresses.into_iter().flatten() {
            if !failed.iter().any(|f| f.address == address) {
                failed.push(FailedRecipient { address, status: status.clone(), reason });
            }
        }
    }
    (failed, delivered)
}

/// An RFC 3464 report: a message/delivery-status part, or its fields in the text.
pub(super) fn detect(msg: &Message<'_>) -> Option<Report> {
    let part = msg.parts.iter().find(|p| {
        is_type(p, "message", "delivery-status")
            || is_type(p, "message", "global-delivery-status")
            || is_type(p, "text", "delivery-status")
    });
    let text = match part {
        Some(p) => part_text(p),
        None => {
            let body = msg.body_text(0)?;
            let lower = body.to_ascii_lowercase();
            if !(lower.contains("final-recipient:") && (lower.contains("\nstatus:") || lower.contains("\naction:"))) {
                return None;
            }
            body.into_owned()
        }
    };
    let (failed, delivered) = failed_of(parse_blocks(&text));
    if failed.is_empty() {
        return delivered.then_some(Report::Delivered);
    }
    let original_message_id = original(msg, "").message_id;
    Some(Report::Failed(BounceReport { failed, original_message_id }))
}

/// The first JSON object or array in a text, tolerating the line breaks mail adds.
fn json_in(text: &str) -> Option<Value> {
    let start = text.find(['{', '['])?;
    let end = text.rfind(['}', ']'])?;
    let candidate = text.get(start..=end)?;
    serde_json::from_str(candidate)
        .ok()
        .or_else(|| serde_json::from_str(&candidate.replace("\r\n", "").replace('\n', "")).ok())
        .or_else(|| serde_json::from_str(&candidate.replace("\r\n ", "").replace("\n ", "")).ok())
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Amazon SES (through SNS, or as an event) and SendGrid event notifications.
pub(super) fn detect_json(msg: &Message<'_>) -> Option<Report> {
    let body = msg.body_text(0)?;
    if !["bouncedRecipients", "complainedRecipients", "notificationType", "eventType", "\"event\""]
        .iter()
        .any(|k| body.contains(k))
    {
        return None;
    }
    let value = json_in(&body)?;
    // SNS wraps the notification as a string in "Message".
    let value = match str_of(&value, "Message").and_then(|m| serde_json::from_str::<Value>(m).ok()) {
        Some(inner) => inner,
        None => value,
    };
    let kind = str_of(&value, "notificationType").or_else(|| str_of(&value, "eventType")).unwrap_or_default();
    let mut failed = Vec::new();
    match kind {
        "Bounce" => {
            let list = value.pointer("/bounce/bouncedRecipients").and_then(Value::as_array)?;
            let subtype = value.pointer("/bounce/bounceSubType").and_then(Value::as_str).unwrap_or_default();
            for r in list {
                let Some(address) = str_of(r, "emailAddress").and_then(super::first_address) else { continue };
                let diagnostic = str_of(r, "diagnosticCode").unwrap_or_default();
                let status = str_of(r, "status").and_then(|s| STATUS.find(s)).map(|m| m.as_str().to_owned());
                let reason = match subtype {
                    "NoEmail" => Reason::UserUnknown,
                    "MailboxFull" => Reason::MailboxFull,
                    "MessageTooLarge" => Reason::MessageTooLarge,
                    "ContentRejected" | "AttachmentRejected" | "Suppressed" | "OnAccountSuppressionList" => {
                        Reason::Blocked
                    }
                    _ => Reason::classify(status.as_deref(), diagnostic),
                };
                failed.push(FailedRecipient { address, status, reason });
            }
        }
        "Complaint" => {
            let list = value.pointer("/complaint/complainedRecipients").and_then(Value::as_array)?;
            for r in list {
                let Some(address) = str_of(r, "emailAddress").and_then(super::first_address) else { continue };
                failed.push(FailedRecipient { address, status: None, reason: Reason::Complaint });
            }
        }
        "Delivery" => return Some(Report::Delivered),
        _ => {
            // SendGrid: a list of events.
            for e in value.as_array()? {
                let event = str_of(e, "event").unwrap_or_default();
                let Some(address) = str_of(e, "email").and_then(super::first_address) else { continue };
                let status = str_of(e, "status").and_then(|s| STATUS.find(s)).map(|m| m.as_str().to_owned());
                let reason = match event {
                    "bounce" | "dropped" => {
                        Reason::classify(status.as_deref(), str_of(e, "reason").unwrap_or_default())
                    }
                    "spamreport" => Reason::Complaint,
                    _ => continue,
                };
                failed.push(FailedRecipient { address, status, reason });
            }
        }
    }
    if failed.is_empty() {
        return None;
    }
    let original_message_id = value
        .pointer("/mail/commonHeaders/messageId")
        .or_else(|| value.pointer("/mail/messageId"))
        .and_then(Value::as_str)
        .and_then(crate::normalize_message_id);
    Some(Report::Failed(BounceReport { failed, original_message_id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_blocks() {
        let dsn = "Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; A@Example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
Final-Recipient: rfc822; b@example.org\r\nAction: delivered\r\nStatus: 2.0.0\r\n";
        let (failed, delivered) = failed_of(parse_blocks(dsn));
        assert!(delivered);
        assert_eq!(
            failed,
            vec![FailedRecipient {
                address: "a@example.org".into(),
                status: Some("5.1.1".into()),
                reason: Reason::UserUnknown
            }]
        );
    }
}
