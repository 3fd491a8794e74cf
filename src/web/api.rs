//! The JS API: the only module that knows JS names and turns `JsValue`s into engine values.
//!
//! `init(config)`, `track(name, props)`, `identify(id, traits)`, `page()`,
//! `setCampaigns(list)`, `setConsent(state)`, `optOut()`, `reset()`, `on(event, cb)`,
//! `off(event, cb)`, `show(campaignId)`, `explain(campaignId?)`, `shutdown()`, plus the
//! loader's `boot(queue, attrs, done)` and `push(call)` that replay the pre-load queue. Only
//! programmer errors throw (a bad `init` config, rejected campaigns passed by hand); after
//! `init`, a call with wrong arguments warns once and does nothing. The TypeScript types
//! below ship in `nudge.d.ts`.
#![warn(missing_docs)]
// wasm-bindgen only exports `pub` items; they are reached from JS, never from Rust paths.
#![allow(unreachable_pub)]

use std::cell::RefCell;

use gloo_timers::callback::Timeout;
use js_sys::{Array, Function, Object, Reflect};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use wasm_bindgen::prelude::*;

use super::runtime::{self, Config};
use super::{to_value, warn_once, Warn};
use crate::engine::event::{names, Event};
use crate::engine::json::{self, Value};
use crate::engine::profile::Consent;
use crate::engine::schema::{CampaignError, Severity};

#[wasm_bindgen(typescript_custom_section)]
const TS: &'static str = r#"
/** A JSON-compatible value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** Event properties (e.g. `{ product_id: "p1", price: 29.9, currency: "EUR" }`). */
export type Props = { [key: string]: Json };
/** Consent states: nothing is stored or sent until `granted`; `denied` is an opt-out. */
export type ConsentState = "granted" | "denied" | "pending";
/** What `init` accepts. Only `site` is required. */
export interface NudgeConfig {
  /** Site key: namespaces storage and is sent with every batch. */
  site: string;
  /** Collector base URL; events are POSTed to `{collector}/v1/batch`. */
  collector?: string;
  /** Campaigns inline: a document `{schema, campaigns, budget}`, a list, or its JSON text. */
  campaigns?: object | object[] | string;
  /** Fetch campaigns from this URL (default `{collector}/v1/sites/{site}/campaigns`). */
  campaignsUrl?: string;
  /** Starting consent (default `"granted"`). */
  consent?: ConsentState;
  /** Honour Global Privacy Control as an opt-out (default `true`). */
  respectGpc?: boolean;
  /** Language for campaign text (default: the browser's). */
  lang?: string;
  /** Stacking order of rendered campaigns. */
  zIndex?: number;
  /** Listen to page views, clicks, scroll, exit intent and the dataLayer (default `true`). */
  listen?: boolean;
}
/** An event as the SDK reports it to `on` callbacks. */
export interface NudgeEvent {
  id: string;
  name: string;
  ts: number;
  props: Props;
  page?: { url: string; path: string; referrer: string; title: string; device: string; language: string; type?: string };
}
/** Callback topics: every event, or one kind of campaign lifecycle event. */
export type Topic = "event" | "impression" | "click" | "dismiss" | "conversion" | "holdout";
/** Why a campaign did or did not show on the latest decision. */
export interface Reason {
  campaign: string;
  result: "shown" | "held_out" | "inactive" | "schedule" | "shown_on_page" | "trigger" | "audience" | "cap" | "budget" | "slot_busy" | "lost_to";
  variant?: string;
  path?: string;
  by?: string;
  detail?: string;
}
/** A call waiting in the pre-load queue: `["track", "Product Viewed", {...}]`. */
export type QueuedCall = [string, ...unknown[]];
/** `window.nudge`: the API once loaded, the queue before. */
export interface Nudge {
  init(config: NudgeConfig): void;
  track(name: string, props?: Props): void;
  identify(id: string | null, traits?: Props): void;
  page(): void;
  setCampaigns(campaigns: object | object[] | string): void;
  setConsent(state: ConsentState): void;
  optOut(): void;
  reset(): void;
  on(topic: Topic, callback: (event: NudgeEvent) => void): void;
  off(topic: Topic, callback: (event: NudgeEvent) => void): void;
  show(campaignId: string, variant?: string): boolean;
  explain(campaignId?: string): Reason[];
  shutdown(): void;
  push(call: QueuedCall): void;
}
declare global {
  interface Window {
    nudge: Nudge | QueuedCall[];
  }
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `NudgeConfig` in TypeScript.
    #[wasm_bindgen(typescript_type = "NudgeConfig")]
    pub type InitConfig;
    /// `Props` in TypeScript.
    #[wasm_bindgen(typescript_type = "Props | undefined")]
    pub type PropsArg;
    /// `ConsentState` in TypeScript.
    #[wasm_bindgen(typescript_type = "ConsentState")]
    pub type ConsentArg;
    /// `Topic` in TypeScript.
    #[wasm_bindgen(typescript_type = "Topic")]
    pub type TopicArg;
    /// A callback in TypeScript.
    #[wasm_bindgen(typescript_type = "(event: NudgeEvent) => void")]
    pub type CallbackArg;
    /// Campaigns in TypeScript.
    #[wasm_bindgen(typescript_type = "object | object[] | string")]
    pub type CampaignsArg;
    /// `Reason[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "Reason[]")]
    pub type Reasons;
    /// `string | undefined` in TypeScript.
    #[wasm_bindgen(typescript_type = "string | undefined")]
    pub type OptString;
    /// `string | null` in TypeScript.
    #[wasm_bindgen(typescript_type = "string | null")]
    pub type IdArg;
    /// `QueuedCall` in TypeScript.
    #[wasm_bindgen(typescript_type = "QueuedCall")]
    pub type CallArg;
    /// The loader's pre-load queue.
    #[wasm_bindgen(typescript_type = "QueuedCall[] | undefined")]
    pub type QueueArg;
}

