//! The visitor profile: what nudge remembers about one shopper, on their device.
//!
//! Sessions, page state, bounded per-event tallies, the tracks that counts and sequences
//! need, cart, purchases, traits. [`Profile::record`] folds one event in; every collection
//! is bounded, so the serialized form ([`Profile::to_json`], versioned) stays small however
//! long the visitor stays: after 10,000 events it is under 8 KB.

use super::event::{names, num_in, Event, PageContext, Utm};
use super::json::{self, Key, Value};
use super::map::Map;
use super::rule::TrackSpec;
use super::Millis;

/// Inactivity that ends a session.
pub const SESSION_TIMEOUT: Millis = Millis(30 * 60_000);
/// Most event names tallied; the least recently seen is forgotten first.
pub const MAX_EVENT_NAMES: usize = 24;
/// Most tracks kept (one per distinct count/sequence in the campaign set).
pub const MAX_TRACKS: usize = 64;
/// Most distinct property values counted per track ("per product").
pub const MAX_VALUES: usize = 16;
/// Most cart lines.
pub const MAX_CART_LINES: usize = 50;
/// Most traits and segments (trait values are cut to 64 characters).
pub const MAX_TRAITS: usize = 16;
/// The serialized form's version.
pub const PROFILE_VERSION: u32 = 1;

/// Consent to store and send data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Consent {
    /// Allowed.
    #[default]
    Granted,
    /// Refused: nothing is stored or sent.
    Denied,
    /// Not asked yet: events wait in memory.
    Pending,
}

/// How often and when, with the most recent timestamps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counter {
    /// Occurrences ever.
    pub total: u64,
    /// The most recent timestamps, oldest first, at most the track's `keep`.
    pub recent: Vec<Millis>,
}

impl Counter {
    fn bump(&mut self, ts: Millis, keep: usize) {
        self.total += 1;
        self.recent.push(ts);
        if self.recent.len() > keep.max(1) {
            let extra = self.recent.len() - keep.max(1);
            self.recent.drain(..extra);
        }
    }

    /// The latest timestamp.
    pub fn last(&self) -> Option<Millis> {
        self.recent.last().copied()
    }
}

/// What the profile remembers for one [`TrackSpec`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Track {
    /// All matching events.
    pub all: Counter,
    /// The latest matching event before the most recent one (for sequences A → A).
    pub prev: Option<Millis>,
    /// Per value of the spec's `same` property, most recently updated last.
    pub by_value: Vec<(String, Counter)>,
}

impl Track {
    /// Whether `key` is the key `v` is counted under (without building it for strings).
    pub fn is_key_of(key: &str, v: &Value) -> bool {
        match v {
            // Ids ("p12", "sku-1043") share prefixes: the last byte settles most mismatches
            // without a call.
            Value::Str(s) if s.len() <= 64 => {
                key.len() == s.len() && key.as_bytes().last() == s.as_bytes().last() && key == s
            }
            other => key == Track::value_key(other),
        }
    }

    /// The key a property value is counted under.
    pub fn value_key(v: &Value) -> String {
        match v {
            Value::Str(s) => s.chars().take(64).collect(),
            other => json::to_string(other).chars().take(64).collect(),
        }
    }
}

/// Tally of one event name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    /// Occurrences ever.
    pub count: u64,
    /// First time.
    pub first: Millis,
    /// Last time.
    pub last: Millis,
}

/// The current session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Session {
    /// When it started.
    pub started: Millis,
    /// Last event in it.
    pub last_activity: Millis,
    /// Page views in it.
    pub page_views: u32,
    /// UTM of its landing page.
    pub utm: Utm,
    /// Referrer of its landing page.
    pub referrer: String,
}

/// The current page (not persisted: a reload starts a new page view).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// Where.
    pub context: PageContext,
    /// When the page view started.
    pub started: Millis,
    /// Last activity on the page (events or `note_activity`).
    pub last_activity: Millis,
    /// Deepest scroll, percent.
    pub max_scroll: f64,
    /// Page views so far in this state's lifetime; identifies the page view.
    pub view: u64,
}

