//! Service times in business time, on both backends: due times count the
//! tenant's business hours and its Land's holidays (a ticket opened Friday
//! 17:00 with 8 business hours to first response is due Monday 17:00; one
//! opened before Easter skips Karfreitag and Ostermontag), and waiting on
//! the requester pauses the clocks. The creation and pause times are set in
//! the database (the past cannot be waited for); moving a ticket to another
//! queue recomputes its due times from its creation through the real code.

use chrono::{DateTime, TimeZone, Utc};
use logbuch_domain::calendar::{Calendar, Land};
use logbuch_store::entity::ticket;
use logbuch_tests::{Backend, both, spawn_app};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn set_times(t: &logbuch_tests::TestApp, n: i64, created: DateTime<Utc>, waiting_since: Option<DateTime<Utc>>) {
    let row = ticket::Entity::find_by_id(n).one(&t.app.store.db).await.unwrap().unwrap();
    let mut am: ticket::ActiveModel = row.into();
    am.created_at = Set(created);
    if waiting_since.is_some() {
        am.waiting_since = Set(waiting_since);
    }
    am.update(&t.app.store.db).await.unwrap();
}

fn due(d: &Value, field: &str) -> DateTime<Utc> {
    at(d[field].as_str().unwrap_or_else(|| panic!("{field} missing: {d}")))
}

async fn due_times_count_business_hours_and_pause_while_waiting(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    // NW's pgf: first response 1d = one working day of 8 hours, resolution 3d.
    let (_, queues) = t.get(&admin, "/api/v1/tenants/nw/queues").await;
    let pgf = queues.as_array().unwrap().iter().find(|q| q["slug"] == "pgf").unwrap().clone();
    assert_eq!(
        (pgf["first_response_minutes"].as_i64(), pgf["resolution_minutes"].as_i64()),
        (Some(480), Some(1440)),
        "{pgf}"
    );

    // Opened Friday 2026-12-04 17:00 in Berlin (16:00 UTC): due Monday 17:00.
    let n = t.create_ticket(&admin, "nw", "sonstiges", "Freitagabend").await;
    set_times(&t, n, Utc.with_ymd_and_hms(2026, 12, 4, 16, 0, 0).unwrap(), None).await;
    let (s, d) = t.post(&admin, &format!("/api/v1/tickets/{n}/move"), json!({"queue": "pgf"})).await;
    assert!(s.is_success(), "{d}");
    let d = &d["ticket"];
    assert_eq!(due(d, "first_response_due"), at("2026-12-07T16:00:00Z"), "Monday 17:00 Berlin");
    assert_eq!(due(d, "resolution_due"), at("2026-12-09T16:00:00Z"), "three working days: Wednesday 17:00");

    // Opened Thursday before Easter 2026, 16:00 (CEST, 14:00 UTC): 1 h Thursday, Karfreitag and
    // Ostermontag closed in NW, 7 h on Tuesday: due Tuesday 2026-04-07 16:00.
    let e = t.create_ticket(&admin, "nw", "sonstiges", "Vor Ostern").await;
    set_times(&t, e, Utc.with_ymd_and_hms(2026, 4, 2, 14, 0, 0).unwrap(), None).await;
    let (_, d) = t.post(&admin, &format!("/api/v1/tickets/{e}/move"), json!({"queue": "pgf"})).await;
    assert_eq!(due(&d["ticket"], "first_response_due"), at("2026-04-07T14:00:00Z"));

    // Waiting pauses: the business time left when the pause began counts again from the resumption.
    let w = t.create_ticket(&admin, "nw", "pgf", "Wartet auf Antwort").await;
    let (s, d) = t
        .call(Some(&admin), reqwest::Method::PATCH, &format!("/api/v1/tickets/{w}"), Some(json!({"status": "waiting"})))
        .await;
    assert!(s.is_success(), "{d}");
    let before = due(&d, "first_response_due");
    // The pause began three days ago (set in the database), when 480 business minutes were left
    // until a first response due then.
    let nw = Calendar { land: Some(Land::Nw), ..Calendar::default() };
    let since = Utc::now() - chrono::Duration::days(3);
    let old_due = nw.add_business_minutes(since, 480);
    let row = ticket::Entity::find_by_id(w).one(&t.app.store.db).await.unwrap().unwrap();
    let mut am: ticket::ActiveModel = row.into();
    am.waiting_since = Set(Some(since));
    am.first_response_due = Set(Some(old_due));
    am.update(&t.app.store.db).await.unwrap();
    let (s, d) = t
        .call(Some(&admin), reqwest::Method::PATCH, &format!("/api/v1/tickets/{w}"), Some(json!({"status": "open"})))
        .await;
    assert!(s.is_success(), "{d}");
    let resumed = d["history"].as_array().unwrap().iter().rev().find(|h| h["field"] == "status").unwrap()["at"].clone();
    let expected = nw.add_business_minutes(at(resumed.as_str().unwrap()), nw.business_minutes_between(since, old_due));
    let got = due(&d, "first_response_due");
    assert!((got - expected).num_seconds().abs() <= 60, "resumed with the time that was left: {got} vs {expected}");
    assert!(got > old_due, "the pause moved the due time ({old_due} → {got})");
    assert!(before >= d["created_at"].as_str().map(at).unwrap(), "{before}");
}

