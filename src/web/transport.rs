//! The only code that touches the network: the engine's [`Outbox`] on the wire.
//!
//! Every queued event is persisted write-through (so a reload or a crash loses nothing),
//! batches leave with `fetch(…, {keepalive: true})` while the page lives and with
//! `navigator.sendBeacon` when it hides, bodies are `text/plain` (a CORS "simple request":
//! no preflight), and the engine decides batching, back-off (with jitter from
//! [`clock::random`]) and `Retry-After`. Delivery is at-least-once: an event leaves the
//! queue only when a send carrying it is answered 2xx (or refused for good); a beacon's
//! fate is unknowable, so beaconed events stay queued and persisted, and go again with the
//! next send, on this page or the next (the collector de-duplicates by event id). While
//! offline nothing is attempted; the `online` event resumes. The runtime hands events over
//! only once consent is granted.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use js_sys::Promise;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{RequestInit, Response as HttpResponse};

use super::clock;
use super::store::Store;
use crate::engine::outbox::{Limits, Outbox, Response, Settled};
use crate::engine::Millis;

/// Storage key of the persisted outbox.
const KEY: &str = "outbox";

/// Delivery of batches to `{collector}/v1/batch`.
pub(crate) struct Transport {
    site: String,
    url: Option<String>,
    outbox: Outbox,
    /// Wakes the runtime for the next due batch; dropped (cleared) when replaced.
    timer: Option<Timeout>,
    /// Events at the head of the queue already handed to a beacon, not yet confirmed: a
    /// second hide (`visibilitychange` and `pagehide` both fire on the way out) beacons
    /// again only if more were queued since.
    beaconed: usize,
    _online: Option<EventListener>,
}

/// Called (once) with the way a send ended.
pub(crate) type Done = Box<dyn FnOnce(Response)>;

impl Transport {
    /// A transport for `site`, sending to `collector` (none: events never leave the page).
    /// With `restore`, picks up the queue a previous page persisted in `store`.
    pub(crate) fn new(
        site: &str,
        collector: Option<&str>,
        store: &Store,
        restore: bool,
        wake: Rc<dyn Fn()>,
    ) -> Transport {
        let url = collector.map(|c| {
            let mut u = c.trim_end_matches('/').to_string();
            u.push_str("/v1/batch");
            u
        });
        let outbox = restore
            .then(|| store.get(KEY).and_then(|t| Outbox::from_json(&t, Limits::default())))
            .flatten()
            .unwrap_or_default();
        let online = web_sys::window().map(|w| EventListener::new(&w, "online", move |_| wake()));
        Transport { site: site.to_string(), url, outbox, timer: None, beaconed: 0, _online: online }
    }

    /// Drops every queued event and the persisted copy (opt-out, reset).
    pub(crate) fn clear(&mut self, store: &mut Store) {
        self.outbox = Outbox::default();
        self.timer = None;
        self.beaconed = 0;
        store.remove(KEY);
    }

    /// Queues an event's wire JSON. Behaviour signals are `low_value`: dropped first when full.
    pub(crate) fn push(&mut self, id: &str, json: String, low_value: bool, now: Millis) {
        if self.url.is_some() {
            self.outbox.push(id, json, low_value, now);
        }
    }

    /// Write-through: the queue as it is now (the runtime calls this only with consent).
    pub(crate) fn persist(&self, store: &mut Store) {
        if self.url.is_some() {
            if self.outbox.queue.is_empty() {
                store.remove(KEY);
            } else {
                store.set(KEY, &self.outbox.to_json());
            }
        }
    }

    /// Sends a batch if one is due (`hiding`: the page is going away, so everything goes,
    /// by beacon), then arms the timer for the next one. `done` is built per send and
    /// reports the result back to the runtime, which calls [`Transport::settle`].
    pub(crate) fn pump(
        &mut self,
        now: Millis,
        hiding: bool,
        wake: &Rc<dyn Fn()>,
        done: impl FnOnce() -> Done,
    ) {
        let Some(url) = self.url.clone() else { return };
        if !online() {
            return;
        }
        let fresh = !hiding || self.outbox.queue.len() > self.beaconed;
        if let Some(batch) = fresh.then(|| self.outbox.poll(&self.site, now, hiding)).flatten() {
            if hiding {
                // The page is going away: a beacon is the only send that reliably leaves.
                // Whether it arrives is unknowable (the collector may be down), so its
                // events stay queued and persisted until a later send is answered 2xx.
                let queued = web_sys::window()
                    .and_then(|w| {
                        w.navigator().send_beacon_with_opt_str(&url, Some(&batch.body)).ok()
                    })
                    .unwrap_or(false);
                self.outbox.in_flight = None;
                if queued {
                    self.beaconed = batch.count;
                }
            } else {
                send(&url, &batch.body, done());
            }
        }
        self.arm(now, wake);
    }

