//! Frequency caps per campaign, budgets across campaigns, and the ledger that remembers
//! what was shown, dismissed and converted.
//!
//! Caps count impressions *and* hold-outs alike, so the control group reaches the point of
//! exposure exactly as often as the treated group would have. Day caps are rolling 24 hours.

use super::assign::Arm;
use super::json::{self, Value};
use super::map::Map;
use super::profile::{field_ms, opt_str, sep};
use super::schema::{read_count, ErrorKind, Errors, Obj, Path};
use super::Millis;

/// Most impression timestamps kept per campaign and overall; also the largest cap accepted
/// for windowed caps, so a cap can always be checked from what is kept.
pub const MAX_KEPT: usize = 50;

/// A count per rolling window of whole days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerDays {
    /// Window length in days.
    pub days: u32,
    /// Impressions allowed in it.
    pub max: u32,
}

/// What happens after a conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterConvert {
    /// Never show again.
    Never,
    /// Suppressed for this long.
    For(Millis),
    /// Keep showing.
    Keep,
}

/// Per-campaign caps. Defaults (when `caps` is absent): once per session, a day's rest
/// after a dismissal, never again after a conversion.
#[derive(Clone, Debug, PartialEq)]
pub struct Caps {
    /// Per session.
    pub per_session: Option<u32>,
    /// Per rolling day.
    pub per_day: Option<u32>,
    /// Per rolling N days.
    pub per_days: Option<PerDays>,
    /// Ever.
    pub ever: Option<u32>,
    /// Minimum time between two impressions.
    pub min_gap: Option<Millis>,
    /// Suppression after a dismissal.
    pub after_dismiss: Option<Millis>,
    /// Behaviour after a conversion.
    pub after_convert: AfterConvert,
}

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            per_session: Some(1),
            per_day: None,
            per_days: None,
            ever: None,
            min_gap: None,
            after_dismiss: Some(Millis::DAY),
            after_convert: AfterConvert::Never,
        }
    }
}

/// Limits across all campaigns (fatigue). Default: two per session, none closer than a minute.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    /// Impressions per session across campaigns.
    pub per_session: Option<u32>,
    /// Impressions per rolling day across campaigns.
    pub per_day: Option<u32>,
    /// Minimum time between any two impressions.
    pub min_gap: Option<Millis>,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget { per_session: Some(2), per_day: None, min_gap: Some(Millis::MINUTE) }
    }
}

/// What the ledger remembers about one campaign for this visitor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CampaignLog {
    /// The persisted A/B arm.
    pub arm: Option<Arm>,
    /// Recent impressions (or hold-outs), oldest first.
    pub shown: Vec<Millis>,
    /// Impressions ever.
    pub total: u32,
    /// Session number `session_count` refers to.
    pub session: u32,
    /// Impressions in that session.
    pub session_count: u32,
    /// First impression (countdowns "N minutes after first impression").
    pub first_shown: Option<Millis>,
    /// Last dismissal.
    pub dismissed: Option<Millis>,
    /// Last conversion.
    pub converted: Option<Millis>,
}

impl CampaignLog {
    /// Latest impression or hold-out.
    pub fn last_shown(&self) -> Option<Millis> {
        self.shown.last().copied()
    }

    fn in_last(&self, now: Millis, d: Millis) -> usize {
        let since = now.minus(d);
        self.shown.iter().filter(|t| **t > since).count()
    }
}

/// The visitor's history with campaigns (persisted next to the profile).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ledger {
    /// Per campaign id.
    pub campaigns: Map<String, CampaignLog>,
    /// Recent impressions across campaigns, oldest first (hold-outs excluded).
    pub shown: Vec<Millis>,
    /// Session number `session_count` refers to.
    pub session: u32,
    /// Impressions across campaigns in that session.
    pub session_count: u32,
}

/// Which cap or budget said no.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Converted already.
    Converted,
    /// Dismissed recently.
    Dismissed,
    /// `ever`.
    Ever,
    /// `per_session`.
    PerSession,
    /// `per_day`.
    PerDay,
    /// `per_days`.
    PerDays,
    /// `min_gap`.
    MinGap,
}

impl Limit {
    /// The field name in the caps or budget object.
    pub fn field(self) -> &'static str {
        match self {
            Limit::Converted => "after_convert",
            Limit::Dismissed => "after_dismiss",
            Limit::Ever => "ever",
            Limit::PerSession => "per_session",
            Limit::PerDay => "per_day",
            Limit::PerDays => "per_days",
            Limit::MinGap => "min_gap",
        }
    }
}

