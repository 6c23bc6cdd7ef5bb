//! Import benchmark (issue 19): N tickets (default 5,000) in a queue of a
//! real Request Tracker 5 (`BENCH_SOURCE=rt`, the default; filled through
//! REST2's bulk calls) or a project of a real Redmine 5
//! (`BENCH_SOURCE=redmine`; filled issue by issue, four at a time) —
//! German text, every ticket answered by staff, every fourth with an
//! internal comment, every tenth with a PDF — imported into NRW's member
//! queue, then imported again (nothing new). Prints tickets/s of both runs.
//!
//! Run it with `tests/bench-import.sh`. `BENCH_QUEUE=<name>` imports an RT
//! queue or Redmine project filled before instead of filling a new one (the
//! peers keep it until their script runs again without `*_REUSE=1`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use futures_util::StreamExt;
use logbuch_core::Logbuch;
use logbuch_core::import::{ImportMap, ImportOptions, Progress};
use serde_json::{Value, json};
use std::time::Instant;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

struct Rt {
    api: String,
    auth: String,
    http: reqwest::Client,
}

impl Rt {
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let req = self.http.request(method, format!("{}{path}", self.api)).header("Authorization", &self.auth);
        logbuch_tests::peer_json(req.json(&body), "RT", path).await
    }
}

const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

/// Fills `queue` with `n` tickets, 100 per bulk call, two calls at a time.
async fn fill(rt: &Rt, queue: &str, n: usize) {
    let started = Instant::now();
    let pdf = base64::engine::general_purpose::STANDARD.encode(PDF);
    let mut ids: Vec<i64> = Vec::with_capacity(n);
    let batches: Vec<Vec<Value>> = (0..n)
        .map(|i| {
            let mut t = json!({
                "Queue": queue,
                "Requestor": format!("mitglied{i}@example.org"),
                "Subject": format!("Beitragsänderung Nr. {i} – Umzug nach Köln"),
                "Content": format!("Sehr geehrte Damen und Herren,\nich bin umgezogen und bitte um Änderung meines Beitrags (Mitgliedsnummer {i}).\nMit freundlichen Grüßen"),
                "ContentType": "text/plain",
            });
            if i.is_multiple_of(10) {
                t["Attachments"] = json!([{"FileName": "Meldebescheinigung.pdf", "FileType": "application/pdf", "FileContent": pdf}]);
            }
            t
        })
        .collect::<Vec<_>>()
        .chunks(100)
        .map(<[Value]>::to_vec)
        .collect();
    for pair in batches.chunks(2) {
        let calls = pair.iter().map(|b| rt.call(reqwest::Method::POST, "/tickets/bulk", Value::Array(b.clone())));
        for v in futures_util::future::join_all(calls).await {
            ids.extend(v.as_array().unwrap().iter().filter_map(|t| t["id"].as_str()?.parse::<i64>().ok()));
        }
        eprint!(
            "\rRT füllen: {} von {n} Tickets angelegt ({:.0}/s)   ",
            ids.len(),
            ids.len() as f64 / started.elapsed().as_secs_f64()
        );
    }
    eprintln!();
    let answers: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "Content": "Vielen Dank, wir haben Ihren Beitrag geändert.", "ContentType": "text/plain"}))
        .collect();
    let comments: Vec<Value> = ids
        .iter()
        .step_by(4)
        .map(|id| json!({"id": id, "Content": "Interne Notiz: Lastschrift prüfen.", "ContentType": "text/plain"}))
        .collect();
    for (path, list) in [("/tickets/bulk/correspond", answers), ("/tickets/bulk/comment", comments)] {
        let mut done = 0;
        for pair in list.chunks(200) {
            let calls = pair.chunks(100).map(|b| rt.call(reqwest::Method::POST, path, Value::Array(b.to_vec())));
            futures_util::future::join_all(calls).await;
            done += pair.len();
            eprint!("\rRT füllen: {path} {done} von {}   ", list.len());
        }
        eprintln!();
    }
    println!("RT gefüllt: {n} Tickets in {:.0} s", started.elapsed().as_secs_f64());
}

