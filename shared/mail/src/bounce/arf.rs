//! Feedback reports: a recipient marked our mail as spam or asked to be
//! unsubscribed. ARF (RFC 5965, `message/feedback-report`), Microsoft's
//! JMRP (the original with `X-HmXmrOriginalRecipient`) and Apple Mail's
//! unsubscribe mail. Each address is recorded with reason complaint.

use super::{BounceReport, FailedRecipient, Reason, first_address, header_field, is_type, original, part_text};
use mail_parser::{Message, MimeHeaders, PartType};

/// Placeholders that stand for a hidden recipient, not an address.
fn is_placeholder(a: &str) -> bool {
    a.contains("undisclosed") || a.ends_with(".invalid")
}

fn complaint(addresses: impl IntoIterator<Item = String>, msg: &Message<'_>) -> BounceReport {
    let mut failed: Vec<FailedRecipient> = Vec::new();
    for address in addresses {
        if !is_placeholder(&address) && !failed.iter().any(|f| f.address == address) {
            failed.push(FailedRecipient { address, status: None, reason: Reason::Complaint });
        }
    }
    BounceReport { failed, original_message_id: original(msg, "").message_id }
}

fn is_feedback_report(msg: &Message<'_>) -> bool {
    msg.parts.iter().any(|p| is_type(p, "message", "feedback-report"))
        || msg
            .content_type()
            .is_some_and(|c| c.attribute("report-type").is_some_and(|t| t.eq_ignore_ascii_case("feedback-report")))
}

/// A feedback report if this mail is one.
pub(super) fn detect(msg: &Message<'_>) -> Option<BounceReport> {
    if is_feedback_report(msg) {
        let fields =
            msg.parts.iter().find(|p| is_type(p, "message", "feedback-report")).map(part_text).unwrap_or_default();
        let named: Vec<String> = fields
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| {
                let k = k.trim();
                k.eq_ignore_ascii_case("Original-Rcpt-To") || k.eq_ignore_ascii_case("Removal-Recipient")
            })
            .filter_map(|(_, v)| first_address(v))
            .collect();
        let addresses = if named.is_empty() { original(msg, "").to } else { named };
        return Some(complaint(addresses, msg));
    }
    // Microsoft JMRP: the original, with the complaining recipient in a header.
    for p in &msg.parts {
        if let PartType::Message(m) = &p.body
            && let Some(v) = header_field(&String::from_utf8_lossy(m.raw_message()), "X-HmXmrOriginalRecipient")
        {
            return Some(complaint(first_address(&v), msg));
        }
    }
    // Apple Mail's unsubscribe button sends a mail of its own.
    if msg.header_raw("X-Apple-Unsubscribe").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        let from = msg.from().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_lowercase);
        return Some(complaint(from, msg));
    }
    None
}
