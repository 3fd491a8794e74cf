//! Trigger and audience rules: the JSON rule language, its parser and its evaluator.
//!
//! A rule is a one-key object: `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}`,
//! `{"event": ...}`, `{"count": ...}`, `{"sequence": ...}`, `{"time_on_page": "30s"}`,
//! `{"page": {"path_prefix": "/products"}}`, `{"visitor": "returning"}`, … (see
//! `ARCHITECTURE.md` for the full table). Triggers and audiences share the language;
//! evaluation is a pure function of the visitor [`Ctx`], and a failed check names the rule
//! that failed by its JSON path, so `explain` can say *why not*.

use super::assign::stable_hash;
use super::event::Event;
use super::json::{self, Value};
use super::profile::{Consent, Profile, Track};
use super::schema::{
    read_count, read_duration, read_enum, read_num, read_str, text, ErrorKind, Errors, Obj, Path,
};
use super::Millis;

/// A comparison on one value; all listed operators must hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Pred(pub Vec<Op>);

/// One comparison operator.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Equal (numbers and numeric strings compare as numbers).
    Eq(Value),
    /// Not equal; true when the value is absent.
    Neq(Value),
    /// Less than.
    Lt(f64),
    /// Less than or equal.
    Lte(f64),
    /// Greater than.
    Gt(f64),
    /// Greater than or equal.
    Gte(f64),
    /// Equal to one of.
    In(Vec<Value>),
    /// Substring of a string, or element of an array.
    Contains(String),
    /// Glob match (`*` any run, `?` one character).
    Glob(String),
    /// Present (`true`) or absent (`false`).
    Exists(bool),
}

const OPS: &[&str] = &["eq", "neq", "lt", "lte", "gt", "gte", "in", "contains", "glob", "exists"];

/// Which past events a count or sequence looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct EventMatch {
    /// Event name.
    pub name: String,
    /// Property predicates, all of which must hold.
    pub props: Vec<(String, Pred)>,
}

impl EventMatch {
    /// Whether `e` is such an event.
    pub fn matches(&self, e: &Event) -> bool {
        e.name == self.name && self.props.iter().all(|(k, p)| p.holds(e.prop(k)))
    }
}

/// A count's window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// The current session.
    Session,
    /// The last N milliseconds.
    Last(Millis),
    /// All time.
    Ever,
}

/// Something the profile must remember for counts and sequences: matching events, and
/// optionally per value of one property.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackSpec {
    /// Stable key in the profile (a hash of the match and `same`).
    pub key: u64,
    /// Which events count.
    pub matcher: EventMatch,
    /// Count per value of this property.
    pub same: Option<String>,
    /// How many recent timestamps to keep.
    pub keep: usize,
}

/// A page rule; every given part must hold.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PageRule {
    /// Glob over the full URL.
    pub url: Option<String>,
    /// Glob over the path.
    pub path: Option<String>,
    /// Path prefix.
    pub path_prefix: Option<String>,
    /// Page type declared by the shop.
    pub page_type: Option<String>,
}

/// A parsed rule with its JSON path.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Where the rule sits in the campaign document.
    pub path: String,
    /// What it checks.
    pub kind: RuleKind,
}

/// What a rule checks.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleKind {
    /// Every child holds.
    All(Vec<Rule>),
    /// At least one child holds.
    Any(Vec<Rule>),
    /// The child does not hold.
    Not(Box<Rule>),
    /// The current event is such an event.
    Event(EventMatch),
    /// At least `at_least` tracked events within `within`; with `same`, for the current
    /// event's value of that property.
    Count {
        /// Profile key of the track.
        track: u64,
        /// The tracked property, if counting per value.
        same: Option<String>,
        /// Threshold.
        at_least: u32,
        /// Window.
        within: Window,
    },
    /// The current event matches `then`, and a `first` event happened at most `within` ago.
    Then {
        /// Track key of the first event.
        first: u64,
        /// The first event (to tell whether the current event is one).
        first_match: EventMatch,
        /// Track key of the second event.
        then_key: u64,
        /// The second event.
        then: EventMatch,
        /// Maximum gap.
        within: Millis,
    },
    /// A `first` event happened at least `within` ago and no `then` event since.
    ThenNot {
        /// Track key of the first event.
        first: u64,
        /// Track key of the event that must not follow.
        then_key: u64,
        /// How long to wait.
        within: Millis,
    },
    /// Time on the current page at least this long.
    TimeOnPage(Millis),
    /// Session at least this long.
    SessionDuration(Millis),
    /// No activity for at least this long.
    Idle(Millis),
    /// Scrolled at least this percentage of the current page.
    Scroll(f64),
    /// The current event is an exit intent.
    ExitIntent,
    /// The current event is a click on this selector.
    Click(String),
    /// The current page matches.
    Page(PageRule),
    /// New (`true`) or returning (`false`) visitor.
    NewVisitor(bool),
    /// A number about the visitor.
    Metric(Metric, Pred),
    /// A string about the visitor.
    Attr(Attr, Pred),
    /// A trait from `identify`.
    Trait(String, Pred),
    /// A segment pushed by the site.
    Segment(String),
    /// The consent state.
    Consent(Consent),
}

