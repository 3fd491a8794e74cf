//! The running SDK: owns the visitor's [`State`], the [`CampaignSet`], storage and the
//! transport, feeds events to [`decide`]/[`tick`], puts decisions on screen and reports
//! lifecycle events.
//!
//! One `Runtime` lives in a thread-local cell. Every entry point (the JS API, DOM
//! listeners, timers, fetch callbacks, the renderer's actions) goes through [`with`] or
//! [`post`]: a call that arrives while the runtime is busy (a page callback calling
//! `nudge.track` from inside `on('impression')`, say) is queued and run right after, so
//! nothing ever borrows twice and nothing panics. Events for the page's own callbacks are
//! delivered after the borrow ends, through the sink `web::api` installs.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_events::EventListener;
use gloo_timers::callback::{Interval, Timeout};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use super::listen::{self, Listeners, Signal};
use super::render::{self, Action, Rendered, View};
use super::store::Store;
use super::transport::{self, Done, Transport};
use super::{clock, warn_once, Warn};
use crate::engine::campaign::{load_value, CampaignSet, Slot};
use crate::engine::content::CtaAction;
use crate::engine::decide::{decide, tick, Reason, Show, State};
use crate::engine::event::{lifecycle, names, Event, PageContext, MAX_PROPS_DEPTH};
use crate::engine::json::{self, Value};
use crate::engine::profile::Consent;
use crate::engine::schema::CampaignError;
use crate::engine::Millis;

/// Storage key of the persisted visitor state (profile and ledger).
const STATE: &str = "state";
/// Storage key of the opt-out flag: the one thing kept after `optOut()`, so it holds.
const OPT_OUT: &str = "optout";
/// How long events wait for the campaign set before being decided without it.
const CAMPAIGN_WAIT_MS: u32 = 3_000;
/// Most events held back (campaigns loading, consent pending); the oldest go first.
const MAX_WAITING: usize = 200;
/// Time-based triggers (time on page, idle, "A then no B") are re-checked this often.
const TICK_MS: u32 = 1_000;
/// Above the store's own sticky headers and chat widgets.
pub(crate) const Z_INDEX: i32 = 2_147_483_000;

/// What `init` was given.
pub(crate) struct Config {
    /// Site key (namespaces storage; sent with every batch).
    pub(crate) site: String,
    /// Collector base URL; none: events stay on the page.
    pub(crate) collector: Option<String>,
    /// Where to fetch the campaign set from (default: the collector's).
    pub(crate) campaigns_url: Option<String>,
    /// Campaigns given inline (then nothing is fetched).
    pub(crate) campaigns: Option<Value>,
    /// Starting consent.
    pub(crate) consent: Consent,
    /// Treat `navigator.globalPrivacyControl` as an opt-out.
    pub(crate) respect_gpc: bool,
    /// Language override (else the browser's).
    pub(crate) lang: Option<String>,
    /// Stacking order of rendered campaigns.
    pub(crate) z_index: i32,
    /// Install the automatic listeners (page views, clicks, scroll, dataLayer…).
    pub(crate) listen: bool,
    /// Whether GPC is on in this browser (read by `web::api`).
    pub(crate) gpc: bool,
    /// The listeners come later, with [`finish_boot`], in another task (the script tag's
    /// boot spreads its work so that no task is long); events wait until then.
    pub(crate) defer: bool,
}

/// A campaign on screen.
struct OnScreen {
    campaign: String,
    slot: Slot,
    preview: bool,
    _view: Rendered,
}

