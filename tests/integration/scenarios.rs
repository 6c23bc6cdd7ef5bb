//! The seed scenarios of MISSION.md, through the API.

use logbuch_tests::{Backend, both, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

/// Scenario 2: a member who left was still charged. NW Mitgliederverwaltung
/// verifies the exit, notes it, moves the ticket to NW Schatzmeister; the
/// treasurer refunds, replies, resolves.
async fn scenario_2_move_within_nw(backend: Backend) {
    let t = spawn_app(backend).await;
    let mv = t.person("gensek@nrw.example", &[("helper", Some("nw"), Some("mitgliederverwaltung"))]).await;
    let sm = t.person("schatz@nrw.example", &[("helper", Some("nw"), Some("schatzmeister"))]).await;

    let n = t.create_ticket(&mv, "nw", "mitgliederverwaltung", "Beitrag trotz Austritt abgebucht").await;
    assert_eq!(t.list_numbers(&mv, "?tenant=nw&queue=mitgliederverwaltung").await, vec![n]);
    assert!(t.list_numbers(&sm, "").await.is_empty(), "the treasurer sees nothing yet");
    let (s, _) = t.get(&sm, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, body) = t.post(&mv, &format!("/api/v1/tickets/{n}/take"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["owner"]["email"], "gensek@nrw.example");
    assert_eq!(body["status"], "open");
    let (s, _) =
        t.post(&mv, &format!("/api/v1/tickets/{n}/notes"), json!({"body": "Austritt zum 31.03. bestätigt."})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, body) = t.post(&mv, &format!("/api/v1/tickets/{n}/move"), json!({"queue": "schatzmeister"})).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["visible"], false, "the mover has no rights in Schatzmeister: {body}");

    assert_eq!(t.list_numbers(&sm, "").await, vec![n]);
    let (s, body) = t.post(&sm, &format!("/api/v1/tickets/{n}/take"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) =
        t.post(&sm, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "Wir erstatten den Beitrag."})).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let reply = body["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "outbound").unwrap();
    assert_eq!(reply["to"], "mitglied@example.org");
    assert_eq!(reply["from"], "schatzmeister@piratenpartei-nrw.de");
    assert!(reply["subject"].as_str().unwrap().contains(&format!("#{n}")));
    assert!(reply["message_id"].as_str().unwrap().starts_with("logbuch."));
    assert!(body["first_responded_at"].is_string());
    let (s, body) = t.post(&sm, &format!("/api/v1/tickets/{n}/resolve"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{body}");

    assert!(t.list_numbers(&sm, "").await.is_empty(), "resolved tickets leave the default list");
    assert_eq!(t.list_numbers(&sm, "?status=resolved").await, vec![n]);
    assert!(t.list_numbers(&mv, "?status=resolved").await.is_empty(), "moved out of the helper's reach");

    let fields: Vec<String> =
        body["history"].as_array().unwrap().iter().map(|h| h["field"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, ["created", "owner", "status", "note", "queue", "owner", "reply", "status"]);
    let moved = body["history"].as_array().unwrap().iter().find(|h| h["field"] == "queue").unwrap();
    assert_eq!(moved["from"], "nw/mitgliederverwaltung");
    assert_eq!(moved["to"], "nw/schatzmeister");
    assert_eq!(moved["actor"]["email"], "gensek@nrw.example");

    // A new requester mail would reopen it; here the treasurer reopens by hand.
    let (s, body) = t.post(&sm, &format!("/api/v1/tickets/{n}/reopen"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "open");
}

/// Scenario 4: mail to the central address lands in the Bund triage queue;
/// a federal officer assigns it to BY; only then BY helpers (never HE) see it.
async fn scenario_4_bund_triage_to_by(backend: Backend) {
    let t = spawn_app(backend).await;
    let bob = t.person("bob@bund.example", &[("federal_officer", None, None)]).await;
    let alice = t.person("alice@by.example", &[("helper", Some("by"), None)]).await;
    let hesse = t.person("hans@he.example", &[("helper", Some("he"), None)]).await;

    let n = t.create_ticket(&bob, "bund", "triage", "Adressänderung, wohne jetzt in München").await;
    for who in [&alice, &hesse] {
        assert!(t.list_numbers(who, "").await.is_empty());
        assert_eq!(t.get(who, &format!("/api/v1/tickets/{n}")).await.0, StatusCode::NOT_FOUND);
    }
    assert_eq!(t.list_numbers(&bob, "?tenant=bund&queue=triage&unassigned=true").await, vec![n]);

    let (s, body) = t.post(&bob, &format!("/api/v1/tickets/{n}/handover"), json!({"tenant": "by"})).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["visible"], true);
    assert_eq!(body["ticket"]["tenant"], "by");
    assert_eq!(body["ticket"]["queue"], "allgemein", "the tenant's default queue");

    assert_eq!(t.list_numbers(&alice, "").await, vec![n]);
    let (s, body) = t.get(&alice, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(t.list_numbers(&hesse, "").await.is_empty());
    assert_eq!(t.get(&hesse, &format!("/api/v1/tickets/{n}")).await.0, StatusCode::NOT_FOUND);

    // An LV helper may not hand to another LV, only back to the Bund.
    let (s, body) = t.post(&alice, &format!("/api/v1/tickets/{n}/handover"), json!({"tenant": "he"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, body) =
        t.post(&alice, &format!("/api/v1/tickets/{n}/handover"), json!({"tenant": "bund", "queue": "triage"})).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["visible"], false);
    assert_eq!(t.get(&alice, &format!("/api/v1/tickets/{n}")).await.0, StatusCode::NOT_FOUND);
    let (_, body) = t.get(&bob, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(body["tenant"], "bund");
    let tenants: Vec<&str> = body["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["field"] == "tenant")
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(tenants, ["by", "bund"]);
}

/// The first minute of a new user: bootstrap admin, API docs, a person, a token, a ticket.
async fn new_user_can_get_going(backend: Backend) {
    let t = spawn_app(backend).await;
    let token = logbuch_core::admin::bootstrap_admin(&t.app).await.unwrap().expect("a fresh database has no admin");
    assert!(logbuch_core::admin::bootstrap_admin(&t.app).await.unwrap().is_none(), "only once");
    let admin = logbuch_tests::Person { email: logbuch_core::admin::BOOTSTRAP_EMAIL.into(), token };
    let (s, me) = t.get(&admin, "/api/v1/me").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["roles"][0]["role"], "admin");
    let doc: serde_json::Value =
        t.http.get(format!("{}/api/openapi.json", t.url)).send().await.unwrap().json().await.unwrap();
    assert!(doc["paths"]["/api/v1/tickets/{id}/handover"]["post"].is_object());
    let docs = t.http.get(format!("{}/api/docs/", t.url)).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
    for probe in ["/healthz", "/readyz"] {
        assert_eq!(t.http.get(format!("{}{probe}", t.url)).send().await.unwrap().status(), StatusCode::OK);
    }
    let n = t.create_ticket(&admin, "hb", "allgemein", "Frage zur Satzung").await;
    assert_eq!(t.list_numbers(&admin, "?tenant=hb").await, vec![n]);
}

/// Lists filter by owner, "mine", unassigned, status and subject, and page.
async fn list_filters_and_paging(backend: Backend) {
    let t = spawn_app(backend).await;
    let a = t.person("a@nw.example", &[("helper", Some("nw"), None)]).await;
    let b = t.person("b@nw.example", &[("helper", Some("nw"), None)]).await;
    let mut all = Vec::new();
    for i in 0..5 {
        all.push(t.create_ticket(&a, "nw", "sonstiges", &format!("Anfrage Nummer {i}")).await);
    }
    let press = t.create_ticket(&a, "nw", "presse", "Interview zur Landtagswahl").await;
    t.post(&a, &format!("/api/v1/tickets/{}/take", all[0]), json!({})).await;
    t.post(&a, &format!("/api/v1/tickets/{}/assign", all[1]), json!({"owner": "b@nw.example"})).await;
    assert_eq!(t.list_numbers(&a, "?mine=true").await, vec![all[0]]);
    assert_eq!(t.list_numbers(&b, "?mine=true").await, vec![all[1]]);
    assert_eq!(t.list_numbers(&a, "?owner=b@nw.example").await, vec![all[1]]);
    assert_eq!(t.list_numbers(&a, "?unassigned=true&tenant=nw&queue=sonstiges").await, all[2..].to_vec());
    assert_eq!(t.list_numbers(&a, "?q=LANDTAGSWAHL").await, vec![press]);
    assert_eq!(t.list_numbers(&a, "?q=landtag*").await, vec![press], "prefix");
    assert_eq!(t.list_numbers(&a, "?status=open").await.len(), 2);
    // Priority first: the press ticket (high) leads.
    let first = t.list_numbers(&a, "").await;
    assert_eq!(first[0], press);
    let (_, p1) = t.get(&a, "/api/v1/tickets?per_page=4").await;
    assert_eq!(p1["next_page"], 2);
    // A list row says what the ticket itself says, field by field (the list
    // reads its rows by position, one ticket by name); this one has an owner,
    // a first response and its due times.
    let (_, page) = t.get(&a, "/api/v1/tickets").await;
    let row = page["tickets"].as_array().unwrap().iter().find(|r| r["number"] == all[0]).unwrap().clone();
    let (_, one) = t.get(&a, &format!("/api/v1/tickets/{}", all[0])).await;
    for (field, value) in row.as_object().unwrap() {
        assert_eq!(value, &one[field], "{field}");
    }
    assert!(row["owner"].is_object() && row["first_response_due"].is_string(), "{row}");
    let (_, p2) = t.get(&a, "/api/v1/tickets?per_page=4&page=2").await;
    assert_eq!(p2["tickets"].as_array().unwrap().len(), 2);
    assert!(p2["next_page"].is_null());
    let (s, counts) = t.get(&a, "/api/v1/counts?tenant=nw").await;
    assert_eq!(s, StatusCode::OK);
    let new_in_sonstiges =
        counts.as_array().unwrap().iter().find(|c| c["queue"] == "sonstiges" && c["status"] == "new").unwrap();
    assert_eq!(new_in_sonstiges["count"], 3);
    // Assigning to someone without rights there is refused with a reason.
    let outsider = t.person("o@by.example", &[("helper", Some("by"), None)]).await;
    let (s, body) = t.post(&a, &format!("/api/v1/tickets/{}/assign", all[2]), json!({"owner": outsider.email})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

/// Queue escalation raises the priority of waiting tickets in sensitive queues, on the record,
/// one step per step of business time (creation times set in the database).
async fn escalation_raises_waiting_tickets(backend: Backend) {
    let t = spawn_app(backend).await;
    let a = t.person("a@nw.example", &[("helper", Some("nw"), None)]).await;
    // Presse escalates every 2h; this one starts low.
    let (_, body) = t
        .post(&a, "/api/v1/tickets", json!({"tenant": "nw", "queue": "presse", "subject": "Anfrage WDR", "body": "?", "requester": "wdr@example.org", "priority": "low"}))
        .await;
    let press = body["number"].as_i64().unwrap();
    let other = t.create_ticket(&a, "nw", "sonstiges", "Frage").await; // no escalation
    let created = |n: i64, at: chrono::DateTime<chrono::Utc>| {
        let db = t.app.store.db.clone();
        async move {
            use sea_orm::{ActiveModelTrait, EntityTrait, Set};
            let row = logbuch_store::entity::ticket::Entity::find_by_id(n).one(&db).await.unwrap().unwrap();
            let mut am: logbuch_store::entity::ticket::ActiveModel = row.into();
            am.created_at = Set(at);
            am.update(&db).await.unwrap();
        }
    };
    // Monday 2026-12-07, 09:00 in Berlin: the whole test runs within business hours.
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-07T08:00:00Z").unwrap().with_timezone(&chrono::Utc);
    created(press, now).await;
    assert_eq!(t.app.escalate_priorities(now + chrono::Duration::minutes(60)).await.unwrap(), 0);
    assert_eq!(t.app.escalate_priorities(now + chrono::Duration::minutes(130)).await.unwrap(), 1);
    assert_eq!(t.app.escalate_priorities(now + chrono::Duration::minutes(131)).await.unwrap(), 0, "once per step");
    assert_eq!(t.app.escalate_priorities(now + chrono::Duration::minutes(251)).await.unwrap(), 1, "next step");
    let (_, body) = t.get(&a, &format!("/api/v1/tickets/{press}")).await;
    assert_eq!(body["priority"], "high");
    let last = body["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["field"], "priority");
    assert!(last["actor"].is_null(), "the system escalates");
    let (_, body) = t.get(&a, &format!("/api/v1/tickets/{other}")).await;
    assert_eq!(body["priority"], "normal");
    // Opened Friday 16:00: the weekend does not count. Monday 09:30 is 90 business minutes later.
    let (_, body) = t
        .post(&a, "/api/v1/tickets", json!({"tenant": "nw", "queue": "presse", "subject": "Freitag", "body": "?", "requester": "f@example.org", "priority": "low"}))
        .await;
    let friday = body["number"].as_i64().unwrap();
    created(friday, now - chrono::Duration::hours(65)).await;
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
    // The first ticket is already high and rises no further before its next step.
    assert_eq!(
        t.app.escalate_priorities(at("2026-12-07T08:30:00Z")).await.unwrap(),
        0,
        "65 h of wall time, 90 min of business time"
    );
    assert_eq!(t.app.escalate_priorities(at("2026-12-07T09:01:00Z")).await.unwrap(), 1);
}

both!(
    scenario_2_move_within_nw,
    scenario_4_bund_triage_to_by,
    new_user_can_get_going,
    list_filters_and_paging,
    escalation_raises_waiting_tickets,
);
