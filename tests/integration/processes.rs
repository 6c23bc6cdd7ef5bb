//! Processes, absences and scheduled work, on both backends: the exit
//! process (Austritt per Mail) sends its three mails in order and completes
//! only after the requester's confirmation from the same address; an
//! overdue step shows on the start page and is a breach told once; an absent
//! helper's assignments and notifications go to the deputy, whose start page
//! says whom they cover; with three `logbuch worker` processes, one holds the
//! scheduler lease and a breach is mailed once.

use crate::intake::{drain, mail};
use crate::outgoing::{captured, send_all, with_sink};
use crate::ui::{browser_for, html};
use logbuch_store::entity::{process_step, ticket};
use logbuch_tests::{Backend, TestApp, both, logbuch_process, spawn_app_with};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set, Statement};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn steps(d: &Value) -> Vec<Value> {
    d["processes"][0]["steps"].as_array().unwrap_or_else(|| panic!("no steps: {d}")).clone()
}

fn current(d: &Value) -> Value {
    steps(d).into_iter().find(|s| s["state"] == "current").unwrap_or_else(|| panic!("no current step: {d}"))
}

/// The texts of the mails the sink received for `who`, after sending the outbox.
async fn mails_to(t: &TestApp, who: &str) -> Vec<String> {
    send_all(t).await;
    captured(who).into_iter().map(|c| c.mail.text).collect()
}