/// The SDK while it runs.
pub(crate) struct Runtime {
    cfg: Config,
    state: State,
    set: CampaignSet,
    store: Store,
    transport: Transport,
    page: PageContext,
    on_screen: Vec<OnScreen>,
    /// Decided shows (with their event's properties), rendered in the next task.
    to_show: Vec<(Show, Value)>,
    show_timer: Option<Timeout>,
    /// Properties of the latest event that had any, for `{{tokens}}` in timed shows.
    last_props: Value,
    /// Reasons from the latest decision, for `explain`.
    reasons: Vec<Reason>,
    /// The campaign set has arrived (or the wait is over).
    ready: bool,
    /// Events waiting for the campaign set, or for [`finish_boot`].
    waiting: Vec<Event>,
    /// A deferred start has not installed its listeners yet: events wait.
    booting: bool,
    /// Events waiting for consent (in memory only).
    held: Vec<Event>,
    /// Events for the page's callbacks, delivered once the runtime is free.
    notes: Vec<Event>,
    visible: bool,
    /// A save is queued for the end of the current task.
    save_queued: bool,
    listeners: Option<Listeners>,
    _ticker: Option<Interval>,
    ready_timer: Option<Timeout>,
    _watch: Option<EventListener>,
    wake: Rc<dyn Fn()>,
}

type Deferred = Box<dyn FnOnce(&mut Runtime)>;

thread_local! {
    static RT: RefCell<Option<Runtime>> = const { RefCell::new(None) };
    static DEFERRED: RefCell<Vec<Deferred>> = const { RefCell::new(Vec::new()) };
    static SINK: Cell<Option<fn(&Event)>> = const { Cell::new(None) };
}

/// Installs the function that hands events to the page's `on(...)` callbacks.
pub(crate) fn set_sink(f: fn(&Event)) {
    SINK.with(|s| s.set(Some(f)));
}

/// Runs `f` on the runtime now; `None` if there is none or it is busy.
pub(crate) fn with<R>(f: impl FnOnce(&mut Runtime) -> R) -> Option<R> {
    let r = RT.with(|cell| {
        let mut guard = cell.try_borrow_mut().ok()?;
        guard.as_mut().map(f)
    });
    settle();
    r
}

/// Runs `f` on the runtime now, or right after the current call if it is busy.
pub(crate) fn post(f: impl FnOnce(&mut Runtime) + 'static) {
    if RT.with(|cell| cell.try_borrow_mut().is_err()) {
        DEFERRED.with(|d| d.borrow_mut().push(Box::new(f)));
    } else {
        with(f);
    }
}

/// Runs deferred work, then delivers notes to the sink, all outside any borrow.
fn settle() {
    loop {
        let next = DEFERRED.with(|d| {
            let mut d = d.borrow_mut();
            (!d.is_empty()).then(|| d.remove(0))
        });
        let Some(f) = next else { break };
        RT.with(|cell| {
            if let Ok(mut guard) = cell.try_borrow_mut() {
                if let Some(rt) = guard.as_mut() {
                    f(rt);
                }
            }
        });
    }
    let notes = RT.with(|cell| {
        cell.try_borrow_mut()
            .ok()
            .and_then(|mut g| g.as_mut().map(|rt| std::mem::take(&mut rt.notes)))
    });
    if let (Some(notes), Some(sink)) = (notes, SINK.with(Cell::get)) {
        for e in &notes {
            sink(e);
        }
    }
}

/// Stops the runtime: every listener, timer and rendered campaign goes away. What was
/// stored stays (it is the visitor's memory for the next page).
pub(crate) fn stop() {
    // A boot cut short (a second `init` in the loader's queue): what waited for it is
    // decided, queued and saved, as it would have been had the boot finished.
    with(|rt| {
        if rt.booting {
            rt.end_boot();
        }
    });
    let rt = RT.with(|cell| cell.try_borrow_mut().ok().and_then(|mut g| g.take()));
    if let Some(mut rt) = rt {
        rt.save_now();
        drop(rt);
    }
    DEFERRED.with(|d| d.borrow_mut().clear());
}

/// `Page Viewed`, `Scroll Depth` and `Exit Intent` are behaviour signals: when the queue
/// is full they are dropped before commerce and lifecycle events.
fn low_value(name: &str) -> bool {
    matches!(name, names::PAGE_VIEWED | names::SCROLL_DEPTH | names::EXIT_INTENT)
}

/// A property as token text: strings as they are, numbers without float formatting.
fn token_text(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Num(n) => Some(json::num_string(*n)),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
        _ => None,
    }
}

