//! The quarterly report on both backends: figures per queue equal an
//! independent SQL count, times are business hours (median and 90th
//! percentile), service times kept in %, small counts shown as "< 5"; the
//! page (with its charts), CSV, wiki text and `logbuch admin report` agree;
//! helpers get 403, another LV's admin 404.

use chrono::{DateTime, Duration, TimeZone, Utc};
use logbuch_store::entity::ticket;
use logbuch_tests::{Backend, both, logbuch_command, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set, Statement};

/// Monday 2026-07-06, 09:00 in Berlin.
fn monday_nine() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 6, 7, 0, 0).unwrap()
}

async fn shape(
    t: &logbuch_tests::TestApp,
    n: i64,
    created: DateTime<Utc>,
    answered: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
    due: Option<DateTime<Utc>>,
) {
    let row = ticket::Entity::find_by_id(n).one(&t.app.store.db).await.unwrap().unwrap();
    let mut am: ticket::ActiveModel = row.into();
    am.created_at = Set(created);
    am.first_responded_at = Set(answered);
    am.resolved_at = Set(resolved);
    am.status = Set(if resolved.is_some() { "resolved" } else { "open" }.into());
    am.first_response_due = Set(due);
    am.resolution_due = Set(due);
    am.update(&t.app.store.db).await.unwrap();
}