impl Caps {
    /// Checks the caps against a campaign's log; `session` is the current session number.
    pub fn check(&self, log: Option<&CampaignLog>, session: u32, now: Millis) -> Result<(), Limit> {
        // No history is an empty history: a cap of 0 must still say no.
        let empty = CampaignLog::default();
        let log = log.unwrap_or(&empty);
        match (self.after_convert, log.converted) {
            (AfterConvert::Never, Some(_)) => return Err(Limit::Converted),
            (AfterConvert::For(d), Some(t)) if now.since(t) < d => return Err(Limit::Converted),
            _ => {}
        }
        if let (Some(d), Some(t)) = (self.after_dismiss, log.dismissed) {
            if now.since(t) < d {
                return Err(Limit::Dismissed);
            }
        }
        if self.ever.is_some_and(|n| log.total >= n) {
            return Err(Limit::Ever);
        }
        let in_session = if log.session == session { log.session_count } else { 0 };
        if self.per_session.is_some_and(|n| in_session >= n) {
            return Err(Limit::PerSession);
        }
        if self.per_day.is_some_and(|n| log.in_last(now, Millis::DAY) >= n as usize) {
            return Err(Limit::PerDay);
        }
        if let Some(pd) = self.per_days {
            if log.in_last(now, Millis(Millis::DAY.0 * u64::from(pd.days))) >= pd.max as usize {
                return Err(Limit::PerDays);
            }
        }
        if let (Some(gap), Some(last)) = (self.min_gap, log.last_shown()) {
            if now.since(last) < gap {
                return Err(Limit::MinGap);
            }
        }
        Ok(())
    }
}

impl Budget {
    /// Checks the cross-campaign budget.
    pub fn check(&self, ledger: &Ledger, session: u32, now: Millis) -> Result<(), Limit> {
        let in_session = if ledger.session == session { ledger.session_count } else { 0 };
        if self.per_session.is_some_and(|n| in_session >= n) {
            return Err(Limit::PerSession);
        }
        let since = now.minus(Millis::DAY);
        if self
            .per_day
            .is_some_and(|n| ledger.shown.iter().filter(|t| **t > since).count() >= n as usize)
        {
            return Err(Limit::PerDay);
        }
        if let (Some(gap), Some(last)) = (self.min_gap, ledger.shown.last()) {
            if now.since(*last) < gap {
                return Err(Limit::MinGap);
            }
        }
        Ok(())
    }
}

fn push_bounded(v: &mut Vec<Millis>, t: Millis) {
    v.push(t);
    if v.len() > MAX_KEPT {
        v.remove(0);
    }
}

impl Ledger {
    /// Records an impression (or hold-out, which skips the cross-campaign budget).
    pub fn record_exposure(&mut self, campaign: &str, session: u32, now: Millis, held_out: bool) {
        if !self.campaigns.contains_key(campaign) {
            self.campaigns.insert(campaign.to_string(), CampaignLog::default());
        }
        let Some(log) = self.campaigns.get_mut(campaign) else { return };
        push_bounded(&mut log.shown, now);
        log.total = log.total.saturating_add(1);
        if log.session != session {
            log.session = session;
            log.session_count = 0;
        }
        log.session_count += 1;
        log.first_shown.get_or_insert(now);
        if held_out {
            return;
        }
        push_bounded(&mut self.shown, now);
        if self.session != session {
            self.session = session;
            self.session_count = 0;
        }
        self.session_count += 1;
    }

    /// Appends the versioned JSON form (written straight to text, see `Profile::write_json`).
    pub fn write_json(&self, out: &mut String) {
        let opt = |out: &mut String, m: Option<Millis>| match m {
            Some(m) => json::write_uint(out, m.0),
            None => out.push_str("null"),
        };
        let list = |out: &mut String, v: &[Millis]| {
            out.push('[');
            for (i, t) in v.iter().enumerate() {
                sep(out, i);
                json::write_uint(out, t.0);
            }
            out.push(']');
        };
        out.push_str("{\"v\":1,\"c\":{");
        for (i, (id, l)) in self.campaigns.iter().enumerate() {
            sep(out, i);
            json::write_str(out, id);
            out.push_str(":[");
            opt_str(out, l.arm.as_ref().map(Arm::name));
            out.push(',');
            list(out, &l.shown);
            for n in [l.total, l.session, l.session_count] {
                out.push(',');
                json::write_uint(out, u64::from(n));
            }
            for m in [l.first_shown, l.dismissed, l.converted] {
                out.push(',');
                opt(out, m);
            }
            out.push(']');
        }
        out.push_str("},\"s\":");
        list(out, &self.shown);
        field_ms(out, "sn", Millis(u64::from(self.session)));
        field_ms(out, "sc", Millis(u64::from(self.session_count)));
        out.push('}');
    }