/// Campaigns from a JS value: a whole document, a list of campaigns, or one campaign.
pub(crate) fn normalize(doc: Value) -> Value {
    match doc {
        Value::Arr(list) => Value::Obj(vec![
            ("schema".into(), Value::Num(1.0)),
            ("campaigns".into(), Value::Arr(list)),
        ]),
        Value::Obj(ref f) if !f.iter().any(|(k, _)| k.as_str() == "campaigns") => {
            normalize(Value::Arr(vec![doc]))
        }
        other => other,
    }
}

fn wake() -> Rc<dyn Fn()> {
    Rc::new(|| post(|rt| rt.pump(false)))
}

/// Starts the SDK. Errors are the campaign findings of inline campaigns (the good ones run).
pub(crate) fn start(mut cfg: Config) -> Vec<CampaignError> {
    stop();
    let mut store = Store::open(&cfg.site);
    let opted_out = store.get(OPT_OUT).is_some();
    let consent =
        if opted_out || (cfg.gpc && cfg.respect_gpc) { Consent::Denied } else { cfg.consent };
    if consent == Consent::Denied && !opted_out {
        // Global Privacy Control: nothing of this visitor is kept.
        store.clear();
    }
    let mut state = match consent {
        Consent::Granted => store.get(STATE).and_then(|t| State::from_json(&t)),
        _ => None,
    }
    .unwrap_or_else(|| State::new(&clock::id()));
    state.consent = consent;
    let wake = wake();
    let transport = Transport::new(
        &cfg.site,
        cfg.collector.as_deref(),
        &store,
        consent == Consent::Granted,
        wake.clone(),
    );
    let fetch_from = match (&cfg.campaigns, &cfg.campaigns_url, &cfg.collector) {
        (Some(_), _, _) => None,
        (None, Some(url), _) => Some(url.clone()),
        (None, None, Some(c)) => {
            let mut u = c.trim_end_matches('/').to_string();
            u.push_str("/v1/sites/");
            u.push_str(&String::from(js_sys::encode_uri_component(&cfg.site)));
            u.push_str("/campaigns");
            Some(u)
        }
        (None, None, None) => None,
    };
    // Moved out, not cloned: the document is needed once, and a copy would double the
    // wasm memory a page pays for at its peak.
    let inline = cfg.campaigns.take();
    let (lang, listen, defer) = (cfg.lang.clone(), cfg.listen, cfg.defer);
    let watch = store.watch(|key| {
        let key = key.to_string();
        post(move |rt| rt.changed_elsewhere(&key));
    });
    let rt = Runtime {
        cfg,
        state,
        set: CampaignSet::default(),
        store,
        transport,
        page: PageContext::default(),
        on_screen: Vec::new(),
        to_show: Vec::new(),
        show_timer: None,
        last_props: Value::Obj(Vec::new()),
        reasons: Vec::new(),
        ready: fetch_from.is_none(),
        waiting: Vec::new(),
        booting: defer,
        held: Vec::new(),
        notes: Vec::new(),
        visible: true,
        save_queued: false,
        listeners: None,
        _ticker: Some(Interval::new(TICK_MS, || post(Runtime::tick))),
        ready_timer: fetch_from
            .is_some()
            .then(|| Timeout::new(CAMPAIGN_WAIT_MS, || post(Runtime::make_ready))),
        _watch: watch,
        wake,
    };
    RT.with(|cell| {
        if let Ok(mut g) = cell.try_borrow_mut() {
            *g = Some(rt);
        }
    });
    // What an earlier page left queued (never sent, or beaconed and not confirmed) goes
    // once it is due, whether or not this page records anything.
    post(|rt| rt.pump(false));
    let mut errors = Vec::new();
    if let Some(doc) = inline {
        errors = with(|rt| rt.set_campaigns(doc)).unwrap_or_default();
    }
    if let Some(url) = fetch_from {
        transport::get_text(&url, Box::new(|text| post(move |rt| rt.campaigns_arrived(text))));
    }
    if listen && !defer {
        start_listening(lang);
    }
    errors
}