/// Numeric visitor figures usable in audiences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Sessions so far, this one included.
    Visits,
    /// Whole days since the previous session ended.
    DaysSinceLastVisit,
    /// Completed orders.
    Purchases,
    /// Total spend.
    Spend,
    /// Current cart value.
    CartValue,
    /// Items in the cart.
    CartItems,
    /// Page views this session.
    SessionPageViews,
}

/// String visitor attributes usable in audiences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attr {
    /// `utm_source` of the session.
    UtmSource,
    /// `utm_medium` of the session.
    UtmMedium,
    /// `utm_campaign` of the session.
    UtmCampaign,
    /// Referrer of the session's landing page.
    Referrer,
    /// Device class.
    Device,
    /// Language (`"ko"` also matches `"ko-KR"`).
    Language,
}

/// Everything a rule may look at, borrowed for one evaluation.
pub struct Ctx<'a> {
    /// The visitor.
    pub profile: &'a Profile,
    /// The event being decided on (`None` on a timer tick).
    pub event: Option<&'a Event>,
    /// The current time.
    pub now: Millis,
    /// The consent state.
    pub consent: Consent,
}

impl Pred {
    /// Whether the predicate holds for `v` (`None` = absent).
    pub fn holds(&self, v: Option<&Value>) -> bool {
        self.0.iter().all(|op| op.holds(v))
    }
}

fn as_num(v: &Value) -> Option<f64> {
    match v {
        Value::Num(n) => Some(*n),
        Value::Str(s) => json::parse_number(s),
        _ => None,
    }
}

fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(_), Value::Str(_)) | (Value::Str(_), Value::Num(_)) => {
            matches!((as_num(a), as_num(b)), (Some(x), Some(y)) if x == y)
        }
        _ => a == b,
    }
}

impl Op {
    /// Appends a canonical text form (name and JSON operand), used for stable track keys.
    ///
    /// The text is hashed into keys that profiles persist, so it must never change: the
    /// operand is written exactly as `json::write` writes it.
    fn canon(&self, out: &mut String) {
        match self {
            Op::Eq(v) | Op::Neq(v) => {
                out.push_str(if matches!(self, Op::Eq(_)) { "eq" } else { "neq" });
                json::write(out, v);
            }
            Op::Lt(n) | Op::Lte(n) | Op::Gt(n) | Op::Gte(n) => {
                out.push_str(match self {
                    Op::Lt(_) => "lt",
                    Op::Lte(_) => "lte",
                    Op::Gt(_) => "gt",
                    _ => "gte",
                });
                json::write_num(out, *n);
            }
            Op::In(vs) => {
                out.push_str("in[");
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json::write(out, v);
                }
                out.push(']');
            }
            Op::Contains(s) | Op::Glob(s) => {
                out.push_str(if matches!(self, Op::Glob(_)) { "glob" } else { "contains" });
                json::write_str(out, s);
            }
            Op::Exists(b) => out.push_str(if *b { "existstrue" } else { "existsfalse" }),
        }
    }

    /// Lowercases string operands (for values compared without case).
    fn lowercase(&mut self) {
        let lower = |v: &mut Value| {
            if let Value::Str(s) = v {
                s.make_ascii_lowercase();
            }
        };
        match self {
            Op::Eq(v) | Op::Neq(v) => lower(v),
            Op::In(vs) => vs.iter_mut().for_each(lower),
            Op::Contains(s) | Op::Glob(s) => s.make_ascii_lowercase(),
            _ => {}
        }
    }

    /// [`Op::holds`] for text that is not (yet) a [`Value`], without allocating one.
    fn holds_text(&self, v: Option<&str>) -> bool {
        let text_eq = |s: &str, x: &Value| match x {
            Value::Str(t) => t == s,
            Value::Num(n) => json::parse_number(s) == Some(*n),
            _ => false,
        };
        let num = |f: &dyn Fn(f64) -> bool| v.and_then(json::parse_number).is_some_and(f);
        match self {
            Op::Exists(want) => v.is_some() == *want,
            Op::Neq(x) => !v.is_some_and(|s| text_eq(s, x)),
            Op::Eq(x) => v.is_some_and(|s| text_eq(s, x)),
            Op::In(xs) => v.is_some_and(|s| xs.iter().any(|x| text_eq(s, x))),
            Op::Lt(x) => num(&|n| n < *x),
            Op::Lte(x) => num(&|n| n <= *x),
            Op::Gt(x) => num(&|n| n > *x),
            Op::Gte(x) => num(&|n| n >= *x),
            Op::Contains(c) => v.is_some_and(|t| json::find(t, c).is_some()),
            Op::Glob(g) => v.is_some_and(|t| glob(g, t)),
        }
    }

    fn holds(&self, v: Option<&Value>) -> bool {
        if let Some(Value::Str(s)) = v {
            return self.holds_text(Some(s));
        }
        let num = |f: &dyn Fn(f64) -> bool| v.and_then(as_num).is_some_and(f);
        match self {
            Op::Exists(want) => v.is_some_and(|v| *v != Value::Null) == *want,
            Op::Neq(x) => !v.is_some_and(|v| loose_eq(v, x)),
            Op::Eq(x) => v.is_some_and(|v| loose_eq(v, x)),
            Op::In(xs) => v.is_some_and(|v| xs.iter().any(|x| loose_eq(v, x))),
            Op::Lt(x) => num(&|n| n < *x),
            Op::Lte(x) => num(&|n| n <= *x),
            Op::Gt(x) => num(&|n| n > *x),
            Op::Gte(x) => num(&|n| n >= *x),
            Op::Contains(s) => match v {
                Some(Value::Str(t)) => json::find(t, s).is_some(),
                Some(Value::Arr(items)) => items.iter().any(|i| i.as_str() == Some(s)),
                _ => false,
            },
            Op::Glob(g) => v.and_then(Value::as_str).is_some_and(|t| glob(g, t)),
        }
    }
}