/// One cart line.
#[derive(Clone, Debug, PartialEq)]
pub struct CartLine {
    /// Product id.
    pub product_id: String,
    /// Quantity.
    pub quantity: u32,
    /// Unit price.
    pub price: f64,
}

/// The cart as nudge saw it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cart {
    /// Lines.
    pub lines: Vec<CartLine>,
    /// Currency code, if known.
    pub currency: Option<String>,
}

impl Cart {
    /// Total value.
    pub fn value(&self) -> f64 {
        self.lines.iter().map(|l| l.price * f64::from(l.quantity)).sum()
    }

    /// Total quantity.
    pub fn quantity(&self) -> u32 {
        self.lines.iter().map(|l| l.quantity).sum()
    }

    fn add(&mut self, id: String, quantity: u32, price: f64) {
        if let Some(l) = self.lines.iter_mut().find(|l| l.product_id == id) {
            l.quantity = l.quantity.saturating_add(quantity);
            l.price = price;
        } else if self.lines.len() < MAX_CART_LINES {
            self.lines.push(CartLine { product_id: id, quantity, price });
        }
    }

    fn remove(&mut self, id: &str, quantity: Option<u32>) {
        if let Some(l) = self.lines.iter_mut().find(|l| l.product_id == id) {
            l.quantity = quantity.map_or(0, |q| l.quantity.saturating_sub(q));
        }
        self.lines.retain(|l| l.quantity > 0);
    }
}

/// Recency, frequency and monetary value of a visitor, as seen on this device.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rfm {
    /// Whole days since the last order (or the last visit, for non-buyers).
    pub recency_days: u64,
    /// Orders.
    pub frequency: u32,
    /// Spend.
    pub monetary: f64,
}

/// Everything nudge remembers about a visitor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    /// Anonymous id (random, made by the web shell).
    pub anon_id: String,
    /// Id from `identify`.
    pub user_id: Option<String>,
    /// First event ever.
    pub first_seen: Millis,
    /// Latest event.
    pub last_seen: Millis,
    /// Last event of the previous session (for "days since last visit").
    pub previous_seen: Option<Millis>,
    /// Sessions so far.
    pub sessions: u32,
    /// Page views ever.
    pub page_views: u64,
    /// The current session.
    pub session: Session,
    /// The current page.
    pub page: Page,
    /// Per event name.
    pub events: Map<String, Tally>,
    /// Per track key.
    pub tracks: Map<u64, Track>,
    /// Cart.
    pub cart: Cart,
    /// Orders.
    pub purchases: u32,
    /// Money spent.
    pub spend: f64,
    /// Traits from `identify`.
    pub traits: Vec<(Key, Value)>,
    /// Segments pushed by the site.
    pub segments: Vec<String>,
}

impl Profile {
    /// A fresh profile for `anon_id`.
    pub fn new(anon_id: &str) -> Profile {
        Profile { anon_id: anon_id.into(), ..Profile::default() }
    }

    /// On-site RFM: whole days since the last purchase (or visit, before any purchase),
    /// orders, and spend.
    ///
    /// ```
    /// use nudge::engine::{event::Event, profile::Profile, json::Value, Millis};
    /// let mut p = Profile::new("v");
    /// p.record(&Event::new("o1", "Order Completed", Millis(0)).with_prop("value", Value::Num(40.0)), &[]);
    /// let rfm = p.rfm(Millis(3 * 86_400_000));
    /// assert_eq!((rfm.recency_days, rfm.frequency, rfm.monetary), (3, 1, 40.0));
    /// ```
    pub fn rfm(&self, now: Millis) -> Rfm {
        let last = self.events.get(names::ORDER_COMPLETED).map_or(self.last_seen, |t| t.last);
        Rfm {
            recency_days: now.since(last).0 / Millis::DAY.0,
            frequency: self.purchases,
            monetary: self.spend,
        }
    }

    /// New visitors are in their first session.
    pub fn is_new(&self) -> bool {
        self.sessions <= 1
    }

    /// Notes user activity that is not an event (pointer, keys), for idle rules.
    /// Pointer and key activity also keeps the session alive.
    pub fn note_activity(&mut self, now: Millis) {
        self.page.last_activity = self.page.last_activity.max(now);
        self.session.last_activity = self.session.last_activity.max(now);
    }