async fn sql_count(t: &logbuch_tests::TestApp, sql: &str) -> i64 {
    let db = &t.app.store.db;
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn the_quarterly_report(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    t.person("chefin@nrw.example", &[("tenant_admin", Some("nw"), None)]).await;
    let helper = t.person("helfer@nrw.example", &[("helper", Some("nw"), None)]).await;
    let by_admin = t.person("admin@by.example", &[("tenant_admin", Some("by"), None)]).await;
    // Presse: seven tickets in Q3, answered after 1..7 business hours, resolved the next
    // day; four of them on time. Pgf: two tickets. One presse ticket from Q2 still open.
    for k in 1..=7 {
        let n = t.create_ticket(&admin, "nw", "presse", &format!("Anfrage {k}")).await;
        let created = monday_nine() + Duration::days(7 * k);
        let answered = created + Duration::hours(k);
        let resolved = created + Duration::days(1);
        let due = if k <= 4 { resolved + Duration::hours(1) } else { resolved - Duration::hours(1) };
        shape(&t, n, created, Some(answered), Some(resolved), Some(due)).await;
    }
    for k in 0..2 {
        let n = t.create_ticket(&admin, "nw", "pgf", &format!("PGF {k}")).await;
        shape(&t, n, monday_nine() + Duration::days(k), None, None, None).await;
    }
    let old = t.create_ticket(&admin, "nw", "presse", "Aus dem Juni").await;
    shape(&t, old, Utc.with_ymd_and_hms(2026, 6, 15, 8, 0, 0).unwrap(), None, None, None).await;

    let who = t.principal(&admin).await;
    let (from, to, _) = logbuch_core::reports::quarter("2026Q3").unwrap();
    let r = t.app.report(&who, "nw", from, to).await.unwrap();
    let presse = r.queues.iter().find(|q| q.name == "Presse").unwrap();
    // An independent count: Q3 in Berlin is 2026-06-30 22:00 UTC up to 2026-09-30 22:00 UTC.
    let counted = sql_count(
        &t,
        "SELECT COUNT(*) FROM tickets t JOIN queues q ON q.id = t.queue_id JOIN tenants n ON n.id = t.tenant_id \
         WHERE n.code = 'nw' AND q.slug = 'presse' AND t.created_at >= '2026-06-30 22:00:00+00' AND t.created_at < '2026-09-30 22:00:00+00'",
    )
    .await;
    assert_eq!(counted, 7);
    assert_eq!(presse.opened.to_string(), counted.to_string());
    let resolved = sql_count(
        &t,
        "SELECT COUNT(*) FROM tickets t JOIN queues q ON q.id = t.queue_id \
         WHERE q.slug = 'presse' AND t.resolved_at >= '2026-06-30 22:00:00+00' AND t.resolved_at < '2026-09-30 22:00:00+00'",
    )
    .await;
    assert_eq!(presse.resolved.to_string(), resolved.to_string());
    assert_eq!(presse.first_response_hours, Some((4.0, 7.0)), "median and 90th percentile of 1..7 business hours");
    let kept = sql_count(
        &t,
        "SELECT COUNT(*) FROM tickets t JOIN queues q ON q.id = t.queue_id \
         WHERE q.slug = 'presse' AND t.resolved_at <= t.resolution_due AND t.first_responded_at <= t.first_response_due",
    )
    .await;
    assert_eq!(presse.kept_percent.map(|k| k.round() as i64), Some((100 * kept + resolved / 2) / resolved), "4 of 7");
    let pgf = r.queues.iter().find(|q| q.name == "Politische Geschäftsführung").unwrap();
    assert_eq!(pgf.opened.to_string(), "< 5", "small counts are withheld");
    assert_eq!(pgf.first_response_hours, None);
    assert_eq!(r.total.opened.to_string(), "9");
    assert!(r.backlog.iter().any(|(_, n)| *n > 0));
    // Each point of the backlog: NW's tickets opened before that midnight (Berlin) and not resolved
    // before it. The instant as RFC 3339, as SQLite stores it (its comparisons are textual).
    for (day, n) in &r.backlog {
        let at = logbuch_domain::calendar::berlin_to_utc(day.and_hms_opt(0, 0, 0).unwrap())
            .format("%Y-%m-%dT%H:%M:%S+00:00");
        let open = sql_count(
            &t,
            &format!(
                "SELECT COUNT(*) FROM tickets t JOIN tenants n ON n.id = t.tenant_id WHERE n.code = 'nw' \
                 AND t.created_at < '{at}' AND (t.resolved_at IS NULL OR t.resolved_at >= '{at}')"
            ),
        )
        .await;
        assert_eq!(*n, open, "open tickets at {day}");
    }
    assert_eq!(r.backlog[0].1, 3, "on 8 July: the two PGF tickets and the one from June");
    assert_eq!(r.backlog.last().unwrap().0, to, "a past quarter's line runs to its end");

    // The whole federation: one line per tenant, NW's as above, BY's with its one ticket.
    let by = t.create_ticket(&admin, "by", "mitglieder", "Aus Bayern").await;
    shape(&t, by, monday_nine() + Duration::days(3), None, None, None).await;
    let all = t.app.report(&who, "alle", from, to).await.unwrap();
    assert_eq!(all.queues.len(), 17, "one line per tenant");
    assert_eq!(all.queues[0].name, "Bundesverband", "the Bund first");
    let nw = all.queues.iter().find(|q| q.name.contains("Nordrhein")).unwrap();
    assert_eq!(
        (nw.opened.to_string(), nw.first_response_hours),
        (r.total.opened.to_string(), r.total.first_response_hours)
    );
    let everywhere = sql_count(
        &t,
        "SELECT COUNT(*) FROM tickets WHERE created_at >= '2026-06-30 22:00:00+00' AND created_at < '2026-09-30 22:00:00+00'",
    )
    .await;
    assert_eq!((all.total.opened.to_string(), everywhere), ("10".to_owned(), 10));
    assert_eq!(all.total.name, "Alle Verbände gesamt");
    let e = t.app.report(&t.principal(&by_admin).await, "alle", from, to).await.unwrap_err();
    assert!(matches!(e, logbuch_core::AppError::NotFound(_)), "an LV's admin: {e:?}");

    // Who may see it.
    let e = t.app.report(&t.principal(&helper).await, "nw", from, to).await.unwrap_err();
    assert!(matches!(e, logbuch_core::AppError::Forbidden(_)), "{e:?}");
    let e = t.app.report(&t.principal(&by_admin).await, "nw", from, to).await.unwrap_err();
    assert!(matches!(e, logbuch_core::AppError::NotFound(_)), "{e:?}");

    // The page with its charts, the CSV and the wiki text, for NW's admin.
    let b = logbuch_tests::oidc::browser();
    let link = logbuch_core::admin::login_link(&t.app, "chefin@nrw.example").await.unwrap();
    b.get(format!("{}{link}", t.url)).send().await.unwrap();
    let page = b.get(format!("{}/ui/berichte/nw?quartal=2026Q3", t.url)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg role=\"img\"") && html.contains("&lt; 5") && html.contains("4,0 / 7,0"), "{html}");
    let csv = b.get(format!("{}/ui/berichte/nw/csv?quartal=2026Q3", t.url)).send().await.unwrap().text().await.unwrap();
    assert!(csv.lines().any(|l| l.starts_with("Presse;7;7;4,0;7,0;")), "{csv}");
    let wiki =
        b.get(format!("{}/ui/berichte/nw/wiki?quartal=2026Q3", t.url)).send().await.unwrap().text().await.unwrap();
    assert_eq!(wiki, r.markdown());
    let other = b.get(format!("{}/ui/berichte/by?quartal=2026Q3", t.url)).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND, "another LV's report");
    let bad = b.get(format!("{}/ui/berichte/nw?quartal=2026Q9", t.url)).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The command prints the same wiki text.
    let out = logbuch_command(&t.app.settings, &["admin", "report", "--tenant", "nw", "--quarter", "2026Q3"], &[])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), r.markdown());
}

both!(the_quarterly_report);
