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

/// What one corpus gave.
#[derive(Default)]
struct Figures {
    reports: usize,
    recognised: usize,
    with_address: usize,
    address_ok: usize,
    reasons: usize,
    reasons_ok: usize,
    misses: Vec<String>,
    tickets: Vec<String>,
}

/// Reads a corpus directory with its EXPECTED.tsv (file, kind, failed
/// recipients, …; Sisimai's reasons in column 5 where it has them).
fn run_corpus(name: &str) -> Figures {
    let dir = dir().join(name);
    let expected = std::fs::read_to_string(dir.join("EXPECTED.tsv")).unwrap();
    let header: Vec<&str> = expected.lines().next().unwrap().split('\t').collect();
    let reason_col = header.iter().position(|h| *h == "reasons");
    let mut f = Figures::default();
    for line in expected.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, kind, failed) = (cols[0], cols[1], cols[2]);
        let want_reasons = reason_col.map_or("", |c| cols[c]);
        let raw = std::fs::read(dir.join(file)).unwrap();
        let parsed = parse_mail(&raw);
        if kind == "normal" {
            match &parsed {
                Ok(m) if m.kind == MailKind::Normal => {}
                other => {
                    f.tickets.push(format!("{file}: a person's mail taken for {:?}", other.as_ref().map(|m| &m.kind)))
                }
            }
            continue;
        }
        f.reports += 1;
        let mail = match parsed {
            Ok(m) => m,
            Err(e) => {
                f.misses.push(format!("{file} ({kind}): not read: {e}"));
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
            f.tickets.push(format!("{file} ({kind}): taken for {:?}", mail.kind));
        }
        if ok_kind {
            f.recognised += 1;
        } else {
            f.misses.push(format!("{file}: expected {kind}, got {:?}", mail.kind));
        }
        if matches!(kind, "bounce" | "complaint") && failed != "-" {
            f.with_address += 1;
            let want: Vec<&str> = failed.split(',').collect();
            if want.iter().all(|w| found.contains(w)) {
                f.address_ok += 1;
            } else if ok_kind {
                f.misses.push(format!("{file}: failed addresses {found:?}, expected {want:?}"));
            }
            if let MailKind::Bounce(r) = &mail.kind {
                for (addr, want) in want.iter().zip(want_reasons.split(',')) {
                    if let Some(got) = r.failed.iter().find(|x| x.address == *addr)
                        && let Some(want) = Reason::from_sisimai(want)
                    {
                        f.reasons += 1;
                        f.reasons_ok += usize::from(want == got.reason);
                    }
                }
                if kind == "complaint" && !r.failed.iter().all(|x| x.reason == Reason::Complaint) {
                    f.misses.push(format!("{file}: a feedback report not recorded as a complaint"));
                }
            }
        }
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "{name}: {}/{} recognised ({:.1} %), failed address named in {}/{} ({:.1} %), reason as Sisimai's in {}/{} ({:.1} %)",
        f.recognised,
        f.reports,
        pct(f.recognised, f.reports),
        f.address_ok,
        f.with_address,
        pct(f.address_ok, f.with_address),
        f.reasons_ok,
        f.reasons,
        pct(f.reasons_ok, f.reasons)
    );
    for m in &f.misses {
        println!("  miss: {m}");
    }
    f
}

/// Two public corpora of real mail (tests/fixtures/bounces/corpus: Sisimai's,
/// BSD-2, 712 mails; tests/fixtures/bounces/flufl: flufl.bounce's from
/// Mailman, Apache-2.0, 117 mails), each against the expectations the
/// corpus's own project ships. Prints the figures and every miss.
#[test]
fn real_corpora_are_recognised() {
    let runs = [run_corpus("corpus"), run_corpus("flufl")];
    let sum = |g: fn(&Figures) -> usize| runs.iter().map(g).sum::<usize>();
    let (reports, recognised) = (sum(|f| f.reports), sum(|f| f.recognised));
    let (with_address, address_ok) = (sum(|f| f.with_address), sum(|f| f.address_ok));
    let tickets: Vec<&String> = runs.iter().flat_map(|f| &f.tickets).collect();
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "all: {recognised}/{reports} recognised ({:.1} %), failed address named in {address_ok}/{with_address} ({:.1} %)",
        pct(recognised, reports),
        pct(address_ok, with_address)
    );
    assert!(tickets.is_empty(), "mails that would open a wrong ticket: {tickets:#?}");
    assert!(reports >= 800, "only {reports} reports in the corpora");
    assert!(pct(recognised, reports) >= 99.0, "recognised only {recognised}/{reports}");
    assert!(pct(address_ok, with_address) >= 98.0, "addresses only {address_ok}/{with_address}");
}