    /// Restores a ledger from [`Ledger::write_json`]; `None` if it is not one.
    pub fn from_value(v: &Value) -> Option<Ledger> {
        if v.get("v")?.as_f64()? != 1.0 {
            return None;
        }
        let ms = |x: &Value| x.as_f64().map(|f| Millis(f as u64));
        let list = |x: &Value| match x {
            Value::Arr(items) => items.iter().map(ms).collect::<Option<Vec<_>>>(),
            _ => None,
        };
        let mut ledger = Ledger {
            shown: list(v.get("s")?)?,
            session: v.get("sn")?.as_f64()? as u32,
            session_count: v.get("sc")?.as_f64()? as u32,
            ..Ledger::default()
        };
        let Value::Obj(cs) = v.get("c")? else { return None };
        for (id, l) in cs {
            let Value::Arr(p) = l else { return None };
            let num = |i: usize| p.get(i).and_then(Value::as_f64).map(|f| f as u32);
            let arm = match p.first()? {
                Value::Str(s) if s == "control" => Some(Arm::Control),
                Value::Str(s) => Some(Arm::Variant(s.clone())),
                _ => None,
            };
            ledger.campaigns.insert(
                id.as_str().into(),
                CampaignLog {
                    arm,
                    shown: list(p.get(1)?)?,
                    total: num(2)?,
                    session: num(3)?,
                    session_count: num(4)?,
                    first_shown: p.get(5).and_then(ms),
                    dismissed: p.get(6).and_then(ms),
                    converted: p.get(7).and_then(ms),
                },
            );
        }
        Some(ledger)
    }
}

fn windowed(o: &Obj<'_>, key: &str, errs: &mut Errors) -> Option<u32> {
    o.count(key, MAX_KEPT as u32, errs)
}

/// Reads a caps object; absent fields are off (the defaults apply only when `caps` is absent).
pub fn read_caps(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Caps> {
    const KEYS: &[&str] = &[
        "per_session",
        "per_day",
        "per_days",
        "ever",
        "min_gap",
        "after_dismiss",
        "after_convert",
    ];
    let o = Obj::open(v, path, KEYS, errs)?;
    let before = errs.error_count();
    let per_days = o.get("per_days").and_then(|(v, p)| {
        let pd = Obj::open(v, &p, &["days", "max"], errs)?;
        let days = pd.req("days", errs).and_then(|(v, p)| read_count(v, &p, 365, errs));
        let max = pd.req("max", errs).and_then(|(v, p)| read_count(v, &p, MAX_KEPT as u32, errs));
        if days == Some(0) {
            errs.push(&p.key("days"), ErrorKind::Invalid("must be at least 1".into()));
        }
        Some(PerDays { days: days?, max: max? })
    });
    let after_convert = match o.get("after_convert") {
        None => AfterConvert::Never,
        Some((Value::Str(s), _)) if s == "never" => AfterConvert::Never,
        Some((Value::Str(s), _)) if s == "keep" => AfterConvert::Keep,
        Some((v, p)) => {
            let mut probe = Errors::default();
            match super::schema::read_duration(v, &p, &mut probe) {
                Some(d) => AfterConvert::For(d),
                None => {
                    errs.expected(&p, "\"never\", \"keep\" or a duration like \"30d\"", v);
                    AfterConvert::Never
                }
            }
        }
    };
    let caps = Caps {
        per_session: o.count("per_session", 1_000, errs),
        per_day: windowed(&o, "per_day", errs),
        per_days,
        ever: o.count("ever", 1_000_000, errs),
        min_gap: o.duration("min_gap", errs),
        after_dismiss: o.duration("after_dismiss", errs),
        after_convert,
    };
    (errs.error_count() == before).then_some(caps)
}

/// Reads the set-wide budget.
pub fn read_budget(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Budget> {
    let o = Obj::open(v, path, &["per_session", "per_day", "min_gap"], errs)?;
    let before = errs.error_count();
    let b = Budget {
        per_session: o.count("per_session", 1_000, errs),
        per_day: windowed(&o, "per_day", errs),
        min_gap: o.duration("min_gap", errs),
    };
    (errs.error_count() == before).then_some(b)
}
