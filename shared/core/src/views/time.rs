//! Timestamps in JSON as chrono writes them (RFC 3339, UTC, `Z`, fractions
//! of a second only as long as needed), without going through `core::fmt`:
//! a page of 50 tickets carries 300 of them, and chrono's formatter was the
//! largest single cost of the list request in `perf`.

use chrono::{DateTime, Utc};
use serde::Serializer;

/// Year, month and day of a day counted from 1970-01-01 (proleptic
/// Gregorian; H. Hinnant's `civil_from_days`). chrono's accessors each
/// recompute the calendar date, seven times per timestamp.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `2026-11-22T20:48:29.504Z` into `out`; returns the length.
fn write(t: &DateTime<Utc>, out: &mut [u8; 40]) -> usize {
    fn digits(out: &mut [u8], mut v: u32) {
        for b in out.iter_mut().rev() {
            *b = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    let secs = t.timestamp();
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400) as u32;
    let mut n = 0;
    if (0..=9999).contains(&year) {
        digits(&mut out[..4], year as u32);
        n = 4;
    } else {
        // Outside four digits chrono writes a sign and at least four digits; never seen here.
        let s = format!("{year:+05}");
        out[..s.len()].copy_from_slice(s.as_bytes());
        n += s.len();
    }
    out[n] = b'-';
    digits(&mut out[n + 1..n + 3], month);
    out[n + 3] = b'-';
    digits(&mut out[n + 4..n + 6], day);
    out[n + 6] = b'T';
    digits(&mut out[n + 7..n + 9], of_day / 3_600);
    out[n + 9] = b':';
    digits(&mut out[n + 10..n + 12], of_day / 60 % 60);
    out[n + 12] = b':';
    // A leap second (chrono keeps it as :59 plus a second's nanoseconds) shows as :60, as chrono writes it.
    let nanos = t.timestamp_subsec_nanos();
    let (second, nanos) = if nanos >= 1_000_000_000 { (60, nanos - 1_000_000_000) } else { (of_day % 60, nanos) };
    digits(&mut out[n + 13..n + 15], second);
    n += 15;
    let (value, width) = match nanos {
        0 => (0, 0),
        _ if nanos % 1_000_000 == 0 => (nanos / 1_000_000, 3),
        _ if nanos % 1_000 == 0 => (nanos / 1_000, 6),
        _ => (nanos, 9),
    };
    if width > 0 {
        out[n] = b'.';
        digits(&mut out[n + 1..n + 1 + width], value);
        n += 1 + width;
    }
    out[n] = b'Z';
    n + 1
}

pub(super) fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 40];
    let n = write(t, &mut buf);
    // Only ASCII digits and separators were written.
    s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default())
}

pub(super) fn rfc3339_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn ours(t: DateTime<Utc>) -> String {
        let mut buf = [0u8; 40];
        let n = write(&t, &mut buf);
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn writes_what_chrono_writes() {
        let base = Utc.with_ymd_and_hms(2026, 11, 22, 20, 48, 29).unwrap();
        let mut cases = vec![
            base,
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(12, 3, 4, 5, 6, 7).unwrap(),
            Utc.with_ymd_and_hms(-44, 3, 15, 12, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
        ];
        for nanos in [1, 999, 1_000, 504_000, 504_000_000, 504_123_000, 504_123_456, 999_999_999] {
            cases.push(base + Duration::nanoseconds(nanos));
        }
        // A leap second, as chrono can hold one.
        cases.push(
            Utc.from_utc_datetime(
                &chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
                    .unwrap()
                    .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                    .unwrap(),
            ),
        );
        // Every day from 1898 to 2102 and every 97th day over ten thousand years, at varying times of day.
        let start = Utc.with_ymd_and_hms(1898, 1, 1, 0, 0, 0).unwrap();
        cases.extend((0..74_900).map(|d| start + Duration::days(d) + Duration::seconds(d * 7_919 % 86_400)));
        let far = Utc.with_ymd_and_hms(-4000, 1, 1, 0, 0, 0).unwrap();
        cases.extend((0..38_000).map(|d| far + Duration::days(d * 97) + Duration::seconds(d * 7_919 % 86_400)));
        for t in cases {
            let theirs = serde_json::to_string(&t).unwrap();
            assert_eq!(format!("\"{}\"", ours(t)), theirs, "{t:?}");
        }
    }
}
