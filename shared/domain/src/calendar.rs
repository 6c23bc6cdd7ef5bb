//! Business calendar: German public holidays per Land, Berlin local time
//! without a time-zone database, and arithmetic on business minutes.
//!
//! Everything is computed, nothing is looked up. Holidays follow the state laws
//! (only holidays that apply to the whole Land), summer time follows the EU rule.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Searches for business time give up this many days (about ten years) after the start.
const HORIZON_DAYS: i64 = 3653;
const CET: FixedOffset = offset(1);
const CEST: FixedOffset = offset(2);
const DAY_NAMES: [&str; 7] = ["mo", "di", "mi", "do", "fr", "sa", "so"];

const fn offset(hours: i32) -> FixedOffset {
    match FixedOffset::east_opt(hours * 3600) {
        Some(o) => o,
        None => panic!("offset out of range"),
    }
}

const fn hm(hour: u32, min: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, min, 0) {
        Some(t) => t,
        None => panic!("time out of range"),
    }
}

macro_rules! lands {
    ($($variant:ident => $code:literal $name:literal),+ $(,)?) => {
        /// A German federal state, identified by the tenant code used throughout Logbuch.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum Land {
            $(#[doc = $name] $variant),+
        }

        impl Land {
            pub const ALL: [Land; 16] = [$(Land::$variant),+];

            /// The lowercase two-letter tenant code, e.g. `"nw"`.
            pub fn code(self) -> &'static str {
                match self { $(Land::$variant => $code),+ }
            }

            /// The German name, e.g. `"Nordrhein-Westfalen"`.
            pub fn name(self) -> &'static str {
                match self { $(Land::$variant => $name),+ }
            }
        }
    };
}

lands! {
    Bw => "bw" "Baden-Württemberg", By => "by" "Bayern", Be => "be" "Berlin", Bb => "bb" "Brandenburg",
    Hb => "hb" "Bremen", Hh => "hh" "Hamburg", He => "he" "Hessen", Mv => "mv" "Mecklenburg-Vorpommern",
    Ni => "ni" "Niedersachsen", Nw => "nw" "Nordrhein-Westfalen", Rp => "rp" "Rheinland-Pfalz", Sl => "sl" "Saarland",
    Sn => "sn" "Sachsen", St => "st" "Sachsen-Anhalt", Sh => "sh" "Schleswig-Holstein", Th => "th" "Thüringen",
}

impl Land {
    /// Case-insensitive; surrounding whitespace is ignored. `None` for anything else (e.g. `"bund"`).
    pub fn from_code(code: &str) -> Option<Land> {
        let code = code.trim();
        Self::ALL.into_iter().find(|land| land.code().eq_ignore_ascii_case(code))
    }
}

/// Only fails outside chrono's year range, which callers exclude beforehand.
fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

fn year_in_range(year: i32) -> bool {
    (NaiveDate::MIN.year()..=NaiveDate::MAX.year()).contains(&year)
}

