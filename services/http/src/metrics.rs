//! `/metrics` in Prometheus' text format: HTTP rate and latency by route
//! (counted here), and what the database and job queues say at scrape time
//! (open tickets and SLA breaches per tenant, job queues, intake backlog per
//! source, quarantine, outbox failures). Labels carry route templates,
//! tenant codes, queue kinds and mailbox names — never addresses or content.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use logbuch_core::Logbuch;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Default)]
struct Series {
    /// Per bucket (not cumulative); the last slot is above every bound.
    buckets: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// HTTP figures since the process started, for `/metrics` and (when
/// configured) OTLP.
pub struct HttpMetrics {
    /// (method, route) → latency series.
    latency: Mutex<BTreeMap<(String, String), Series>>,
    /// (method, route, status) → requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    otlp_requests: Counter<u64>,
    otlp_latency: Histogram<f64>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        let meter = logbuch_telemetry::meter();
        Self {
            latency: Mutex::default(),
            requests: Mutex::default(),
            otlp_requests: meter
                .u64_counter("logbuch.http.requests")
                .with_description("HTTP requests by route template and status.")
                .build(),
            otlp_latency: meter
                .f64_histogram("logbuch.http.request.duration")
                .with_unit("s")
                .with_description("Time to answer, by route template.")
                .with_boundaries(BUCKETS.to_vec())
                .build(),
        }
    }
}