/// Engine values cross into JS through serde-wasm-bindgen (plain objects, not `Map`s).
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Num(n) => s.serialize_f64(*n),
            Value::Str(t) => s.serialize_str(t),
            Value::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Value::Obj(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k.as_str(), v)?;
                }
                map.end()
            }
        }
    }
}

/// An engine value as a plain JS value.
fn to_js(v: &Value) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

fn get(o: &JsValue, key: &str) -> Option<JsValue> {
    if !o.is_object() {
        return None;
    }
    Reflect::get(o, &key.into()).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

fn string(o: &JsValue, key: &str) -> Option<String> {
    get(o, key).and_then(|v| v.as_string()).filter(|s| !s.is_empty())
}

fn consent_of(v: &JsValue) -> Option<Consent> {
    match v.as_string().as_deref() {
        Some("granted") => Some(Consent::Granted),
        Some("denied") => Some(Consent::Denied),
        Some("pending") => Some(Consent::Pending),
        _ => None,
    }
}

/// Campaigns from a JS value: an object or array, or JSON text.
fn campaigns_of(v: &JsValue) -> Result<Value, String> {
    match v.as_string() {
        Some(text) => json::parse(&text).map_err(|e| {
            let mut m = String::from("nudge: campaigns are not JSON: ");
            e.write(&mut m);
            m
        }),
        None => to_value(v).ok_or_else(|| String::from("nudge: campaigns must be JSON data")),
    }
}

/// The hard errors as one message (warnings go to the console).
fn findings(errors: &[CampaignError]) -> Result<(), JsError> {
    let mut hard = String::new();
    let mut soft = String::new();
    for e in errors {
        let out = if e.severity == Severity::Error { &mut hard } else { &mut soft };
        out.push_str(if out.is_empty() { "nudge: " } else { "\n" });
        e.write(out);
    }
    if !soft.is_empty() {
        web_sys::console::warn_1(&soft.into());
    }
    if hard.is_empty() {
        Ok(())
    } else {
        Err(JsError::new(&hard))
    }
}

/// Starts nudge. Throws for a config without a `site`, for campaigns that are not JSON,
/// and for rejected inline campaigns (the valid ones still run).
#[wasm_bindgen]
pub fn init(config: InitConfig) -> Result<(), JsError> {
    start_with(config.as_ref(), false)
}

/// `init`, or the loader's deferred start (`defer`: see `runtime::Config::defer`).
fn start_with(c: &JsValue, defer: bool) -> Result<(), JsError> {
    let site = string(c, "site").ok_or_else(|| JsError::new("nudge: init needs a `site`"))?;
    let campaigns = match get(c, "campaigns") {
        // The loader's boot sets them in a task of their own; until then the set is empty
        // (and events wait for the listeners anyway).
        Some(_) if defer => Some(Value::Arr(Vec::new())),
        Some(v) => Some(campaigns_of(&v).map_err(|m| JsError::new(&m))?),
        None => None,
    };
    let consent = match get(c, "consent") {
        Some(v) => consent_of(&v).ok_or_else(|| {
            JsError::new("nudge: consent must be \"granted\", \"denied\" or \"pending\"")
        })?,
        None => Consent::Granted,
    };
    let flag = |k: &str, default: bool| get(c, k).and_then(|v| v.as_bool()).unwrap_or(default);
    let gpc = web_sys::window()
        .and_then(|w| Reflect::get(&w.navigator(), &"globalPrivacyControl".into()).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    runtime::set_sink(deliver);
    let errors = runtime::start(Config {
        site,
        collector: string(c, "collector"),
        campaigns_url: string(c, "campaignsUrl"),
        campaigns: campaigns.map(runtime::normalize),
        consent,
        respect_gpc: flag("respectGpc", true),
        lang: string(c, "lang"),
        z_index: get(c, "zIndex")
            .and_then(|v| v.as_f64())
            .map_or(runtime::Z_INDEX, |z| z.clamp(-2_147_483_647.0, 2_147_483_647.0) as i32),
        listen: flag("listen", true),
        gpc,
        defer,
    });
    findings(&errors)
}

fn usage(ok: bool) -> bool {
    if !ok {
        warn_once(Warn::Usage, "nudge: a call had arguments of the wrong kind and was ignored");
    }
    ok
}

/// Properties from a JS value: an object, or nothing.
fn props_of(v: &JsValue) -> Option<Value> {
    if v.is_undefined() || v.is_null() {
        return Some(Value::Obj(Vec::new()));
    }
    to_value(v).filter(|p| matches!(p, Value::Obj(_)))
}

/// Tracks an event: `track("Product Added", {product_id: "p1", price: 29.9})`.
/// Names starting with `Campaign ` are nudge's own and are refused, and so are properties
/// nested more than 61 levels deep (they could not be sent), with a console warning.
#[wasm_bindgen]
pub fn track(name: JsValue, props: PropsArg) {
    let name = name.as_string().filter(|n| !n.is_empty() && !n.starts_with("Campaign "));
    let props = props_of(props.as_ref());
    match (name, props) {
        (Some(name), Some(props)) => runtime::post(move |rt| rt.track(&name, props)),
        _ => {
            usage(false);
        }
    }
}

/// Identifies the visitor (`id` may be `null` to set traits only); `traits.segments` is
/// a list of segment names.
#[wasm_bindgen]
pub fn identify(id: IdArg, traits: PropsArg) {
    let id: &JsValue = id.as_ref();
    let traits = props_of(traits.as_ref());
    let user = id.as_string();
    if !usage(traits.is_some() && (user.is_some() || id.is_null() || id.is_undefined())) {
        return;
    }
    let mut props = Vec::new();
    if let Some(u) = user {
        props.push(("user_id".into(), Value::Str(u)));
    }
    if let Some(t) = traits {
        props.push(("traits".into(), t));
    }
    runtime::post(move |rt| rt.track(names::IDENTIFIED, Value::Obj(props)));
}

/// Records a page view of the current location (for SPAs that route without the History
/// API; History API navigation is seen automatically).
#[wasm_bindgen]
pub fn page() {
    runtime::post(|rt| rt.page());
}

/// Replaces the campaign set. Throws the engine's findings (each at its JSON path) if any
/// campaign was rejected; the valid ones are loaded anyway.
#[wasm_bindgen(js_name = setCampaigns)]
pub fn set_campaigns(campaigns: CampaignsArg) -> Result<(), JsError> {
    let doc = campaigns_of(campaigns.as_ref()).map_err(|m| JsError::new(&m))?;
    let errors = runtime::with(|rt| rt.set_campaigns(doc))
        .ok_or_else(|| JsError::new("nudge: call init first"))?;
    findings(&errors)
}

/// Sets consent: `"granted"` starts storing and sending (what waited in memory goes too),
/// `"denied"` opts out, `"pending"` stops storing and sending.
#[wasm_bindgen(js_name = setConsent)]
pub fn set_consent(state: ConsentArg) {
    match consent_of(state.as_ref()) {
        Some(c) => runtime::post(move |rt| rt.set_consent(c)),
        None => {
            usage(false);
        }
    }
}

/// Opts the visitor out: erases what nudge stored; nothing is stored, sent or shown again
/// (until `setConsent("granted")`).
#[wasm_bindgen(js_name = optOut)]
pub fn opt_out() {
    runtime::post(|rt| rt.opt_out());
}

/// Forgets the visitor: a new anonymous id and an empty profile; stored data is erased.
#[wasm_bindgen]
pub fn reset() {
    runtime::post(|rt| rt.reset());
}

/// Stops nudge: removes every listener, timer and rendered campaign.
#[wasm_bindgen]
pub fn shutdown() {
    runtime::stop();
}

thread_local! {
    static HANDLERS: RefCell<Vec<(u8, Function)>> = const { RefCell::new(Vec::new()) };
}

const TOPICS: [&str; 6] = ["event", "impression", "click", "dismiss", "conversion", "holdout"];

fn topic_of(v: &JsValue) -> Option<u8> {
    let t = v.as_string()?;
    TOPICS.iter().position(|x| *x == t).map(|i| i as u8)
}

/// The topic of a lifecycle event (0 = every event).
fn event_topic(name: &str) -> u8 {
    match name {
        names::CAMPAIGN_SHOWN => 1,
        names::CAMPAIGN_CLICKED => 2,
        names::CAMPAIGN_DISMISSED => 3,
        names::CAMPAIGN_CONVERTED => 4,
        names::CAMPAIGN_HELD_OUT => 5,
        _ => 0,
    }
}

/// Calls `callback(event)` for every event of `topic`.
#[wasm_bindgen]
pub fn on(topic: TopicArg, callback: CallbackArg) {
    let f = callback.dyn_ref::<Function>().cloned();
    match (topic_of(topic.as_ref()), f) {
        (Some(t), Some(f)) => HANDLERS.with(|h| h.borrow_mut().push((t, f))),
        _ => {
            usage(false);
        }
    }
}

/// Removes a callback added with `on`.
#[wasm_bindgen]
pub fn off(topic: TopicArg, callback: CallbackArg) {
    if let Some(t) = topic_of(topic.as_ref()) {
        let cb: &JsValue = callback.as_ref();
        HANDLERS.with(|h| {
            h.borrow_mut().retain(|(ht, f)| !(*ht == t && AsRef::<JsValue>::as_ref(f) == cb))
        });
    }
}

/// Hands one event to the page's callbacks (installed as the runtime's sink).
fn deliver(e: &Event) {
    let topic = event_topic(&e.name);
    let fs: Vec<Function> = HANDLERS.with(|h| {
        h.borrow().iter().filter(|(t, _)| *t == 0 || *t == topic).map(|(_, f)| f.clone()).collect()
    });
    if fs.is_empty() {
        return;
    }
    let mut fields = vec![
        ("id".into(), Value::Str(e.id.clone())),
        ("name".into(), Value::Str(e.name.clone())),
        ("ts".into(), Value::Num(e.ts.0 as f64)),
        ("props".into(), e.props.clone()),
    ];
    if let Some(p) = &e.page {
        fields.push(("page".into(), crate::engine::event::page_json(p)));
    }
    let obj = to_js(&Value::Obj(fields));
    for f in fs {
        if f.call1(&JsValue::UNDEFINED, &obj).is_err() {
            warn_once(Warn::Callback, "nudge: an on() callback threw");
        }
    }
}

/// Shows a campaign now, ignoring its rules (previews); nothing is recorded or sent.
/// Returns whether it is on screen.
#[wasm_bindgen]
pub fn show(campaign_id: JsValue, variant: OptString) -> bool {
    let Some(id) = campaign_id.as_string() else { return usage(false) };
    let variant = AsRef::<JsValue>::as_ref(&variant).as_string();
    runtime::with(|rt| rt.preview(&id, variant.as_deref())).unwrap_or(false)
}

/// Why each campaign (or the one named) did or did not show on the latest decision.
#[wasm_bindgen]
pub fn explain(campaign_id: OptString) -> Reasons {
    let id = AsRef::<JsValue>::as_ref(&campaign_id).as_string();
    let list = runtime::with(|rt| rt.explain(id.as_deref())).unwrap_or_default();
    to_js(&Value::Arr(list)).unchecked_into()
}

/// Runs one queued call, `[method, ...args]`: how `window.nudge.push` works after load.
#[wasm_bindgen]
pub fn push(call: CallArg) {
    let call: &JsValue = call.as_ref();
    if !call.is_object() {
        return;
    }
    let a = Array::from(call);
    let (x, y) = (a.get(1), a.get(2));
    let result = match a.get(0).as_string().as_deref().unwrap_or_default() {
        "init" => init(x.unchecked_into()),
        "setCampaigns" => set_campaigns(x.unchecked_into()),
        other => {
            match other {
                "track" => track(x, y.unchecked_into()),
                "identify" => identify(x.unchecked_into(), y.unchecked_into()),
                "page" => page(),
                "setConsent" => set_consent(x.unchecked_into()),
                "optOut" => opt_out(),
                "reset" => reset(),
                "on" => on(x.unchecked_into(), y.unchecked_into()),
                "off" => off(x.unchecked_into(), y.unchecked_into()),
                "show" => {
                    show(x, y.unchecked_into());
                }
                "shutdown" => shutdown(),
                _ => {
                    usage(false);
                }
            }
            Ok(())
        }
    };
    report(result);
}

/// The loader's entry point: starts nudge from the script tag's `attrs` (`site`,
/// `collector`, `campaignsUrl`) merged under the first queued `init` config, over three
/// tasks so that none of them is long: storage and the visitor's state in this one, the
/// inline campaigns in the next, then the listeners (`runtime::Config::defer`). The last
/// also replays the other queued calls in order, those queued meanwhile included, and
/// calls `done` (where the loader puts the API in `window.nudge`) before the events that
/// waited are decided.
#[wasm_bindgen]
pub fn boot(queue: QueueArg, attrs: InitConfig, done: Option<Function>) {
    let queue: JsValue = queue.into();
    let calls = queued(&queue);
    let first_init = calls.iter().position(|c| {
        c.is_object() && Array::from(c).get(0).as_string().as_deref() == Some("init")
    });
    let config = Object::new();
    let attrs: &JsValue = attrs.as_ref();
    if attrs.is_object() {
        Object::assign(&config, attrs.unchecked_ref());
    }
    if let Some(i) = first_init {
        let given = Array::from(&calls[i]).get(1);
        if given.is_object() {
            Object::assign(&config, given.unchecked_ref());
        }
    }
    let mut campaigns = None;
    if first_init.is_some() || get(&config, "site").is_some() {
        match start_with(&config, true) {
            Ok(()) => campaigns = get(&config, "campaigns"),
            Err(e) => report(Err(e)),
        }
    }
    next_task(Box::new(move || {
        if let Some(c) = campaigns {
            report(set_campaigns(c.unchecked_into()));
        }
        next_task(Box::new(move || {
            runtime::finish_boot(|| {
                // The page may have made the queue only now (`window.nudge ||= []`).
                let now = web_sys::window()
                    .and_then(|w| Reflect::get(&w, &"nudge".into()).ok())
                    .filter(Array::is_array)
                    .unwrap_or_else(|| queue.clone());
                let skip = if now == queue { first_init } else { None };
                for (i, c) in queued(&now).into_iter().enumerate() {
                    if Some(i) != skip {
                        push(c.unchecked_into());
                    }
                }
                // The API is the page's before the events are decided: a callback they
                // reach can call `nudge.track` and find it.
                if let Some(done) = done {
                    let _ = done.call0(&JsValue::NULL);
                }
            });
        }));
    }));
}

/// Runs `f` in a task of its own (one closure type for every step, fewer bytes).
fn next_task(f: Box<dyn FnOnce()>) {
    Timeout::new(0, f).forget();
}

/// The calls in a pre-load queue (none if it is not an array).
fn queued(queue: &JsValue) -> Vec<JsValue> {
    if Array::is_array(queue) {
        Array::from(queue).to_vec()
    } else {
        Vec::new()
    }
}

/// A queued call has no caller to throw to: the console is where its error is seen.
fn report(result: Result<(), JsError>) {
    if let Err(e) = result {
        web_sys::console::error_1(&JsValue::from(e));
    }
}
