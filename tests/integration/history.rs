//! Every change to a ticket is on its history: each operation that changes a
//! ticket (or adds to it) appends at least one entry, naming who and what.

use logbuch_store::{entity::ticket, history, messages};
use logbuch_tests::{Backend, TestApp, both, spawn_app};
use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use serde_json::json;

async fn snapshot(t: &TestApp, id: i64) -> (ticket::Model, usize, usize, Vec<i64>) {
    let db = &t.app.store.db;
    let row = ticket::Entity::find_by_id(id).one(db).await.unwrap().unwrap();
    let hist = history::of_ticket(db, id).await.unwrap().len();
    let msgs = messages::of_ticket(db, id).await.unwrap().len();
    let watchers = logbuch_store::tickets::watchers(db, id).await.unwrap();
    (row, hist, msgs, watchers)
}

async fn no_change_without_history(backend: Backend) {
    let t = spawn_app(backend).await;
    let bob = t.person("bob@bund.example", &[("federal_officer", None, None)]).await;
    t.person("kim@nw.example", &[("helper", Some("nw"), None)]).await;
    let n = t.create_ticket(&bob, "nw", "mitgliederverwaltung", "Austritt").await;
    let (_, h0, _, _) = snapshot(&t, n).await;
    assert_eq!(h0, 1, "creation is on the record");

    // Every mutating route of the API, in an order where each one changes something.
    let ops: Vec<(Method, String, serde_json::Value)> = vec![
        (Method::POST, format!("/api/v1/tickets/{n}/take"), json!({})),
        (Method::POST, format!("/api/v1/tickets/{n}/assign"), json!({"owner": "kim@nw.example"})),
        (Method::POST, format!("/api/v1/tickets/{n}/assign"), json!({"owner": null})),
        (Method::POST, format!("/api/v1/tickets/{n}/watchers"), json!({"email": "kim@nw.example"})),
        (Method::DELETE, format!("/api/v1/tickets/{n}/watchers/kim@nw.example"), json!(null)),
        (Method::PATCH, format!("/api/v1/tickets/{n}"), json!({"priority": "high"})),
        (Method::PATCH, format!("/api/v1/tickets/{n}"), json!({"status": "waiting"})),
        (Method::POST, format!("/api/v1/tickets/{n}/notes"), json!({"body": "Telefonat geführt"})),
        (Method::POST, format!("/api/v1/tickets/{n}/replies"), json!({"body": "Wir kümmern uns."})),
        (Method::POST, format!("/api/v1/tickets/{n}/move"), json!({"queue": "schatzmeister"})),
        (Method::POST, format!("/api/v1/tickets/{n}/handover"), json!({"tenant": "by"})),
        (Method::POST, format!("/api/v1/tickets/{n}/resolve"), json!({})),
        (Method::POST, format!("/api/v1/tickets/{n}/reopen"), json!({})),
        (Method::PATCH, format!("/api/v1/tickets/{n}"), json!({"status": "resolved", "priority": "low"})),
    ];
    for (method, path, body) in ops {
        let before = snapshot(&t, n).await;
        let body = if body.is_null() { None } else { Some(body) };
        let (s, res) = t.call(Some(&bob), method.clone(), &path, body).await;
        assert!(s.is_success(), "{method} {path}: {s} {res}");
        let after = snapshot(&t, n).await;
        let changed = before.0 != after.0 || before.2 != after.2 || before.3 != after.3;
        assert!(changed, "{method} {path} changed nothing — the test lost its point");
        assert!(after.1 > before.1, "{method} {path} changed the ticket without a history entry");
        let entries = history::of_ticket(&t.app.store.db, n).await.unwrap();
        for e in &entries[before.1..] {
            assert!(e.actor_id.is_some(), "{method} {path}: history entry without actor");
            assert!(e.old_value.is_some() || e.new_value.is_some(), "{method} {path}: entry says nothing");
        }
    }
    // A request that changes nothing is refused and leaves no trace.
    let before = snapshot(&t, n).await;
    let (s, _) =
        t.call(Some(&bob), Method::PATCH, &format!("/api/v1/tickets/{n}"), Some(json!({"priority": "low"}))).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(snapshot(&t, n).await.1, before.1);
}

/// Reads of a ticket by a person are in the access log.
async fn reads_are_logged(backend: Backend) {
    let t = spawn_app(backend).await;
    let bob = t.person("bob@bund.example", &[("federal_officer", None, None)]).await;
    let n = t.create_ticket(&bob, "bund", "triage", "Auskunft nach Art. 15").await;
    let before = history::access_of_ticket(&t.app.store.db, n).await.unwrap().len();
    t.get(&bob, &format!("/api/v1/tickets/{n}")).await;
    t.get(&bob, &format!("/api/v1/tickets/{n}/history")).await;
    let log = history::access_of_ticket(&t.app.store.db, n).await.unwrap();
    assert_eq!(log.len(), before + 2);
    assert_eq!(log[before].what, "view");
    assert_eq!(log[before + 1].what, "history");
    let bob_id = t.principal(&bob).await.user.0;
    assert!(log.iter().all(|l| l.user_id == bob_id));
    // A read that finds nothing (another LV's helper) logs nothing.
    let he = t.person("h@he.example", &[("helper", Some("he"), None)]).await;
    assert_eq!(t.get(&he, &format!("/api/v1/tickets/{n}")).await.0, reqwest::StatusCode::NOT_FOUND);
    assert_eq!(history::access_of_ticket(&t.app.store.db, n).await.unwrap().len(), before + 2);
}

both!(no_change_without_history, reads_are_logged);