impl HttpMetrics {
    fn record(&self, method: &str, route: &str, status: u16, secs: f64) {
        let attrs = [KeyValue::new("method", method.to_owned()), KeyValue::new("route", route.to_owned())];
        self.otlp_latency.record(secs, &attrs);
        let with_status = [attrs[0].clone(), attrs[1].clone(), KeyValue::new("status", i64::from(status))];
        self.otlp_requests.add(1, &with_status);
        if let Ok(mut m) = self.latency.lock() {
            let s = m.entry((method.to_owned(), route.to_owned())).or_default();
            let slot = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
            s.buckets[slot] += 1;
            s.sum += secs;
            s.count += 1;
        }
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_owned(), route.to_owned(), status)).or_default() += 1;
        }
    }

    fn render(&self, out: &mut String) {
        out.push_str("# HELP logbuch_http_requests_total HTTP requests by route template and status.\n");
        out.push_str("# TYPE logbuch_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "logbuch_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP logbuch_http_request_duration_seconds Time to answer, by route template.\n");
        out.push_str("# TYPE logbuch_http_request_duration_seconds histogram\n");
        if let Ok(m) = self.latency.lock() {
            for ((method, route), s) in m.iter() {
                let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
                let mut cumulative = 0;
                for (i, bound) in BUCKETS.iter().enumerate() {
                    cumulative += s.buckets[i];
                    let _ = writeln!(
                        out,
                        "logbuch_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ =
                    writeln!(out, "logbuch_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
                let _ = writeln!(out, "logbuch_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
                let _ = writeln!(out, "logbuch_http_request_duration_seconds_count{{{labels}}} {}", s.count);
            }
        }
    }
}

/// A label value as the text format wants it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Middleware: counts every routed request under its route template.
pub async fn record(State(m): State<Arc<HttpMetrics>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "-".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    m.record(&method, &route, res.status().as_u16(), start.elapsed().as_secs_f64());
    res
}

fn gauge(out: &mut String, name: &str, help: &str, rows: impl IntoIterator<Item = (String, f64)>) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (labels, v) in rows {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {v}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
    }
}

/// `GET /metrics`, for the holder of `server.metrics_token`.
pub async fn scrape(app: Logbuch, http: Arc<HttpMetrics>, headers: axum::http::HeaderMap) -> Response {
    use secrecy::ExposeSecret;
    let Some(token) = app.settings.server.metrics_token.as_ref() else {
        return crate::error::problem(
            StatusCode::NOT_FOUND,
            "not-found",
            "Nicht gefunden",
            "Metriken sind ausgeschaltet: server.metrics_token setzen.".into(),
            None,
        );
    };
    let given =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|g| crate::extract::same_secret(g, token.expose_secret())) {
        return crate::error::problem(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Anmeldung nötig",
            "Für /metrics: Authorization: Bearer <server.metrics_token>.".into(),
            None,
        );
    }
    let mut out = String::new();
    http.render(&mut out);
    match app.operational_figures().await {
        Ok(f) => {
            gauge(
                &mut out,
                "logbuch_open_tickets",
                "Tickets new, open or waiting, per tenant.",
                f.tenants.iter().map(|t| (format!("tenant=\"{}\"", escape(&t.tenant)), t.open as f64)),
            );
            gauge(
                &mut out,
                "logbuch_sla_breached_tickets",
                "Open tickets past their first-response or resolution due time, per tenant.",
                f.tenants.iter().map(|t| (format!("tenant=\"{}\"", escape(&t.tenant)), t.sla_breached as f64)),
            );
            for (name, help, pick) in [
                ("logbuch_jobs_ready", "Jobs waiting to run, per queue kind.", 0),
                ("logbuch_jobs_reserved", "Jobs handed to a worker and not yet done.", 1),
                ("logbuch_jobs_dead", "Jobs given up after too many tries.", 2),
                ("logbuch_jobs_oldest_age_seconds", "Age of the oldest job not yet done.", 3),
            ] {
                gauge(
                    &mut out,
                    name,
                    help,
                    f.queues.iter().map(|(kind, s)| {
                        let v = match pick {
                            0 => s.ready,
                            1 => s.reserved,
                            2 => s.dead,
                            _ => s.oldest_age_secs.unwrap_or(0),
                        };
                        (format!("kind=\"{kind}\""), v as f64)
                    }),
                );
            }
            gauge(
                &mut out,
                "logbuch_intake_pending_mails",
                "Stored mails not yet turned into tickets, per source (mailbox, spool, pipe).",
                f.intake.iter().map(|s| (format!("source=\"{}\"", escape(&s.source)), s.pending as f64)),
            );
            gauge(
                &mut out,
                "logbuch_intake_lag_seconds",
                "Age of the oldest stored mail not yet turned into a ticket, per source.",
                f.intake.iter().map(|s| (format!("source=\"{}\"", escape(&s.source)), s.oldest_age_secs as f64)),
            );
            gauge(
                &mut out,
                "logbuch_quarantined_mails",
                "Mails in quarantine.",
                [(String::new(), f.quarantined as f64)],
            );
            gauge(
                &mut out,
                "logbuch_outbox_failed_mails",
                "Outgoing mails given up on.",
                [(String::new(), f.outbox_failed as f64)],
            );
            gauge(&mut out, "logbuch_up", "1 when the database answered this scrape.", [(String::new(), 1.0)]);
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: database figures unavailable");
            gauge(&mut out, "logbuch_up", "1 when the database answered this scrape.", [(String::new(), 0.0)]);
        }
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}

/// Records the operational figures into OTLP gauges every `every` (runs
/// for the life of the process; a failed round is logged and skipped).
pub async fn export_figures(app: Logbuch, every: Duration) {
    let meter = logbuch_telemetry::meter();
    let open = meter.i64_gauge("logbuch.tickets.open").with_description("Open tickets per tenant.").build();
    let breached = meter
        .i64_gauge("logbuch.tickets.sla_breached")
        .with_description("Open tickets past a due time, per tenant.")
        .build();
    let jobs = meter.u64_gauge("logbuch.jobs").with_description("Jobs per queue kind and state.").build();
    let oldest =
        meter.u64_gauge("logbuch.jobs.oldest_age").with_unit("s").with_description("Oldest job not yet done.").build();
    let backlog = meter
        .i64_gauge("logbuch.intake.pending")
        .with_description("Stored mails not yet processed, per source.")
        .build();
    let lag = meter
        .i64_gauge("logbuch.intake.lag")
        .with_unit("s")
        .with_description("Oldest unprocessed mail, per source.")
        .build();
    let quarantined = meter.u64_gauge("logbuch.intake.quarantined").with_description("Mails in quarantine.").build();
    let failed = meter.u64_gauge("logbuch.outbox.failed").with_description("Outgoing mails given up on.").build();
    loop {
        match app.operational_figures().await {
            Ok(f) => {
                for t in &f.tenants {
                    let tenant = [KeyValue::new("tenant", t.tenant.clone())];
                    open.record(t.open, &tenant);
                    breached.record(t.sla_breached, &tenant);
                }
                for (kind, s) in &f.queues {
                    for (state, n) in [("ready", s.ready), ("reserved", s.reserved), ("dead", s.dead)] {
                        jobs.record(n, &[KeyValue::new("kind", *kind), KeyValue::new("state", state)]);
                    }
                    oldest.record(s.oldest_age_secs.unwrap_or(0), &[KeyValue::new("kind", *kind)]);
                }
                for s in &f.intake {
                    let source = [KeyValue::new("source", s.source.clone())];
                    backlog.record(s.pending, &source);
                    lag.record(s.oldest_age_secs, &source);
                }
                quarantined.record(f.quarantined, &[]);
                failed.record(f.outbox_failed, &[]);
            }
            Err(e) => tracing::warn!(error = %e, "metrics: database figures unavailable"),
        }
        tokio::time::sleep(every).await;
    }
}
