//! Real-world bounces and auto-replies (Sisimai's set-of-emails, BSD-2, in
//! `tests/fixtures/bounces`): each is recognised, with the right failed
//! addresses; status codes where the message states one.

use crate::{MailKind, Reason, parse_mail};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/bounces")
}

#[test]
fn every_sample_is_classified_as_expected() {
    let expected = std::fs::read_to_string(dir().join("EXPECTED.tsv")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in expected.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, kind, failed, status) = (cols[0], cols[1], cols[2], cols[3]);
        let raw = std::fs::read(dir().join(file)).unwrap();
        let mail = match parse_mail(&raw) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{file}: not parsed: {e}"));
                continue;
            }
        };
        checked += 1;
        match (kind, &mail.kind) {
            ("bounce", MailKind::Bounce(report)) => {
                let got: Vec<&str> = report.failed.iter().map(|f| f.address.as_str()).collect();
                let want: Vec<&str> = failed.split(',').collect();
                if got != want {
                    failures.push(format!("{file}: failed addresses {got:?}, expected {want:?}"));
                }
                // Only codes the message itself states (Sisimai also infers codes from wording).
                for (addr, code) in want.iter().zip(status.split(',')) {
                    if code != "-" && String::from_utf8_lossy(&raw).contains(code) {
                        let got = report.failed.iter().find(|f| f.address == *addr).and_then(|f| f.status.as_deref());
                        if got != Some(code) {
                            failures.push(format!("{file}: status of {addr} {got:?}, expected {code}"));
                        }
                    }
                }
            }
            ("autoreply", MailKind::AutoReply) | ("normal", MailKind::Normal) => {}
            (want, got) => failures.push(format!("{file}: expected {want}, got {got:?}")),
        }
    }
    assert!(checked >= 25, "only {checked} samples");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Sisimai's whole public corpus (`tests/fixtures/bounces/corpus`, BSD-2):
/// 629 bounces, feedback reports and auto-replies from every kind of mail
/// server, their CRLF copies, and mails that are not bounces. Expected values
/// are Sisimai's own results (EXPECTED.tsv). Prints the figures and every miss.
#[test]
fn real_corpus_is_recognised() {
    let dir = dir().join("corpus");
    let expected = std::fs::read_to_string(dir.join("EXPECTED.tsv")).unwrap();
    let (mut reports, mut recognised, mut with_address, mut address_ok) = (0, 0, 0, 0);
    let (mut reasons, mut reasons_ok) = (0, 0);
    let mut misses = Vec::new();
    let mut tickets = Vec::new();
    for line in expected.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, kind, failed, want_reasons) = (cols[0], cols[1], cols[2], cols[4]);
        let raw = std::fs::read(dir.join(file)).unwrap();
        let parsed = parse_mail(&raw);
        if kind == "normal" {
            match &parsed {
                Ok(m) if m.kind == MailKind::Normal => {}
                other => {
                    tickets.push(format!("{file}: a person's mail taken for {:?}", other.as_ref().map(|m| &m.kind)))
                }
            }
            continue;
        }
        reports += 1;
        let mail = match parsed {
            Ok(m) => m,
            Err(e) => {
                misses.push(format!("{file} ({kind}): not read: {e}"));
                continue;
            }
        };
        let found: Vec<&str> = match &mail.kind {
            MailKind::Bounce(r) => r.failed.iter().map(|f| f.address.as_str()).collect(),
            _ => Vec::new(),
        };
        let ok_kind = match (kind, &mail.kind) {
            ("bounce" | "complaint", MailKind::Bounce(_)) => true,
            // A mailbox-gone notice may be sent as an auto-reply; Sisimai itself changed its mind.
            ("autoreply", MailKind::AutoReply | MailKind::Bounce(_)) => true,
            ("delivered", MailKind::AutoReply) => true,
            _ => false,
        };
        if matches!(mail.kind, MailKind::Normal | MailKind::List) {
            tickets.push(format!("{file} ({kind}): taken for {:?}", mail.kind));
        }
        if ok_kind {
            recognised += 1;
        } else {
            misses.push(format!("{file}: expected {kind}, got {:?}", mail.kind));
        }
        if matches!(kind, "bounce" | "complaint") && failed != "-" {
            with_address += 1;
            let want: Vec<&str> = failed.split(',').collect();
            if want.iter().all(|w| found.contains(w)) {
                address_ok += 1;
            } else if ok_kind {
                misses.push(format!("{file}: failed addresses {found:?}, expected {want:?}"));
            }
            if let MailKind::Bounce(r) = &mail.kind {
                for (addr, want) in want.iter().zip(want_reasons.split(',')) {
                    if let Some(f) = r.failed.iter().find(|f| f.address == *addr) {
                        reasons += 1;
                        if Reason::from_sisimai(want) == Some(f.reason) {
                            reasons_ok += 1;
                        }
                    }
                }
                if kind == "complaint" && !r.failed.iter().all(|f| f.reason == Reason::Complaint) {
                    misses.push(format!("{file}: a feedback report not recorded as a complaint"));
                }
            }
        }
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "corpus: {recognised}/{reports} recognised ({:.1} %), failed address named in {address_ok}/{with_address} ({:.1} %), \
reason as Sisimai's in {reasons_ok}/{reasons} ({:.1} %)",
        pct(recognised, reports),
        pct(address_ok, with_address),
        pct(reasons_ok, reasons)
    );
    for m in &misses {
        println!("  miss: {m}");
    }
    assert!(tickets.is_empty(), "mails that would open a wrong ticket:\n{}", tickets.join("\n"));
    assert!(reports >= 700, "only {reports} reports in the corpus");
    assert!(pct(recognised, reports) >= 99.0, "recognised only {recognised}/{reports}");
    assert!(pct(address_ok, with_address) >= 98.0, "addresses only {address_ok}/{with_address}");
}
