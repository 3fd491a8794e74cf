//! Events: what the shopper did (or what nudge did), with page context.
//!
//! Names follow the common e-commerce vocabulary ([`names`]); nudge's own lifecycle events
//! (`Campaign Shown`, …) are built here too. [`Event::read`] parses the JSON form with
//! path errors; [`Event::to_json`] is the one wire shape events leave the engine in.

use super::json::{self, Key, Value};
use super::schema::{read_str, AsPath, ErrorKind, Errors, Obj, Path};
use super::Millis;

/// The event vocabulary nudge understands without configuration.
pub mod names {
    /// A page (or SPA route) was shown.
    pub const PAGE_VIEWED: &str = "Page Viewed";
    /// A product detail was viewed; `product_id`, `name`, `price`, `currency`.
    pub const PRODUCT_VIEWED: &str = "Product Viewed";
    /// An item went into the cart; `product_id`, `price`, `quantity`, `currency`.
    pub const PRODUCT_ADDED: &str = "Product Added";
    /// An item left the cart; `product_id`, `quantity`.
    pub const PRODUCT_REMOVED: &str = "Product Removed";
    /// The cart was viewed; optional `products` and `value`.
    pub const CART_VIEWED: &str = "Cart Viewed";
    /// Checkout began.
    pub const CHECKOUT_STARTED: &str = "Checkout Started";
    /// A purchase; `order_id`, `value` (or `revenue`), `currency`.
    pub const ORDER_COMPLETED: &str = "Order Completed";
    /// The page scrolled past a milestone; `percent`.
    pub const SCROLL_DEPTH: &str = "Scroll Depth";
    /// The pointer left through the top edge, or a fast upward scroll / back on touch.
    pub const EXIT_INTENT: &str = "Exit Intent";
    /// A click on an element matching a campaign's selector; `selector`.
    pub const ELEMENT_CLICKED: &str = "Element Clicked";
    /// The visitor identified; traits in properties.
    pub const IDENTIFIED: &str = "Identified";
    /// A campaign was rendered; `campaign_id`, `variant`.
    pub const CAMPAIGN_SHOWN: &str = "Campaign Shown";
    /// The campaign's CTA (or coupon copy) was used.
    pub const CAMPAIGN_CLICKED: &str = "Campaign Clicked";
    /// The shopper closed the campaign.
    pub const CAMPAIGN_DISMISSED: &str = "Campaign Dismissed";
    /// The campaign's goal event happened within its attribution window.
    pub const CAMPAIGN_CONVERTED: &str = "Campaign Converted";
    /// A control-group visitor reached the point where the campaign would have shown.
    pub const CAMPAIGN_HELD_OUT: &str = "Campaign Held Out";
}

/// Device class, from the viewport and pointer (the web shell decides).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Device {
    /// Wide viewport with a fine pointer.
    #[default]
    Desktop,
    /// Narrow touch viewport.
    Mobile,
    /// Wide touch viewport.
    Tablet,
}

impl Device {
    /// The lowercase name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
        }
    }
}

/// UTM parameters of a landing URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Utm {
    /// `utm_source`
    pub source: Option<String>,
    /// `utm_medium`
    pub medium: Option<String>,
    /// `utm_campaign`
    pub campaign: Option<String>,
}

/// Where the event happened.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageContext {
    /// Full URL.
    pub url: String,
    /// Path part of the URL.
    pub path: String,
    /// `document.referrer`.
    pub referrer: String,
    /// `document.title`.
    pub title: String,
    /// UTM parameters of the URL.
    pub utm: Utm,
    /// Device class.
    pub device: Device,
    /// Preferred language, e.g. `ko` or `en-US`.
    pub language: String,
    /// Page type declared by the shop (`product`, `cart`, `checkout`, …), if any.
    pub page_type: Option<String>,
}

/// The deepest properties an event may carry. A batch on the wire is an object holding an
/// array of event objects, three levels above the properties, and the collector reads it
/// with the same parser ([`json::MAX_DEPTH`]): one deeper event would make its whole batch
/// unreadable, so the SDK refuses such an event when it is tracked.
///
/// ```
/// use nudge::engine::{event::{Event, MAX_PROPS_DEPTH}, json::parse, Millis};
/// use nudge::engine::outbox::{Limits, Outbox};
/// let batch = |depth: usize| {
///     let mut e = Event::new("e1", "Deep", Millis(1));
///     e.props = parse(&("{\"a\":".repeat(depth) + "1" + &"}".repeat(depth))).unwrap();
///     let mut ob = Outbox::new(Limits::default());
///     ob.push("e1", e.to_json("v", 1), false, Millis(1));
///     ob.poll("shop", Millis(2), true).unwrap().body
/// };
/// assert!(parse(&batch(MAX_PROPS_DEPTH)).is_ok());
/// assert!(parse(&batch(MAX_PROPS_DEPTH + 1)).is_err());
/// ```
pub const MAX_PROPS_DEPTH: usize = json::MAX_DEPTH - 3;

