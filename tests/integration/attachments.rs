//! Attachments: stored once by content hash, downloaded only where the ticket may be read.

use logbuch_tests::{Backend, both, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

async fn stored_once_and_downloaded_safely(backend: Backend) {
    let t = spawn_app(backend).await;
    let h = t.person("h@nw.example", &[("helper", Some("nw"), None)]).await;
    let other = t.person("o@sl.example", &[("helper", Some("sl"), None)]).await;
    // "<script>alert(1)</script>" in base64: an HTML file must never render inline.
    let file = json!({"filename": "Brief an den Vorstand.html", "content_type": "text/html", "content_base64": "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="});
    let mut ids = Vec::new();
    for subject in ["Erster", "Zweiter"] {
        let (s, body) = t
            .post(&h, "/api/v1/tickets", json!({"tenant": "nw", "subject": subject, "body": "siehe Anhang", "requester": "a@example.org", "attachments": [file.clone()]}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let a = &body["messages"][0]["attachments"][0];
        assert_eq!(a["size"], 25);
        ids.push((
            body["number"].as_i64().unwrap(),
            a["id"].as_i64().unwrap(),
            a["sha256"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(ids[0].2, ids[1].2);
    assert_eq!(logbuch_store::messages::count_blobs(&t.app.store.db).await.unwrap(), 1, "same bytes, stored once");

    let (n, att, _) = &ids[0];
    let res = t
        .http
        .get(format!("{}/api/v1/tickets/{n}/attachments/{att}", t.url))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("Brief%20an%20den%20Vorstand.html"), "{disposition}");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"<script>alert(1)</script>");
    // Another ticket's attachment id under this ticket's number: not found.
    let (s, _) = t.get(&h, &format!("/api/v1/tickets/{n}/attachments/{}", ids[1].1)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = t.get(&other, &format!("/api/v1/tickets/{n}/attachments/{att}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let log = logbuch_store::history::access_of_ticket(&t.app.store.db, *n).await.unwrap();
    assert!(log.iter().any(|l| l.what == format!("download {att}")));
}

both!(stored_once_and_downloaded_safely);