    /// Records how the batch in flight ended; returns what the outbox did.
    pub(crate) fn settle(&mut self, r: Response, now: Millis) -> Settled {
        let before = self.outbox.queue.len();
        let settled = self.outbox.settle(r, now, clock::random());
        // What left the head of the queue is no longer waiting for confirmation.
        self.beaconed =
            self.beaconed.saturating_sub(before.saturating_sub(self.outbox.queue.len()));
        settled
    }

    /// Arms one timer for when the next batch becomes due.
    fn arm(&mut self, now: Millis, wake: &Rc<dyn Fn()>) {
        self.timer = None;
        let Some(oldest) = self.outbox.queue.first() else { return };
        if self.outbox.in_flight.is_some() {
            return;
        }
        let due = oldest.at.plus(self.outbox.limits.max_age).max(self.outbox.not_before);
        let wait = due.since(now).0.clamp(50, 600_000) as u32;
        let wake = wake.clone();
        self.timer = Some(Timeout::new(wait, move || wake()));
    }

    /// Events waiting.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.outbox.queue.len()
    }
}

fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// `Retry-After` in seconds (the HTTP-date form is rare from collectors and is ignored:
/// the engine's back-off applies then).
fn retry_after(resp: &HttpResponse) -> Option<Millis> {
    let v = resp.headers().get("retry-after").ok()??;
    let secs: u64 = v.trim().bytes().try_fold(0u64, |n, b| {
        b.is_ascii_digit().then(|| n.saturating_mul(10).saturating_add(u64::from(b - b'0')))
    })?;
    Some(Millis(secs.saturating_mul(1_000)))
}

/// A `RequestInit` dictionary. Built as a plain object: web-sys has no `keepalive` setter,
/// and one `Reflect.set` import is smaller than a binding per field.
fn request(fields: &[(&str, JsValue)]) -> RequestInit {
    let o = js_sys::Object::new();
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&o, &(*k).into(), v);
    }
    o.unchecked_into()
}

/// `fetch(url, {method: "POST", body, keepalive: true})`, reporting the outcome to `done`.
fn send(url: &str, body: &str, done: Done) {
    let Some(win) = web_sys::window() else { return done(Response::Network) };
    let init = request(&[
        ("method", "POST".into()),
        ("body", body.into()),
        ("keepalive", true.into()),
        ("cache", "no-store".into()),
    ]);
    settle_promise(win.fetch_with_str_and_init(url, &init), move |resp: Option<HttpResponse>| {
        done(match resp {
            Some(r) => Response::Status(r.status(), retry_after(&r)),
            None => Response::Network,
        })
    });
}

/// `GET url` with revalidation through the browser's HTTP cache (the collector's ETag is
/// sent as `If-None-Match` by the browser itself, so no custom header and no preflight);
/// `done` gets the body of a 2xx response, or `None`.
pub(crate) fn get_text(url: &str, done: Box<dyn FnOnce(Option<String>)>) {
    let Some(win) = web_sys::window() else { return done(None) };
    let init = request(&[("cache", "no-cache".into())]);
    settle_promise(win.fetch_with_str_and_init(url, &init), move |resp: Option<HttpResponse>| {
        match resp.filter(HttpResponse::ok).and_then(|r| r.text().ok()) {
            Some(p) => {
                settle_promise(p, move |t: Option<JsValue>| done(t.and_then(|v| v.as_string())))
            }
            None => done(None),
        }
    });
}

/// Runs `f` once with the promise's value cast to `T` (`None` if it rejected or is not a
/// `T`). Both callbacks are released together after the first one runs.
fn settle_promise<T: JsCast>(p: Promise, f: impl FnOnce(Option<T>) + 'static) {
    type Pair = Option<(Closure<dyn FnMut(JsValue)>, Closure<dyn FnMut(JsValue)>)>;
    type Once = Option<Box<dyn FnOnce(Option<JsValue>)>>;
    let slot: Rc<RefCell<Pair>> = Rc::default();
    let f: Rc<RefCell<Once>> = Rc::new(RefCell::new(Some(Box::new(move |v: Option<JsValue>| {
        f(v.and_then(|v| v.dyn_into().ok()))
    }))));
    let make = |ok: bool| {
        let (slot, f) = (slot.clone(), f.clone());
        Closure::<dyn FnMut(JsValue)>::new(move |v: JsValue| {
            // wasm-bindgen defers freeing a closure that is running, so dropping both here
            // is safe; it releases the one that will never be called.
            drop(slot.borrow_mut().take());
            let g = f.borrow_mut().take();
            if let Some(g) = g {
                g(ok.then_some(v));
            }
        })
    };
    let (on_ok, on_err) = (make(true), make(false));
    let _ = p.then2(&on_ok, &on_err);
    *slot.borrow_mut() = Some((on_ok, on_err));
}
