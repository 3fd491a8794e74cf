//! When a campaign may run: start and end, days of the week and hours in the shop's zone.
//!
//! The browser build carries no time-zone database. A schedule names its IANA zone (for
//! people) and carries either a fixed `utc_offset` in minutes or `offsets`, a list of
//! `[from_ms, minutes]` transitions that the collector resolves from the zone when it
//! serves campaigns. The engine only looks the current offset up in that list.

use super::json::Value;
use super::schema::{read_count, read_duration, read_enum, ErrorKind, Errors, Obj, Path};
use super::Millis;

/// A campaign's schedule.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Schedule {
    /// Not before.
    pub start: Option<Millis>,
    /// Not at or after.
    pub end: Option<Millis>,
    /// Allowed weekdays as a bit set, bit 0 = Sunday; 0 = every day.
    pub days: u8,
    /// Allowed local hours `[from, to)`; wraps past midnight when `from > to`.
    pub hours: Option<(u8, u8)>,
    /// IANA zone name, for people and for the collector.
    pub tz: Option<String>,
    /// Offset transitions `(from, minutes east of UTC)`, ascending.
    pub offsets: Vec<(Millis, i32)>,
}

/// Why a schedule says no.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// Before `start`.
    NotStarted,
    /// At or after `end`.
    Ended,
    /// Not an allowed weekday.
    Day,
    /// Not an allowed hour.
    Hour,
}

impl Closed {
    /// Short code.
    pub fn code(self) -> &'static str {
        match self {
            Closed::NotStarted => "not_started",
            Closed::Ended => "ended",
            Closed::Day => "day",
            Closed::Hour => "hour",
        }
    }
}

const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl Schedule {
    /// The UTC offset in minutes at `now`.
    pub fn offset_at(&self, now: Millis) -> i32 {
        self.offsets
            .iter()
            .take_while(|(from, _)| *from <= now)
            .last()
            .or(self.offsets.first())
            .map_or(0, |(_, m)| *m)
    }

    /// Whether the campaign may run at `now`.
    ///
    /// ```
    /// use nudge::engine::{schedule::{Schedule, Closed}, Millis};
    /// // 1_764_032_400_000 is 2025-11-25 (a Tuesday) 01:00 UTC, 10:00 in Seoul (+9h).
    /// let s = Schedule { hours: Some((9, 18)), offsets: vec![(Millis(0), 540)], ..Default::default() };
    /// assert_eq!(s.check(Millis(1_764_032_400_000)), Ok(()));
    /// assert_eq!(s.check(Millis(1_764_032_400_000 + 9 * 3_600_000)), Err(Closed::Hour));
    /// ```
    pub fn check(&self, now: Millis) -> Result<(), Closed> {
        if self.start.is_some_and(|s| now < s) {
            return Err(Closed::NotStarted);
        }
        if self.end.is_some_and(|e| now >= e) {
            return Err(Closed::Ended);
        }
        if self.days == 0 && self.hours.is_none() {
            return Ok(());
        }
        let local = now.0 as i64 + i64::from(self.offset_at(now)) * 60_000;
        let day_index = local.div_euclid(86_400_000);
        let weekday = (day_index + 4).rem_euclid(7) as u8; // 1970-01-01 was a Thursday.
        if self.days != 0 && self.days & (1 << weekday) == 0 {
            return Err(Closed::Day);
        }
        if let Some((from, to)) = self.hours {
            let hour = (local.rem_euclid(86_400_000) / 3_600_000) as u8;
            let open =
                if from <= to { hour >= from && hour < to } else { hour >= from || hour < to };
            if !open {
                return Err(Closed::Hour);
            }
        }
        Ok(())
    }
}

/// Reads a schedule object.
pub fn read_schedule(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Schedule> {
    let o = Obj::open(
        v,
        path,
        &["start", "end", "days", "hours", "tz", "utc_offset", "offsets"],
        errs,
    )?;
    let before = errs.error_count();
    let mut s = Schedule {
        start: o.duration("start", errs),
        end: o.duration("end", errs),
        tz: o.str("tz", errs),
        ..Schedule::default()
    };
    if let (Some(a), Some(b)) = (s.start, s.end) {
        if b <= a {
            errs.push(&path.key("end"), ErrorKind::Invalid("must be after start".into()));
        }
    }
    if let Some((v, p)) = o.get("days") {
        match v {
            Value::Arr(days) if !days.is_empty() => {
                for (i, d) in days.iter().enumerate() {
                    if let Some(name) = read_enum(d, &p.at(i), &DAYS, errs) {
                        s.days |= 1 << DAYS.iter().position(|x| *x == name).unwrap_or(0);
                    }
                }
            }
            other => errs.expected(&p, "a non-empty array of days like [\"mon\", \"fri\"]", other),
        }
    }
    if let Some((v, p)) = o.get("hours") {
        match v {
            Value::Arr(h) if h.len() == 2 => {
                let from = read_count(&h[0], &p.at(0), 23, errs);
                let to = read_count(&h[1], &p.at(1), 24, errs);
                if let (Some(f), Some(t)) = (from, to) {
                    if f == t {
                        errs.push(&p, ErrorKind::Invalid("an empty range of hours".into()));
                    }
                    s.hours = Some((f as u8, t as u8));
                }
            }
            other => errs.expected(&p, "[from_hour, to_hour] like [9, 18]", other),
        }
    }
    if let Some((v, p)) = o.get("utc_offset") {
        match v {
            Value::Num(n) if n.fract() == 0.0 && n.abs() <= 14.0 * 60.0 => {
                s.offsets = vec![(Millis(0), *n as i32)]
            }
            other => errs.expected(&p, "minutes east of UTC, from -840 to 840", other),
        }
    }
    if let Some((v, p)) = o.get("offsets") {
        if o.get("utc_offset").is_some() {
            errs.push(
                &p,
                ErrorKind::Invalid("give \"offsets\" or \"utc_offset\", not both".into()),
            );
            // Order is checked within `offsets` only, not against the `utc_offset` entry.
            s.offsets.clear();
        }
        match v {
            Value::Arr(items) => {
                for (i, item) in items.iter().enumerate() {
                    let ip = p.at(i);
                    match item {
                        Value::Arr(pair) if pair.len() == 2 => {
                            let from = read_duration(&pair[0], &ip.at(0), errs);
                            let mins = match &pair[1] {
                                Value::Num(n) if n.fract() == 0.0 && n.abs() <= 840.0 => {
                                    Some(*n as i32)
                                }
                                other => {
                                    errs.expected(&ip.at(1), "minutes from -840 to 840", other);
                                    None
                                }
                            };
                            if let (Some(f), Some(m)) = (from, mins) {
                                if s.offsets.last().is_some_and(|(prev, _)| *prev >= f) {
                                    errs.push(
                                        &ip,
                                        ErrorKind::Invalid(
                                            "transitions must be in ascending order".into(),
                                        ),
                                    );
                                }
                                s.offsets.push((f, m));
                            }
                        }
                        other => errs.expected(&ip, "[from_ms, minutes]", other),
                    }
                }
            }
            other => errs.expected(&p, "an array of [from_ms, minutes]", other),
        }
    }
    let local_rules = s.days != 0 || s.hours.is_some();
    if local_rules
        && s.offsets.is_empty()
        && s.tz.as_deref().is_some_and(|tz| tz != "UTC" && tz != "Etc/UTC")
    {
        errs.push(
            path,
            ErrorKind::Invalid("days and hours in a time zone need \"utc_offset\" or \"offsets\" (the collector adds them)".into()),
        );
    }
    (errs.error_count() == before).then_some(s)
}