/// One event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Unique id (de-duplication key on the collector).
    pub id: String,
    /// Name from [`names`] or the shop's own.
    pub name: String,
    /// When it happened.
    pub ts: Millis,
    /// Properties, as a JSON object (`Value::Obj`).
    pub props: Value,
    /// Page context; `None` keeps the last page's.
    pub page: Option<PageContext>,
}

impl Event {
    /// A bare event with no properties and no page context.
    ///
    /// ```
    /// use nudge::engine::{event::Event, Millis};
    /// let e = Event::new("e1", "Product Viewed", Millis(5)).with_prop("product_id", "p1".into());
    /// assert_eq!(e.prop("product_id").and_then(|v| v.as_str()), Some("p1"));
    /// ```
    pub fn new(id: &str, name: &str, ts: Millis) -> Event {
        Event { id: id.into(), name: name.into(), ts, props: Value::Obj(Vec::new()), page: None }
    }

    /// Adds (or replaces) a property.
    pub fn with_prop(mut self, key: &str, v: Value) -> Event {
        if let Value::Obj(fields) = &mut self.props {
            fields.retain(|(k, _)| k != key);
            fields.push((key.into(), v));
        }
        self
    }

    /// A property by name.
    pub fn prop(&self, key: &str) -> Option<&Value> {
        self.props.get(key)
    }

    /// A property as a number (numbers and numeric strings).
    pub fn num(&self, key: &str) -> Option<f64> {
        num_in(&self.props, key)
    }

    /// Reads an event from JSON, e.g.
    /// `{"id":"e1","name":"Product Viewed","ts":1700000000000,"props":{…},"page":{…}}`.
    pub fn read(v: &Value, path: &(impl AsPath + ?Sized), errs: &mut Errors) -> Option<Event> {
        let path = &path.as_path();
        const KNOWN: &[&str] =
            &["id", "name", "ts", "props", "page", "anon_id", "session", "sent_at"];
        let o = Obj::open(v, path, KNOWN, errs)?;
        let before = errs.error_count();
        let id = o.req("id", errs).and_then(|(v, p)| read_str(v, &p, errs));
        let name = o.req("name", errs).and_then(|(v, p)| read_str(v, &p, errs));
        let ts = o.req("ts", errs).and_then(|(v, p)| match v {
            Value::Num(n) if n.fract() == 0.0 && *n >= 0.0 && *n < 1e15 => Some(Millis(*n as u64)),
            other => {
                errs.expected(&p, "a timestamp in milliseconds", other);
                None
            }
        });
        let props = match o.get("props") {
            None => Value::Obj(Vec::new()),
            Some((p @ Value::Obj(_), _)) => p.clone(),
            Some((other, p)) => {
                errs.expected(&p, "an object", other);
                Value::Null
            }
        };
        let page = o.get("page").and_then(|(v, p)| read_page(v, &p, errs));
        if errs.error_count() != before {
            return None;
        }
        Some(Event { id: id?, name: name?, ts: ts?, props, page })
    }

    /// The wire form of the event, with the visitor's anonymous id and session number.
    pub fn to_json(&self, anon_id: &str, session: u32) -> String {
        let mut out = String::with_capacity(128);
        out.push_str("{\"id\":");
        json::write_str(&mut out, &self.id);
        out.push_str(",\"name\":");
        json::write_str(&mut out, &self.name);
        out.push_str(",\"ts\":");
        json::write_num(&mut out, self.ts.0 as f64);
        out.push_str(",\"anon_id\":");
        json::write_str(&mut out, anon_id);
        out.push_str(",\"session\":");
        json::write_num(&mut out, f64::from(session));
        out.push_str(",\"props\":");
        json::write(&mut out, &self.props);
        if let Some(page) = &self.page {
            out.push_str(",\"page\":");
            json::write(&mut out, &page_json(page));
        }
        out.push('}');
        out
    }
}

fn opt_str(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::Str(s.clone()))
}