/// Glob match: `*` matches any run of characters, `?` exactly one, everything else itself.
///
/// ```
/// use nudge::engine::rule::glob;
/// assert!(glob("/products/*", "/products/shoes/1"));
/// assert!(glob("*.kr/*", "shop.co.kr/sale"));
/// assert!(!glob("/cart?", "/cart"));
/// ```
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

impl Rule {
    /// Checks the rule; on failure returns the innermost rule that decided it.
    pub fn check<'r>(&'r self, cx: &Ctx<'_>) -> Result<(), &'r Rule> {
        match &self.kind {
            RuleKind::All(rules) => rules.iter().try_for_each(|r| r.check(cx)),
            RuleKind::Any(rules) => {
                if rules.iter().any(|r| r.check(cx).is_ok()) {
                    Ok(())
                } else {
                    Err(self)
                }
            }
            RuleKind::Not(r) => match r.check(cx) {
                Ok(()) => Err(self),
                Err(_) => Ok(()),
            },
            _ => {
                if self.leaf(cx) {
                    Ok(())
                } else {
                    Err(self)
                }
            }
        }
    }

    /// Whether the rule holds.
    pub fn holds(&self, cx: &Ctx<'_>) -> bool {
        self.check(cx).is_ok()
    }

    fn leaf(&self, cx: &Ctx<'_>) -> bool {
        let p = cx.profile;
        match &self.kind {
            RuleKind::All(_) | RuleKind::Any(_) | RuleKind::Not(_) => self.holds(cx),
            RuleKind::Event(m) => cx.event.is_some_and(|e| m.matches(e)),
            RuleKind::Count { track, same, at_least, within } => {
                let Some(t) = p.tracks.get(track) else { return *at_least == 0 };
                let counter = match same {
                    None => Some(&t.all),
                    Some(prop) => {
                        let Some(value) = cx.event.and_then(|e| e.prop(prop)) else {
                            return false;
                        };
                        t.by_value.iter().find(|(k, _)| Track::is_key_of(k, value)).map(|(_, c)| c)
                    }
                };
                let Some(c) = counter else { return *at_least == 0 };
                let since = match within {
                    Window::Ever => return c.total >= u64::from(*at_least),
                    Window::Session => p.session.started,
                    Window::Last(d) => cx.now.minus(*d),
                };
                c.recent.iter().filter(|ts| **ts >= since).count() >= *at_least as usize
            }
            RuleKind::Then { first, first_match, then, within, .. } => {
                let Some(e) = cx.event.filter(|e| then.matches(e)) else { return false };
                let Some(a) = p.tracks.get(first) else { return false };
                // When the current event also counts as `first`, look at the one before it.
                let last_first = if first_match.matches(e) { a.prev } else { a.all.last() };
                last_first.is_some_and(|ta| e.ts.since(ta) <= *within)
            }
            RuleKind::ThenNot { first, then_key, within } => {
                let Some(ta) = p.tracks.get(first).and_then(|a| a.all.last()) else { return false };
                let followed =
                    p.tracks.get(then_key).and_then(|b| b.all.last()).is_some_and(|tb| tb >= ta);
                !followed && cx.now.since(ta) >= *within
            }
            // Without a page view there is no page to have spent time on.
            RuleKind::TimeOnPage(d) => p.page.view > 0 && cx.now.since(p.page.started) >= *d,
            RuleKind::SessionDuration(d) => cx.now.since(p.session.started) >= *d,
            RuleKind::Idle(d) => cx.now.since(p.page.last_activity) >= *d,
            RuleKind::Scroll(pct) => p.page.max_scroll >= *pct,
            RuleKind::ExitIntent => {
                cx.event.is_some_and(|e| e.name == super::event::names::EXIT_INTENT)
            }
            RuleKind::Click(sel) => cx.event.is_some_and(|e| {
                e.name == super::event::names::ELEMENT_CLICKED
                    && e.prop("selector").and_then(Value::as_str) == Some(sel)
            }),
            RuleKind::Page(r) => {
                let pg = &p.page.context;
                r.url.as_ref().is_none_or(|g| glob(g, &pg.url))
                    && r.path.as_ref().is_none_or(|g| glob(g, &pg.path))
                    && r.path_prefix.as_ref().is_none_or(|pre| pg.path.starts_with(pre.as_str()))
                    && r.page_type.as_ref().is_none_or(|t| pg.page_type.as_deref() == Some(t))
            }
            RuleKind::NewVisitor(new) => p.is_new() == *new,
            RuleKind::Metric(m, pred) => {
                let v = match m {
                    Metric::Visits => f64::from(p.sessions),
                    Metric::DaysSinceLastVisit => match p.previous_seen {
                        Some(prev) => (p.session.started.since(prev).0 / Millis::DAY.0) as f64,
                        None => return false,
                    },
                    Metric::Purchases => f64::from(p.purchases),
                    Metric::Spend => p.spend,
                    Metric::CartValue => p.cart.value(),
                    Metric::CartItems => f64::from(p.cart.quantity()),
                    Metric::SessionPageViews => f64::from(p.session.page_views),
                };
                pred.holds(Some(&Value::Num(v)))
            }
            RuleKind::Attr(a, pred) => {
                // Borrowed text all the way: audiences are checked for every campaign on
                // every event, and an allocation here costs more than the comparison.
                let s = &p.session;
                let v = match a {
                    Attr::UtmSource => s.utm.source.as_deref(),
                    Attr::UtmMedium => s.utm.medium.as_deref(),
                    Attr::UtmCampaign => s.utm.campaign.as_deref(),
                    Attr::Referrer => Some(s.referrer.as_str()).filter(|r| !r.is_empty()),
                    Attr::Device => Some(p.page.context.device.as_str()),
                    Attr::Language => {
                        // Stored lowercase by `Profile::record`.
                        let lang = p.page.context.language.as_str();
                        if lang.is_empty() {
                            None
                        } else {
                            // "ko" targets every Korean locale: try the full tag, then the primary subtag.
                            // A negation must hold for both, or {"neq": "ko"} would admit "ko-KR".
                            let primary = lang.split('-').next().unwrap_or_default();
                            let tags = [lang, primary];
                            return pred.0.iter().all(|op| match op {
                                Op::Neq(_) => tags.iter().all(|t| op.holds_text(Some(t))),
                                _ => tags.iter().any(|t| op.holds_text(Some(t))),
                            });
                        }
                    }
                };
                pred.0.iter().all(|op| op.holds_text(v))
            }
            RuleKind::Trait(k, pred) => {
                pred.holds(p.traits.iter().find(|(t, _)| t == k).map(|(_, v)| v))
            }
            RuleKind::Segment(s) => p.segments.iter().any(|x| x == s),
            RuleKind::Consent(c) => cx.consent == *c,
        }
    }

