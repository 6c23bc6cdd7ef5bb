//! Tenant isolation, route by route: a helper of another LV gets 404 for a
//! ticket they may not see — by every route, including list filters,
//! search-like filters, history, counts and attachment download.

use logbuch_core::admin;
use logbuch_tests::{Backend, both, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn other_lv_gets_404_on_every_route(backend: Backend) {
    let t = spawn_app(backend).await;
    let alice = t.person("alice@by.example", &[("helper", Some("by"), None)]).await;
    let hans = t.person("hans@he.example", &[("helper", Some("he"), None)]).await;
    let (s, body) = t
        .post(
            &alice,
            "/api/v1/tickets",
            json!({"tenant": "by", "queue": "mitglieder", "subject": "Geheime Mitgliedssache", "body": "Vertraulich",
                   "requester": "member@example.org",
                   "attachments": [{"filename": "antrag.pdf", "content_type": "application/pdf", "content_base64": "JVBERi0xLjQK"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let n = body["number"].as_i64().unwrap();
    let att = body["messages"][0]["attachments"][0]["id"].as_i64().unwrap();
    // A second ticket that is resolved, so "reopen" has something to act on.
    let r = t.create_ticket(&alice, "by", "allgemein", "Erledigt").await;
    t.post(&alice, &format!("/api/v1/tickets/{r}/resolve"), json!({})).await;

    let routes: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, format!("/api/v1/tickets/{n}"), None),
        (Method::PATCH, format!("/api/v1/tickets/{n}"), Some(json!({"priority": "urgent"}))),
        (Method::PATCH, format!("/api/v1/tickets/{n}"), Some(json!({"status": "waiting"}))),
        (Method::GET, format!("/api/v1/tickets/{n}/history"), None),
        (Method::POST, format!("/api/v1/tickets/{n}/take"), Some(json!({}))),
        (Method::POST, format!("/api/v1/tickets/{n}/assign"), Some(json!({"owner": "hans@he.example"}))),
        (Method::POST, format!("/api/v1/tickets/{n}/watchers"), Some(json!({"email": "hans@he.example"}))),
        (Method::DELETE, format!("/api/v1/tickets/{n}/watchers/alice@by.example"), None),
        (Method::POST, format!("/api/v1/tickets/{n}/move"), Some(json!({"queue": "presse"}))),
        (Method::POST, format!("/api/v1/tickets/{n}/handover"), Some(json!({"tenant": "he"}))),
        (Method::POST, format!("/api/v1/tickets/{n}/notes"), Some(json!({"body": "x"}))),
        (Method::POST, format!("/api/v1/tickets/{n}/replies"), Some(json!({"body": "x"}))),
        (Method::POST, format!("/api/v1/tickets/{n}/resolve"), Some(json!({}))),
        (Method::POST, format!("/api/v1/tickets/{r}/reopen"), Some(json!({}))),
        (Method::GET, format!("/api/v1/tickets/{n}/attachments/{att}"), None),
        (Method::GET, "/api/v1/tenants/by/queues".to_owned(), None),
        // Last: afterwards the ticket is no longer BY's.
        (Method::POST, format!("/api/v1/tickets/{n}/handover"), Some(json!({"tenant": "bund"}))),
    ];
    for (method, path, body) in &routes {
        let (s, problem) = t.call(Some(&hans), method.clone(), path, body.clone()).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}: {problem}");
        assert!(!problem.to_string().contains("Geheime"), "{method} {path} leaks the subject: {problem}");
    }
    // Nothing Hans tried left a trace on the BY ticket.
    let (_, detail) = t.get(&alice, &format!("/api/v1/tickets/{n}")).await;
    assert!(detail["history"].as_array().unwrap().iter().all(|h| h["actor"]["email"] != "hans@he.example"), "{detail}");
    assert_eq!(detail["priority"], "normal");
    // Creating a ticket in another LV is refused as if the queue did not exist.
    let (s, _) = t
        .post(
            &hans,
            "/api/v1/tickets",
            json!({"tenant": "by", "subject": "x", "body": "x", "requester": "a@example.org"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Lists, filters and counts show nothing of BY.
    for query in [
        "",
        "?tenant=by",
        "?tenant=by&queue=mitglieder",
        "?requester=member@example.org",
        "?q=Geheime",
        "?status=resolved",
        "?status=new,open,waiting,resolved&tenant=by",
    ] {
        assert!(t.list_numbers(&hans, query).await.is_empty(), "list {query}");
    }
    let (_, counts) = t.get(&hans, "/api/v1/counts").await;
    assert!(counts.as_array().unwrap().iter().all(|c| c["tenant"] != "by"), "{counts}");
    let (_, counts) = t.get(&hans, "/api/v1/counts?tenant=by").await;
    assert_eq!(counts, json!([]));
    // The same routes answer the owner's LV (so the 404 is about the tenant, not the route).
    for (method, path, body) in routes {
        let (s, _) = t.call(Some(&alice), method.clone(), &path, body).await;
        assert!(
            s.is_success()
                || s == StatusCode::UNPROCESSABLE_ENTITY
                || s == StatusCode::CONFLICT
                || s == StatusCode::FORBIDDEN,
            "{method} {path} for alice: {s}"
        );
    }
}

/// A queue-limited helper sees only that queue of their own LV.
async fn queue_helper_sees_only_their_queue(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let press = t.person("presse@nrw.example", &[("helper", Some("nw"), Some("presse"))]).await;
    let a = t.create_ticket(&admin, "nw", "presse", "Presseanfrage").await;
    let b = t.create_ticket(&admin, "nw", "beschwerden", "Beschwerde über Stand").await;
    assert_eq!(t.list_numbers(&press, "").await, vec![a]);
    assert_eq!(t.get(&press, &format!("/api/v1/tickets/{b}")).await.0, StatusCode::NOT_FOUND);
    assert!(t.list_numbers(&press, "?tenant=nw&queue=beschwerden").await.is_empty());
    let (s, queues) = t.get(&press, "/api/v1/tenants/nw/queues").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(queues.as_array().unwrap().len(), 1, "{queues}");
}

/// Someone with no role at all sees nothing anywhere.
async fn person_without_roles_sees_nothing(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let dave = t.person("dave@example.org", &[]).await;
    let n = t.create_ticket(&admin, "bund", "triage", "Irgendwas").await;
    assert!(t.list_numbers(&dave, "").await.is_empty());
    assert_eq!(t.get(&dave, &format!("/api/v1/tickets/{n}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&dave, "/api/v1/counts").await.1, json!([]));
    // Revoking a role counts from the next request.
    let helper = t.person("h@bund.example", &[("helper", Some("bund"), None)]).await;
    assert_eq!(t.get(&helper, &format!("/api/v1/tickets/{n}")).await.0, StatusCode::OK);
    logbuch_core::admin::revoke_role(&t.app, "h@bund.example", "helper".parse().unwrap(), Some("bund"), None)
        .await
        .unwrap();
    assert_eq!(t.get(&helper, &format!("/api/v1/tickets/{n}")).await.0, StatusCode::NOT_FOUND);
}

/// A BY helper who has just read a BY ticket several times (so a server
/// that keeps principals keeps theirs), and that ticket's address.
async fn helper_seen_often(backend: Backend) -> (logbuch_tests::TestApp, logbuch_tests::Person, String) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let n = t.create_ticket(&admin, "by", "allgemein", "Mitgliedsantrag").await;
    let helper = t.person("h@by.example", &[("helper", Some("by"), None)]).await;
    let path = format!("/api/v1/tickets/{n}");
    // On PostgreSQL the server keeps principals once it hears the notifications.
    if backend == Backend::Postgres {
        assert!(listening(&t).await, "the server should keep principals on PostgreSQL");
    }
    for _ in 0..3 {
        assert_eq!(t.get(&helper, &path).await.0, StatusCode::OK);
    }
    (t, helper, path)
}

/// Waits up to five seconds for the server to listen for role changes.
async fn listening(t: &logbuch_tests::TestApp) -> bool {
    for _ in 0..100 {
        if t.app.keeps_principals() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// Asks for `path` until the answer is `want`, for two seconds at most
/// (a notification travels after its commit); returns the last answer.
async fn answers(t: &logbuch_tests::TestApp, who: &logbuch_tests::Person, path: &str, want: StatusCode) -> StatusCode {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let got = t.get(who, path).await.0;
        if got == want || std::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Roles and tokens changed behind the server's back (another replica, the
/// CLI, SQL by hand) count from the next requests, although the server keeps
/// the principals of tokens it has just seen (PostgreSQL tells it of every
/// change). The check allows the notification two seconds; a kept
/// principal would serve for thirty.
async fn roles_changed_elsewhere_count_at_once(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let (t, helper, path) = helper_seen_often(backend).await;
    let db = &t.app.store.db;
    db.execute_unprepared(
        "DELETE FROM role_assignments WHERE user_id = (SELECT id FROM users WHERE email = 'h@by.example')",
    )
    .await
    .unwrap();
    assert_eq!(answers(&t, &helper, &path, StatusCode::NOT_FOUND).await, StatusCode::NOT_FOUND);
    db.execute_unprepared(
        "INSERT INTO role_assignments (user_id, role, tenant_id, source, created_at) \
         SELECT u.id, 'helper', t.id, 'manual', u.created_at FROM users u, tenants t \
         WHERE u.email = 'h@by.example' AND t.code = 'by'",
    )
    .await
    .unwrap();
    assert_eq!(answers(&t, &helper, &path, StatusCode::OK).await, StatusCode::OK);
    assert_eq!(t.get(&helper, &path).await.0, StatusCode::OK);
    db.execute_unprepared("UPDATE api_tokens SET revoked_at = created_at WHERE user_id = (SELECT id FROM users WHERE email = 'h@by.example')")
        .await
        .unwrap();
    assert_eq!(answers(&t, &helper, &path, StatusCode::UNAUTHORIZED).await, StatusCode::UNAUTHORIZED);
}

/// `logbuch admin token revoke`: a revoked token is refused from the next
/// request on, though the server kept its principal; revoking by name leaves
/// the person's other tokens working.
async fn revoked_tokens_are_refused(backend: Backend) {
    let (t, helper, path) = helper_seen_often(backend).await;
    let second = admin::create_token(&t.app, &helper.email, "zweites Gerät").await.unwrap();
    let second = logbuch_tests::Person { email: helper.email.clone(), token: second };
    assert_eq!(t.get(&second, &path).await.0, StatusCode::OK);
    let revoked = admin::revoke_tokens(&t.app, &helper.email, Some("zweites Gerät")).await.unwrap();
    assert_eq!(revoked, 1);
    assert_eq!(t.get(&second, &path).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(t.get(&helper, &path).await.0, StatusCode::OK, "the other token stays valid");
    let listed = admin::tokens(&t.app, &helper.email).await.unwrap();
    let states: Vec<(&str, bool)> = listed.iter().map(|k| (k.name.as_str(), k.revoked_at.is_some())).collect();
    assert_eq!(states, [("zweites Gerät", true), ("test", false)]);
    assert_eq!(admin::revoke_tokens(&t.app, &helper.email, None).await.unwrap(), 1, "only the live one is left");
    assert_eq!(t.get(&helper, &path).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(admin::revoke_tokens(&t.app, &helper.email, None).await.unwrap(), 0);
}

/// When the server stops hearing about changes (its listening connection is
/// cut), it stops using kept principals: a role revoked in that moment still
/// counts from the next request. Then it listens again.
async fn a_lost_listener_keeps_nothing() {
    use sea_orm::ConnectionTrait;
    let (t, helper, path) = helper_seen_often(Backend::Postgres).await;
    // Cut the listener and revoke in one statement: the notification is lost with it.
    t.app
        .store
        .db
        .execute_unprepared(
            "WITH cut AS (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
               WHERE application_name = 'logbuch-principals' AND datname = current_database()) \
             DELETE FROM role_assignments WHERE user_id = (SELECT id FROM users WHERE email = 'h@by.example') \
               AND EXISTS (SELECT 1 FROM cut)",
        )
        .await
        .unwrap();
    assert_eq!(answers(&t, &helper, &path, StatusCode::NOT_FOUND).await, StatusCode::NOT_FOUND);
    // It listens again (after two seconds), and then keeps principals again.
    assert!(listening(&t).await, "the listener should come back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_listener_keeps_nothing_postgres() {
    a_lost_listener_keeps_nothing().await
}

both!(
    other_lv_gets_404_on_every_route,
    queue_helper_sees_only_their_queue,
    person_without_roles_sees_nothing,
    roles_changed_elsewhere_count_at_once,
    revoked_tokens_are_refused
);
