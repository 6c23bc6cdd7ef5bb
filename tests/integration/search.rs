//! Full-text search over subject, messages and requester: words, phrases,
//! prefixes, German stemming on PostgreSQL, resolved tickets included,
//! ranked, and scoped like every other read.

use crate::intake::{drain, mail};
use logbuch_tests::{Backend, both, spawn_app};
use serde_json::json;

async fn search_finds_what_people_look_for(backend: Backend) {
    let t = spawn_app(backend).await;
    let nw = t.person("h@nw.example", &[("helper", Some("nw"), None)]).await;
    let by = t.person("h@by.example", &[("helper", Some("by"), None)]).await;
    let exit = t.create_ticket(&nw, "nw", "mitgliederverwaltung", "Austritt zum Jahresende").await;
    let fee = t.create_ticket(&nw, "nw", "schatzmeister", "Beitragsminderung 2027").await;
    t.post(&nw, &format!("/api/v1/tickets/{fee}/notes"), json!({"body": "Bescheid über Bürgergeld liegt vor."})).await;
    t.app
        .ingest_raw(
            "test",
            &mail(
                "s1@x",
                "kai.mueller@example.org",
                "mitglieder-by@piratenpartei.de",
                "Frage",
                "Ich möchte meinen Austritt erklären.",
            ),
        )
        .await
        .unwrap();
    drain(&t).await;
    t.post(&nw, &format!("/api/v1/tickets/{exit}/resolve"), json!({})).await;

    assert_eq!(t.list_numbers(&nw, "?q=Austritt").await, vec![exit], "resolved tickets are found; BY's is not");
    assert_eq!(t.list_numbers(&by, "?q=Austritt").await.len(), 1, "BY finds its own");
    assert_eq!(t.list_numbers(&nw, "?q=Bürgergeld").await, vec![fee], "message text, umlauts");
    assert_eq!(t.list_numbers(&nw, "?q=beitrags*").await, vec![fee], "prefix");
    assert_eq!(t.list_numbers(&nw, "?q=%22Austritt%20zum%20Jahresende%22").await, vec![exit], "phrase");
    assert!(t.list_numbers(&nw, "?q=%22Jahresende%20Austritt%22").await.is_empty(), "a phrase keeps its order");
    assert_eq!(
        t.list_numbers(&nw, "?q=Austritt&status=new,open,waiting").await,
        Vec::<i64>::new(),
        "status filter applies"
    );
    assert_eq!(t.list_numbers(&by, "?q=kai.mueller@example.org").await.len(), 1, "requester address");
    assert!(t.list_numbers(&nw, "?q=kai.mueller@example.org").await.is_empty(), "scoped");
    if backend == Backend::Postgres {
        assert_eq!(t.list_numbers(&nw, "?q=Austritte").await, vec![exit], "German stemming");
    }
    let (s, p) = t.get(&nw, "/api/v1/tickets?q=%2A%2A").await;
    assert_eq!(s, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{p}");
}

both!(search_finds_what_people_look_for);