    /// Every selector the rule clicks on (the web shell listens for these).
    pub fn selectors<'r>(&'r self, out: &mut Vec<&'r str>) {
        match &self.kind {
            RuleKind::All(rs) | RuleKind::Any(rs) => rs.iter().for_each(|r| r.selectors(out)),
            RuleKind::Not(r) => r.selectors(out),
            RuleKind::Click(s) => out.push(s),
            _ => {}
        }
    }

    /// The [`stable_hash`]es of the event names the current event must have for the rule
    /// to hold, if it is gated by the current event at all. `decide` skips a gated campaign
    /// with one integer compare.
    pub fn gate(&self) -> Option<Vec<u64>> {
        let one = |name: &str| Some(vec![stable_hash(name.as_bytes())]);
        match &self.kind {
            RuleKind::Event(m) => one(&m.name),
            RuleKind::Then { then, .. } => one(&then.name),
            RuleKind::ExitIntent => one(super::event::names::EXIT_INTENT),
            RuleKind::Click(_) => one(super::event::names::ELEMENT_CLICKED),
            RuleKind::All(rs) => rs.iter().filter_map(Rule::gate).min_by_key(Vec::len),
            RuleKind::Any(rs) => {
                let mut all = Vec::new();
                for r in rs {
                    all.extend(r.gate()?);
                }
                Some(all)
            }
            _ => None,
        }
    }

    /// Whether the rule can change value with time alone (so `tick` must look at it).
    pub fn timed(&self) -> bool {
        match &self.kind {
            RuleKind::All(rs) | RuleKind::Any(rs) => rs.iter().any(Rule::timed),
            RuleKind::Not(r) => r.timed(),
            RuleKind::TimeOnPage(_)
            | RuleKind::SessionDuration(_)
            | RuleKind::Idle(_)
            | RuleKind::ThenNot { .. } => true,
            RuleKind::Count { within, .. } => *within != Window::Ever,
            _ => false,
        }
    }
}

