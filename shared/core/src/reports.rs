//! Reports for the wiki (seed 000): per tenant and queue for a period
//! (a quarter by default), tickets in and resolved, by queue and by topic,
//! median and 90th percentile of first response and resolution in business
//! hours, service times kept, and the backlog week by week. Figures only,
//! never contents; counts below five are shown as "< 5" and times of fewer
//! than five tickets not at all, so no member can be singled out.
//!
//! The database counts (per queue, and the backlog at each point); only the
//! durations come back per ticket, as a queue and two instants, because
//! business hours need the tenant's calendar (`logbuch_store::reports`).
//! At a million tickets NW's quarter takes 60–75 ms (BENCHMARKS.md).

use crate::{AppError, AppResult, Logbuch, Principal};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use logbuch_authz::Target;
use logbuch_domain::Action;
use logbuch_domain::calendar::{Calendar, berlin_to_utc};
use logbuch_store::reports::{self, QueueCounts, Span};
use sea_orm::{AccessMode, ConnectionTrait, DbBackend, IsolationLevel, TransactionTrait};
use std::collections::HashMap;

/// Below this, counts are "< 5" and times are not shown.
pub const MIN_SHOWN: i64 = 5;

/// A count as the report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Count(i64),
    /// 1 to 4: shown as "< 5".
    Few,
}

impl Figure {
    fn of(n: i64) -> Self {
        if n > 0 && n < MIN_SHOWN { Self::Few } else { Self::Count(n) }
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Count(n) => write!(f, "{n}"),
            Self::Few => write!(f, "< {MIN_SHOWN}"),
        }
    }
}

/// One line of the report: a queue, or the whole tenant.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub name: String,
    pub opened: Figure,
    pub resolved: Figure,
    /// Business hours (median, 90th percentile); none for fewer than five tickets.
    pub first_response_hours: Option<(f64, f64)>,
    pub resolution_hours: Option<(f64, f64)>,
    /// Of the tickets resolved in the period that had due times, the share that kept both.
    pub kept_percent: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub tenant: String,
    pub tenant_name: String,
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    pub period: String,
    pub queues: Vec<ReportRow>,
    pub total: ReportRow,
    /// Tickets opened in the period by help topic of the web form.
    pub topics: Vec<(String, Figure)>,
    /// Open tickets at the end of each week of the period (the last point: its end).
    pub backlog: Vec<(NaiveDate, i64)>,
}

/// `2026Q3` → 1 July 2026 up to 1 October 2026.
pub fn quarter(text: &str) -> AppResult<(NaiveDate, NaiveDate, String)> {
    let bad = || AppError::validation("quarter", format!("„{text}“ ist kein Quartal wie 2026Q3."));
    let (y, q) =
        text.trim().to_uppercase().split_once('Q').map(|(y, q)| (y.to_owned(), q.to_owned())).ok_or_else(bad)?;
    let (y, q): (i32, u32) = (y.parse().map_err(|_| bad())?, q.parse().map_err(|_| bad())?);
    if !(1..=4).contains(&q) || !(2000..=2100).contains(&y) {
        return Err(bad());
    }
    let from = NaiveDate::from_ymd_opt(y, 3 * q - 2, 1).ok_or_else(bad)?;
    let to = if q == 4 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, 3 * q + 1, 1) }
        .ok_or_else(bad)?;
    Ok((from, to, format!("{q}. Quartal {y}")))
}