/// Easter Sunday of `year` in the Gregorian calendar (anonymous Gregorian computus).
/// Years outside chrono's range are clamped to it.
pub fn easter_sunday(year: i32) -> NaiveDate {
    let year = year.clamp(NaiveDate::MIN.year(), NaiveDate::MAX.year());
    let (a, b, c) = (year.rem_euclid(19), year.div_euclid(100), year.rem_euclid(100));
    let (d, e) = (b.div_euclid(4), b.rem_euclid(4));
    let g = (b - (b + 8).div_euclid(25) + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let n = h + l - 7 * ((a + 11 * h + 22 * l) / 451) + 114;
    ymd(year, (n / 31) as u32, (n % 31 + 1) as u32)
}

/// The Wednesday before 23 November (Saxony's Buß- und Bettag).
fn buss_und_bettag(year: i32) -> NaiveDate {
    let nov22 = ymd(year, 11, 22);
    let back = (nov22.weekday().num_days_from_monday() + 7 - Weekday::Wed.num_days_from_monday()) % 7;
    nov22 - TimeDelta::days(back.into())
}

/// Public holidays of `year`, sorted by date. `None` gives the nationwide ones only (federal level).
///
/// Holidays that apply only to some communities of a Land are left out: Fronleichnam in parts of
/// Sachsen and Thüringen, Mariä Himmelfahrt in Bavaria's Catholic communities, the Augsburger
/// Friedensfest. Introduction years and one-off holidays since 2017 are honoured.
/// Years outside chrono's range yield an empty list.
pub fn holidays(land: Option<Land>, year: i32) -> Vec<(NaiveDate, &'static str)> {
    use Land::*;
    if !year_in_range(year) {
        return Vec::new();
    }
    let easter = easter_sunday(year);
    let rel = |days| easter + TimeDelta::days(days);
    let is = |set: &[Land]| land.is_some_and(|l| set.contains(&l));
    let mut list = vec![
        (ymd(year, 1, 1), "Neujahr"),
        (rel(-2), "Karfreitag"),
        (rel(1), "Ostermontag"),
        (ymd(year, 5, 1), "Tag der Arbeit"),
        (rel(39), "Christi Himmelfahrt"),
        (rel(50), "Pfingstmontag"),
        (ymd(year, 10, 3), "Tag der Deutschen Einheit"),
        (ymd(year, 12, 25), "1. Weihnachtstag"),
        (ymd(year, 12, 26), "2. Weihnachtstag"),
    ];
    let regional = [
        (is(&[Bw, By, St]), ymd(year, 1, 6), "Heilige Drei Könige"),
        (is(&[Be]) && year >= 2019 || is(&[Mv]) && year >= 2023, ymd(year, 3, 8), "Internationaler Frauentag"),
        (is(&[Bb]), easter, "Ostersonntag"),
        (is(&[Be]) && (year == 2020 || year == 2025), ymd(year, 5, 8), "Tag der Befreiung"),
        (is(&[Bb]), rel(49), "Pfingstsonntag"),
        (is(&[Bw, By, He, Nw, Rp, Sl]), rel(60), "Fronleichnam"),
        (is(&[Sl]), ymd(year, 8, 15), "Mariä Himmelfahrt"),
        (is(&[Th]) && year >= 2019, ymd(year, 9, 20), "Weltkindertag"),
        (
            year == 2017 || is(&[Bb, Mv, Sn, St, Th]) || is(&[Hb, Hh, Ni, Sh]) && year >= 2018,
            ymd(year, 10, 31),
            "Reformationstag",
        ),
        (is(&[Bw, By, Nw, Rp, Sl]), ymd(year, 11, 1), "Allerheiligen"),
        (is(&[Sn]), buss_und_bettag(year), "Buß- und Bettag"),
    ];
    list.extend(regional.into_iter().filter(|r| r.0).map(|(_, date, name)| (date, name)));
    list.sort_by_key(|&(date, _)| date);
    list
}

/// Start and end of summer time (CEST) in `year`: the last Sundays of March and October, 01:00 UTC.
pub fn summer_time(year: i32) -> (DateTime<Utc>, DateTime<Utc>) {
    let switch = |month| {
        let last = ymd(year, month, 31); // March and October both have 31 days.
        let sunday = last - TimeDelta::days(last.weekday().num_days_from_sunday().into());
        sunday.and_time(hm(1, 0)).and_utc()
    };
    (switch(3), switch(10))
}

/// Berlin's UTC offset at `utc`: +02:00 during summer time, +01:00 otherwise.
pub fn berlin_offset(utc: DateTime<Utc>) -> FixedOffset {
    let (start, end) = summer_time(utc.year());
    if (start..end).contains(&utc) { CEST } else { CET }
}

/// `utc` as Berlin local time.
pub fn utc_to_berlin(utc: DateTime<Utc>) -> DateTime<FixedOffset> {
    utc.with_timezone(&berlin_offset(utc))
}

/// The instant of a Berlin wall-clock time.
///
/// An ambiguous time (the repeated hour in October) resolves to the earlier instant (still CEST).
/// A nonexistent time (the skipped hour in March) resolves to the switch instant, 03:00 CEST —
/// the earliest valid instant not before it — so the mapping stays monotonic.
pub fn berlin_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    for offset in [CEST, CET] {
        let utc = (local - TimeDelta::seconds(offset.local_minus_utc().into())).and_utc();
        if berlin_offset(utc) == offset {
            return utc;
        }
    }
    summer_time(local.year()).0
}

/// A business-hours text could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("Keine Öffnungszeiten angegeben")]
    Empty,
    #[error("Öffnungszeiten: „{part}“ – {reason}")]
    Invalid { part: String, reason: &'static str },
}

