//! What the page tells us without any code from the shop: DOM listeners turned into signals.
//!
//! Page views (the first one, `history.pushState`/`replaceState` and `popstate` for SPAs),
//! clicks on `[data-nudge-event]` and on the selectors campaigns watch, scroll milestones,
//! visibility and page hide, activity for idle rules, exit intent (the pointer leaving
//! through the top edge on desktop; a fast upward scroll or back navigation on touch), and
//! the GA4 `dataLayer` e-commerce events, including those pushed before nudge loaded.
//! Everything installed here is undone when [`Listeners`] is dropped: gloo listeners
//! remove themselves, patched functions are put back.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_events::{EventListener, EventListenerOptions};
use gloo_timers::callback::Timeout;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, MouseEvent, Window};

use super::{clock, to_value};
use crate::engine::event::{names, Device, PageContext, Utm};
use crate::engine::json::{self, Value};

/// What a listener saw, for the runtime to act on.
pub(crate) enum Signal {
    /// A new page view (first load, SPA navigation, or `page()`).
    Page(PageContext),
    /// An event to track.
    Track(String, Value),
    /// The shopper did something (pointer, key, scroll): not idle. Throttled to 1/s.
    Activity,
    /// The page is hiding or going away: flush by beacon.
    Hide,
    /// The page became visible again.
    Visible,
}

/// Scroll milestones, percent.
const MILESTONES: [u8; 4] = [25, 50, 75, 100];
/// A touch scroll upwards at least this fast (px/ms) over at least [`EXIT_SCROLL_PX`] is
/// read as "heading back to the address bar": exit intent on phones.
const EXIT_SCROLL_SPEED: f64 = 1.5;
/// See [`EXIT_SCROLL_SPEED`].
const EXIT_SCROLL_PX: f64 = 120.0;

/// Per-page-view memory shared by the handlers.
struct Nav {
    emit: Rc<dyn Fn(Signal)>,
    url: RefCell<String>,
    /// How many milestones were passed on this page view.
    scrolled: Cell<usize>,
    /// Exit intent already sent on this page view.
    exited: Cell<bool>,
    /// Last scroll position and time, for the touch exit-intent speed.
    last_scroll: Cell<(f64, f64)>,
    /// Last activity signal sent (ms), for throttling.
    active_at: Cell<f64>,
    lang: Option<String>,
    /// A navigation waiting for the SPA to update the title and DOM.
    pending: RefCell<Option<Timeout>>,
    selectors: RefCell<Vec<String>>,
}

/// Our stand-in for a patched page function (`pushState`, `dataLayer.push`).
type Wrapper = Closure<dyn FnMut(JsValue, JsValue, JsValue) -> JsValue>;

/// A function on a page object replaced by ours; put back on drop.
struct Patch {
    target: Object,
    name: &'static str,
    original: JsValue,
    ours: Option<Wrapper>,
}

impl Drop for Patch {
    fn drop(&mut self) {
        let Some(ours) = self.ours.take() else { return };
        let current = Reflect::get(&self.target, &self.name.into()).unwrap_or_default();
        if current == *ours.as_ref() {
            let _ = Reflect::set(&self.target, &self.name.into(), &self.original);
        } else {
            // Someone wrapped our wrapper: removing it would break their chain, so it stays
            // (it only forwards, and reports into a runtime that is gone).
            ours.forget();
        }
    }
}

/// Everything the page is being listened with. Dropping it removes it all.
pub(crate) struct Listeners {
    nav: Rc<Nav>,
    _events: Vec<EventListener>,
    _patches: Vec<Patch>,
}

impl Listeners {
    /// The CSS selectors whose clicks become `Element Clicked` (from the campaign set).
    pub(crate) fn set_selectors(&self, selectors: Vec<String>) {
        *self.nav.selectors.borrow_mut() = selectors;
    }

    /// Emits a page view for the current location now (`page()`).
    pub(crate) fn page(&self) {
        page_view(&self.nav, None);
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.nav.pending.borrow_mut().take();
    }
}

fn window() -> Option<Window> {
    web_sys::window()
}

fn device(win: &Window) -> Device {
    let coarse = win.match_media("(pointer: coarse)").ok().flatten().is_some_and(|m| m.matches());
    let width = win.inner_width().ok().and_then(|w| w.as_f64()).unwrap_or(1024.0);
    match (coarse, width < 768.0) {
        (false, _) => Device::Desktop,
        (true, true) => Device::Mobile,
        (true, false) => Device::Tablet,
    }
}

/// `+`-and-percent decoding of one query-string component.
fn decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    js_sys::decode_uri_component(&plus).ok().map_or(plus, String::from)
}

