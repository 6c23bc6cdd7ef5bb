//! `/ui/berichte/{tenant}`: a tenant's report for a quarter as a page with
//! charts (server-rendered SVG, no scripts), as CSV and as wiki text.

use super::{Nav, UiError, UiResult, nav, page, page_session, s};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use logbuch_core::Logbuch;
use logbuch_core::reports::{Figure, Report, ReportRow, hours_text, quarter, quarter_of};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ReportParams {
    quartal: Option<String>,
}

struct Bar {
    label: String,
    y: i64,
    opened_w: i64,
    resolved_w: i64,
    opened: String,
    resolved: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    nav: Option<Nav>,
    r: Report,
    quarter: String,
    previous: String,
    next: String,
    bars: Vec<Bar>,
    bars_height: i64,
    backlog_points: String,
    backlog_max: i64,
    wiki: String,
}

impl ReportPage {
    fn hours(&self, h: &Option<(f64, f64)>) -> String {
        hours_text(*h).map_or_else(|| "–".into(), |(m, p)| format!("{m} / {p}"))
    }

    fn kept(&self, r: &ReportRow) -> String {
        r.kept_percent.map_or_else(|| "–".into(), |k| format!("{k:.0} %"))
    }
}

fn shift(q: &str, by: i32) -> String {
    let (y, n) = q
        .split_once('Q')
        .and_then(|(y, n)| Some((y.parse::<i32>().ok()?, n.parse::<i32>().ok()?)))
        .unwrap_or((2026, 1));
    let i = y * 4 + (n - 1) + by;
    format!("{}Q{}", i.div_euclid(4), i.rem_euclid(4) + 1)
}

async fn load(
    app: &Logbuch,
    who: &logbuch_core::Principal,
    tenant: &str,
    q: Option<String>,
) -> Result<(Report, String), UiError> {
    let q = q.unwrap_or_else(|| quarter_of(logbuch_store::now())).trim().to_uppercase();
    let (from, to, _) = quarter(&q)?;
    Ok((app.report(who, tenant, from, to).await?, q))
}

const BAR_MAX: f64 = 300.0;

fn count(f: Figure) -> i64 {
    match f {
        Figure::Count(n) => n,
        Figure::Few => 0,
    }
}

pub async fn report(
    State(app): State<Logbuch>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Query(p): Query<ReportParams>,
) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    let (r, q) = load(&app, &sp.principal, &tenant, p.quartal).await?;
    let most = r.queues.iter().map(|x| count(x.opened).max(count(x.resolved))).max().unwrap_or(0).max(1);
    let width = |f: Figure| (count(f) as f64 / most as f64 * BAR_MAX).round() as i64;
    let bars: Vec<Bar> = r
        .queues
        .iter()
        .enumerate()
        .map(|(i, x)| Bar {
            label: x.name.clone(),
            y: 10 + 44 * i as i64,
            opened_w: width(x.opened),
            resolved_w: width(x.resolved),
            opened: x.opened.to_string(),
            resolved: x.resolved.to_string(),
        })
        .collect();
    let backlog_max = r.backlog.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let steps = (r.backlog.len().max(2) - 1) as f64;
    let backlog_points = r
        .backlog
        .iter()
        .enumerate()
        .map(|(i, (_, n))| {
            format!("{:.0},{:.0}", 40.0 + i as f64 * 520.0 / steps, 150.0 - *n as f64 / backlog_max as f64 * 130.0)
        })
        .collect::<Vec<_>>()
        .join(" ");
    let page_data = ReportPage {
        nav: Some(nav(&app, &sp).await?),
        bars_height: 20 + 44 * bars.len() as i64,
        bars,
        backlog_points,
        backlog_max,
        wiki: r.markdown(),
        previous: shift(&q, -1),
        next: shift(&q, 1),
        quarter: q,
        r,
    };
    Ok(page(&page_data))
}

fn download(body: String, content_type: &'static str, name: String) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The report as a file: CSV or the wiki text.
async fn export(app: Logbuch, headers: HeaderMap, tenant: String, p: ReportParams, markdown: bool) -> UiResult {
    let sp = page_session(&app, &headers).await?;
    let (r, q) = load(&app, &sp.principal, &tenant, p.quartal).await?;
    Ok(if markdown {
        download(r.markdown(), "text/markdown; charset=utf-8", format!("bericht-{}-{q}.md", r.tenant))
    } else {
        download(r.csv(), "text/csv; charset=utf-8", format!("bericht-{}-{q}.csv", r.tenant))
    })
}

pub async fn csv(
    State(app): State<Logbuch>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Query(p): Query<ReportParams>,
) -> UiResult {
    export(app, headers, tenant, p, false).await
}

pub async fn wiki(
    State(app): State<Logbuch>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Query(p): Query<ReportParams>,
) -> UiResult {
    export(app, headers, tenant, p, true).await
}