fn invalid(part: &str, reason: &'static str) -> CalendarError {
    CalendarError::Invalid { part: part.to_string(), reason }
}

/// Seconds from midnight to an interval end, where `00:00` means the end of the day.
fn end_secs(end: NaiveTime) -> u32 {
    match end.num_seconds_from_midnight() {
        0 => 86_400,
        s => s,
    }
}

/// Weekly opening hours in Berlin local time: per weekday (Monday first) sorted, disjoint
/// intervals `[start, end)` at minute precision. An end of `00:00` means midnight at the end
/// of the day (written `24:00`). At least one interval exists.
///
/// Text form: `"mo-do 09:00-17:00; fr 09:00-14:00"`; days `mo di mi do fr sa so`, single,
/// ranges or comma lists (`mo,mi,fr`), several intervals per group (`mo-fr 09:00-12:00 13:00-17:00`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BusinessHours {
    days: [Vec<(NaiveTime, NaiveTime)>; 7],
}

impl BusinessHours {
    /// Drops seconds, sorts and merges overlapping or touching intervals; rejects empty intervals
    /// and a week without any.
    pub fn new(mut days: [Vec<(NaiveTime, NaiveTime)>; 7]) -> Result<Self, CalendarError> {
        let minute = |t: NaiveTime| t.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(t);
        for day in &mut days {
            let mut merged: Vec<(NaiveTime, NaiveTime)> = Vec::with_capacity(day.len());
            day.sort_by_key(|&(s, e)| (s, end_secs(e)));
            for &(s, e) in day.iter() {
                let (s, e) = (minute(s), minute(e));
                if s.num_seconds_from_midnight() >= end_secs(e) {
                    let part = format!("{}-{}", s.format("%H:%M"), e.format("%H:%M"));
                    return Err(invalid(&part, "das Ende muss nach dem Beginn liegen"));
                }
                match merged.last_mut() {
                    Some(last) if s.num_seconds_from_midnight() <= end_secs(last.1) => {
                        if end_secs(e) > end_secs(last.1) {
                            last.1 = e;
                        }
                    }
                    _ => merged.push((s, e)),
                }
            }
            *day = merged;
        }
        if days.iter().all(Vec::is_empty) {
            return Err(CalendarError::Empty);
        }
        Ok(Self { days })
    }

    /// Parses the compact text form (case-insensitive); see the type's documentation.
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let mut days: [Vec<(NaiveTime, NaiveTime)>; 7] = Default::default();
        for segment in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let (spec, times) = segment
                .split_once(char::is_whitespace)
                .ok_or_else(|| invalid(segment, "Wochentage und Uhrzeiten fehlen oder sind nicht getrennt"))?;
            let weekdays = parse_days(spec)?;
            let ranges: Vec<_> =
                times.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).collect();
            if ranges.is_empty() {
                return Err(invalid(segment, "Uhrzeiten fehlen"));
            }
            for range in ranges {
                let interval = parse_interval(range)?;
                for &day in &weekdays {
                    days[day].push(interval);
                }
            }
        }
        Self::new(days)
    }

    /// The open intervals on `day`.
    pub fn intervals(&self, day: Weekday) -> &[(NaiveTime, NaiveTime)] {
        &self.days[day.num_days_from_monday() as usize]
    }

    /// Open minutes in a week.
    pub fn week_minutes(&self) -> u64 {
        self.days
            .iter()
            .flatten()
            .map(|(s, e)| u64::from(end_secs(*e).saturating_sub(s.num_seconds_from_midnight()) / 60))
            .sum()
    }

    /// Weekdays with opening hours (at least one: a week without any is refused).
    pub fn open_days(&self) -> u64 {
        self.days.iter().filter(|d| !d.is_empty()).count().max(1) as u64
    }
}

fn parse_days(spec: &str) -> Result<Vec<usize>, CalendarError> {
    let day = |s: &str| DAY_NAMES.iter().position(|d| d.eq_ignore_ascii_case(s));
    let mut out = Vec::new();
    for item in spec.split(',').filter(|s| !s.is_empty()) {
        let (from, to) = item.split_once('-').unwrap_or((item, item));
        match (day(from), day(to)) {
            (Some(a), Some(b)) if a <= b => out.extend(a..=b),
            (Some(_), Some(_)) => return Err(invalid(item, "der Bereich läuft rückwärts")),
            _ => return Err(invalid(item, "unbekannter Wochentag; erlaubt: mo di mi do fr sa so")),
        }
    }
    Ok(out)
}