/// UTM parameters of a `?a=b&c=d` query string.
fn utm(search: &str) -> Utm {
    let mut u = Utm::default();
    for pair in search.trim_start_matches('?').split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match k {
            "utm_source" => &mut u.source,
            "utm_medium" => &mut u.medium,
            "utm_campaign" => &mut u.campaign,
            _ => continue,
        };
        let v = decode(v);
        if !v.is_empty() {
            *slot = Some(v);
        }
    }
    u
}

/// The current page's context. `referrer` is the previous URL on SPA navigation.
pub(crate) fn context(lang: Option<&str>, referrer: Option<String>) -> PageContext {
    let mut p = PageContext::default();
    let Some(win) = window() else { return p };
    let loc = win.location();
    p.url = loc.href().unwrap_or_default();
    p.path = loc.pathname().unwrap_or_default();
    p.utm = utm(&loc.search().unwrap_or_default());
    p.device = device(&win);
    p.language = match lang {
        Some(l) => l.to_string(),
        None => win.navigator().language().unwrap_or_default(),
    };
    if let Some(doc) = win.document() {
        p.title = doc.title();
        p.referrer = referrer.unwrap_or_else(|| doc.referrer());
        p.page_type = doc
            .query_selector("[data-nudge-page]")
            .ok()
            .flatten()
            .and_then(|e| e.get_attribute("data-nudge-page"))
            .filter(|t| !t.is_empty());
    }
    p
}

fn current_url() -> String {
    window().and_then(|w| w.location().href().ok()).unwrap_or_default()
}

/// Emits a page view if the URL changed (`only_if_moved`), resetting per-page memory.
fn page_view(nav: &Nav, only_if_moved: Option<()>) {
    let url = current_url();
    let previous = nav.url.replace(url.clone());
    if only_if_moved.is_some() && previous == url {
        return;
    }
    nav.scrolled.set(0);
    nav.exited.set(false);
    let referrer = (!previous.is_empty()).then_some(previous);
    (nav.emit)(Signal::Page(context(nav.lang.as_deref(), referrer)));
}

/// Schedules a page-view check after the SPA had a moment to update title and DOM.
fn navigated(nav: &Rc<Nav>) {
    let n = nav.clone();
    *nav.pending.borrow_mut() = Some(Timeout::new(0, move || page_view(&n, Some(()))));
}

fn exit_intent(nav: &Nav, source: &str) {
    if !nav.exited.replace(true) {
        let props = Value::Obj(vec![("source".into(), Value::Str(source.into()))]);
        (nav.emit)(Signal::Track(names::EXIT_INTENT.into(), props));
    }
}

fn activity(nav: &Nav) {
    let now = clock::now().0 as f64;
    if now - nav.active_at.get() >= 1_000.0 {
        nav.active_at.set(now);
        (nav.emit)(Signal::Activity);
    }
}

fn on_scroll(nav: &Nav, win: &Window, doc: &Document, touch: bool) {
    activity(nav);
    let y = win.scroll_y().unwrap_or(0.0);
    let view = win.inner_height().ok().and_then(|h| h.as_f64()).unwrap_or(0.0);
    let height = doc.document_element().map_or(0.0, |e| f64::from(e.scroll_height()));
    if height > 0.0 {
        let pct = ((y + view) / height * 100.0).min(100.0);
        // A pixel short of the bottom still counts as the bottom (rounding, zoom).
        let pct = if y + view >= height - 2.0 { 100.0 } else { pct };
        while let Some(&m) = MILESTONES.get(nav.scrolled.get()) {
            if pct < f64::from(m) {
                break;
            }
            nav.scrolled.set(nav.scrolled.get() + 1);
            let props = Value::Obj(vec![("percent".into(), Value::Num(f64::from(m)))]);
            (nav.emit)(Signal::Track(names::SCROLL_DEPTH.into(), props));
        }
    }
    let now = clock::now().0 as f64;
    let (last_y, last_t) = nav.last_scroll.replace((y, now));
    if touch && last_t > 0.0 {
        let (up, dt) = (last_y - y, (now - last_t).max(1.0));
        if up >= EXIT_SCROLL_PX && up / dt >= EXIT_SCROLL_SPEED {
            exit_intent(nav, "scroll");
        }
    }
}