/// A missed due time is recorded and told once, with three worker
/// processes' worth of connections looking at the same moment.
async fn a_breach_is_told_exactly_once(backend: Backend) {
    let t = logbuch_tests::spawn_app_with(backend, crate::outgoing::with_sink).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let helper = t.person(&format!("pgf-{tag}@nrw.example"), &[("helper", Some("nw"), Some("pgf"))]).await;
    let n = t.create_ticket(&admin, "nw", "pgf", "Frist läuft ab").await;
    let other = t.create_ticket(&admin, "nw", "pgf", "Noch Zeit").await;
    let later = t.create_ticket(&admin, "nw", "pgf", "Wartet").await;
    t.call(
        Some(&admin),
        reqwest::Method::PATCH,
        &format!("/api/v1/tickets/{later}"),
        Some(json!({"status": "waiting"})),
    )
    .await;
    for id in [n, later] {
        let row = ticket::Entity::find_by_id(id).one(&t.app.store.db).await.unwrap().unwrap();
        let mut am: ticket::ActiveModel = row.into();
        am.first_response_due = Set(Some(Utc::now() - chrono::Duration::hours(1)));
        am.update(&t.app.store.db).await.unwrap();
    }
    // Three workers with their own connections, at once.
    let mut apps = Vec::new();
    for _ in 0..3 {
        apps.push(logbuch_core::Logbuch::connect((*t.app.settings).clone()).await.unwrap());
    }
    let now = Utc::now();
    let runs = futures_util::future::join_all(apps.iter().map(|a| a.record_breaches(now))).await;
    let recorded: usize = runs.into_iter().map(|r| r.unwrap()).sum();
    assert_eq!(recorded, 1, "one breach, recorded by one of the three");
    assert_eq!(t.app.record_breaches(Utc::now()).await.unwrap(), 0, "and never again");
    let (_, d) = t.get(&admin, &format!("/api/v1/tickets/{n}")).await;
    let breaches: Vec<&Value> = d["history"].as_array().unwrap().iter().filter(|h| h["field"] == "breach").collect();
    assert_eq!(breaches.len(), 1, "{d}");
    assert!(breaches[0]["to"].as_str().unwrap().starts_with("Erste Antwort war fällig"), "{d}");
    for quiet in [other, later] {
        let (_, d) = t.get(&admin, &format!("/api/v1/tickets/{quiet}")).await;
        assert!(!d["history"].as_array().unwrap().iter().any(|h| h["field"] == "breach"), "no breach: {d}");
    }
    crate::outgoing::send_all(&t).await;
    let told: Vec<_> = crate::outgoing::captured(&format!("pgf-{tag}"))
        .into_iter()
        .filter(|c| c.mail.subject.contains("Frist überschritten"))
        .collect();
    assert_eq!(told.len(), 1, "the queue's helper is told once");
    assert!(told[0].mail.subject.contains(&format!("#{n}")));
    assert!(told[0].mail.text.contains("abgelaufen (gezählt in Arbeitszeit): Erste Antwort."), "{}", told[0].mail.text);
    let _ = helper;
}

both!(due_times_count_business_hours_and_pause_while_waiting, a_breach_is_told_exactly_once);
