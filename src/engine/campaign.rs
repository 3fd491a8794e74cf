//! The campaign schema (`"schema": 1`) and loading a campaign set with validation.
//!
//! [`load`] never fails as a whole: it returns every valid campaign plus every finding,
//! each at a JSON path. One bad campaign never disables the others. Campaigns come out
//! sorted for arbitration: higher priority first, then by id.

use super::assign::stable_hash;
use super::cap::{read_budget, read_caps, Budget, Caps};
use super::content::{read_content, read_content_over, Content};
use super::json::{self, num_string, Value};
use super::rule::{EventMatch, Rule, RuleReader, TrackSpec};
use super::schedule::{read_schedule, Schedule};
use super::schema::{
    read_enum, read_num, read_str, text, CampaignError, ErrorKind, Errors, Obj, Path, Severity,
};
use super::Millis;
use std::sync::Arc;

/// The schema version this engine reads.
pub const SCHEMA: u32 = 1;
/// Most campaigns in one set.
pub const MAX_CAMPAIGNS: usize = 200;

/// Lifecycle status; only `active` campaigns are shown (previews ignore status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Being edited.
    Draft,
    /// Live.
    Active,
    /// Stopped for now.
    Paused,
    /// Retired.
    Archived,
}

/// The two places a campaign can appear; at most one campaign occupies each at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    /// A sticky bar.
    Bar,
    /// A bottom modal.
    Modal,
}

impl Slot {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Bar => "bar",
            Slot::Modal => "modal",
        }
    }
}

/// Where and how a campaign appears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// A sticky bar.
    Bar {
        /// At the top (else bottom).
        top: bool,
        /// Pushes the page content (else overlays it).
        push: bool,
    },
    /// A bottom modal (a sheet on phones, a card on desktop).
    Modal {
        /// Dims the page behind and traps focus.
        overlay: bool,
    },
}

impl Placement {
    /// The slot it occupies.
    pub fn slot(self) -> Slot {
        match self {
            Placement::Bar { .. } => Slot::Bar,
            Placement::Modal { .. } => Slot::Modal,
        }
    }
}

/// One A/B variant.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// Variant id (stable: it is what reports group by).
    pub id: String,
    /// Relative weight.
    pub weight: f64,
    /// Content (the campaign's, with the variant's overrides applied). Shared with the
    /// campaign's other variants that override nothing: loading clones no content.
    pub content: Arc<Content>,
}

/// What counts as a conversion.
#[derive(Clone, Debug, PartialEq)]
pub struct Goal {
    /// The goal event.
    pub event: EventMatch,
    /// Attribution window after an impression or hold-out.
    pub within: Millis,
    /// [`stable_hash`] of the goal event's name, to pass over other events cheaply.
    pub name_hash: u64,
}

/// A validated campaign.
#[derive(Clone, Debug, PartialEq)]
pub struct Campaign {
    /// Unique id.
    pub id: String,
    /// Name for people.
    pub name: String,
    /// Status.
    pub status: Status,
    /// Higher wins arbitration.
    pub priority: i32,
    /// Placement.
    pub placement: Placement,
    /// When to show.
    pub trigger: Rule,
    /// Who may see it.
    pub audience: Option<Rule>,
    /// Frequency caps.
    pub caps: Caps,
    /// When it may run.
    pub schedule: Schedule,
    /// Variants (at least one; a campaign without `variants` has one called `default`).
    pub variants: Vec<Variant>,
    /// Hold-out share in [0, 1).
    pub control: f64,
    /// Assignment salt (change it to re-randomise).
    pub salt: String,
    /// Conversion goal.
    pub goal: Option<Goal>,
    /// JSON path of the campaign in its document (`campaigns[3]`).
    pub path: String,
    /// Whether the trigger or audience can become true with time alone.
    pub timed: bool,
    /// Hashes ([`stable_hash`]) of the event names the trigger needs, if it needs one.
    pub gate: Option<Vec<u64>>,
}

impl Campaign {
    /// The variant with this id.
    pub fn variant(&self, id: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.id == id)
    }
}

/// A loaded campaign set, ready for `decide`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CampaignSet {
    /// Valid campaigns, by priority (descending) then id.
    pub campaigns: Vec<Campaign>,
    /// Cross-campaign budget.
    pub budget: Budget,
    /// What the profile must track for the counts and sequences in these campaigns.
    pub tracks: Vec<TrackSpec>,
}