/// Parses rules, collecting what they need the profile to track.
pub struct RuleReader<'e> {
    /// Where errors go.
    pub errs: &'e mut Errors,
    /// Tracks needed so far (deduplicated by key).
    pub tracks: Vec<TrackSpec>,
}

const RULES: &[&str] = &[
    "all",
    "any",
    "not",
    "event",
    "count",
    "sequence",
    "time_on_page",
    "session_duration",
    "idle",
    "scroll",
    "exit_intent",
    "click",
    "page",
    "visitor",
    "visits",
    "days_since_last_visit",
    "purchases",
    "spend",
    "cart_value",
    "cart_items",
    "session_page_views",
    "utm",
    "referrer",
    "device",
    "language",
    "trait",
    "segment",
    "consent",
];

/// Most timestamps a windowed count may need (bounds the profile).
pub const MAX_WINDOWED_COUNT: u32 = 50;

impl RuleReader<'_> {
    /// Reads one rule at `path`.
    pub fn rule(&mut self, v: &Value, path: &Path<'_>) -> Option<Rule> {
        let o = Obj::open(v, path, RULES, self.errs)?;
        let Some((key, inner)) = o.only() else {
            let found = if o.fields().is_empty() {
                "an empty object".to_string()
            } else {
                let mut n = json::num_string(o.fields().len() as f64);
                n.push_str(" keys");
                n
            };
            self.errs.push(
                path,
                ErrorKind::Expected {
                    expected: "a rule object with exactly one key".into(),
                    found,
                },
            );
            return None;
        };
        if !RULES.iter().any(|r| json::same(r, key)) {
            return None; // Already reported as unknown, with a suggestion.
        }
        // Rendered once: it is this rule's path, and the prefix its children's paths copy
        // (rendering each from the root was about 3% of campaign loading).
        let rendered = path.key(key).render();
        let p = Path::Text(&rendered);
        let errs = &mut *self.errs;
        let kind = match key {
            "all" | "any" => {
                let Value::Arr(items) = inner else {
                    errs.expected(&p, "an array of rules", inner);
                    return None;
                };
                if items.is_empty() {
                    errs.push(&p, ErrorKind::Invalid("needs at least one rule".into()));
                    return None;
                }
                let before = self.errs.error_count();
                let rules: Vec<Rule> =
                    items.iter().enumerate().filter_map(|(i, r)| self.rule(r, &p.at(i))).collect();
                if self.errs.error_count() != before {
                    return None;
                }
                if key == "all" {
                    RuleKind::All(rules)
                } else {
                    RuleKind::Any(rules)
                }
            }
            "not" => RuleKind::Not(Box::new(self.rule(inner, &p)?)),
            "event" => RuleKind::Event(self.event_match(inner, &p)?),
            "count" => self.count(inner, &p)?,
            "sequence" => self.sequence(inner, &p)?,
            "time_on_page" => RuleKind::TimeOnPage(read_duration(inner, &p, errs)?),
            "session_duration" => RuleKind::SessionDuration(read_duration(inner, &p, errs)?),
            "idle" => RuleKind::Idle(read_duration(inner, &p, errs)?),
            "scroll" => RuleKind::Scroll(read_num(inner, &p, 0.0, 100.0, errs)?),
            "exit_intent" => match inner {
                Value::Bool(true) => RuleKind::ExitIntent,
                other => {
                    errs.expected(&p, "true", other);
                    return None;
                }
            },
            "click" => RuleKind::Click(read_str(inner, &p, errs)?),
            "page" => RuleKind::Page(page_rule(inner, &p, errs)?),
            "visitor" => {
                RuleKind::NewVisitor(read_enum(inner, &p, &["new", "returning"], errs)? == "new")
            }
            "visits"
            | "days_since_last_visit"
            | "purchases"
            | "spend"
            | "cart_value"
            | "cart_items"
            | "session_page_views" => {
                let m = match key {
                    "visits" => Metric::Visits,
                    "days_since_last_visit" => Metric::DaysSinceLastVisit,
                    "purchases" => Metric::Purchases,
                    "spend" => Metric::Spend,
                    "cart_value" => Metric::CartValue,
                    "cart_items" => Metric::CartItems,
                    _ => Metric::SessionPageViews,
                };
                RuleKind::Metric(m, pred(inner, &p, errs)?)
            }
            "utm" => {
                let u = Obj::open(inner, &p, &["source", "medium", "campaign"], errs)?;
                let mut parts = Vec::new();
                for (k, v) in u.fields() {
                    let attr = match k.as_str() {
                        "source" => Attr::UtmSource,
                        "medium" => Attr::UtmMedium,
                        "campaign" => Attr::UtmCampaign,
                        _ => continue,
                    };
                    let path = p.key(k);
                    parts.push(Rule {
                        kind: RuleKind::Attr(attr, pred(v, &path, errs)?),
                        path: path.render(),
                    });
                }
                if parts.is_empty() {
                    errs.push(&p, ErrorKind::Invalid("needs source, medium or campaign".into()));
                    return None;
                }
                RuleKind::All(parts)
            }
            "referrer" => RuleKind::Attr(Attr::Referrer, pred(inner, &p, errs)?),
            "device" => {
                let pr = pred(inner, &p, errs)?;
                for op in &pr.0 {
                    if let Op::Eq(Value::Str(s)) | Op::Neq(Value::Str(s)) = op {
                        if !["desktop", "mobile", "tablet"].contains(&s.as_str()) {
                            errs.expected(
                                &p,
                                "\"desktop\", \"mobile\" or \"tablet\"",
                                &Value::Str(s.clone()),
                            );
                            return None;
                        }
                    }
                }
                RuleKind::Attr(Attr::Device, pr)
            }
            "language" => {
                // Tags compare without case ("ko-KR" = "ko-kr"); the evaluator lowercases the page's.
                let mut pr = pred(inner, &p, errs)?;
                pr.0.iter_mut().for_each(Op::lowercase);
                RuleKind::Attr(Attr::Language, pr)
            }
            "trait" => {
                let Value::Obj(fields) = inner else {
                    errs.expected(&p, "an object of trait predicates", inner);
                    return None;
                };
                let mut parts = Vec::new();
                for (k, v) in fields {
                    let path = p.key(k);
                    parts.push(Rule {
                        kind: RuleKind::Trait(k.as_str().into(), pred(v, &path, errs)?),
                        path: path.render(),
                    });
                }
                if parts.is_empty() {
                    errs.push(&p, ErrorKind::Invalid("needs at least one trait".into()));
                    return None;
                }
                RuleKind::All(parts)
            }
            "segment" => RuleKind::Segment(read_str(inner, &p, errs)?),
            _ => RuleKind::Consent(
                match read_enum(inner, &p, &["granted", "denied", "pending"], errs)? {
                    "granted" => Consent::Granted,
                    "denied" => Consent::Denied,
                    _ => Consent::Pending,
                },
            ),
        };
        Some(Rule { path: rendered, kind })
    }

    /// Reads an event match: a name, or `{"name": …, "where": {…}}`.
    pub fn event_match(&mut self, v: &Value, path: &Path<'_>) -> Option<EventMatch> {
        if let Value::Str(_) = v {
            return Some(EventMatch { name: read_str(v, path, self.errs)?, props: Vec::new() });
        }
        let o = Obj::open(v, path, &["name", "where"], self.errs)?;
        let name = o.req("name", self.errs).and_then(|(v, p)| read_str(v, &p, self.errs));
        let mut props = Vec::new();
        let before = self.errs.error_count();
        if let Some((w, wp)) = o.get("where") {
            match w {
                Value::Obj(fields) => {
                    for (k, pv) in fields {
                        if let Some(pr) = pred(pv, &wp.key(k), self.errs) {
                            props.push((k.as_str().into(), pr));
                        }
                    }
                }
                other => self.errs.expected(&wp, "an object of property predicates", other),
            }
        }
        (self.errs.error_count() == before).then_some(EventMatch { name: name?, props })
    }

    fn track(&mut self, m: &EventMatch, same: Option<&str>, keep: usize) -> u64 {
        let mut canon = m.name.clone();
        for (k, p) in &m.props {
            canon.push('\u{1}');
            canon.push_str(k);
            for op in &p.0 {
                canon.push('\u{2}');
                op.canon(&mut canon);
            }
        }
        if let Some(s) = same {
            canon.push('\u{3}');
            canon.push_str(s);
        }
        let key = stable_hash(canon.as_bytes());
        match self.tracks.iter_mut().find(|t| t.key == key) {
            Some(t) => t.keep = t.keep.max(keep),
            None => self.tracks.push(TrackSpec {
                key,
                matcher: m.clone(),
                same: same.map(str::to_string),
                keep,
            }),
        }
        key
    }

    fn count(&mut self, v: &Value, path: &Path<'_>) -> Option<RuleKind> {
        let o = Obj::open(v, path, &["event", "at_least", "within", "same"], self.errs)?;
        let before = self.errs.error_count();
        let m = o.req("event", self.errs).and_then(|(v, p)| self.event_match(v, &p));
        let at_least =
            o.req("at_least", self.errs).and_then(|(v, p)| read_count(v, &p, 1_000_000, self.errs));
        let same = o.str("same", self.errs);
        let within = match o.get("within") {
            None => Window::Ever,
            Some((Value::Str(s), _)) if s == "session" => Window::Session,
            Some((Value::Str(s), _)) if s == "ever" => Window::Ever,
            Some((v, p)) => match read_duration(v, &p, self.errs) {
                Some(Millis(0)) => {
                    self.errs.push(
                        &p,
                        ErrorKind::Invalid("a count window must be longer than 0".into()),
                    );
                    Window::Ever
                }
                Some(d) => Window::Last(d),
                None => Window::Ever,
            },
        };
        if let (Some(n), Window::Session | Window::Last(_)) = (at_least, within) {
            if n > MAX_WINDOWED_COUNT {
                let found = json::num_string(f64::from(n));
                self.errs.push(
                    &path.key("at_least"),
                    ErrorKind::Expected {
                        expected: text(&[
                            "at most ",
                            &json::num_string(f64::from(MAX_WINDOWED_COUNT)),
                            " for a windowed count",
                        ]),
                        found,
                    },
                );
            }
        }
        if self.errs.error_count() != before {
            return None;
        }
        let (m, at_least) = (m?, at_least?);
        let keep = if within == Window::Ever { 1 } else { at_least as usize };
        let track = self.track(&m, same.as_deref(), keep);
        Some(RuleKind::Count { track, same, at_least, within })
    }

    fn sequence(&mut self, v: &Value, path: &Path<'_>) -> Option<RuleKind> {
        let o = Obj::open(v, path, &["first", "then", "then_not", "within"], self.errs)?;
        let before = self.errs.error_count();
        let first = o.req("first", self.errs).and_then(|(v, p)| self.event_match(v, &p));
        let within = o.req("within", self.errs).and_then(|(v, p)| read_duration(v, &p, self.errs));
        let then = o.get("then").and_then(|(v, p)| self.event_match(v, &p));
        let then_not = o.get("then_not").and_then(|(v, p)| self.event_match(v, &p));
        if o.get("then").is_some() == o.get("then_not").is_some() {
            self.errs.push(
                path,
                ErrorKind::Invalid("needs exactly one of \"then\" or \"then_not\"".into()),
            );
        }
        if within == Some(Millis(0)) {
            self.errs.push(&path.key("within"), ErrorKind::Invalid("must be longer than 0".into()));
        }
        if self.errs.error_count() != before {
            return None;
        }
        let (first, within) = (first?, within?);
        let first_key = self.track(&first, None, 1);
        Some(match (then, then_not) {
            (Some(then), _) => {
                let then_key = self.track(&then, None, 1);
                RuleKind::Then { first: first_key, first_match: first, then_key, then, within }
            }
            (_, Some(b)) => {
                RuleKind::ThenNot { first: first_key, then_key: self.track(&b, None, 1), within }
            }
            _ => return None,
        })
    }
}