/// Installs the listeners; their first signal is this page's view.
fn start_listening(lang: Option<String>) {
    let emit: Rc<dyn Fn(Signal)> = Rc::new(|s| post(move |rt| rt.signal(s)));
    let listeners = listen::start(lang, emit);
    post(move |rt| {
        if let Some(l) = &listeners {
            l.set_selectors(rt.selectors());
        }
        rt.listeners = listeners;
    });
}

/// A deferred start's last step: installs the listeners, runs `replay` (the loader's
/// queued calls, then its hand-over of the API), then decides what waited, in order: this
/// page's view, the queue, then any call made during the boot. Events wait until the end,
/// so the queue's callbacks see every one of them, with `window.nudge` already the API.
pub(crate) fn finish_boot(replay: impl FnOnce()) {
    let booting = with(|rt| {
        rt.booting.then(|| (rt.cfg.lang.clone(), rt.cfg.listen, std::mem::take(&mut rt.waiting)))
    })
    .flatten();
    let mut during = Vec::new();
    if let Some((lang, listen, waited)) = booting {
        if listen {
            start_listening(lang);
        }
        during = waited;
    }
    replay();
    // The runtime may be another by now (the queue had a second `init`); `during` joins it.
    post(move |rt| {
        rt.waiting.extend(during);
        let over = rt.waiting.len().saturating_sub(MAX_WAITING);
        rt.waiting.drain(..over); // the oldest go first, as in `record`
        rt.end_boot();
    });
}

impl Runtime {
    fn now(&self) -> Millis {
        clock::now()
    }

    fn selectors(&self) -> Vec<String> {
        self.set.selectors().into_iter().map(String::from).collect()
    }

    /// Replaces the campaign set; returns every finding (the good campaigns load anyway).
    pub(crate) fn set_campaigns(&mut self, doc: Value) -> Vec<CampaignError> {
        let loaded = load_value(normalize(doc));
        self.set = loaded.set;
        if let Some(l) = &self.listeners {
            l.set_selectors(self.selectors());
        }
        self.make_ready();
        loaded.errors
    }

    fn campaigns_arrived(&mut self, text: Option<String>) {
        match text.map(|t| json::parse(&t)) {
            Some(Ok(doc)) => {
                let errors = self.set_campaigns(doc);
                if errors.iter().any(|e| e.severity == crate::engine::schema::Severity::Error) {
                    warn_once(
                        Warn::Campaigns,
                        "nudge: some campaigns were rejected; see explain()",
                    );
                }
            }
            _ => {
                warn_once(Warn::Campaigns, "nudge: could not load campaigns");
                self.make_ready();
            }
        }
    }

    /// The boot is over: decides what waited for it (unless campaigns are still awaited).
    fn end_boot(&mut self) {
        self.booting = false;
        self.decide_waiting();
    }

    /// Stops waiting for campaigns and decides the events that waited (unless the boot is
    /// still on: `end_boot` decides them then).
    fn make_ready(&mut self) {
        self.ready_timer = None;
        self.ready = true;
        self.decide_waiting();
    }

    /// Decides the events that waited, in order, once nothing holds them any more.
    fn decide_waiting(&mut self) {
        if self.ready && !self.booting {
            for e in std::mem::take(&mut self.waiting) {
                self.record(e);
            }
        }
    }

    /// Acts on what a listener saw.
    fn signal(&mut self, s: Signal) {
        match s {
            Signal::Page(ctx) => self.page_view(ctx),
            Signal::Track(name, props) => self.track(&name, props),
            Signal::Activity => {
                let now = self.now();
                self.state.profile.note_activity(now);
            }
            Signal::Hide => {
                self.visible = false;
                self.save_now();
                self.pump(true);
            }
            Signal::Visible => self.visible = true,
        }
    }

    /// A page view: the page's campaigns go (a new page would have removed them too),
    /// and page rules are evaluated afresh.
    pub(crate) fn page_view(&mut self, ctx: PageContext) {
        self.page = ctx.clone();
        self.on_screen.retain(|o| o.preview);
        // Decided for the page before: not for this one.
        self.to_show.clear();
        let mut e = Event::new(&clock::id(), names::PAGE_VIEWED, self.now());
        e.page = Some(ctx);
        self.record(e);
    }