    /// Whether `e` starts a new session.
    fn starts_session(&self, e: &Event) -> bool {
        if self.sessions == 0 || e.ts.since(self.session.last_activity) > SESSION_TIMEOUT {
            return true;
        }
        let utm = e.page.as_ref().and_then(|p| p.utm.campaign.as_ref());
        utm.is_some() && utm != self.session.utm.campaign.as_ref()
    }

    /// Folds one event into the profile. `tracks` are the campaign set's track specs.
    pub fn record(&mut self, e: &Event, tracks: &[TrackSpec]) {
        if self.starts_session(e) {
            if self.sessions > 0 {
                self.previous_seen = Some(self.last_seen);
            }
            self.sessions = self.sessions.saturating_add(1);
            let (utm, referrer) =
                e.page.as_ref().map(|p| (p.utm.clone(), p.referrer.clone())).unwrap_or_default();
            self.session =
                Session { started: e.ts, last_activity: e.ts, page_views: 0, utm, referrer };
        }
        if self.first_seen == Millis(0) {
            self.first_seen = e.ts;
        }
        self.last_seen = self.last_seen.max(e.ts);
        self.session.last_activity = self.session.last_activity.max(e.ts);
        if e.name == names::PAGE_VIEWED {
            let mut context = e.page.clone().unwrap_or_else(|| self.page.context.clone());
            // Lowercase once here, so language rules compare borrowed text on every check.
            context.language.make_ascii_lowercase();
            self.page = Page {
                context,
                started: e.ts,
                last_activity: e.ts,
                max_scroll: 0.0,
                view: self.page.view + 1,
            };
            self.session.page_views = self.session.page_views.saturating_add(1);
            self.page_views += 1;
        } else if let Some(ctx) = &e.page {
            if self.page.view == 0 {
                self.page.context = ctx.clone();
                self.page.context.language.make_ascii_lowercase();
                self.page.started = e.ts;
            }
        }
        if e.name == names::SCROLL_DEPTH {
            // Scroll rules read the deepest milestone of the current page view.
            if let Some(pct) = e.num("percent") {
                self.page.max_scroll = self.page.max_scroll.max(pct.clamp(0.0, 100.0));
            }
        }
        self.note_activity(e.ts);
        self.tally(e);
        for spec in tracks.iter().filter(|s| s.matcher.matches(e)) {
            self.bump_track(spec, e);
        }
        self.fold_commerce(e);
    }

    fn tally(&mut self, e: &Event) {
        if !self.events.contains_key(&e.name) && self.events.len() >= MAX_EVENT_NAMES {
            if let Some(stale) =
                self.events.iter().min_by_key(|(_, t)| t.last).map(|(k, _)| k.clone())
            {
                self.events.remove(&stale);
            }
        }
        let t =
            match self.events.get_mut(&e.name) {
                Some(t) => t,
                None => self.events.get_or_insert_with(e.name.chars().take(48).collect(), || {
                    Tally { count: 0, first: e.ts, last: e.ts }
                }),
            };
        t.count += 1;
        t.last = t.last.max(e.ts);
    }

    fn bump_track(&mut self, spec: &TrackSpec, e: &Event) {
        if !self.tracks.contains_key(&spec.key) && self.tracks.len() >= MAX_TRACKS {
            let stale = self.tracks.iter().min_by_key(|(_, t)| t.all.last()).map(|(k, _)| *k);
            if let Some(k) = stale {
                self.tracks.remove(&k);
            }
        }
        let t = self.tracks.get_or_insert_with(spec.key, Track::default);
        t.prev = t.all.last();
        t.all.bump(e.ts, spec.keep);
        if let Some(v) = spec.same.as_ref().and_then(|p| e.prop(p)) {
            let key = Track::value_key(v);
            let mut c = match t.by_value.iter().position(|(k, _)| *k == key) {
                Some(i) => t.by_value.remove(i).1,
                None => Counter::default(),
            };
            c.bump(e.ts, spec.keep);
            t.by_value.push((key, c));
            if t.by_value.len() > MAX_VALUES {
                t.by_value.remove(0);
            }
        }
    }