/// A predicate: a scalar (equality), an array (one of), or an object of operators.
pub fn pred(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Pred> {
    match v {
        Value::Str(_) | Value::Num(_) | Value::Bool(_) => Some(Pred(vec![Op::Eq(v.clone())])),
        Value::Arr(items) => Some(Pred(vec![Op::In(items.clone())])),
        Value::Obj(fields) if !fields.is_empty() => {
            let o = Obj::open(v, path, OPS, errs)?;
            let before = errs.error_count();
            let mut ops = Vec::new();
            for (k, x) in o.fields() {
                let p = path.key(k);
                let num = |errs: &mut Errors| match x {
                    Value::Num(n) => Some(*n),
                    other => {
                        errs.expected(&p, "a number", other);
                        None
                    }
                };
                let op = match k.as_str() {
                    "eq" => Some(Op::Eq(x.clone())),
                    "neq" => Some(Op::Neq(x.clone())),
                    "lt" => num(errs).map(Op::Lt),
                    "lte" => num(errs).map(Op::Lte),
                    "gt" => num(errs).map(Op::Gt),
                    "gte" => num(errs).map(Op::Gte),
                    "in" => match x {
                        Value::Arr(items) => Some(Op::In(items.clone())),
                        other => {
                            errs.expected(&p, "an array", other);
                            None
                        }
                    },
                    "contains" => read_str(x, &p, errs).map(Op::Contains),
                    "glob" => read_str(x, &p, errs).map(Op::Glob),
                    "exists" => match x {
                        Value::Bool(b) => Some(Op::Exists(*b)),
                        other => {
                            errs.expected(&p, "true or false", other);
                            None
                        }
                    },
                    _ => None,
                };
                ops.extend(op);
            }
            (errs.error_count() == before).then_some(Pred(ops))
        }
        other => {
            errs.expected(
                path,
                "a value, an array of values, or an object of operators (eq, gt, in, …)",
                other,
            );
            None
        }
    }
}

fn page_rule(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<PageRule> {
    let o = Obj::open(v, path, &["url", "path", "path_prefix", "type"], errs)?;
    let before = errs.error_count();
    let r = PageRule {
        url: o.str("url", errs),
        path: o.str("path", errs),
        path_prefix: o.str("path_prefix", errs),
        page_type: o.str("type", errs),
    };
    if r == PageRule::default() && errs.error_count() == before {
        errs.push(path, ErrorKind::Invalid("needs url, path, path_prefix or type".into()));
    }
    if let Some(pre) = &r.path_prefix {
        if !pre.starts_with('/') {
            errs.expected(
                &path.key("path_prefix"),
                "a path starting with \"/\"",
                &Value::Str(pre.clone()),
            );
        }
    }
    (errs.error_count() == before).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::{Op, Value};
    use crate::engine::json;

    /// Track keys hash `canon`'s text and profiles persist them: the text must stay exactly
    /// the operator's name followed by its operand as JSON.
    #[test]
    fn canon_is_name_then_json() {
        let s = |x: &str| Value::Str(x.into());
        let cases = [
            (Op::Eq(s("a\"b")), "eq", s("a\"b")),
            (Op::Neq(Value::Num(2.5)), "neq", Value::Num(2.5)),
            (Op::Lt(1.0), "lt", Value::Num(1.0)),
            (Op::Lte(0.1), "lte", Value::Num(0.1)),
            (Op::Gt(-3.0), "gt", Value::Num(-3.0)),
            (Op::Gte(1e20), "gte", Value::Num(1e20)),
            (Op::In(vec![s("x"), Value::Num(1.0), Value::Bool(true)]), "in", {
                Value::Arr(vec![s("x"), Value::Num(1.0), Value::Bool(true)])
            }),
            (Op::In(Vec::new()), "in", Value::Arr(Vec::new())),
            (Op::Contains("ü".into()), "contains", s("ü")),
            (Op::Glob("/p/*".into()), "glob", s("/p/*")),
            (Op::Exists(false), "exists", Value::Bool(false)),
        ];
        for (op, name, v) in cases {
            let mut got = String::new();
            op.canon(&mut got);
            assert_eq!(got, format!("{name}{}", json::to_string(&v)));
        }
    }
}