fn on_click(nav: &Nav, target: Option<Element>) {
    activity(nav);
    let Some(target) = target else { return };
    if let Ok(Some(el)) = target.closest("[data-nudge-event]") {
        if let Some(name) = el.get_attribute("data-nudge-event").filter(|n| !n.is_empty()) {
            let props = el
                .get_attribute("data-nudge-props")
                .and_then(|p| json::parse(&p).ok())
                .filter(|v| matches!(v, Value::Obj(_)))
                .unwrap_or(Value::Obj(Vec::new()));
            (nav.emit)(Signal::Track(name, props));
        }
    }
    let selectors = nav.selectors.borrow().clone();
    for s in selectors {
        // An invalid selector makes `closest` throw; it simply never matches.
        if let Ok(Some(_)) = target.closest(&s) {
            let props = Value::Obj(vec![("selector".into(), Value::Str(s))]);
            (nav.emit)(Signal::Track(names::ELEMENT_CLICKED.into(), props));
        }
    }
}

/// Copies `params[from]` to `out[to]` for each present pair (`out` is an object).
fn copy(params: &Value, pairs: &[(&str, &str)], out: &mut Value) {
    if let Value::Obj(fields) = out {
        for (from, to) in pairs {
            if let Some(v) = params.get(from) {
                fields.push(((*to).into(), v.clone()));
            }
        }
    }
}

const ITEM: &[(&str, &str)] = &[
    ("item_id", "product_id"),
    ("item_name", "name"),
    ("price", "price"),
    ("quantity", "quantity"),
    ("item_category", "category"),
    ("item_brand", "brand"),
    ("item_variant", "variant"),
];

const ORDER: &[(&str, &str)] = &[
    ("currency", "currency"),
    ("value", "value"),
    ("transaction_id", "order_id"),
    ("coupon", "coupon"),
    ("shipping", "shipping"),
    ("tax", "tax"),
];

/// One GA4 item as nudge product properties.
fn item(i: &Value) -> Value {
    let mut out = Value::Obj(Vec::new());
    copy(i, ITEM, &mut out);
    out
}

/// GA4 e-commerce `(event, params)` as nudge events: `view_item` → Product Viewed,
/// `add_to_cart`/`remove_from_cart` → one Product Added/Removed per item, `view_cart` →
/// Cart Viewed, `begin_checkout` → Checkout Started, `purchase` → Order Completed.
pub(crate) fn ga4(event: &str, params: &Value) -> Vec<(&'static str, Value)> {
    let items: &[Value] = match params.get("items") {
        Some(Value::Arr(a)) => a,
        _ => &[],
    };
    let name = match event {
        "view_item" => names::PRODUCT_VIEWED,
        "add_to_cart" => names::PRODUCT_ADDED,
        "remove_from_cart" => names::PRODUCT_REMOVED,
        "view_cart" => names::CART_VIEWED,
        "begin_checkout" => names::CHECKOUT_STARTED,
        "purchase" => names::ORDER_COMPLETED,
        _ => return Vec::new(),
    };
    match event {
        "view_item" | "add_to_cart" | "remove_from_cart" => {
            let per_item = event != "view_item";
            let chosen = if per_item { items } else { items.get(..1).unwrap_or_default() };
            // An event's `value` is the whole cart line set's; per item it only holds
            // when there is one item.
            let order = if per_item && items.len() > 1 { &ORDER[..1] } else { ORDER };
            chosen
                .iter()
                .map(|i| {
                    let mut p = item(i);
                    copy(params, order, &mut p);
                    (name, p)
                })
                .collect()
        }
        _ => {
            let mut p = Value::Obj(Vec::new());
            copy(params, ORDER, &mut p);
            if let Value::Obj(f) = &mut p {
                f.push(("products".into(), Value::Arr(items.iter().map(item).collect())));
            }
            vec![(name, p)]
        }
    }
}

/// One `dataLayer` entry: `{event, ecommerce}` (GTM) or `arguments` of
/// `gtag('event', name, params)`.
fn data_layer_entry(nav: &Nav, entry: &JsValue) {
    let get = |o: &JsValue, k: &str| Reflect::get(o, &k.into()).ok().filter(|v| !v.is_undefined());
    let (name, params) = if Array::is_array(entry) || get(entry, "callee").is_some() {
        let a = Array::from(entry);
        if a.get(0).as_string().as_deref() != Some("event") {
            return;
        }
        (a.get(1).as_string(), Some(a.get(2)))
    } else {
        (get(entry, "event").and_then(|e| e.as_string()), get(entry, "ecommerce"))
    };
    let (Some(name), Some(params)) = (name, params) else { return };
    let params = to_value(&params).unwrap_or(Value::Null);
    for (n, props) in ga4(&name, &params) {
        (nav.emit)(Signal::Track(n.into(), props));
    }
}