impl CampaignSet {
    /// A campaign by id.
    pub fn get(&self, id: &str) -> Option<&Campaign> {
        self.campaigns.iter().find(|c| c.id == id)
    }

    /// CSS selectors the web shell must watch for clicks.
    pub fn selectors(&self) -> Vec<&str> {
        let mut all = Vec::new();
        for c in &self.campaigns {
            c.trigger.selectors(&mut all);
        }
        // Sorted and deduplicated by insertion (a general sort costs kilobytes of wasm).
        let mut out: Vec<&str> = Vec::with_capacity(all.len());
        for s in all {
            if let Err(i) = out.binary_search(&s) {
                out.insert(i, s);
            }
        }
        out
    }
}

/// The result of loading: the good campaigns and every finding.
#[derive(Debug, Default)]
pub struct Loaded {
    /// What can run.
    pub set: CampaignSet,
    /// Errors (campaign rejected) and warnings (campaign kept), in document order.
    pub errors: Vec<CampaignError>,
}

impl Loaded {
    /// Only the errors (not warnings).
    pub fn hard_errors(&self) -> impl Iterator<Item = &CampaignError> {
        self.errors.iter().filter(|e| e.severity == Severity::Error)
    }
}

const ROOT_KEYS: &[&str] = &["schema", "campaigns", "budget"];
const CAMPAIGN_KEYS: &[&str] = &[
    "id",
    "name",
    "status",
    "priority",
    "placement",
    "content",
    "trigger",
    "audience",
    "caps",
    "schedule",
    "variants",
    "control",
    "salt",
    "goal",
];

/// Loads a campaign set from JSON text.
///
/// ```
/// let doc = r#"{"schema": 1, "campaigns": [
///   {"id": "welcome", "placement": {"type": "bar"}, "content": {"headline": "Hi"},
///    "trigger": {"event": "Page Viewed"}},
///   {"id": "broken", "placement": {"type": "bar"}, "content": {"headline": "Hi"},
///    "trigger": {"count": {"event": "Product Viewed", "at_least": 3, "wihtin": "7d"}}}]}"#;
/// let loaded = nudge::engine::campaign::load(doc);
/// assert_eq!(loaded.set.campaigns.len(), 1);
/// assert_eq!(loaded.errors[0].path, "campaigns[1].trigger.count.wihtin");
/// ```
pub fn load(text: &str) -> Loaded {
    match json::parse(text) {
        Ok(v) => load_value(v),
        Err(e) => Loaded {
            set: CampaignSet::default(),
            errors: vec![CampaignError {
                path: "$".into(),
                kind: ErrorKind::Json(e),
                severity: Severity::Error,
            }],
        },
    }
}

