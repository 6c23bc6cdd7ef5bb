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

/// The scope and the filters are part of the search itself: a ticket handed
/// to another tenant is found there (and no longer where it was), ranking
/// puts the better match first, paging walks the ranking, and a date range
/// narrows it.
async fn search_follows_the_ticket_and_combines_with_filters(backend: Backend) {
    let t = spawn_app(backend).await;
    let officer = t.person("fo@bund.example", &[("federal_officer", None, None)]).await;
    let by = t.person("h@by.example", &[("helper", Some("by"), None)]).await;
    let bund = t.person("h@bund.example", &[("helper", Some("bund"), None)]).await;
    let moved = t.create_ticket(&officer, "bund", "triage", "Lastschrift Lastschrift Lastschrift zurückgegeben").await;
    let stays = t.create_ticket(&officer, "bund", "triage", "Lastschrift").await;
    assert_eq!(t.list_numbers(&bund, "?q=Lastschrift").await, vec![moved, stays], "best match first");
    assert!(t.list_numbers(&by, "?q=Lastschrift").await.is_empty(), "not BY's yet");

    let (s, p) = t.post(&officer, &format!("/api/v1/tickets/{moved}/handover"), json!({"tenant": "by"})).await;
    assert!(s.is_success(), "{p}");
    assert_eq!(t.list_numbers(&by, "?q=Lastschrift").await, vec![moved], "found in its new tenant");
    assert_eq!(t.list_numbers(&bund, "?q=Lastschrift").await, vec![stays], "and no longer in the old one");
    assert_eq!(t.list_numbers(&officer, "?q=Lastschrift&tenant=by").await, vec![moved], "tenant filter");

    assert_eq!(t.list_numbers(&officer, "?q=Lastschrift&per_page=1").await, vec![moved], "page 1");
    assert_eq!(t.list_numbers(&officer, "?q=Lastschrift&per_page=1&page=2").await, vec![stays], "page 2");
    let (s, p) = t.get(&officer, "/api/v1/tickets?q=Lastschrift&per_page=1").await;
    assert_eq!(s, reqwest::StatusCode::OK);
    assert_eq!(p["next_page"], 2, "{p}");

    let today = chrono::Utc::now().date_naive();
    let tomorrow = today + chrono::Duration::days(1);
    assert_eq!(t.list_numbers(&officer, &format!("?q=Lastschrift&created_from={today}")).await.len(), 2);
    assert_eq!(t.list_numbers(&officer, &format!("?q=Lastschrift&created_to={today}")).await.len(), 2);
    assert!(t.list_numbers(&officer, &format!("?q=Lastschrift&created_from={tomorrow}")).await.is_empty());
    assert!(t.list_numbers(&officer, &format!("?created_from={tomorrow}")).await.is_empty(), "lists too");
    let (s, p) = t.get(&officer, "/api/v1/tickets?created_from=31.01.2026").await;
    assert_eq!(s, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p.to_string().contains("created_from"), "{p}");
}

both!(search_finds_what_people_look_for, search_follows_the_ticket_and_combines_with_filters);
