//! Two public corpora of real bounces, feedback reports and auto-replies
//! (tests/fixtures/bounces: Sisimai's and flufl.bounce's) through the real intake on
//! both backends: no bounce opens a ticket, none is quarantined, each failed
//! address is recorded with its reason, and the mails that are not bounces
//! still become tickets.

use crate::intake::drain;
use logbuch_tests::{Backend, both, spawn_app};

async fn real_bounces_open_no_ticket(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let fixtures = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/bounces");
    let mut normal = 0;
    let mut stored = 0;
    for corpus in ["corpus", "flufl"] {
        let dir = fixtures.join(corpus);
        let expected = std::fs::read_to_string(dir.join("EXPECTED.tsv")).unwrap();
        for line in expected.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols[1] == "normal" {
                normal += 1;
            }
            let i = t.app.ingest_raw("test", &std::fs::read(dir.join(cols[0])).unwrap()).await.unwrap();
            stored += usize::from(!i.duplicate);
            if stored.is_multiple_of(200) {
                drain(&t).await;
            }
        }
    }
    drain(&t).await;
    assert!(stored > 500, "only {stored} distinct mails");
    let (_, q) = t.get(&admin, "/api/v1/intake/quarantine").await;
    assert_eq!(q.as_array().map(Vec::len), Some(0), "quarantined: {q}");
    let numbers = t.list_numbers(&admin, "?status=new,open,waiting,resolved").await;
    let mut own_tickets = Vec::new();
    let mut collections = Vec::new();
    for n in numbers {
        let (_, d) = t.get(&admin, &format!("/api/v1/tickets/{n}")).await;
        if d["subject"].as_str().unwrap_or_default().starts_with("Unzustellbare Mails") {
            collections.push((n, d));
        } else {
            own_tickets.push(format!("#{n} {} von {}", d["subject"], d["requester"]));
        }
    }
    assert_eq!(own_tickets.len(), normal, "tickets of their own: {own_tickets:#?}");
    let mut reasons = std::collections::BTreeMap::<String, usize>::new();
    let mut recorded = 0;
    for (id, d) in &collections {
        let msgs = d["messages"].as_array().map_or(0, Vec::len);
        assert!(msgs > 0);
        for b in logbuch_store::intake::bounces_of_ticket(&t.app.store.db, *id).await.unwrap() {
            recorded += 1;
            *reasons.entry(b.reason.unwrap_or_default()).or_default() += 1;
        }
    }
    assert!(recorded > 500, "{recorded} failed addresses recorded: {reasons:?}");
    assert!(reasons.get("complaint").copied().unwrap_or(0) >= 15, "{reasons:?}");
    assert!(reasons.get("user_unknown").copied().unwrap_or(0) >= 100, "{reasons:?}");
    assert!(!reasons.contains_key(""), "an address without a reason: {reasons:?}");
}

both!(real_bounces_open_no_ticket);