    /// `page()`: a page view for the current location.
    pub(crate) fn page(&mut self) {
        match &self.listeners {
            Some(l) => l.page(),
            None => {
                let ctx = listen::context(self.cfg.lang.as_deref(), None);
                self.page_view(ctx);
            }
        }
    }

    /// Tracks an event from the page.
    pub(crate) fn track(&mut self, name: &str, props: Value) {
        if props.depth() > MAX_PROPS_DEPTH {
            // Its whole batch would be unreadable at the collector.
            warn_once(
                Warn::Deep,
                "nudge: an event's properties nest too deeply to be sent; the event was ignored",
            );
            return;
        }
        let mut e = Event::new(&clock::id(), name, self.now());
        e.props = props;
        self.record(e);
    }

    /// Decides on `e`, queues it with the lifecycle events it caused, renders the shows.
    fn record(&mut self, mut e: Event) {
        if !self.ready || self.booting {
            if self.waiting.len() >= MAX_WAITING {
                self.waiting.remove(0);
            }
            self.waiting.push(e);
            return;
        }
        let now = self.now();
        if e.page.is_none() {
            e.page = Some(self.page.clone());
        }
        let out = decide(&mut self.state, &self.set, &e, now, true);
        self.reasons = out.reasons;
        if matches!(&e.props, Value::Obj(f) if !f.is_empty()) && !low_value(&e.name) {
            self.last_props = e.props.clone();
        }
        let props = e.props.clone();
        self.queue(e);
        for l in out.events {
            self.queue(l);
        }
        self.show_later(out.shows, &props);
        self.save();
        self.pump(false);
    }

    /// Time-based triggers, once a second while the page is visible.
    fn tick(&mut self) {
        let timed = self.set.campaigns.iter().any(|c| c.timed);
        if !self.ready || self.booting || !self.visible || !timed {
            return;
        }
        let now = self.now();
        let out = tick(&mut self.state, &self.set, now, false);
        if out.events.is_empty() && out.shows.is_empty() {
            return;
        }
        for l in out.events {
            self.queue(l);
        }
        let props = self.last_props.clone();
        self.show_later(out.shows, &props);
        self.save();
        self.pump(false);
    }

    /// Hands an event to the transport (or holds it for consent) and to the page's callbacks.
    fn queue(&mut self, mut e: Event) {
        if e.page.is_none() {
            e.page = Some(self.page.clone());
        }
        match self.state.consent {
            Consent::Granted => {
                let json = e.to_json(&self.state.profile.anon_id, self.state.profile.sessions);
                self.transport.push(&e.id, json, low_value(&e.name), e.ts);
            }
            Consent::Pending => {
                if self.held.len() >= MAX_WAITING {
                    self.held.remove(0);
                }
                self.held.push(e.clone());
            }
            Consent::Denied => {}
        }
        self.notes.push(e);
    }

    /// Renders `shows` in a task of their own, after the current one: when a click
    /// triggers a campaign, the page paints its own response to the click first, and the
    /// shopper's interaction stays as fast as it was without nudge.
    fn show_later(&mut self, shows: Vec<Show>, props: &Value) {
        if shows.is_empty() {
            return;
        }
        self.to_show.extend(shows.into_iter().map(|s| (s, props.clone())));
        if self.show_timer.is_none() {
            self.show_timer = Some(Timeout::new(0, || post(Runtime::show_now)));
        }
    }

    fn show_now(&mut self) {
        self.show_timer = None;
        for (s, props) in std::mem::take(&mut self.to_show) {
            self.render(&s, &props, false);
        }
    }