async fn the_exit_process_waits_for_the_requester(backend: Backend) {
    let t = spawn_app_with(backend, with_sink).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let helper =
        t.person(&format!("mv-{tag}@nrw.example"), &[("helper", Some("nw"), Some("mitgliederverwaltung"))]).await;
    let stranger = t.person(&format!("by-{tag}@by.example"), &[("helper", Some("by"), None)]).await;
    let requester = format!("austritt-{tag}@example.org");
    t.app
        .ingest_raw(
            "test",
            &mail(
                &format!("exit-{tag}@x"),
                &requester,
                "mitglieder@piratenpartei-nrw.de",
                "Austritt",
                "Ich trete aus.",
            ),
        )
        .await
        .unwrap();
    drain(&t).await;
    let n = t.list_numbers(&helper, "").await[0];
    let sent = mails_to(&t, &requester).await;
    assert_eq!(sent.len(), 1, "the acknowledgement: {sent:?}");

    // Another LV's helper learns nothing, not even that the ticket exists.
    for (path, body) in [
        (format!("/api/v1/tickets/{n}/processes"), json!({"process": "austritt"})),
        (format!("/api/v1/tickets/{n}/steps/1/done"), json!({})),
    ] {
        let (s, b) = t.post(&stranger, &path, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {b}");
    }
    let (s, b) = t.post(&helper, &format!("/api/v1/tickets/{n}/processes"), json!({"process": "gibtsnicht"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

    let (s, d) = t.post(&helper, &format!("/api/v1/tickets/{n}/processes"), json!({"process": "austritt"})).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(steps(&d).len(), 4, "{d}");
    assert!(d["available_processes"].as_array().unwrap().iter().all(|p| p["slug"] != "austritt"), "{d}");
    let first = current(&d);
    assert_eq!(first["position"], 1);
    assert!(first["due_at"].is_string(), "the first step has a deadline: {first}");
    let (s, _) = t.post(&helper, &format!("/api/v1/tickets/{n}/processes"), json!({"process": "austritt"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "one exit process at a time");
    let (s, b) = t.post(&stranger, &format!("/api/v1/tickets/{n}/steps/{}/done", first["id"]), json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");

    // Step 1 sends the confirmation request.
    let (s, d) = t.post(&helper, &format!("/api/v1/tickets/{n}/steps/{}/done", first["id"]), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let sent = mails_to(&t, &requester).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent.iter().any(|m| m.contains("Bitte bestätigen Sie uns kurz")), "{sent:?}");
    let waiting = current(&d);
    assert_eq!(waiting["wait_for_requester"], true, "{waiting}");
    assert_eq!(d["status"], "waiting", "the ticket waits with the process, its clocks paused");
    assert_eq!(steps(&d)[0]["done_by"]["email"], helper.email.as_str());
    let (s, b) = t.post(&helper, &format!("/api/v1/tickets/{n}/steps/{}/done", waiting["id"]), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "only the requester's answer finishes it: {b}");

    // Someone else answering on the ticket does not count.
    let other = format!(
        "From: nachbar-{tag}@example.org\r\nTo: mitglieder@piratenpartei-nrw.de\r\nSubject: AW: [Logbuch #{n}] Austritt\r\n\
         Message-ID: <other-{tag}@x>\r\n\r\nJa, er tritt aus.\r\n"
    );
    t.app.ingest_raw("test", other.as_bytes()).await.unwrap();
    drain(&t).await;
    let (_, d) = t.get(&helper, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(d["messages"].as_array().unwrap().len(), 3, "the other mail is on the ticket: {d}");
    assert_eq!(current(&d)["id"], waiting["id"], "still waiting for the requester");

    // The requester confirms (the address in other letter case is the same address).
    let confirm = format!(
        "From: Austritt-{tag}@Example.org\r\nTo: mitglieder@piratenpartei-nrw.de\r\nSubject: AW: [Logbuch #{n}] Austritt\r\n\
         Message-ID: <confirm-{tag}@x>\r\n\r\nJa, ich bestätige meinen Austritt.\r\n"
    );
    t.app.ingest_raw("test", confirm.as_bytes()).await.unwrap();
    drain(&t).await;
    let (_, d) = t.get(&helper, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(d["status"], "open", "the answer ends the wait");
    let confirmed = &steps(&d)[1];
    assert_eq!(confirmed["state"], "done", "{d}");
    assert!(confirmed["done_label"].as_str().unwrap().contains(&requester), "{confirmed}");
    let booking = current(&d);
    assert!(booking["evidence_label"].is_string(), "{booking}");
    assert_eq!(mails_to(&t, &requester).await.len(), 2, "no mail to the requester until the booking is done");

    // No booking without evidence; with it, the exit confirmation is the last step.
    let done = format!("/api/v1/tickets/{n}/steps/{}/done", booking["id"]);
    let (s, b) = t.post(&helper, &done, json!({"evidence": "  "})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["detail"].as_str().unwrap_or_default().contains("Nachweis") || b.to_string().contains("Nachweis"), "{b}");
    let (s, d) = t.post(&helper, &done, json!({"evidence": format!("Mitglied 4711 ausgetragen, Vermerk #{n}")})).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(steps(&d)[2]["evidence"], format!("Mitglied 4711 ausgetragen, Vermerk #{n}"));
    assert!(d["processes"][0]["completed_at"].is_null());
    let last = current(&d);
    let (s, d) = t.post(&helper, &format!("/api/v1/tickets/{n}/steps/{}/done", last["id"]), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert!(d["processes"][0]["completed_at"].is_string(), "complete: {d}");
    let sent = mails_to(&t, &requester).await;
    assert_eq!(sent.len(), 3, "{sent:?}");
    // In order: acknowledgement, confirmation request, exit confirmation (by the ticket's messages).
    let outbound: Vec<String> = d["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "outbound")
        .map(|m| m["body_text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(outbound.len(), 2, "{outbound:?}");
    assert!(
        outbound[0].contains("Bitte bestätigen") && outbound[1].contains("Austritt ist in unserer"),
        "{outbound:?}"
    );
    assert!(sent.iter().any(|m| m.contains("Austritt ist in unserer Mitgliederverwaltung gebucht")), "{sent:?}");
    let history: Vec<&str> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["field"] == "process")
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(history.len(), 6, "begun, four steps, completed: {history:?}");
    assert!(history.iter().any(|h| h.contains("Nachweis: Mitglied 4711")), "{history:?}");

    // The staff page shows the steps.
    let (b, _) = browser_for(&t, &helper.email).await;
    let (s, _, page) = html(&b, format!("{}/ui/tickets/{n}", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"ablaeufe\"") && page.contains("Austritt per Mail – abgeschlossen"), "{page}");
}

async fn an_overdue_step_shows_and_is_told_once(backend: Backend) {
    let t = spawn_app_with(backend, with_sink).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let helper =
        t.person(&format!("auf-{tag}@nrw.example"), &[("helper", Some("nw"), Some("mitgliederverwaltung"))]).await;
    let bavarian = t.person(&format!("auf-{tag}@by.example"), &[("helper", Some("by"), None)]).await;
    let n = t.create_ticket(&admin, "nw", "mitgliederverwaltung", "Mitgliedsantrag").await;
    let (s, d) = t.post(&helper, &format!("/api/v1/tickets/{n}/processes"), json!({"process": "aufnahme"})).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let step = current(&d);
    let (b, _) = browser_for(&t, &helper.email).await;
    let (_, _, home) = html(&b, format!("{}/", t.url)).await;
    assert!(!home.contains("Überfällige Schritte"), "nothing overdue yet");

    // The deadline passed (set in the database: the past cannot be waited for).
    let row =
        process_step::Entity::find_by_id(step["id"].as_i64().unwrap()).one(&t.app.store.db).await.unwrap().unwrap();
    let mut am: process_step::ActiveModel = row.into();
    am.due_at = Set(Some(chrono::Utc::now() - chrono::Duration::hours(3)));
    am.update(&t.app.store.db).await.unwrap();
    let (_, d) = t.get(&helper, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(current(&d)["overdue"], true, "{d}");
    let (_, _, home) = html(&b, format!("{}/", t.url)).await;
    assert!(home.contains("Überfällige Schritte") && home.contains(&format!("#{n} Mitgliedsantrag")), "{home}");
    let (bb, _) = browser_for(&t, &bavarian.email).await;
    let (_, _, other) = html(&bb, format!("{}/", t.url)).await;
    assert!(!other.contains(&format!("#{n} ")), "another LV's start page: {other}");

    // A breach, recorded and told once with three workers looking.
    let mut apps = Vec::new();
    for _ in 0..3 {
        apps.push(logbuch_core::Logbuch::connect((*t.app.settings).clone()).await.unwrap());
    }
    let now = chrono::Utc::now();
    let runs = futures_util::future::join_all(apps.iter().map(|a| a.record_breaches(now))).await;
    assert_eq!(runs.into_iter().map(|r| r.unwrap()).sum::<usize>(), 1);
    assert_eq!(t.app.record_breaches(chrono::Utc::now()).await.unwrap(), 0, "and never again");
    let (_, d) = t.get(&helper, &format!("/api/v1/tickets/{n}")).await;
    let breaches: Vec<&Value> = d["history"].as_array().unwrap().iter().filter(|h| h["field"] == "breach").collect();
    assert_eq!(breaches.len(), 1, "{d}");
    assert!(breaches[0]["to"].as_str().unwrap().starts_with("Schritt „Kreisverband"), "{d}");
    send_all(&t).await;
    let told: Vec<_> = captured(&format!("auf-{tag}@nrw"))
        .into_iter()
        .filter(|c| c.mail.subject.contains("Frist überschritten"))
        .collect();
    assert_eq!(told.len(), 1, "told once");
    assert!(told[0].mail.text.contains("Schritt „Kreisverband"), "the mail names the step: {}", told[0].mail.text);
    assert!(captured(&format!("auf-{tag}@by")).is_empty(), "not another LV");
}

async fn absence_hands_work_to_the_deputy(backend: Backend) {
    let t = spawn_app_with(backend, with_sink).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let lead = t.person(&format!("lead-{tag}@nrw.example"), &[("tenant_admin", Some("nw"), None)]).await;
    let away = t.person(&format!("away-{tag}@nrw.example"), &[("helper", Some("nw"), Some("presse"))]).await;
    let deputy = t.person(&format!("dep-{tag}@nrw.example"), &[("helper", Some("nw"), Some("presse"))]).await;
    let stranger = t.person(&format!("str-{tag}@by.example"), &[("helper", Some("by"), None)]).await;
    let before = t.create_ticket(&lead, "nw", "presse", "Vor dem Urlaub").await;
    let (s, b) = t.post(&lead, &format!("/api/v1/tickets/{before}/assign"), json!({"owner": away.email})).await;
    assert!(s.is_success(), "{b}");

    let today = chrono::Utc::now().date_naive();
    let put = |body: Value| {
        let (t, away) = (&t, &away);
        async move { t.call(Some(away), Method::PUT, "/api/v1/me/absence", Some(body)).await }
    };
    let from = today.format("%Y-%m-%d").to_string();
    let until = (today + chrono::Duration::days(14)).format("%Y-%m-%d").to_string();
    for (bad, why) in [
        (json!({"from": from, "until": until, "deputy": away.email}), "oneself"),
        (json!({"from": from, "until": until, "deputy": "niemand@example.org"}), "unknown"),
        (json!({"from": until, "until": from, "deputy": deputy.email}), "backwards"),
        (json!({"from": "morgen", "until": until, "deputy": deputy.email}), "no date"),
    ] {
        let (s, b) = put(bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {b}");
    }
    let (s, b) = put(json!({"from": from, "until": until, "deputy": deputy.email})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["active"], true);
    let (s, b) = t.get(&away, "/api/v1/me/absence").await;
    assert_eq!((s, b["deputy"]["email"].as_str()), (StatusCode::OK, Some(deputy.email.as_str())), "{b}");

    // A new assignment goes to the deputy, and says why.
    let n = t.create_ticket(&lead, "nw", "presse", "Im Urlaub").await;
    let (_, d) = t.post(&lead, &format!("/api/v1/tickets/{n}/assign"), json!({"owner": away.email})).await;
    assert_eq!(d["owner"]["email"], deputy.email.as_str(), "{d}");
    assert!(d["history"].as_array().unwrap().iter().any(|h| h["field"] == "absence"), "{d}");
    // New mail in the queue: the deputy is told, the absent helper is not.
    send_all(&t).await;
    let quiet_before = captured(&format!("away-{tag}")).len();
    t.app
        .ingest_raw(
            "test",
            &mail(&format!("p-{tag}@x"), "journalist@example.org", "presse@piratenpartei-nrw.de", "Interview", "Hallo"),
        )
        .await
        .unwrap();
    drain(&t).await;
    send_all(&t).await;
    assert_eq!(captured(&format!("away-{tag}")).len(), quiet_before, "nothing new for someone away");
    assert!(captured(&format!("dep-{tag}")).iter().any(|c| c.mail.subject.contains("Interview")), "the deputy is told");

    // The deputy's start page says whose tickets they cover.
    let (b, _) = browser_for(&t, &deputy.email).await;
    let (_, _, home) = html(&b, format!("{}/", t.url)).await;
    assert!(home.contains("Du vertrittst") && home.contains(&format!("#{before} Vor dem Urlaub")), "{home}");
    let (bs, _) = browser_for(&t, &stranger.email).await;
    let (_, _, other) = html(&bs, format!("{}/", t.url)).await;
    assert!(!other.contains("Du vertrittst"), "{other}");

    // Back early: assignments reach the person again.
    let (s, _) = t.call(Some(&away), Method::DELETE, "/api/v1/me/absence", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t.call(Some(&away), Method::DELETE, "/api/v1/me/absence", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let m = t.create_ticket(&lead, "nw", "presse", "Wieder da").await;
    let (_, d) = t.post(&lead, &format!("/api/v1/tickets/{m}/assign"), json!({"owner": away.email})).await;
    assert_eq!(d["owner"]["email"], away.email.as_str(), "{d}");
}

both!(
    the_exit_process_waits_for_the_requester,
    an_overdue_step_shows_and_is_told_once,
    absence_hands_work_to_the_deputy
);

/// Three real worker processes: one holds the scheduler lease, and a missed
/// due time is recorded and mailed once.
#[tokio::test]
async fn three_workers_run_scheduled_work_once() {
    let t = spawn_app_with(Backend::Postgres, with_sink).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    t.person(&format!("sched-{tag}@nrw.example"), &[("helper", Some("nw"), Some("pgf"))]).await;
    let n = t.create_ticket(&admin, "nw", "pgf", "Frist verpasst").await;
    let row = ticket::Entity::find_by_id(n).one(&t.app.store.db).await.unwrap().unwrap();
    let mut am: ticket::ActiveModel = row.into();
    am.first_response_due = Set(Some(chrono::Utc::now() - chrono::Duration::hours(2)));
    am.update(&t.app.store.db).await.unwrap();

    let dir = t.app.settings.data_dir.clone();
    let env = [
        ("LOGBUCH__SMTP__HOST", "127.0.0.1"),
        ("LOGBUCH__SMTP__PORT", "2526"),
        ("LOGBUCH__SMTP__SECURITY", "none"),
        ("LOGBUCH__OUTGOING__BOUNCE_ADDRESS", "bounces@piratenpartei.de"),
    ];
    let logs: Vec<_> = (1..=3).map(|i| dir.join(format!("sched{i}.log"))).collect();
    let mut workers: Vec<_> = logs.iter().map(|l| logbuch_process(&t.app.settings, &["worker"], l, &env)).collect();
    let told = |tag: &str| {
        captured(&format!("sched-{tag}")).into_iter().filter(|c| c.mail.subject.contains("Frist überschritten")).count()
    };
    let started = Instant::now();
    // Wait until the mail is out and every worker has had its first round.
    while (told(&tag) == 0
        || logs.iter().any(|l| !std::fs::read_to_string(l).unwrap_or_default().contains("scheduled work")))
        && started.elapsed() < Duration::from_secs(90)
    {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let db = &t.app.store.db;
    let owner: Option<String> = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT lease_owner FROM mailboxes WHERE name = $1",
            [logbuch_core::workers::SCHEDULER_LEASE.into()],
        ))
        .await
        .unwrap()
        .and_then(|r| r.try_get_by_index::<Option<String>>(0).unwrap());
    for w in &mut workers {
        let _ = w.kill();
        let _ = w.wait();
    }
    let texts: Vec<String> = logs.iter().map(|l| std::fs::read_to_string(l).unwrap_or_default()).collect();
    let holders = texts.iter().filter(|l| l.contains("this worker runs the scheduled work")).count();
    assert_eq!(holders, 1, "one worker holds the lease: {texts:#?}");
    let owner = owner.expect("the lease is held");
    let holder = texts.iter().find(|l| l.contains("this worker runs the scheduled work")).unwrap();
    assert!(holder.contains(&owner), "the log names the holder {owner}");
    assert_eq!(told(&tag), 1, "the breach is mailed once");
    let (_, d) = t.get(&admin, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(d["history"].as_array().unwrap().iter().filter(|h| h["field"] == "breach").count(), 1, "{d}");
}