/// Fills a new Redmine project with `n` issues (admin as author), four calls at a time.
async fn fill_redmine(http: &reqwest::Client, url: &str, key: &str, project: &str, n: usize) {
    let started = Instant::now();
    let call = |method: reqwest::Method, path: String, body: Value| async move {
        let req = http.request(method, format!("{url}{path}")).header("X-Redmine-API-Key", key);
        logbuch_tests::peer_json(req.json(&body), "Redmine", &path).await
    };
    let p = json!({"project": {"name": format!("Bench {project}"), "identifier": project, "is_public": false}});
    call(reqwest::Method::POST, "/projects.json".into(), p).await;
    let one = |i: usize| async move {
        let mut issue = json!({"project_id": project, "tracker_id": 3,
            "subject": format!("Beitragsänderung Nr. {i} – Umzug nach Köln"),
            "description": format!("Sehr geehrte Damen und Herren,\nich bin umgezogen und bitte um Änderung meines Beitrags (Mitgliedsnummer {i}).\nMit freundlichen Grüßen")});
        if i.is_multiple_of(10) {
            let res = http
                .post(format!("{url}/uploads.json?filename=Meldebescheinigung.pdf"))
                .header("X-Redmine-API-Key", key)
                .header("Content-Type", "application/octet-stream")
                .body(PDF.to_vec())
                .send()
                .await
                .unwrap();
            let token = res.json::<Value>().await.unwrap()["upload"]["token"].clone();
            issue["uploads"] =
                json!([{"token": token, "filename": "Meldebescheinigung.pdf", "content_type": "application/pdf"}]);
        }
        let id = call(reqwest::Method::POST, "/issues.json".into(), json!({"issue": issue})).await["issue"]["id"]
            .as_i64()
            .unwrap();
        let note = json!({"issue": {"notes": "Vielen Dank, wir haben Ihren Beitrag geändert.", "status_id": 2}});
        call(reqwest::Method::PUT, format!("/issues/{id}.json"), note).await;
        if i.is_multiple_of(4) {
            let note = json!({"issue": {"notes": "Interne Notiz: Lastschrift prüfen.", "private_notes": true}});
            call(reqwest::Method::PUT, format!("/issues/{id}.json"), note).await;
        }
    };
    let mut done = 0usize;
    let mut work = futures_util::stream::iter(0..n).map(one).buffer_unordered(4);
    while work.next().await.is_some() {
        done += 1;
        if done.is_multiple_of(50) {
            eprint!(
                "\rRedmine füllen: {done} von {n} Tickets ({:.0}/s)   ",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!();
    println!("Redmine gefüllt: {n} Tickets in {:.0} s", started.elapsed().as_secs_f64());
}

#[tokio::main]
async fn main() {
    let n: usize = env("BENCH_TICKETS", "5000").parse().unwrap();
    let redmine = env("BENCH_SOURCE", "rt") == "redmine";
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string();
    let (url, secret, queue, map_extra) = if redmine {
        let read = |f: &str| logbuch_tests::peer_file("LOGBUCH_TEST_REDMINE_DIR", "redmine", f);
        let (url, key) = (read("url"), read("key"));
        let project = match std::env::var("BENCH_QUEUE") {
            Ok(q) => q,
            Err(_) => {
                let p = format!("bench-{stamp}");
                fill_redmine(&reqwest::Client::new(), &url, &key, &p, n).await;
                println!("BENCH_QUEUE='{p}' importiert dasselbe Projekt noch einmal");
                p
            }
        };
        (url, key, project, "\"admin@example.net\" = \"erika@piratenpartei-nrw.example\"\n")
    } else {
        let read = |f: &str| logbuch_tests::peer_file("LOGBUCH_TEST_RT_DIR", "rt", f);
        let (url, token) = (read("url"), read("token"));
        let rt = Rt { api: format!("{url}/REST/2.0"), auth: format!("token {token}"), http: reqwest::Client::new() };
        let queue = match std::env::var("BENCH_QUEUE") {
            Ok(q) => q,
            Err(_) => {
                let q = format!("Bench {stamp}");
                rt.call(reqwest::Method::POST, "/queue", json!({"Name": q})).await;
                fill(&rt, &q, n).await;
                println!("BENCH_QUEUE='{q}' importiert dieselbe Queue noch einmal");
                q
            }
        };
        (url, token, queue, "\"root@localhost\" = \"erika@piratenpartei-nrw.example\"\n")
    };

    let data = std::env::temp_dir().join(format!("logbuch-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    let mut settings = logbuch_config::Settings::load_from(None, Vec::<(String, String)>::new()).unwrap();
    settings.data_dir = data.clone();
    let mut drop_db = None;
    let backend = match std::env::var("LOGBUCH_BENCH_DATABASE_URL") {
        Ok(base) => {
            let name = format!("lb_import_bench_{}", std::process::id());
            drop_db = Some((base.clone(), name.clone()));
            let admin = sea_orm::Database::connect(&base).await.unwrap();
            use sea_orm::ConnectionTrait;
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            let (prefix, _) = base.rsplit_once('/').unwrap();
            settings.database.url = Some(format!("{prefix}/{name}").into());
            format!("PostgreSQL ({prefix}/{name})")
        }
        Err(_) => format!("SQLite ({})", data.display()),
    };
    let app = Logbuch::connect(settings).await.unwrap();
    app.prepare().await.unwrap();
    logbuch_core::admin::create_user(&app, "erika@piratenpartei-nrw.example", "Erika").await.unwrap();
    let map = ImportMap::parse(&format!(
        "rtname = \"logbuch.test\"\n[[queue]]\nsource = \"{queue}\"\ntenant = \"nw\"\nqueue = \"mitgliederverwaltung\"\n\
         [users]\n{map_extra}"
    ))
    .unwrap();
    let from = if redmine { "Redmine-Projekt" } else { "RT-Queue" };
    println!("Import aus {from} „{queue}“ nach {backend}");
    for run in ["erster Lauf", "zweiter Lauf (nichts Neues)"] {
        let mut last = Instant::now();
        let progress = |p: &Progress| {
            if last.elapsed().as_millis() >= 500 {
                last = Instant::now();
                eprint!("\r{} von {} Tickets, {:.0}/s   ", p.done, p.total, p.rate());
            }
        };
        let opts = ImportOptions::default();
        let report = if redmine {
            app.import_redmine(&url, &secret, &map, &opts, progress).await
        } else {
            app.import_rt(&url, &secret, &map, &opts, progress).await
        }
        .unwrap();
        eprintln!();
        println!("{run}: {}", report.summary().trim_end().replace('\n', "\n  "));
    }
    let _ = std::fs::remove_dir_all(&data);
    if let Some((base, name)) = drop_db {
        app.store.db.clone().close().await.unwrap();
        use sea_orm::ConnectionTrait;
        let admin = sea_orm::Database::connect(&base).await.unwrap();
        admin.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.unwrap();
    }
}
