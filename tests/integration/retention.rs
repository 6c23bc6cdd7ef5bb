//! Retention (issue 17): resolved tickets past their queue's time are
//! anonymised or deleted, held ones kept, the dry run lists exactly those,
//! and nothing of a removed ticket stays findable: not by search, not in any
//! table of the database. The record still verifies afterwards.

use crate::intake::{drain, mail};
use logbuch_tests::{Backend, TestApp, both, logbuch_command, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

/// The embedded federation with NW keeping 6 months and deleting; the Bund's 36 months (anonymise) for the rest.
fn federation(dir: &std::path::Path) -> std::path::PathBuf {
    let fed = logbuch_config::EMBEDDED_FEDERATION.replacen(
        "code = \"nw\"\nname = \"Nordrhein-Westfalen\"\n",
        "code = \"nw\"\nname = \"Nordrhein-Westfalen\"\nretention_months = 6\nretention_mode = \"delete\"\n",
        1,
    );
    assert_ne!(fed, logbuch_config::EMBEDDED_FEDERATION);
    assert!(fed.contains("retention_months = 36"), "the Bund's default");
    let path = dir.join("retention-federation.toml");
    std::fs::write(&path, fed).unwrap();
    path
}

async fn exec(t: &TestApp, sql: &str) {
    t.app.store.db.execute_unprepared(sql).await.unwrap();
}

/// Every (table, column) where `needle` occurs, in any text, blob or search column of the database.
pub async fn occurrences(t: &TestApp, needle: &str) -> Vec<String> {
    let db = &t.app.store.db;
    let backend = db.get_database_backend();
    let columns: Vec<(String, String, String)> = if backend == sea_orm::DbBackend::Postgres {
        db.query_all_raw(Statement::from_string(
            backend,
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'bytea', 'tsvector', 'json', 'jsonb')",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| (r.try_get_by_index(0).unwrap(), r.try_get_by_index(1).unwrap(), r.try_get_by_index(2).unwrap()))
        .collect()
    } else {
        let tables = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            ))
            .await
            .unwrap();
        let mut cols = Vec::new();
        for r in tables {
            let table: String = r.try_get_by_index(0).unwrap();
            for c in db
                .query_all_raw(Statement::from_string(backend, format!("PRAGMA table_info('{table}')")))
                .await
                .unwrap()
            {
                cols.push((table.clone(), c.try_get::<String>("", "name").unwrap(), String::new()));
            }
        }
        cols
    };
    let mut found = Vec::new();
    for (table, column, kind) in columns {
        let expr = match (backend, kind.as_str()) {
            (sea_orm::DbBackend::Postgres, "bytea") => format!("encode(\"{column}\", 'escape')"),
            (sea_orm::DbBackend::Postgres, _) => format!("\"{column}\"::text"),
            _ => format!("CAST(\"{column}\" AS TEXT)"),
        };
        let sql = format!("SELECT COUNT(*) FROM \"{table}\" WHERE lower({expr}) LIKE '%{}%'", needle.to_lowercase());
        let n: i64 = match db.query_one_raw(Statement::from_string(backend, sql)).await {
            Ok(Some(r)) => r.try_get_by_index(0).unwrap(),
            // FTS5's shadow tables and the like may refuse a column; the virtual table itself is scanned.
            _ => 0,
        };
        if n > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    found
}

async fn retention_removes_exactly_what_is_due(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("lb-ret-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = federation(&dir);
    let t = spawn_app_with(backend, |s| s.federation_file = Some(path.clone())).await;
    let bob = t.person("bob@bund.example", &[("federal_officer", None, None)]).await;
    let by_admin = t.person("chef@by.example", &[("tenant_admin", Some("by"), None)]).await;
    let nw_admin = t.person("chef@nw.example", &[("tenant_admin", Some("nw"), None)]).await;
    let tag = format!("{:x}", rand::random::<u32>());
    // Five mails, five tickets: (name, to, months since resolution or None = open).
    let cases = [
        ("a", "presse@piratenpartei-nrw.de", Some(7)),
        ("b", "presse@piratenpartei-nrw.de", Some(5)),
        ("c", "mitglieder-by@piratenpartei.de", Some(37)),
        ("d", "mitglieder-by@piratenpartei.de", Some(37)),
        ("e", "mitglieder-by@piratenpartei.de", None),
    ];
    let mut numbers = std::collections::HashMap::new();
    for (name, to, _) in &cases {
        let from = format!("geheim-{name}-{tag}@example.org");
        let body = format!("Mein Anliegen Wort{name}{tag} bitte vertraulich behandeln.");
        t.app
            .ingest_raw("test", &mail(&format!("{name}-{tag}@example.org"), &from, to, "Datenauskunft", &body))
            .await
            .unwrap();
        drain(&t).await;
        let n = t.list_numbers(&bob, &format!("?requester=geheim-{name}-{tag}@example.org")).await;
        assert_eq!(n.len(), 1, "{name}");
        let n = n[0];
        let file = json!({"filename": format!("Brief-{name}.txt"), "content_type": "text/plain", "content_base64": base64_of(&format!("Anhang {name} {tag}"))});
        let (s, b) = t
            .post(
                &bob,
                &format!("/api/v1/tickets/{n}/notes"),
                json!({"body": format!("Notiz Wort{name}{tag}"), "attachments": [file]}),
            )
            .await;
        assert!(s.is_success(), "{b}");
        t.post(&bob, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "Wir kümmern uns."})).await;
        t.get(&bob, &format!("/api/v1/tickets/{n}")).await;
        numbers.insert(*name, n);
    }
    // A legal hold on d, by BY's admin; NW's admin may not even see it.
    let d = numbers["d"];
    let (s, _) = t
        .call(
            Some(&nw_admin),
            reqwest::Method::PUT,
            &format!("/api/v1/tickets/{d}/hold"),
            Some(json!({"reason": "Schiedsgericht"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another LV's admin");
    let (s, b) = t
        .call(
            Some(&by_admin),
            reqwest::Method::PUT,
            &format!("/api/v1/tickets/{d}/hold"),
            Some(json!({"reason": "Schiedsgericht"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["changed"], true);
    let helper = t.person("helfer@by.example", &[("helper", Some("by"), None)]).await;
    let (s, _) = t.call(Some(&helper), reqwest::Method::DELETE, &format!("/api/v1/tickets/{d}/hold"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a helper may not lift it");

    for (name, _, months) in &cases {
        let n = numbers[name];
        if let Some(m) = months {
            t.post(&bob, &format!("/api/v1/tickets/{n}/resolve"), json!({})).await;
            // Resolved long ago: set the time as if it had passed.
            let at = (chrono::Utc::now() - chrono::Months::new(*m)).to_rfc3339();
            let at = if backend == Backend::Postgres { format!("'{at}'::timestamptz") } else { format!("'{at}'") };
            exec(&t, &format!("UPDATE tickets SET resolved_at = {at} WHERE id = {n}")).await;
        }
    }
    // A checkpoint before the removal: the record must verify across it.
    t.app.write_checkpoint().await.unwrap();

    // The dry run (the real binary) lists exactly a and c.
    let out = logbuch_command(&t.app.settings, &["admin", "retention", "--dry-run"], &[]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    let listed: Vec<i64> =
        text.lines().filter_map(|l| l.strip_prefix('#')?.split_whitespace().next()?.parse().ok()).collect();
    let mut want = vec![numbers["a"], numbers["c"]];
    want.sort();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(listed_sorted, want, "{text}");
    assert!(text.contains("löschen") && text.contains("anonymisieren"), "{text}");

    // The real run, as the scheduled work does it.
    assert_eq!(t.app.run_retention(logbuch_store::now(), 1000, |_, _| {}).await.unwrap(), 2);
    assert_eq!(t.app.run_retention(logbuch_store::now(), 1000, |_, _| {}).await.unwrap(), 0, "once");

    // Nothing of a or c anywhere: not by search, not in any table.
    for gone in ["a", "c"] {
        assert!(t.list_numbers(&bob, &format!("?q=Wort{gone}{tag}")).await.is_empty(), "{gone} still found");
        for needle in [format!("geheim-{gone}-{tag}"), format!("wort{gone}{tag}"), format!("Anhang {gone} {tag}")] {
            let left = occurrences(&t, &needle).await;
            assert!(left.is_empty(), "{needle} still in {left:?}");
        }
    }
    // b (not yet due), d (held), e (open) are untouched and findable.
    for kept in ["b", "d", "e"] {
        assert_eq!(t.list_numbers(&bob, &format!("?q=Wort{kept}{tag}")).await, vec![numbers[kept]], "{kept}");
        assert!(!occurrences(&t, &format!("geheim-{kept}-{tag}")).await.is_empty());
    }
    // a is gone, c is an anonymous shell that keeps its queue and times for the reports.
    let (s, _) = t.get(&bob, &format!("/api/v1/tickets/{}", numbers["a"])).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, c) = t.get(&bob, &format!("/api/v1/tickets/{}", numbers["c"])).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["subject"], "[anonymisiert]");
    assert_eq!(c["status"], "resolved");
    assert_eq!(c["messages"].as_array().map(Vec::len), Some(0));
    let tombstones = logbuch_store::retention::tombstones(&t.app.store.db, 10).await.unwrap();
    assert_eq!(tombstones.len(), 2);
    for ts in &tombstones {
        assert!(ts.counts.contains("\"messages\":3"), "counted: {}", ts.counts);
        assert_eq!(ts.reason, "retention");
    }
    // A reply quoting c's number opens a new ticket instead of reviving the shell.
    let c_no = numbers["c"];
    t.app
        .ingest_raw(
            "test",
            &mail(
                &format!("late-{tag}@example.org"),
                "spaet@example.org",
                "mitglieder-by@piratenpartei.de",
                &format!("Re: [Logbuch #{c_no}] Datenauskunft"),
                "Noch eine Frage",
            ),
        )
        .await
        .unwrap();
    drain(&t).await;
    let late = t.list_numbers(&bob, "?requester=spaet@example.org").await;
    assert_eq!(late.len(), 1);
    assert_ne!(late[0], c_no);

    // The record verifies across the removal, before and after the next checkpoint.
    let verdict = t.app.verify_record(|_, _| {}).await.unwrap();
    assert!(verdict.ok(), "{:?}", verdict.lines());
    t.app.write_checkpoint().await.unwrap();
    let verdict = t.app.verify_record(|_, _| {}).await.unwrap();
    assert!(verdict.ok(), "{:?}", verdict.lines());
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

both!(retention_removes_exactly_what_is_due);