fn parse_interval(range: &str) -> Result<(NaiveTime, NaiveTime), CalendarError> {
    let bad = || invalid(range, "erwartet wird ein Zeitraum wie 09:00-17:00");
    let (from, to) = range.split_once('-').ok_or_else(bad)?;
    let time = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").ok();
    let end = if to == "24:00" { Some(NaiveTime::MIN) } else { time(to) };
    match (time(from), end) {
        (Some(s), Some(e)) if s.num_seconds_from_midnight() < end_secs(e) => Ok((s, e)),
        (Some(_), Some(_)) => Err(invalid(range, "das Ende muss nach dem Beginn liegen")),
        _ => Err(bad()),
    }
}

impl Default for BusinessHours {
    /// Monday to Friday, 09:00–17:00.
    fn default() -> Self {
        let day = vec![(hm(9, 0), hm(17, 0))];
        Self { days: [day.clone(), day.clone(), day.clone(), day.clone(), day, Vec::new(), Vec::new()] }
    }
}

impl fmt::Display for BusinessHours {
    /// The compact text form; consecutive days with equal hours are written as a range.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut i = 0;
        while i < 7 {
            let mut j = i;
            while j < 6 && self.days[j + 1] == self.days[i] {
                j += 1;
            }
            if !self.days[i].is_empty() {
                f.write_str(if first { "" } else { "; " })?;
                first = false;
                f.write_str(DAY_NAMES[i])?;
                if j > i {
                    write!(f, "-{}", DAY_NAMES[j])?;
                }
                for (s, e) in &self.days[i] {
                    let end = if *e == NaiveTime::MIN { "24:00".to_string() } else { e.format("%H:%M").to_string() };
                    write!(f, " {}-{end}", s.format("%H:%M"))?;
                }
            }
            i = j + 1;
        }
        Ok(())
    }
}

impl FromStr for BusinessHours {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for BusinessHours {
    type Error = CalendarError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<BusinessHours> for String {
    fn from(hours: BusinessHours) -> String {
        hours.to_string()
    }
}

/// Opening hours plus the days on which they do not apply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub hours: BusinessHours,
    /// Whose public holidays apply; `None` = nationwide holidays only.
    pub land: Option<Land>,
    /// Further closed days (e.g. Heiligabend, company holidays).
    #[serde(default)]
    pub closed: Vec<NaiveDate>,
}

/// Closed-day lookup that computes each year's holidays once.
struct ClosedDays<'a> {
    calendar: &'a Calendar,
    year: Option<i32>,
    holidays: Vec<NaiveDate>,
}

impl ClosedDays<'_> {
    fn contains(&mut self, date: NaiveDate) -> bool {
        if self.year != Some(date.year()) {
            self.year = Some(date.year());
            self.holidays = holidays(self.calendar.land, date.year()).into_iter().map(|(d, _)| d).collect();
        }
        self.holidays.contains(&date) || self.calendar.closed.contains(&date)
    }
}

