//! `/metrics`: Prometheus text that a strict reader accepts, with the HTTP
//! figures by route and the tenants' open tickets — behind its own token,
//! and with no address or subject in it.

use logbuch_tests::{Backend, both, spawn_app_with};
use std::collections::{HashMap, HashSet};

/// Reads Prometheus' text format (0.0.4) strictly: every sample belongs to a
/// declared family, labels are well formed, values are numbers, histogram
/// buckets never shrink and end in `+Inf` = count. Returns the samples.
fn parse_prometheus(text: &str) -> HashMap<String, f64> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples = HashMap::new();
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !n.starts_with(|c: char| c.is_ascii_digit())
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name, what) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap_or(""));
            assert!(name_ok(name), "bad family name: {line}");
            match kind {
                "HELP" => assert!(!what.is_empty(), "empty help: {line}"),
                "TYPE" => {
                    assert!(["counter", "gauge", "histogram"].contains(&what), "bad type: {line}");
                    assert!(types.insert(name.to_owned(), what.to_owned()).is_none(), "family twice: {line}");
                }
                _ => panic!("unknown comment: {line}"),
            }
            continue;
        }
        assert!(!line.trim().is_empty(), "blank line in the exposition");
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value not a number: {line}"));
        let name = series.split('{').next().unwrap();
        assert!(name_ok(name), "bad sample name: {line}");
        if let Some(labels) = series.strip_prefix(name)
            && !labels.is_empty()
        {
            let inner = labels.strip_prefix('{').and_then(|l| l.strip_suffix('}')).expect("braces");
            let mut seen = HashSet::new();
            for pair in inner.split("\",") {
                let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("bad label: {line}"));
                assert!(name_ok(k) && seen.insert(k), "bad or repeated label {k}: {line}");
                assert!(!v.trim_end_matches('"').contains('"') || v.contains("\\\""), "unescaped quote: {line}");
            }
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| types.get(*f).is_some_and(|t| t == "histogram")))
            .unwrap_or(name);
        assert!(types.contains_key(family), "sample without a TYPE: {line}");
        assert!(samples.insert(series.to_owned(), value).is_none(), "sample twice: {line}");
    }
    // Histograms: cumulative buckets, +Inf equals the count.
    for (series, v) in &samples {
        if let Some(base) = series.strip_suffix("le=\"+Inf\"}") {
            let labels = base.trim_end_matches(',').split_once('{').map(|(_, l)| l).unwrap_or("");
            let family = series.split("_bucket").next().unwrap();
            let count = samples[&format!("{family}_count{{{labels}}}")];
            assert_eq!(*v, count, "+Inf bucket is the count: {series}");
            let mut buckets: Vec<(f64, f64)> = samples
                .iter()
                .filter(|(s, _)| s.starts_with(&format!("{family}_bucket{{{labels},le=\"")) && !s.contains("+Inf"))
                .map(|(s, v)| (s.rsplit_once("le=\"").unwrap().1.trim_end_matches("\"}").parse().unwrap(), *v))
                .collect();
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "buckets shrink: {series}");
            assert!(buckets.last().is_none_or(|b| b.1 <= *v), "{series}");
        }
    }
    samples
}

async fn metrics_are_prometheus_text(backend: Backend) {
    let t = spawn_app_with(backend, |s| s.server.metrics_token = Some("scrape-me".to_owned().into())).await;
    let by = t.person("h@by.example", &[("helper", Some("by"), None)]).await;
    t.create_ticket(&by, "by", "mitglieder", "Geheimer Betreff").await;
    t.create_ticket(&by, "by", "mitglieder", "Noch einer").await;
    t.list_numbers(&by, "").await;

    let url = format!("{}/metrics", t.url);
    let r = t.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED, "no token");
    let r = t.http.get(&url).bearer_auth("wrong-one").send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED, "wrong token");
    let r = t.http.get(&url).bearer_auth(&by.token).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED, "a person's API token is not the scraper's");

    let r = t.http.get(&url).bearer_auth("scrape-me").send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    let m = parse_prometheus(&text);
    assert_eq!(m.get("logbuch_open_tickets{tenant=\"by\"}"), Some(&2.0), "{text}");
    assert_eq!(m["logbuch_open_tickets{tenant=\"he\"}"], 0.0);
    assert_eq!(m["logbuch_up"], 1.0);
    assert!(m.contains_key("logbuch_jobs_ready{kind=\"intake\"}"), "{text}");
    assert_eq!(
        m["logbuch_http_requests_total{method=\"POST\",route=\"/api/v1/tickets\",status=\"201\"}"], 2.0,
        "{text}"
    );
    assert!(m["logbuch_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/tickets\"}"] >= 1.0);
    assert!(!text.contains('@') && !text.contains("Geheim"), "no addresses or subjects: {text}");
}

async fn metrics_are_off_without_a_token(backend: Backend) {
    let t = spawn_app_with(backend, |_| {}).await;
    let r = t.http.get(format!("{}/metrics", t.url)).bearer_auth("anything").send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND);
}

both!(metrics_are_prometheus_text, metrics_are_off_without_a_token);