/// The quarter `at` lies in, as `2026Q3`.
pub fn quarter_of(at: DateTime<Utc>) -> String {
    format!("{}Q{}", at.year(), (at.month() - 1) / 3 + 1)
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    berlin_to_utc(d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn spread(mut v: Vec<f64>) -> Option<(f64, f64)> {
    if (v.len() as i64) < MIN_SHOWN {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some((percentile(&v, 0.5), percentile(&v, 0.9)))
}

/// One line from the database's counts and the durations in business hours.
fn row(name: String, c: &QueueCounts, first: Vec<f64>, resolution: Vec<f64>) -> ReportRow {
    ReportRow {
        name,
        opened: Figure::of(c.opened),
        resolved: Figure::of(c.resolved),
        first_response_hours: spread(first),
        resolution_hours: spread(resolution),
        kept_percent: (c.with_due >= MIN_SHOWN).then(|| 100.0 * c.kept as f64 / c.with_due as f64),
    }
}

/// Business hours of each span, by queue and all together.
fn hours_by_queue(spans: &[Span], cal: &Calendar) -> (HashMap<i64, Vec<f64>>, Vec<f64>) {
    let mut by_queue: HashMap<i64, Vec<f64>> = HashMap::new();
    let mut all = Vec::with_capacity(spans.len());
    for &(queue, a, b) in spans {
        let h = cal.business_minutes_between(a, b) as f64 / 60.0;
        by_queue.entry(queue).or_default().push(h);
        all.push(h);
    }
    (by_queue, all)
}

/// What the database gives for one tenant and period.
struct Part {
    counts: Vec<QueueCounts>,
    open: Vec<i64>,
    first: Vec<Span>,
    resolved: Vec<Span>,
    topics: Vec<(String, i64)>,
}

async fn part(
    txn: &impl ConnectionTrait,
    tenant_id: i64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    instants: &[DateTime<Utc>],
) -> AppResult<Part> {
    Ok(Part {
        counts: reports::queue_counts(txn, tenant_id, start, end).await?,
        open: reports::backlog(txn, tenant_id, start, end, instants).await?,
        first: reports::first_responses(txn, tenant_id, start, end).await?,
        resolved: reports::resolutions(txn, tenant_id, start, end).await?,
        topics: logbuch_store::portal::topic_counts(txn, tenant_id, start, end).await?,
    })
}

fn sum(counts: &[QueueCounts]) -> QueueCounts {
    let mut total = QueueCounts::default();
    for c in counts {
        total.opened += c.opened;
        total.resolved += c.resolved;
        total.with_due += c.with_due;
        total.kept += c.kept;
    }
    total
}

/// The code that asks for the whole federation's report (federal officers and admins).
pub const ALL: &str = "alle";

impl Logbuch {
    /// The report of `tenant` for [from, to): tenant admins of it, federal
    /// officers and admins (else 404). [`ALL`] is the whole federation, one
    /// line per tenant, for those who may read every tenant's reports.
    pub async fn report(&self, who: &Principal, tenant: &str, from: NaiveDate, to: NaiveDate) -> AppResult<Report> {
        let dir = self.directory().await?;
        let everything = tenant.trim().eq_ignore_ascii_case(ALL);
        let mut tenants: Vec<&logbuch_store::entity::tenant::Model> = if everything {
            let mut all: Vec<_> = dir.tenants().collect();
            all.sort_by_key(|t| (t.code != "bund", t.code.clone()));
            all
        } else {
            vec![
                dir.tenant_by_code("tenant", tenant)
                    .map_err(|_| AppError::NotFound(format!("Den Verband „{tenant}“ gibt es nicht.")))?,
            ]
        };
        for t in &tenants {
            let tref = dir.tenant_ref(t.id)?;
            if !self.authz.allows(who, Action::ReadReports, Target { tenant: &tref, queue: None }) {
                if everything {
                    return Err(AppError::NotFound(
                        "Den Bericht über alle Verbände sehen nur der Bund und die Admins.".into(),
                    ));
                }
                let sees = who.assignments.iter().any(|a| a.tenant.is_none_or(|id| id == tref.id));
                return Err(if sees {
                    AppError::Forbidden(format!("Berichte von {} sehen nur dessen Admins und der Bund.", t.name))
                } else {
                    AppError::NotFound(format!(
                        "Den Verband „{tenant}“ gibt es nicht, oder Sie haben dort keine Rolle."
                    ))
                });
            }
        }
        if to <= from || (to - from).num_days() > 800 {
            return Err(AppError::validation(
                "to",
                "Der Zeitraum muss vorwärts laufen und höchstens zwei Jahre lang sein.",
            ));
        }
        let (start, end) = (midnight(from), midnight(to));
        // The backlog's points: the end of each week, and the period's end.
        let mut points = Vec::new();
        let mut point = from + chrono::Duration::days(7);
        // Not into the future: a running quarter's line ends tomorrow.
        let last = to.min(
            logbuch_domain::calendar::utc_to_berlin(logbuch_store::now()).date_naive() + chrono::Duration::days(1),
        );
        let to_point = last.max(from + chrono::Duration::days(1));
        loop {
            let p = point.min(to_point);
            points.push(p);
            if p >= to_point {
                break;
            }
            point += chrono::Duration::days(7);
        }
        let instants: Vec<_> = points.iter().map(|p| midnight(*p)).collect();
        // Counts and the backlog are counted by the database; the durations
        // need the tenant's calendar, so they come back as (queue, from, to).
        // All from one snapshot, as one query would see them.
        let db = &self.store.db;
        let txn = if db.get_database_backend() == DbBackend::Postgres {
            let txn = db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?;
            // Planned for this period, not from a cached generic plan: a week and two years want different plans.
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
            txn
        } else {
            db.begin().await?
        };
        let mut parts = Vec::with_capacity(tenants.len());
        for t in &tenants {
            parts.push(part(&txn, t.id, start, end, &instants).await?);
        }
        txn.commit().await?;

        let mut open = vec![0; points.len()];
        let mut topics: Vec<(String, i64)> = Vec::new();
        let (mut first_all, mut resolution_all) = (Vec::new(), Vec::new());
        let mut counts_all = Vec::new();
        let mut rows = Vec::new();
        for (t, p) in tenants.iter().zip(parts) {
            for (o, n) in open.iter_mut().zip(&p.open) {
                *o += n;
            }
            for (name, n) in p.topics {
                match topics.iter_mut().find(|(x, _)| *x == name) {
                    Some((_, m)) => *m += n,
                    None => topics.push((name, n)),
                }
            }
            let cal = dir.calendar(t.id);
            let (mut first_by_queue, first) = hours_by_queue(&p.first, cal);
            let (mut resolution_by_queue, resolution) = hours_by_queue(&p.resolved, cal);
            let total = sum(&p.counts);
            if everything {
                // One line per tenant.
                rows.push(row(t.name.clone(), &total, first.clone(), resolution.clone()));
            } else {
                let mut queues: Vec<_> = dir.queues().filter(|q| q.tenant_id == t.id).collect();
                queues.sort_by(|a, b| a.name.cmp(&b.name));
                rows.extend(queues.iter().map(|q| {
                    let c = p.counts.iter().find(|c| c.queue_id == q.id).copied().unwrap_or_default();
                    let first = first_by_queue.remove(&q.id).unwrap_or_default();
                    let resolution = resolution_by_queue.remove(&q.id).unwrap_or_default();
                    row(q.name.clone(), &c, first, resolution)
                }));
            }
            counts_all.push(total);
            first_all.extend(first);
            resolution_all.extend(resolution);
        }
        if everything {
            topics.sort();
        }
        let (code, name) = if everything {
            (ALL.to_owned(), "Alle Verbände".to_owned())
        } else {
            let t = tenants.remove(0);
            (t.code.clone(), t.name.clone())
        };
        let total = row(format!("{name} gesamt"), &sum(&counts_all), first_all, resolution_all);
        Ok(Report {
            tenant: code,
            tenant_name: name,
            from,
            to,
            period: {
                let days =
                    format!("{} bis {}", from.format("%d.%m.%Y"), (to - chrono::Duration::days(1)).format("%d.%m.%Y"));
                match quarter(&quarter_of(midnight(from) + chrono::Duration::hours(12))) {
                    Ok((f, t, name)) if f == from && t == to => format!("{name} ({days})"),
                    _ => days,
                }
            },
            queues: rows,
            total,
            topics: topics.into_iter().map(|(name, n)| (name, Figure::of(n))).collect(),
            backlog: points.into_iter().zip(open).collect(),
        })
    }
}

/// Median and 90th percentile in German notation ("4,0"); none when withheld.
pub fn hours_text(h: Option<(f64, f64)>) -> Option<(String, String)> {
    let german = |v: f64| format!("{v:.1}").replace('.', ",");
    h.map(|(m, p)| (german(m), german(p)))
}

impl ReportRow {
    /// Opened, resolved, then median and 90th percentile of first response and of resolution ("–" when withheld).
    fn cells(&self) -> [String; 6] {
        let dash = || ("–".to_owned(), "–".to_owned());
        let (fm, fp) = hours_text(self.first_response_hours).unwrap_or_else(dash);
        let (rm, rp) = hours_text(self.resolution_hours).unwrap_or_else(dash);
        [self.opened.to_string(), self.resolved.to_string(), fm, fp, rm, rp]
    }
}

impl Report {
    fn lines(&self) -> impl Iterator<Item = &ReportRow> {
        self.queues.iter().chain(std::iter::once(&self.total))
    }

    /// Semicolon-separated, as German spreadsheets read it.
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "Bereich;Eingang;Erledigt;Erste Antwort Median (Std.);Erste Antwort 90 % (Std.);Erledigung Median (Std.);Erledigung 90 % (Std.);Fristen eingehalten (%)\n",
        );
        for r in self.lines() {
            let kept = r.kept_percent.map(|k| format!("{k:.0}")).unwrap_or_else(|| "–".into());
            let name = r.name.replace(['"', ';'], " ");
            out.push_str(&format!("{name};{};{kept}\n", r.cells().join(";")));
        }
        out
    }

    /// A text to paste into the party wiki (Markdown).
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "## Anfragen {}: {} ({})\n\nZeiten in Arbeitsstunden; Zahlen unter {MIN_SHOWN} als „< {MIN_SHOWN}“, Zeiten erst ab {MIN_SHOWN} Anfragen.\n\n",
            self.tenant_name, self.period, self.tenant
        );
        out.push_str("| Bereich | Eingang | Erledigt | Erste Antwort (Median / 90 %) | Erledigung (Median / 90 %) | Fristen eingehalten |\n|---|---:|---:|---:|---:|---:|\n");
        for r in self.lines() {
            let kept = r.kept_percent.map(|k| format!("{k:.0} %")).unwrap_or_else(|| "–".into());
            let [opened, resolved, fm, fp, rm, rp] = r.cells();
            let name = r.name.replace('|', "/");
            out.push_str(&format!("| {name} | {opened} | {resolved} | {fm} / {fp} | {rm} / {rp} | {kept} |\n"));
        }
        if !self.topics.is_empty() {
            out.push_str("\n### Themen (Webformular)\n\n");
            for (t, n) in &self.topics {
                out.push_str(&format!("- {t}: {n}\n"));
            }
        }
        out.push_str("\n### Offene Anfragen im Verlauf\n\n");
        for (d, n) in &self.backlog {
            out.push_str(&format!("- {}: {n}\n", d.format("%d.%m.%Y")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters() {
        let (f, t, name) = quarter("2026q3").unwrap();
        assert_eq!(
            (f.to_string(), t.to_string(), name.as_str()),
            ("2026-07-01".into(), "2026-10-01".into(), "3. Quartal 2026")
        );
        assert_eq!(quarter("2026Q4").unwrap().1.to_string(), "2027-01-01");
        assert!(quarter("2026Q5").is_err() && quarter("Q1").is_err() && quarter("zwanzig").is_err());
    }

    #[test]
    fn small_counts_and_spreads_are_withheld() {
        assert_eq!(Figure::of(0).to_string(), "0");
        assert_eq!(Figure::of(4).to_string(), "< 5");
        assert_eq!(Figure::of(5).to_string(), "5");
        assert_eq!(spread(vec![1.0, 2.0, 3.0, 4.0]), None);
        assert_eq!(spread(vec![5.0, 1.0, 4.0, 2.0, 3.0, 10.0, 6.0, 7.0, 8.0, 9.0]), Some((5.0, 9.0)));
    }
}