/// The JSON form of a page context.
pub fn page_json(p: &PageContext) -> Value {
    let mut fields: Vec<(Key, Value)> = vec![
        ("url".into(), Value::Str(p.url.clone())),
        ("path".into(), Value::Str(p.path.clone())),
        ("referrer".into(), Value::Str(p.referrer.clone())),
        ("title".into(), Value::Str(p.title.clone())),
        ("device".into(), Value::Str(p.device.as_str().into())),
        ("language".into(), Value::Str(p.language.clone())),
    ];
    if p.utm != Utm::default() {
        fields.push((
            "utm".into(),
            Value::Obj(vec![
                ("source".into(), opt_str(&p.utm.source)),
                ("medium".into(), opt_str(&p.utm.medium)),
                ("campaign".into(), opt_str(&p.utm.campaign)),
            ]),
        ));
    }
    if let Some(t) = &p.page_type {
        fields.push(("type".into(), Value::Str(t.clone())));
    }
    Value::Obj(fields)
}

fn any_str(v: &Value, path: &Path<'_>, errs: &mut Errors) -> String {
    match v {
        Value::Str(s) => s.chars().take(2_000).collect(),
        Value::Null => String::new(),
        other => {
            errs.expected(path, "a string", other);
            String::new()
        }
    }
}

/// A property of a properties object as a number (numbers and numeric strings).
///
/// ```
/// use nudge::engine::{event::num_in, json::parse};
/// assert_eq!(num_in(&parse(r#"{"price": "29.90"}"#).unwrap(), "price"), Some(29.9));
/// ```
pub fn num_in(props: &Value, key: &str) -> Option<f64> {
    match props.get(key)? {
        Value::Num(n) => Some(*n),
        Value::Str(s) => json::parse_number(s),
        _ => None,
    }
}

/// Reads a page context object.
pub fn read_page(
    v: &Value,
    path: &(impl AsPath + ?Sized),
    errs: &mut Errors,
) -> Option<PageContext> {
    let path = &path.as_path();
    const KNOWN: &[&str] =
        &["url", "path", "referrer", "title", "utm", "device", "language", "type"];
    let o = Obj::open(v, path, KNOWN, errs)?;
    let mut page = PageContext::default();
    for (k, v) in o.fields() {
        let p = path.key(k);
        match k.as_str() {
            "url" => page.url = any_str(v, &p, errs),
            "path" => page.path = any_str(v, &p, errs),
            "referrer" => page.referrer = any_str(v, &p, errs),
            "title" => page.title = any_str(v, &p, errs),
            "language" => page.language = any_str(v, &p, errs),
            "type" => page.page_type = Some(any_str(v, &p, errs)).filter(|s| !s.is_empty()),
            "device" => {
                page.device = match v.as_str() {
                    Some("desktop") => Device::Desktop,
                    Some("mobile") => Device::Mobile,
                    Some("tablet") => Device::Tablet,
                    _ => {
                        errs.expected(&p, "\"desktop\", \"mobile\" or \"tablet\"", v);
                        Device::Desktop
                    }
                }
            }
            "utm" => {
                if let Some(u) = Obj::open(v, &p, &["source", "medium", "campaign"], errs) {
                    let mut get = |key: &str| {
                        u.get(key).map(|(v, p)| any_str(v, &p, errs)).filter(|s| !s.is_empty())
                    };
                    page.utm = Utm {
                        source: get("source"),
                        medium: get("medium"),
                        campaign: get("campaign"),
                    };
                }
            }
            _ => {}
        }
    }
    if page.path.is_empty() && !page.url.is_empty() {
        page.path = path_of(&page.url);
    }
    Some(page)
}

/// The path part of a URL (`https://a.b/c/d?x#y` → `/c/d`); a bare path passes through.
pub fn path_of(url: &str) -> String {
    let rest = match json::split_once(url, "://") {
        Some((_, after)) => after.find('/').and_then(|j| after.get(j..)).unwrap_or("/"),
        None => url,
    };
    let p = rest.split(['?', '#']).next().unwrap_or_default();
    if p.is_empty() {
        "/".into()
    } else {
        p.into()
    }
}

/// Builds a lifecycle event (`Campaign Shown`, …) about `campaign_id`.
pub fn lifecycle(
    name: &str,
    id: String,
    ts: Millis,
    campaign_id: &str,
    variant: Option<&str>,
) -> Event {
    let mut props = Vec::with_capacity(2);
    props.push(("campaign_id".into(), Value::Str(campaign_id.into())));
    if let Some(v) = variant {
        props.push(("variant".into(), Value::Str(v.into())));
    }
    Event { id, name: name.into(), ts, props: Value::Obj(props), page: None }
}

/// Reads a list of events (`path` is the array's path).
pub fn read_events(v: &Value, path: &(impl AsPath + ?Sized), errs: &mut Errors) -> Vec<Event> {
    let path = &path.as_path();
    match v {
        Value::Arr(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Event::read(e, &path.at(i), errs))
            .collect(),
        other => {
            errs.push(
                path,
                ErrorKind::Expected {
                    expected: "an array of events".into(),
                    found: other.preview(),
                },
            );
            Vec::new()
        }
    }
}