impl Calendar {
    /// Whether `date` has opening hours and is neither a holiday nor an extra closed day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.hours.intervals(date.weekday()).is_empty() && !self.closed_days().contains(date)
    }

    /// Whether `at` falls into an open interval of a working day.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let date = utc_to_berlin(at).date_naive();
        self.windows(date, date).any(|(s, e)| s <= at && at < e)
    }

    /// The instant at which `minutes` of business time have elapsed since `start`; counting begins
    /// at the next opening if `start` is outside hours. Non-positive `minutes` return `start`.
    /// Gives up about ten years after `start` and returns that bound.
    pub fn add_business_minutes(&self, start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        let horizon = TimeDelta::days(HORIZON_DAYS);
        if minutes <= 0 {
            return start;
        }
        let mut left = TimeDelta::minutes(minutes.min(HORIZON_DAYS * 24 * 60));
        let first = utc_to_berlin(start).date_naive();
        for (s, e) in self.windows(first, first + horizon).filter(|&(_, e)| e > start) {
            let s = s.max(start);
            if e - s >= left {
                return s + left;
            }
            left -= e - s;
        }
        start + horizon
    }

    /// Whole minutes of business time in `[from, to)`; 0 if `to <= from`.
    pub fn business_minutes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        self.open_time(from, to).num_minutes()
    }

    /// Like [`Self::business_minutes_between`], without the time covered by `pauses` (periods in
    /// which the clock stops; an open end runs to `to`). Overlapping pauses count once.
    pub fn business_minutes_between_excluding(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        pauses: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
    ) -> i64 {
        let mut spans: Vec<_> = pauses.iter().map(|&(s, e)| (s.max(from), e.unwrap_or(to).min(to))).collect();
        spans.sort();
        let (mut paused, mut covered) = (TimeDelta::zero(), from);
        for (s, e) in spans {
            let s = s.max(covered);
            if s < e {
                paused += self.open_time(s, e);
                covered = e;
            }
        }
        (self.open_time(from, to) - paused).num_minutes()
    }

    fn closed_days(&self) -> ClosedDays<'_> {
        ClosedDays { calendar: self, year: None, holidays: Vec::new() }
    }

    fn open_time(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        if to <= from {
            return TimeDelta::zero();
        }
        let (first, last) = (utc_to_berlin(from).date_naive(), utc_to_berlin(to).date_naive());
        self.windows(first, last)
            .map(|(s, e)| (s.max(from), e.min(to)))
            .filter(|(s, e)| s < e)
            .map(|(s, e)| e - s)
            .sum()
    }

    /// Open intervals as UTC instants on the working days `first..=last`, in order.
    fn windows(&self, first: NaiveDate, last: NaiveDate) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> {
        let mut closed = self.closed_days();
        first
            .iter_days()
            .take_while(move |d| *d <= last)
            .filter(move |&d| !self.hours.intervals(d.weekday()).is_empty() && !closed.contains(d))
            .flat_map(move |d| {
                self.hours.intervals(d.weekday()).iter().map(move |&(s, e)| {
                    let end = if e == NaiveTime::MIN { d.and_time(e) + TimeDelta::days(1) } else { d.and_time(e) };
                    (berlin_to_utc(d.and_time(s)), berlin_to_utc(end))
                })
            })
            .filter(|(s, e)| s < e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A Berlin wall-clock time as UTC.
    fn berlin(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        berlin_to_utc(date(y, m, d).and_hms_opt(h, min, 0).unwrap())
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        date(y, m, d).and_hms_opt(h, min, 0).unwrap().and_utc()
    }

    fn listed(land: Option<Land>, year: i32) -> Vec<String> {
        holidays(land, year).into_iter().map(|(d, n)| format!("{} {n}", d.format("%m-%d"))).collect()
    }

    const FEDERAL_2026: [&str; 9] = [
        "01-01 Neujahr",
        "04-03 Karfreitag",
        "04-06 Ostermontag",
        "05-01 Tag der Arbeit",
        "05-14 Christi Himmelfahrt",
        "05-25 Pfingstmontag",
        "10-03 Tag der Deutschen Einheit",
        "12-25 1. Weihnachtstag",
        "12-26 2. Weihnachtstag",
    ];
    const FEDERAL_2027: [&str; 9] = [
        "01-01 Neujahr",
        "03-26 Karfreitag",
        "03-29 Ostermontag",
        "05-01 Tag der Arbeit",
        "05-06 Christi Himmelfahrt",
        "05-17 Pfingstmontag",
        "10-03 Tag der Deutschen Einheit",
        "12-25 1. Weihnachtstag",
        "12-26 2. Weihnachtstag",
    ];

    /// The full expected list: nationwide days plus `extra`, in date order ("MM-DD" sorts as text).
    fn expected(federal: &[&str], extra: &[&str]) -> Vec<String> {
        let mut all: Vec<String> = federal.iter().chain(extra).map(|s| s.to_string()).collect();
        all.sort();
        all
    }

    #[test]
    fn easter_known_years() {
        for (y, m, d) in [(2000, 4, 23), (2008, 3, 23), (2019, 4, 21), (2024, 3, 31), (2025, 4, 20), (2026, 4, 5)] {
            assert_eq!(easter_sunday(y), date(y, m, d));
        }
        for (y, m, d) in [(2027, 3, 28), (2038, 4, 25), (1818, 3, 22), (2285, 3, 22), (1943, 4, 25)] {
            assert_eq!(easter_sunday(y), date(y, m, d));
        }
    }

    #[test]
    fn land_codes_round_trip() {
        for land in Land::ALL {
            assert_eq!(Land::from_code(land.code()), Some(land));
        }
        assert_eq!(Land::from_code(" NW "), Some(Land::Nw));
        assert_eq!(Land::from_code("bund"), None);
    }

    #[test]
    fn full_holiday_lists_2026_and_2027() {
        let cases = [
            (Land::Nw, 2026, "06-04 Fronleichnam, 11-01 Allerheiligen"),
            (Land::Nw, 2027, "05-27 Fronleichnam, 11-01 Allerheiligen"),
            (Land::By, 2026, "01-06 Heilige Drei Könige, 06-04 Fronleichnam, 11-01 Allerheiligen"),
            (Land::By, 2027, "01-06 Heilige Drei Könige, 05-27 Fronleichnam, 11-01 Allerheiligen"),
            (Land::Sn, 2026, "10-31 Reformationstag, 11-18 Buß- und Bettag"),
            (Land::Sn, 2027, "10-31 Reformationstag, 11-17 Buß- und Bettag"),
            (Land::Be, 2026, "03-08 Internationaler Frauentag"),
            (Land::Be, 2027, "03-08 Internationaler Frauentag"),
            (Land::Th, 2026, "09-20 Weltkindertag, 10-31 Reformationstag"),
            (Land::Th, 2027, "09-20 Weltkindertag, 10-31 Reformationstag"),
            (Land::Bb, 2026, "04-05 Ostersonntag, 05-24 Pfingstsonntag, 10-31 Reformationstag"),
            (Land::Bb, 2027, "03-28 Ostersonntag, 05-16 Pfingstsonntag, 10-31 Reformationstag"),
        ];
        for (land, year, extra) in cases {
            let federal = if year == 2026 { FEDERAL_2026 } else { FEDERAL_2027 };
            let extra: Vec<_> = extra.split(", ").collect();
            assert_eq!(listed(Some(land), year), expected(&federal, &extra), "{land:?} {year}");
        }
        assert_eq!(listed(None, 2026), expected(&FEDERAL_2026, &[]));
        assert_eq!(listed(None, 2027), expected(&FEDERAL_2027, &[]));
    }

    #[test]
    fn holiday_counts_and_regional_days_for_all_lands() {
        use Land::*;
        let counts =
            [(Bw, 12), (By, 12), (Be, 10), (Bb, 12), (Hb, 10), (Hh, 10), (He, 10), (Mv, 11), (Ni, 10), (Nw, 11)];
        for (land, n) in counts.into_iter().chain([(Rp, 11), (Sl, 12), (Sn, 11), (St, 11), (Sh, 10), (Th, 11)]) {
            for year in [2026, 2027] {
                let list = holidays(Some(land), year);
                assert_eq!(list.len(), n, "{land:?} {year}");
                assert!(list.windows(2).all(|w| w[0].0 < w[1].0), "{land:?} {year} sorted");
                let has = |name: &str| list.iter().any(|&(_, n)| n == name);
                assert_eq!(has("Reformationstag"), [Bb, Hb, Hh, Mv, Ni, Sn, St, Sh, Th].contains(&land));
                assert_eq!(has("Fronleichnam"), [Bw, By, He, Nw, Rp, Sl].contains(&land));
                assert_eq!(has("Internationaler Frauentag"), [Be, Mv].contains(&land));
                assert_eq!(has("Heilige Drei Könige"), [Bw, By, St].contains(&land));
                assert_eq!(has("Allerheiligen"), [Bw, By, Nw, Rp, Sl].contains(&land));
                assert_eq!(has("Mariä Himmelfahrt"), land == Sl);
            }
        }
        let on = |land, d: NaiveDate| holidays(Some(land), d.year()).iter().any(|&(h, _)| h == d);
        assert!(on(Mv, date(2023, 3, 8)) && !on(Mv, date(2022, 3, 8)));
        assert!(on(Be, date(2025, 5, 8)) && on(Nw, date(2017, 10, 31)));
        assert!(on(Sn, date(2023, 11, 22)) && on(Sn, date(2024, 11, 20)));
        assert!(on(Sl, date(2026, 8, 15)) && on(Sl, date(2027, 8, 15)));
    }

    #[test]
    fn summer_time_switches() {
        assert_eq!(summer_time(2026), (utc(2026, 3, 29, 1, 0), utc(2026, 10, 25, 1, 0)));
        assert_eq!(summer_time(2027), (utc(2027, 3, 28, 1, 0), utc(2027, 10, 31, 1, 0)));
        assert_eq!(berlin_offset(utc(2026, 3, 29, 0, 59)), CET);
        assert_eq!(berlin_offset(utc(2026, 3, 29, 1, 0)), CEST);
        assert_eq!(berlin_offset(utc(2026, 10, 25, 0, 59)), CEST);
        assert_eq!(berlin_offset(utc(2026, 10, 25, 1, 0)), CET);
        assert_eq!(berlin(2026, 7, 1, 12, 0), utc(2026, 7, 1, 10, 0));
        assert_eq!(berlin(2026, 1, 1, 12, 0), utc(2026, 1, 1, 11, 0));
        // Skipped hour → the switch instant; repeated hour → the earlier (CEST) instant.
        assert_eq!(berlin(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1, 0));
        assert_eq!(berlin(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30));
        assert_eq!(berlin(2026, 10, 25, 3, 0), utc(2026, 10, 25, 2, 0));
        assert_eq!(
            utc_to_berlin(utc(2026, 10, 25, 1, 30)).naive_local(),
            date(2026, 10, 25).and_hms_opt(2, 30, 0).unwrap()
        );
    }

    #[test]
    fn adds_over_weekend_and_holidays() {
        let cal = Calendar::default();
        assert_eq!(cal.add_business_minutes(berlin(2026, 1, 9, 17, 0), 8 * 60), berlin(2026, 1, 12, 17, 0));
        assert_eq!(cal.add_business_minutes(berlin(2026, 1, 10, 3, 0), 30), berlin(2026, 1, 12, 9, 30));
        let nw = Calendar { land: Some(Land::Nw), ..Calendar::default() };
        assert_eq!(nw.add_business_minutes(berlin(2026, 4, 2, 16, 0), 120), berlin(2026, 4, 7, 10, 0));
        let closed = Calendar { closed: vec![date(2026, 1, 12)], ..Calendar::default() };
        assert_eq!(closed.add_business_minutes(berlin(2026, 1, 9, 16, 0), 120), berlin(2026, 1, 13, 10, 0));
        assert!(!closed.is_working_day(date(2026, 1, 12)) && closed.is_working_day(date(2026, 1, 13)));
    }

    #[test]
    fn adds_across_summer_time_switch() {
        let cal = Calendar::default();
        let end = cal.add_business_minutes(berlin(2026, 3, 27, 16, 0), 120);
        assert_eq!(end, berlin(2026, 3, 30, 10, 0));
        assert_eq!(end, utc(2026, 3, 30, 8, 0));
        let always = Calendar { hours: BusinessHours::parse("mo-so 00:00-24:00").unwrap(), ..Calendar::default() };
        assert_eq!(always.business_minutes_between(berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0)), 23 * 60);
        assert_eq!(always.business_minutes_between(berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0)), 25 * 60);
        assert_eq!(always.add_business_minutes(berlin(2026, 3, 28, 12, 0), 24 * 60), berlin(2026, 3, 29, 13, 0));
    }

    #[test]
    fn is_open_respects_hours_and_holidays() {
        let nw = Calendar { land: Some(Land::Nw), ..Calendar::default() };
        assert!(nw.is_open(berlin(2026, 4, 2, 9, 0)));
        assert!(!nw.is_open(berlin(2026, 4, 2, 8, 59)));
        assert!(!nw.is_open(berlin(2026, 4, 2, 17, 0)));
        assert!(!nw.is_open(berlin(2026, 4, 3, 12, 0)));
        assert!(!nw.is_open(berlin(2026, 4, 4, 12, 0)));
    }

    #[test]
    fn between_is_inverse_of_add() {
        let cal = Calendar {
            hours: BusinessHours::parse("mo-do 08:00-16:30; fr 08:00-13:00").unwrap(),
            land: Some(Land::Sn),
            closed: vec![date(2026, 12, 24)],
        };
        let starts = [
            berlin(2026, 1, 9, 17, 0),
            berlin(2026, 3, 28, 12, 0),
            berlin(2026, 4, 2, 15, 59),
            berlin(2026, 11, 17, 12, 34),
            berlin(2026, 12, 23, 10, 0),
        ];
        for start in starts {
            for minutes in [1, 59, 480, 1000, 60 * 3000] {
                let end = cal.add_business_minutes(start, minutes);
                assert_eq!(cal.business_minutes_between(start, end), minutes, "{start} + {minutes}");
            }
        }
        assert_eq!(cal.business_minutes_between(starts[1], starts[0]), 0);
    }

    #[test]
    fn gives_up_after_ten_years() {
        let cal = Calendar { hours: BusinessHours::parse("mo 09:00-10:00").unwrap(), ..Calendar::default() };
        let start = berlin(2026, 1, 1, 0, 0);
        assert_eq!(cal.add_business_minutes(start, i64::MAX), start + TimeDelta::days(HORIZON_DAYS));
        assert_eq!(cal.add_business_minutes(start, 0), start);
    }

    #[test]
    fn pauses_are_subtracted_once() {
        let cal = Calendar::default();
        let (from, to) = (berlin(2026, 1, 12, 9, 0), berlin(2026, 1, 16, 17, 0));
        assert_eq!(cal.business_minutes_between(from, to), 5 * 8 * 60);
        let pauses = [
            (berlin(2026, 1, 12, 10, 0), Some(berlin(2026, 1, 12, 12, 0))),
            (berlin(2026, 1, 12, 11, 0), Some(berlin(2026, 1, 12, 14, 0))),
            (berlin(2026, 1, 13, 18, 0), Some(berlin(2026, 1, 14, 8, 0))),
            (berlin(2026, 1, 16, 13, 0), None),
            (berlin(2026, 1, 16, 14, 0), Some(berlin(2026, 1, 20, 0, 0))),
            (berlin(2026, 1, 1, 0, 0), Some(berlin(2026, 1, 12, 9, 30))),
        ];
        assert_eq!(cal.business_minutes_between_excluding(from, to, &pauses), 5 * 8 * 60 - 30 - 4 * 60 - 4 * 60);
        assert_eq!(cal.business_minutes_between_excluding(from, to, &[]), 5 * 8 * 60);
    }

    #[test]
    fn parses_business_hours() {
        let hours = BusinessHours::parse("Mo-Do 09:00-17:00; fr 09:00-14:00; sa 10:00-12:00").unwrap();
        assert_eq!(hours.intervals(Weekday::Thu), [(hm(9, 0), hm(17, 0))]);
        assert_eq!(hours.intervals(Weekday::Fri), [(hm(9, 0), hm(14, 0))]);
        assert_eq!(hours.intervals(Weekday::Sat), [(hm(10, 0), hm(12, 0))]);
        assert!(hours.intervals(Weekday::Sun).is_empty());
        assert_eq!(hours.to_string(), "mo-do 09:00-17:00; fr 09:00-14:00; sa 10:00-12:00");
        assert_eq!(BusinessHours::parse("mo-fr 09:00-17:00").unwrap(), BusinessHours::default());
        let split = BusinessHours::parse("mo,mi 13:00-17:00, 08:00-12:00; mo 11:00-14:00").unwrap();
        assert_eq!(split.intervals(Weekday::Mon), [(hm(8, 0), hm(17, 0))]);
        assert_eq!(split.intervals(Weekday::Wed), [(hm(8, 0), hm(12, 0)), (hm(13, 0), hm(17, 0))]);
        assert_eq!(split.to_string().parse::<BusinessHours>().unwrap(), split);
        let night = BusinessHours::parse("sa-so 20:00-24:00").unwrap();
        assert_eq!(night.to_string(), "sa-so 20:00-24:00");
    }

    #[test]
    fn rejects_bad_business_hours() {
        let part = |text: &str| match BusinessHours::parse(text) {
            Err(CalendarError::Invalid { part, .. }) => part,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(part("mo-fr 09:00-17:00; xx 10:00-12:00"), "xx");
        assert_eq!(part("fr-mo 09:00-17:00"), "fr-mo");
        assert_eq!(part("mo-fr 9-17"), "9-17");
        assert_eq!(part("mo-fr 17:00-09:00"), "17:00-09:00");
        assert_eq!(part("mo-fr 09:00-25:00"), "09:00-25:00");
        assert_eq!(part("mo-fr"), "mo-fr");
        assert_eq!(BusinessHours::parse(" ; "), Err(CalendarError::Empty));
        let message = BusinessHours::parse("mx 09:00-17:00").unwrap_err().to_string();
        assert_eq!(message, "Öffnungszeiten: „mx“ – unbekannter Wochentag; erlaubt: mo di mi do fr sa so");
    }
}