    fn fold_commerce(&mut self, e: &Event) {
        // Properties of the event itself, or of one of a cart's `products`.
        let id = |p: &Value| p.get("product_id").or(p.get("sku")).map(Track::value_key);
        let qty =
            |p: &Value| num_in(p, "quantity").filter(|q| *q >= 0.0 && *q < 1e6).map(|q| q as u32);
        let price = |p: &Value| num_in(p, "price").filter(|p| *p >= 0.0).unwrap_or(0.0);
        if let Some(c) = e.prop("currency").and_then(Value::as_str) {
            self.cart.currency = Some(c.chars().take(8).collect());
        }
        match e.name.as_str() {
            names::PRODUCT_ADDED => {
                if let Some(id) = id(&e.props) {
                    self.cart.add(id, qty(&e.props).unwrap_or(1).max(1), price(&e.props));
                }
            }
            names::PRODUCT_REMOVED => {
                if let Some(id) = id(&e.props) {
                    self.cart.remove(&id, qty(&e.props));
                }
            }
            names::CART_VIEWED => {
                if let Some(Value::Arr(items)) = e.prop("products") {
                    let mut cart = Cart { lines: Vec::new(), currency: self.cart.currency.clone() };
                    for item in items {
                        if let Some(id) = id(item) {
                            cart.add(id, qty(item).unwrap_or(1).max(1), price(item));
                        }
                    }
                    self.cart = cart;
                }
            }
            names::ORDER_COMPLETED => {
                self.purchases = self.purchases.saturating_add(1);
                let value =
                    e.num("value").or(e.num("revenue")).unwrap_or_else(|| self.cart.value());
                if value.is_finite() && value > 0.0 {
                    self.spend += value;
                }
                self.cart.lines.clear();
            }
            names::IDENTIFIED => self.fold_identity(e),
            _ => {}
        }
    }

    fn fold_identity(&mut self, e: &Event) {
        if let Some(id) = e.prop("user_id").and_then(Value::as_str) {
            self.user_id = Some(id.chars().take(128).collect());
        }
        if let Some(Value::Obj(traits)) = e.prop("traits") {
            for (k, v) in traits {
                if k == "segments" {
                    if let Value::Arr(segs) = v {
                        self.segments = segs
                            .iter()
                            .filter_map(Value::as_str)
                            .take(MAX_TRAITS)
                            .map(|s| s.chars().take(64).collect())
                            .collect();
                    }
                    continue;
                }
                let v = match v {
                    Value::Str(s) => Value::Str(s.chars().take(64).collect()),
                    Value::Arr(_) | Value::Obj(_) => continue,
                    other => other.clone(),
                };
                if let Some(slot) = self.traits.iter_mut().find(|(t, _)| t == k) {
                    slot.1 = v;
                } else if self.traits.len() < MAX_TRAITS {
                    self.traits.push((k.chars().take(32).collect::<String>().into(), v));
                }
            }
        }
    }

