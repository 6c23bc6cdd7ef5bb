//! Traces over OTLP: a mail's intake — fetched from IMAP, stored, then
//! parsed and committed by a worker process — arrives at an OTLP/HTTP
//! receiver run here as one trace with the expected spans, and without the
//! mail's address or subject in it.

use crate::crash::counts;
use crate::intake::mail;
use logbuch_tests::mailpeer::{imap_reset, imap_user, lmtp_deliver, with_mailboxes};
use logbuch_tests::{Backend, logbuch_process, spawn_app_with};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A minimal OTLP/HTTP (JSON) trace receiver: keeps every export it gets.
async fn otlp_receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: String| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push(body);
                ([(axum::http::header::CONTENT_TYPE, "application/json")], "{}")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// (name, trace id, span id, parent span id) of every span received.
fn spans(exports: &[String]) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for body in exports {
        let v: Value = serde_json::from_str(body).expect("OTLP JSON");
        for rs in v["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    let f = |k: &str| s[k].as_str().unwrap_or("").to_owned();
                    out.push((f("name"), f("traceId"), f("spanId"), f("parentSpanId")));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn one_mail_is_one_trace_from_fetch_to_commit() {
    let backend = Backend::Postgres;
    let user = imap_user('d', backend);
    imap_reset(&user).await;
    let t = spawn_app_with(backend, |s| with_mailboxes(s, std::slice::from_ref(&user))).await;
    let (endpoint, exports) = otlp_receiver().await;
    let mut worker = logbuch_process(
        &t.app.settings,
        &["worker"],
        &t.app.settings.data_dir.join("worker.log"),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_SERVICE_NAME", "logbuch-test"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    lmtp_deliver(
        &user,
        &mail(
            "otel1@x",
            "geheim.person@example.org",
            "mitglieder-by@piratenpartei.de",
            "Vertraulicher Betreff",
            "Text",
        ),
    )
    .await;

    let wanted = ["intake.fetch", "intake.store", "intake.process", "intake.parse", "intake.commit"];
    let start = Instant::now();
    let got = loop {
        let got = spans(&exports.lock().unwrap());
        if counts(&t).await.0 == 1 && wanted.iter().all(|w| got.iter().any(|s| s.0 == *w)) {
            break got;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "spans so far: {got:?}; worker log: {}",
            std::fs::read_to_string(t.app.settings.data_dir.join("worker.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    worker.kill().unwrap();
    worker.wait().unwrap();

    let span = |name: &str| got.iter().find(|s| s.0 == name).unwrap().clone();
    let (fetch, store, process, parse, commit) = (
        span("intake.fetch"),
        span("intake.store"),
        span("intake.process"),
        span("intake.parse"),
        span("intake.commit"),
    );
    for s in [&store, &process, &parse, &commit] {
        assert_eq!(s.1, fetch.1, "{} is in the fetch's trace: {got:?}", s.0);
    }
    assert!(!fetch.1.is_empty() && fetch.1.chars().any(|c| c != '0'), "a real trace id");
    assert_eq!(store.3, fetch.2, "store is a child of fetch");
    assert_eq!(process.3, store.2, "processing continues the trace the job carried");
    assert_eq!(parse.3, process.2, "parse is a child of process");
    assert_eq!(commit.3, process.2, "commit is a child of process");

    let all = exports.lock().unwrap().join("\n");
    assert!(all.contains("logbuch-test"), "the service name travels");
    assert!(!all.contains("geheim.person") && !all.contains("Vertraulich"), "no address or subject in spans");
}
