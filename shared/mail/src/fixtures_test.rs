//! Real-world bounces and auto-replies (Sisimai's set-of-emails, BSD-2, in
//! `tests/fixtures/bounces`): each is recognised, with the right failed
//! addresses; status codes where the message states one.

use crate::{MailKind, parse_mail};
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