    /// Puts one decision on screen (replacing whatever holds its slot).
    fn render(&mut self, show: &Show, props: &Value, preview: bool) {
        let Some(c) = self.set.get(&show.campaign) else { return };
        let Some(v) = c.variant(&show.variant) else { return };
        self.on_screen.retain(|o| o.slot != show.slot);
        let lang = match (&self.cfg.lang, self.page.language.is_empty()) {
            (Some(l), _) => l.clone(),
            (None, false) => self.page.language.clone(),
            (None, true) => String::from("en"),
        };
        let tokens = |k: &str| props.get(k).and_then(token_text);
        let view = View {
            campaign: &c.id,
            variant: &v.id,
            placement: c.placement,
            content: &v.content,
            lang: &lang,
            tokens: &tokens,
            countdown_ends: show.countdown_ends,
            z_index: self.cfg.z_index,
        };
        let (id, variant) = (c.id.clone(), v.id.clone());
        let on_action = Box::new(move |a: Action| {
            let (id, variant) = (id.clone(), variant.clone());
            post(move |rt| rt.action(&id, &variant, a, preview));
        });
        match render::show(&view, on_action) {
            Ok(r) => self.on_screen.push(OnScreen {
                campaign: show.campaign.clone(),
                slot: show.slot,
                preview,
                _view: r,
            }),
            Err(_) => warn_once(Warn::Render, "nudge: a campaign could not be rendered"),
        }
    }

    /// What the shopper did with a campaign on screen.
    fn action(&mut self, id: &str, variant: &str, a: Action, preview: bool) {
        let closes_on_click = self
            .set
            .get(id)
            .and_then(|c| c.variant(variant))
            .and_then(|v| v.content.cta.as_ref())
            .is_some_and(|cta| cta.action == CtaAction::Close);
        let (name, copy, closed) = match a {
            Action::Clicked => (names::CAMPAIGN_CLICKED, false, closes_on_click),
            Action::Copied => (names::CAMPAIGN_CLICKED, true, false),
            Action::Dismissed => (names::CAMPAIGN_DISMISSED, false, true),
        };
        if closed {
            self.on_screen.retain(|o| o.campaign != id);
            // A "close" CTA frees the slot like a dismissal does (the engine is told of
            // dismissals through the event itself).
            self.state.on_screen.retain(|(_, c)| c != id);
        }
        if preview {
            return;
        }
        let mut e = lifecycle(name, clock::id(), self.now(), id, Some(variant));
        if copy {
            e = e.with_prop("action", Value::Str("copy".into()));
        }
        self.record(e);
    }

    /// Shows a campaign now regardless of its rules (editor and QA previews). Nothing is
    /// recorded or sent. `false` if there is no such campaign or variant.
    pub(crate) fn preview(&mut self, id: &str, variant: Option<&str>) -> bool {
        let Some(c) = self.set.get(id) else { return false };
        let Some(v) = variant.map_or(c.variants.first(), |v| c.variant(v)) else { return false };
        let now = self.now();
        let show = Show {
            campaign: c.id.clone(),
            variant: v.id.clone(),
            slot: c.placement.slot(),
            countdown_ends: v.content.countdown.map(|cd| cd.ends_at(now)),
        };
        let props = self.last_props.clone();
        self.render(&show, &props, true);
        self.on_screen.iter().any(|o| o.campaign == id)
    }

    /// The reasons of the latest decision, for one campaign or all, as data.
    pub(crate) fn explain(&self, id: Option<&str>) -> Vec<Value> {
        self.reasons
            .iter()
            .filter(|r| id.is_none_or(|id| r.campaign == id))
            .map(Reason::to_value)
            .collect()
    }

    /// Changes consent. Granting keeps what waited in memory and starts storing and
    /// sending; denying is an opt-out.
    pub(crate) fn set_consent(&mut self, c: Consent) {
        match c {
            Consent::Denied => self.opt_out(),
            Consent::Pending => self.state.consent = Consent::Pending,
            Consent::Granted => {
                if self.state.consent == Consent::Granted {
                    return;
                }
                self.store.remove(OPT_OUT);
                if let Some(saved) = self.store.get(STATE).and_then(|t| State::from_json(&t)) {
                    self.adopt(saved);
                }
                self.state.consent = Consent::Granted;
                self.transport = Transport::new(
                    &self.cfg.site,
                    self.cfg.collector.as_deref(),
                    &self.store,
                    true,
                    self.wake.clone(),
                );
                for e in std::mem::take(&mut self.held) {
                    let json = e.to_json(&self.state.profile.anon_id, self.state.profile.sessions);
                    self.transport.push(&e.id, json, low_value(&e.name), e.ts);
                }
                self.save();
                self.pump(false);
            }
        }
    }

