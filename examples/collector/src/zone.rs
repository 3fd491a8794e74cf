//! Time zones, resolved on the server so the browser carries no tz database.
//!
//! A schedule names its IANA zone in `tz`; the engine only understands `utc_offset` or
//! `offsets` (`[[from_ms, minutes], ...]`). When a campaign set is saved or published, every
//! schedule with a `tz` and no explicit `utc_offset` gets `offsets`: the offset in force at
//! that moment, then each transition (daylight saving on and off) within the next
//! [`HORIZON`], computed with `chrono-tz`. An unknown zone is a finding at
//! `campaigns[i].schedule.tz` with a "did you mean" from the engine's own [`suggest`].
//! `offsets` is the collector's field: whatever a client put there is replaced.

use chrono::{Offset, TimeZone, Utc};
use chrono_tz::Tz;
use nudge::engine::json::Value;
use nudge::engine::schema::suggest;
use nudge::engine::Millis;

use crate::error::Finding;

/// How far ahead transitions are listed; past it the last offset stays in force, so a
/// campaign set should be published again within this time (the live set's ETag changes).
pub const HORIZON: Millis = Millis(400 * 86_400_000);

/// Sampling step when looking for transitions: no zone changes its offset twice in an hour.
const STEP: i64 = 3_600_000;

fn offset_minutes(tz: Tz, ms: i64) -> i32 {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc() / 60,
        None => 0,
    }
}

/// The zone called `name` (exact IANA spelling), or the finding's message with a hint.
///
/// ```
/// use nudge_collector::zone::zone;
/// assert!(zone("Asia/Seoul").is_ok());
/// assert_eq!(
///     zone("Asai/Seoul").unwrap_err(),
///     "unknown time zone \"Asai/Seoul\", did you mean \"Asia/Seoul\"?"
/// );
/// ```
pub fn zone(name: &str) -> Result<Tz, String> {
    if let Ok(tz) = name.parse::<Tz>() {
        return Ok(tz);
    }
    // Compare lowercased names: a wrong case is one more typo, not a different zone.
    let lower: Vec<String> =
        chrono_tz::TZ_VARIANTS.iter().map(|t| t.name().to_ascii_lowercase()).collect();
    let known: Vec<&str> = lower.iter().map(String::as_str).collect();
    let hint = suggest(name, &known)
        .and_then(|l| chrono_tz::TZ_VARIANTS.iter().find(|t| t.name().eq_ignore_ascii_case(&l)))
        .map(|t| format!(", did you mean \"{}\"?", t.name()))
        .unwrap_or_default();
    Err(format!("unknown time zone \"{name}\"{hint}"))
}

/// The offsets of `tz` from `now` to `now + HORIZON`: `[(now, current), (transition, new), ...]`.
///
/// ```
/// use nudge::engine::Millis;
/// use nudge_collector::zone::{offsets, zone};
/// // 2026-01-01 UTC: Berlin is on +60, switches to +120 on 29 March and back on 25 October.
/// let o = offsets(zone("Europe/Berlin").unwrap(), Millis(1_767_225_600_000));
/// assert_eq!(o[0], (Millis(1_767_225_600_000), 60));
/// assert_eq!(o[1], (Millis(1_774_746_000_000), 120));
/// assert_eq!(o[2], (Millis(1_792_890_000_000), 60));
/// ```
pub fn offsets(tz: Tz, now: Millis) -> Vec<(Millis, i32)> {
    let start = now.0 as i64;
    let end = start + HORIZON.0 as i64;
    let mut out = vec![(now, offset_minutes(tz, start))];
    let mut t = start;
    let mut current = out[0].1;
    while t < end {
        let next = (t + STEP).min(end);
        let there = offset_minutes(tz, next);
        if there != current {
            // The first millisecond with the new offset lies in (t, next]: bisect.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_minutes(tz, mid) == current {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push((Millis(hi as u64), there));
            current = there;
        }
        t = next;
    }
    out
}

fn offsets_value(list: &[(Millis, i32)]) -> Value {
    Value::Arr(
        list.iter()
            .map(|(from, m)| Value::Arr(vec![Value::Num(from.0 as f64), Value::Num(f64::from(*m))]))
            .collect(),
    )
}

/// Resolves every schedule's `tz` in a campaign set document at `now`, in place. Returns
/// one finding per unknown zone; schedules whose `tz` is not a string, or that carry an
/// explicit `utc_offset`, are left to the engine's own checks.
pub fn resolve(doc: &mut Value, now: Millis) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Value::Obj(top) = doc else { return findings };
    let Some((_, Value::Arr(campaigns))) = top.iter_mut().find(|(k, _)| k.as_str() == "campaigns")
    else {
        return findings;
    };
    for (i, c) in campaigns.iter_mut().enumerate() {
        let Value::Obj(fields) = c else { continue };
        let Some((_, Value::Obj(schedule))) =
            fields.iter_mut().find(|(k, _)| k.as_str() == "schedule")
        else {
            continue;
        };
        let Some(name) =
            schedule.iter().find(|(k, _)| k.as_str() == "tz").and_then(|(_, v)| v.as_str())
        else {
            continue;
        };
        let tz = match zone(name) {
            Ok(tz) => tz,
            Err(message) => {
                findings.push(Finding {
                    path: format!("campaigns[{i}].schedule.tz"),
                    message,
                    severity: "error",
                    code: "unknown",
                });
                continue;
            }
        };
        if schedule.iter().any(|(k, _)| k.as_str() == "utc_offset") {
            continue;
        }
        let value = offsets_value(&offsets(tz, now));
        match schedule.iter_mut().find(|(k, _)| k.as_str() == "offsets") {
            Some((_, v)) => *v = value,
            None => schedule.push(("offsets".into(), value)),
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use nudge::engine::json;

    #[test]
    fn seoul_has_one_offset_and_berlin_two_transitions_a_year() {
        let now = Millis(1_764_000_000_000); // 2025-11-24
        assert_eq!(offsets(zone("Asia/Seoul").unwrap(), now), [(now, 540)]);
        let berlin = offsets(zone("Europe/Berlin").unwrap(), now);
        let minutes: Vec<i32> = berlin.iter().map(|(_, m)| *m).collect();
        assert_eq!(minutes, [60, 120, 60]);
        // Last Sunday of March 2026, 01:00 UTC.
        assert_eq!(berlin[1].0, Millis(1_774_746_000_000));
    }

    #[test]
    fn resolve_fills_offsets_keeps_utc_offset_and_reports_unknown_zones() {
        let mut doc = json::parse(
            r#"{"campaigns":[{"schedule":{"tz":"Asia/Seoul","offsets":[[0,0]]}},
                {"schedule":{"tz":"Asia/Seoul","utc_offset":540}},
                {"schedule":{"tz":"asia/seoul"}}, {"id":"no schedule"}]}"#,
        )
        .unwrap();
        let findings = resolve(&mut doc, Millis(5));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].path, "campaigns[2].schedule.tz");
        assert_eq!(
            findings[0].message,
            r#"unknown time zone "asia/seoul", did you mean "Asia/Seoul"?"#
        );
        let text = json::to_string(&doc);
        assert!(text.contains(r#""offsets":[[5,540]]"#), "{text}");
        assert!(text.contains(r#"{"tz":"Asia/Seoul","utc_offset":540}"#), "{text}");
    }
}