/// Replaces `target[name]` with a wrapper that calls the original and then `after`.
fn patch(
    target: &Object,
    name: &'static str,
    mut after: impl FnMut(&[JsValue; 3]) + 'static,
) -> Option<Patch> {
    let original = Reflect::get(target, &name.into()).ok()?;
    let f: js_sys::Function = original.clone().dyn_into().ok()?;
    let this = target.clone();
    let ours = Wrapper::new(move |a: JsValue, b: JsValue, c: JsValue| {
        let args = [a, b, c];
        // Forward exactly the arguments given (up to three), so the page's own
        // `push`/`pushState` sees what it was called with.
        let n = args.iter().rposition(|v| !v.is_undefined()).map_or(0, |i| i + 1);
        let list: Array = args[..n].iter().collect();
        let r = f.apply(&this, &list);
        after(&args);
        // An exception from the original must reach its caller, as if unwrapped.
        r.unwrap_or_else(|e| wasm_bindgen::throw_val(e))
    });
    Reflect::set(target, &name.into(), ours.as_ref()).ok()?;
    Some(Patch { target: target.clone(), name, original, ours: Some(ours) })
}

/// Starts listening. `emit` receives every signal; the first page view is emitted at once.
pub(crate) fn start(lang: Option<String>, emit: Rc<dyn Fn(Signal)>) -> Option<Listeners> {
    let win = window()?;
    let doc = win.document()?;
    let touch = device(&win) != Device::Desktop;
    let nav = Rc::new(Nav {
        emit,
        url: RefCell::new(String::new()),
        scrolled: Cell::new(0),
        exited: Cell::new(false),
        last_scroll: Cell::new((0.0, 0.0)),
        active_at: Cell::new(0.0),
        lang,
        pending: RefCell::new(None),
        selectors: RefCell::new(Vec::new()),
    });
    // Passive listeners in the bubble phase, except clicks: seen in the capture phase so a
    // page that stops propagation does not hide them.
    let passive = EventListenerOptions::default();
    let capture = EventListenerOptions::run_in_capture_phase();
    let mut events = Vec::new();
    let mut on = |target: &web_sys::EventTarget,
                  kind: &'static str,
                  opts: EventListenerOptions,
                  f: Box<dyn FnMut(&web_sys::Event)>| {
        events.push(EventListener::new_with_options(target, kind, opts, f));
    };

    let n = nav.clone();
    on(
        &win,
        "popstate",
        passive,
        Box::new(move |_| {
            if touch {
                exit_intent(&n, "back");
            }
            navigated(&n);
        }),
    );
    let n = nav.clone();
    on(
        &doc,
        "click",
        capture,
        Box::new(move |e| {
            on_click(&n, e.target().and_then(|t| t.dyn_into::<Element>().ok()));
        }),
    );
    let (n, w, d) = (nav.clone(), win.clone(), doc.clone());
    on(&win, "scroll", passive, Box::new(move |_| on_scroll(&n, &w, &d, touch)));
    for kind in ["pointermove", "keydown", "touchstart"] {
        let n = nav.clone();
        on(&doc, kind, passive, Box::new(move |_| activity(&n)));
    }
    let n = nav.clone();
    on(
        &doc,
        "mouseout",
        passive,
        Box::new(move |e| {
            if let Some(m) = e.dyn_ref::<MouseEvent>() {
                if m.related_target().is_none() && m.client_y() <= 0 {
                    exit_intent(&n, "pointer");
                }
            }
        }),
    );
    let (n, d) = (nav.clone(), doc.clone());
    on(
        &doc,
        "visibilitychange",
        passive,
        Box::new(move |_| {
            (n.emit)(if d.hidden() { Signal::Hide } else { Signal::Visible });
        }),
    );
    let n = nav.clone();
    on(&win, "pagehide", passive, Box::new(move |_| (n.emit)(Signal::Hide)));

    let mut patches = Vec::new();
    if let Ok(history) = win.history() {
        for name in ["pushState", "replaceState"] {
            let n = nav.clone();
            patches.extend(patch(history.as_ref(), name, move |_| navigated(&n)));
        }
    }
    page_view(&nav, None);

    // GA4: entries pushed before we loaded first, then every later push.
    let layer = Reflect::get(&win, &"dataLayer".into()).unwrap_or_default();
    if Array::is_array(&layer) {
        for entry in Array::from(&layer).iter() {
            data_layer_entry(&nav, &entry);
        }
    } else {
        let fresh = Array::new();
        let _ = Reflect::set(&win, &"dataLayer".into(), &fresh);
    }
    if let Ok(layer) = Reflect::get(&win, &"dataLayer".into()).and_then(|l| l.dyn_into::<Object>())
    {
        let n = nav.clone();
        patches.extend(patch(&layer, "push", move |args| {
            for a in args.iter().filter(|a| !a.is_undefined()) {
                data_layer_entry(&n, a);
            }
        }));
    }
    Some(Listeners { nav, _events: events, _patches: patches })
}