    /// Opts the visitor out: erases what nudge stored and remembers only the opt-out.
    pub(crate) fn opt_out(&mut self) {
        self.state.consent = Consent::Denied;
        self.held.clear();
        self.transport.clear(&mut self.store);
        self.store.clear();
        self.store.set(OPT_OUT, "1");
        self.on_screen.retain(|o| o.preview);
        self.to_show.clear();
    }

    /// Forgets the visitor (a new anonymous id, an empty profile), erasing what was
    /// stored; an opt-out stays in force.
    pub(crate) fn reset(&mut self) {
        let opted_out = self.store.get(OPT_OUT).is_some();
        self.transport.clear(&mut self.store);
        self.store.clear();
        if opted_out {
            self.store.set(OPT_OUT, "1");
        }
        self.held.clear();
        self.reasons.clear();
        let page = std::mem::take(&mut self.state.profile.page);
        let consent = self.state.consent;
        self.state = State::new(&clock::id());
        self.state.profile.page = page;
        self.state.consent = consent;
        self.save();
    }

    /// Takes another tab's profile and ledger (so caps hold across tabs), keeping this
    /// tab's page.
    fn adopt(&mut self, saved: State) {
        let page = std::mem::take(&mut self.state.profile.page);
        self.state.profile = saved.profile;
        self.state.profile.page = page;
        self.state.ledger = saved.ledger;
    }

    /// Another tab wrote `key` (empty: it cleared storage).
    fn changed_elsewhere(&mut self, key: &str) {
        if self.state.consent != Consent::Granted {
            return;
        }
        if self.store.get(OPT_OUT).is_some() {
            self.opt_out();
            return;
        }
        if key == STATE || key.is_empty() {
            if let Some(saved) = self.store.get(STATE).and_then(|t| State::from_json(&t)) {
                self.adopt(saved);
            }
        }
    }

    /// Saves at the end of the current task (a microtask): a burst of events in one task (a
    /// `dataLayer` replay, a route change with its page view, a loop of `track` calls)
    /// writes storage once. Writing on every event was most of `track`'s time.
    fn save(&mut self) {
        if self.save_queued || self.state.consent != Consent::Granted {
            return;
        }
        self.save_queued = true;
        let flush = Closure::once_into_js(|| post(Runtime::save_now));
        match web_sys::window() {
            Some(w) => w.queue_microtask(flush.unchecked_ref()),
            None => self.save_now(),
        }
    }

    /// Write-through of the visitor state and the queue, if consent allows storing.
    fn save_now(&mut self) {
        self.save_queued = false;
        if self.state.consent == Consent::Granted {
            self.store.set(STATE, &self.state.to_json());
            self.transport.persist(&mut self.store);
        }
    }

    /// Sends what is due (`hiding`: everything, by beacon).
    fn pump(&mut self, hiding: bool) {
        if self.state.consent != Consent::Granted {
            return;
        }
        let now = self.now();
        let done = || -> Done {
            Box::new(|r| {
                post(move |rt| {
                    let now = rt.now();
                    rt.transport.settle(r, now);
                    rt.transport.persist(&mut rt.store);
                    rt.pump(false);
                })
            })
        };
        self.transport.pump(now, hiding, &self.wake, done);
    }

    /// Events queued for the collector.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.transport.queued()
    }

    /// The current consent.
    #[cfg(test)]
    pub(crate) fn consent(&self) -> Consent {
        self.state.consent
    }

    /// How many campaigns are loaded.
    #[cfg(test)]
    pub(crate) fn campaigns(&self) -> usize {
        self.set.campaigns.len()
    }

    /// The visitor's anonymous id.
    #[cfg(test)]
    pub(crate) fn anon_id(&self) -> &str {
        &self.state.profile.anon_id
    }
}