    /// The versioned JSON form (the current page is not included: a reload is a new page).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(512);
        self.write_json(&mut out);
        out
    }

    /// Appends the versioned JSON form. Written straight to text: building a [`Value`]
    /// tree first costs the browser build a few kilobytes of code and an allocation per field.
    pub fn write_json(&self, out: &mut String) {
        let s = &self.session;
        out.push_str("{\"v\":");
        json::write_uint(out, u64::from(PROFILE_VERSION));
        out.push_str(",\"id\":");
        json::write_str(out, &self.anon_id);
        field_ms(out, "fs", self.first_seen);
        field_ms(out, "ls", self.last_seen);
        field_ms(out, "ns", Millis(u64::from(self.sessions)));
        field_ms(out, "pv", Millis(self.page_views));
        out.push_str(",\"s\":[");
        json::write_uint(out, s.started.0);
        out.push(',');
        json::write_uint(out, s.last_activity.0);
        out.push(',');
        json::write_uint(out, u64::from(s.page_views));
        out.push(',');
        let referrer: String = s.referrer.chars().take(256).collect();
        json::write_str(out, &referrer);
        for part in [&s.utm.source, &s.utm.medium, &s.utm.campaign] {
            out.push(',');
            opt_str(out, part.as_deref());
        }
        out.push(']');
        if let Some(p) = self.previous_seen {
            field_ms(out, "ps", p);
        }
        if let Some(u) = &self.user_id {
            out.push_str(",\"uid\":");
            json::write_str(out, u);
        }
        out.push_str(",\"ev\":{");
        for (i, (k, t)) in self.events.iter().enumerate() {
            sep(out, i);
            json::write_str(out, k);
            out.push_str(":[");
            json::write_uint(out, t.count);
            out.push(',');
            json::write_uint(out, t.first.0);
            out.push(',');
            json::write_uint(out, t.last.0);
            out.push(']');
        }
        out.push_str("},\"tr\":{");
        for (i, (k, t)) in self.tracks.iter().enumerate() {
            sep(out, i);
            out.push('"');
            json::write_hex16(out, *k);
            out.push_str("\":[");
            write_counter(out, &t.all);
            out.push(',');
            match t.prev {
                Some(p) => json::write_uint(out, p.0),
                None => out.push_str("null"),
            }
            out.push_str(",{");
            for (j, (v, c)) in t.by_value.iter().enumerate() {
                sep(out, j);
                json::write_str(out, v);
                out.push(':');
                write_counter(out, c);
            }
            out.push_str("}]");
        }
        out.push_str("},\"cart\":[");
        for (i, l) in self.cart.lines.iter().enumerate() {
            sep(out, i);
            out.push('[');
            json::write_str(out, &l.product_id);
            out.push(',');
            json::write_uint(out, u64::from(l.quantity));
            out.push(',');
            json::write_num(out, l.price);
            out.push(']');
        }
        out.push(']');
        if let Some(c) = &self.cart.currency {
            out.push_str(",\"cur\":");
            json::write_str(out, c);
        }
        field_ms(out, "np", Millis(u64::from(self.purchases)));
        out.push_str(",\"sp\":");
        json::write_num(out, self.spend);
        if !self.traits.is_empty() {
            out.push_str(",\"tt\":{");
            for (i, (k, v)) in self.traits.iter().enumerate() {
                sep(out, i);
                json::write_str(out, k);
                out.push(':');
                json::write(out, v);
            }
            out.push('}');
        }
        if !self.segments.is_empty() {
            out.push_str(",\"sg\":[");
            for (i, g) in self.segments.iter().enumerate() {
                sep(out, i);
                json::write_str(out, g);
            }
            out.push(']');
        }
        out.push('}');
    }

    /// Restores a profile from [`Profile::to_json`]'s output. Anything unreadable is an
    /// error, so the caller can start afresh (and count it) rather than act on garbage.
    pub fn from_json(text: &str) -> Result<Profile, ProfileError> {
        let v = json::parse(text).map_err(|e| ProfileError::Json(e.to_string()))?;
        Profile::from_value(&v)
    }

    /// Restores a profile from its JSON value.
    pub fn from_value(v: &Value) -> Result<Profile, ProfileError> {
        match v.get("v").and_then(Value::as_f64) {
            Some(x) if x == f64::from(PROFILE_VERSION) => {}
            _ => return Err(ProfileError::Version),
        }
        let bad = |what: &'static str| ProfileError::Field(what);
        let num = |key: &'static str| v.get(key).and_then(Value::as_f64).ok_or(bad(key));
        let ms = |x: &Value| x.as_f64().map(|f| Millis(f as u64));
        let counter = |x: &Value| -> Option<Counter> {
            let Value::Arr(parts) = x else { return None };
            let Value::Arr(recent) = parts.get(1)? else { return None };
            Some(Counter {
                total: parts.first()?.as_f64()? as u64,
                recent: recent.iter().filter_map(ms).collect(),
            })
        };
        let strv = |x: Option<&Value>| x.and_then(Value::as_str).map(str::to_string);
        let mut p = Profile::new(v.get("id").and_then(Value::as_str).ok_or(bad("id"))?);
        p.first_seen = Millis(num("fs")? as u64);
        p.last_seen = Millis(num("ls")? as u64);
        p.sessions = num("ns")? as u32;
        p.page_views = num("pv")? as u64;
        p.previous_seen = v.get("ps").and_then(ms);
        p.user_id = strv(v.get("uid"));
        let Some(Value::Arr(s)) = v.get("s") else { return Err(bad("s")) };
        p.session = Session {
            started: s.first().and_then(ms).ok_or(bad("s"))?,
            last_activity: s.get(1).and_then(ms).ok_or(bad("s"))?,
            page_views: s.get(2).and_then(Value::as_f64).ok_or(bad("s"))? as u32,
            referrer: strv(s.get(3)).unwrap_or_default(),
            utm: Utm { source: strv(s.get(4)), medium: strv(s.get(5)), campaign: strv(s.get(6)) },
        };
        if let Some(Value::Obj(ev)) = v.get("ev") {
            for (k, t) in ev {
                let Value::Arr(t) = t else { return Err(bad("ev")) };
                let get = |i: usize| t.get(i).and_then(Value::as_f64).ok_or(bad("ev"));
                p.events.insert(
                    k.as_str().into(),
                    Tally {
                        count: get(0)? as u64,
                        first: Millis(get(1)? as u64),
                        last: Millis(get(2)? as u64),
                    },
                );
            }
        }
        if let Some(Value::Obj(tr)) = v.get("tr") {
            for (k, t) in tr {
                let Value::Arr(parts) = t else { return Err(bad("tr")) };
                let all = parts.first().and_then(counter).ok_or(bad("tr"))?;
                let mut by_value = Vec::new();
                if let Some(Value::Obj(vals)) = parts.get(2) {
                    for (val, c) in vals {
                        by_value.push((val.as_str().into(), counter(c).ok_or(bad("tr"))?));
                    }
                }
                let key = u64::from_str_radix(k, 16).map_err(|_| bad("tr"))?;
                p.tracks.insert(key, Track { all, prev: parts.get(1).and_then(ms), by_value });
            }
        }
        if let Some(Value::Arr(lines)) = v.get("cart") {
            for l in lines {
                let Value::Arr(l) = l else { return Err(bad("cart")) };
                let (Some(id), Some(q), Some(pr)) = (
                    strv(l.first()),
                    l.get(1).and_then(Value::as_f64),
                    l.get(2).and_then(Value::as_f64),
                ) else {
                    return Err(bad("cart"));
                };
                p.cart.lines.push(CartLine { product_id: id, quantity: q as u32, price: pr });
            }
        }
        p.cart.currency = strv(v.get("cur"));
        p.purchases = num("np")? as u32;
        p.spend = num("sp")?;
        if let Some(Value::Obj(t)) = v.get("tt") {
            p.traits = t.clone();
        }
        if let Some(Value::Arr(sg)) = v.get("sg") {
            p.segments = sg.iter().filter_map(Value::as_str).map(str::to_string).collect();
        }
        Ok(p)
    }
}

/// `,` before every element but the first.
pub(crate) fn sep(out: &mut String, i: usize) {
    if i > 0 {
        out.push(',');
    }
}

/// `,"key":<ms>`.
pub(crate) fn field_ms(out: &mut String, key: &str, ms: Millis) {
    out.push_str(",\"");
    out.push_str(key);
    out.push_str("\":");
    json::write_uint(out, ms.0);
}

/// A string or `null`.
pub(crate) fn opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => json::write_str(out, s),
        None => out.push_str("null"),
    }
}

/// `[total,[recent…]]`.
fn write_counter(out: &mut String, c: &Counter) {
    out.push('[');
    json::write_uint(out, c.total);
    out.push_str(",[");
    for (i, t) in c.recent.iter().enumerate() {
        sep(out, i);
        json::write_uint(out, t.0);
    }
    out.push_str("]]");
}

/// Why a stored profile could not be restored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// Not JSON.
    #[error("stored profile is not JSON: {0}")]
    Json(String),
    /// Written by another version.
    #[error("stored profile has an unknown version")]
    Version,
    /// A field is missing or of the wrong kind.
    #[error("stored profile field \"{0}\" is missing or malformed")]
    Field(&'static str),
}