/// Loads a campaign set from a parsed document: `{"schema": 1, "campaigns": [...], "budget": {...}}`.
///
/// Each campaign's part of the document is dropped as soon as it is read, so the document
/// and the set it becomes are never both whole in memory: a page's wasm memory peaks here.
pub fn load_value(mut v: Value) -> Loaded {
    let mut errs = Errors::default();
    let mut set = CampaignSet::default();
    // The campaigns leave the document first; an empty array stands in for them, so the
    // root is still checked as it was written.
    let items = match &mut v {
        Value::Obj(fields) => match fields.iter_mut().find(|(k, _)| json::same(k, "campaigns")) {
            Some((_, Value::Arr(items))) => std::mem::take(items),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let Some(root) = Obj::open(&v, &Path::Root, ROOT_KEYS, &mut errs) else {
        return Loaded { set, errors: errs.list };
    };
    match root.req("schema", &mut errs) {
        Some((Value::Num(n), _)) if *n == f64::from(SCHEMA) => {}
        Some((other, p)) => errs.expected(&p, "1", other),
        None => {}
    }
    if let Some(b) = root.get("budget").and_then(|(v, p)| read_budget(v, &p, &mut errs)) {
        set.budget = b;
    }
    match root.req("campaigns", &mut errs) {
        Some((Value::Arr(_), _)) | None => {}
        Some((other, p)) => errs.expected(&p, "an array of campaigns", other),
    }
    if items.len() > MAX_CAMPAIGNS {
        errs.push(
            &Path::Root.key("campaigns"),
            ErrorKind::Invalid(text(&[
                "at most ",
                &num_string(MAX_CAMPAIGNS as f64),
                " campaigns; the rest are ignored",
            ])),
        );
    }
    let mut reader = RuleReader { errs: &mut errs, tracks: Vec::new() };
    for (i, item) in items.into_iter().enumerate().take(MAX_CAMPAIGNS) {
        let list = Path::Root.key("campaigns");
        let path = list.at(i);
        let tracks_before = reader.tracks.len();
        let before = reader.errs.error_count();
        let campaign = read_campaign(&item, &path, &mut reader);
        let bad = reader.errs.error_count() != before;
        match campaign {
            Some(c) if !bad => {
                if set.campaigns.iter().any(|o| o.id == c.id) {
                    reader.errs.push(
                        &path.key("id"),
                        ErrorKind::Invalid(text(&["duplicate campaign id \"", &c.id, "\""])),
                    );
                    reader.tracks.truncate(tracks_before);
                } else {
                    // Kept in arbitration order as they come (ids are unique, so the order
                    // is total; inserting avoids a general sort's kilobytes of wasm).
                    let at = set.campaigns.partition_point(|o| {
                        o.priority > c.priority || (o.priority == c.priority && o.id < c.id)
                    });
                    set.campaigns.insert(at, c);
                }
            }
            _ => reader.tracks.truncate(tracks_before),
        }
    }
    set.tracks = reader.tracks;
    Loaded { set, errors: errs.list }
}

fn read_id(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<String> {
    let id = read_str(v, path, errs)?;
    let ok = id.len() <= 64
        && id.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    if !ok {
        errs.expected(path, "an id of at most 64 letters, digits, '-', '_' or '.'", v);
        return None;
    }
    Some(id)
}

fn read_placement(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Placement> {
    let o = Obj::open(v, path, &["type", "position", "mode", "overlay"], errs)?;
    let kind = o.req("type", errs).and_then(|(v, p)| read_enum(v, &p, &["bar", "modal"], errs))?;
    let before = errs.error_count();
    let placement = if kind == "bar" {
        if let Some((_, p)) = o.get("overlay") {
            errs.push(
                &p,
                ErrorKind::Invalid("\"overlay\" is for modals; bars use \"mode\"".into()),
            );
        }
        let top = o.get("position").and_then(|(v, p)| read_enum(v, &p, &["top", "bottom"], errs))
            != Some("bottom");
        let push = o.get("mode").and_then(|(v, p)| read_enum(v, &p, &["push", "overlay"], errs))
            != Some("overlay");
        Placement::Bar { top, push }
    } else {
        for key in ["position", "mode"] {
            if let Some((_, p)) = o.get(key) {
                errs.push(
                    &p,
                    ErrorKind::Invalid(text(&[
                        "\"",
                        key,
                        "\" is for bars; modals use \"overlay\"",
                    ])),
                );
            }
        }
        Placement::Modal { overlay: o.bool("overlay", errs).unwrap_or(false) }
    };
    (errs.error_count() == before).then_some(placement)
}

fn read_campaign(v: &Value, path: &Path<'_>, reader: &mut RuleReader<'_>) -> Option<Campaign> {
    let o = Obj::open(v, path, CAMPAIGN_KEYS, reader.errs)?;
    let id = o.req("id", reader.errs).and_then(|(v, p)| read_id(v, &p, reader.errs));
    let name = o.str("name", reader.errs);
    let status = match o.get("status") {
        None => Status::Active,
        Some((v, p)) => {
            match read_enum(v, &p, &["draft", "active", "paused", "archived"], reader.errs) {
                Some("draft") => Status::Draft,
                Some("paused") => Status::Paused,
                Some("archived") => Status::Archived,
                _ => Status::Active,
            }
        }
    };
    let priority = o.get("priority").map_or(Some(0), |(v, p)| match v {
        Value::Num(n) if n.fract() == 0.0 && n.abs() <= 1_000_000.0 => Some(*n as i32),
        other => {
            reader.errs.expected(&p, "a whole number from -1000000 to 1000000", other);
            None
        }
    });
    let placement =
        o.req("placement", reader.errs).and_then(|(v, p)| read_placement(v, &p, reader.errs));
    let content = o
        .req("content", reader.errs)
        .and_then(|(v, p)| read_content(v, &p, reader.errs))
        .map(Arc::new);
    let trigger = o.req("trigger", reader.errs).and_then(|(v, p)| reader.rule(v, &p));
    let audience = o.get("audience").and_then(|(v, p)| reader.rule(v, &p));
    let caps = o.get("caps").map_or(Some(Caps::default()), |(v, p)| read_caps(v, &p, reader.errs));
    let schedule = o
        .get("schedule")
        .map_or(Some(Schedule::default()), |(v, p)| read_schedule(v, &p, reader.errs));
    let control =
        o.get("control").map_or(Some(0.0), |(v, p)| read_num(v, &p, 0.0, 0.99, reader.errs));
    let salt = o.str("salt", reader.errs).unwrap_or_default();
    let goal = o.get("goal").and_then(|(v, p)| {
        let g = Obj::open(v, &p, &["event", "within"], reader.errs)?;
        let event = g.req("event", reader.errs).and_then(|(v, ep)| reader.event_match(v, &ep));
        let within = g.duration("within", reader.errs).unwrap_or(Millis(7 * Millis::DAY.0));
        if within == Millis(0) {
            reader.errs.push(
                &p.key("within"),
                ErrorKind::Invalid("an attribution window must be longer than 0".into()),
            );
        }
        let event = event?;
        Some(Goal { name_hash: stable_hash(event.name.as_bytes()), event, within })
    });
    let variants = match (o.get("variants"), &content) {
        (None, Some(c)) => {
            Some(vec![Variant { id: "default".into(), weight: 1.0, content: Arc::clone(c) }])
        }
        (Some((v, p)), Some(base)) => read_variants(v, &p, base, reader.errs),
        _ => None,
    };
    // One match rather than a `?` per field: each early return would drop the fields
    // read so far, and each such path is code in the browser build.
    let (
        Some(id),
        Some(priority),
        Some(placement),
        Some(trigger),
        Some(caps),
        Some(schedule),
        Some(variants),
        Some(control),
    ) = (id, priority, placement, trigger, caps, schedule, variants, control)
    else {
        return None;
    };
    let timed = trigger.timed() || audience.as_ref().is_some_and(Rule::timed);
    let gate = trigger.gate();
    Some(Campaign {
        name: name.unwrap_or_else(|| id.clone()),
        id,
        status,
        priority,
        placement,
        trigger,
        audience,
        caps,
        schedule,
        variants,
        control,
        salt,
        goal,
        path: path.render(),
        timed,
        gate,
    })
}

fn read_variants(
    v: &Value,
    path: &Path<'_>,
    base: &Arc<Content>,
    errs: &mut Errors,
) -> Option<Vec<Variant>> {
    let Value::Arr(items) = v else {
        errs.expected(path, "an array of variants", v);
        return None;
    };
    if items.is_empty() {
        errs.push(
            path,
            ErrorKind::Invalid("needs at least one variant (or leave \"variants\" out)".into()),
        );
        return None;
    }
    let before = errs.error_count();
    let mut out: Vec<Variant> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.at(i);
        let Some(o) = Obj::open(item, &p, &["id", "weight", "content"], errs) else { continue };
        let id = o.req("id", errs).and_then(|(v, ip)| read_id(v, &ip, errs));
        if let Some(id) = &id {
            if id == "control" {
                errs.push(
                    &p.key("id"),
                    ErrorKind::Invalid("\"control\" is reserved for the hold-out".into()),
                );
            } else if out.iter().any(|x| x.id == *id) {
                errs.push(
                    &p.key("id"),
                    ErrorKind::Invalid(text(&["duplicate variant id \"", id, "\""])),
                );
            }
        }
        let weight = o.get("weight").map_or(Some(1.0), |(v, wp)| read_num(v, &wp, 0.0, 1e6, errs));
        let content = match o.get("content") {
            None => Some(Arc::clone(base)),
            Some((c, cp)) => read_content_over(c, &cp, errs, Some(base)).map(Arc::new),
        };
        if let (Some(id), Some(weight), Some(content)) = (id, weight, content) {
            out.push(Variant { id, weight, content });
        }
    }
    if errs.error_count() == before && out.iter().map(|v| v.weight).sum::<f64>() <= 0.0 {
        errs.push(path, ErrorKind::Invalid("variant weights sum to zero".into()));
    }
    (errs.error_count() == before).then_some(out)
}
