//! Traces and metrics over OTLP: a mail's intake — fetched from IMAP, stored, then
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

type Exports = Arc<Mutex<Vec<String>>>;

/// A minimal OTLP/HTTP (JSON) receiver: keeps every trace and metrics export it gets.
async fn otlp_receiver() -> (String, Exports, Exports) {
    let (traces, metrics): (Exports, Exports) = (Arc::default(), Arc::default());
    let keep = |into: Exports| {
        axum::routing::post(move |body: String| {
            let into = into.clone();
            async move {
                into.lock().unwrap().push(body);
                ([(axum::http::header::CONTENT_TYPE, "application/json")], "{}")
            }
        })
    };
    let app = axum::Router::new().route("/v1/traces", keep(traces.clone())).route("/v1/metrics", keep(metrics.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, traces, metrics)
}

/// (metric name, attributes as `k=v` joined by `,`, value) of every data point received.
fn points(exports: &[String]) -> Vec<(String, String, f64)> {
    let mut out = Vec::new();
    for body in exports {
        let v: Value = serde_json::from_str(body).expect("OTLP JSON");
        for rm in v["resourceMetrics"].as_array().into_iter().flatten() {
            for sm in rm["scopeMetrics"].as_array().into_iter().flatten() {
                for m in sm["metrics"].as_array().into_iter().flatten() {
                    let name = m["name"].as_str().unwrap_or("").to_owned();
                    for kind in ["gauge", "sum", "histogram"] {
                        for p in m[kind]["dataPoints"].as_array().into_iter().flatten() {
                            let attrs: Vec<String> = p["attributes"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|a| {
                                    let val = &a["value"];
                                    let text = val["stringValue"]
                                        .as_str()
                                        .map(str::to_owned)
                                        .unwrap_or_else(|| val["intValue"].to_string().trim_matches('"').to_owned());
                                    format!("{}={text}", a["key"].as_str().unwrap_or(""))
                                })
                                .collect();
                            let value = p["asInt"]
                                .as_str()
                                .and_then(|s| s.parse().ok())
                                .or_else(|| p["asInt"].as_f64())
                                .or_else(|| p["asDouble"].as_f64())
                                .or_else(|| p["count"].as_str().and_then(|s| s.parse().ok()))
                                .or_else(|| p["count"].as_f64())
                                .unwrap_or(f64::NAN);
                            out.push((name.clone(), attrs.join(","), value));
                        }
                    }
                }
            }
        }
    }
    out
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
    let (endpoint, exports, _) = otlp_receiver().await;
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

#[tokio::test]
async fn metrics_go_out_over_otlp_too() {
    let t = spawn_app_with(Backend::Postgres, |_| {}).await;
    let by = t.person("h@by.example", &[("helper", Some("by"), None)]).await;
    t.create_ticket(&by, "by", "mitglieder", "Beitrag").await;
    let (endpoint, _, metrics) = otlp_receiver().await;
    let port = logbuch_tests::free_port();
    let listen = format!("127.0.0.1:{port}");
    let log = t.app.settings.data_dir.join("http.log");
    let mut server = logbuch_process(
        &t.app.settings,
        &["serve", "--no-workers", "--skip-migrations"],
        &log,
        &[
            ("LOGBUCH__SERVER__LISTEN", listen.as_str()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_METRIC_EXPORT_INTERVAL", "200"),
        ],
    );
    let http = reqwest::Client::new();
    let start = Instant::now();
    let got = loop {
        let _ = http.get(format!("http://127.0.0.1:{port}/api/v1/tickets")).bearer_auth(&by.token).send().await;
        let got = points(&metrics.lock().unwrap());
        let open_by = got.iter().any(|p| p.0 == "logbuch.tickets.open" && p.1 == "tenant=by" && p.2 == 1.0);
        let requests = got.iter().any(|p| p.0 == "logbuch.http.requests" && p.1.contains("route=/api/v1/tickets"));
        if open_by && requests {
            break got;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "metrics so far: {got:?}; server log: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(got.iter().any(|p| p.0 == "logbuch.http.request.duration"), "{got:?}");
    assert!(got.iter().any(|p| p.0 == "logbuch.jobs" && p.1.contains("kind=intake")), "{got:?}");
    let all = metrics.lock().unwrap().join("\n");
    assert!(!all.contains("h@by.example") && !all.contains("Beitrag"), "no people or subjects in metrics");
}
