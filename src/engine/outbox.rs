//! The outbox policy: a bounded queue of serialized events, batching, retry and back-off.
//!
//! Pure bookkeeping: the web shell's transport asks [`Outbox::poll`] for a batch when it
//! may send, reports the result with [`Outbox::settle`], and persists [`Outbox::to_json`]
//! after each change. Time and jitter are arguments. Nothing is lost without being
//! counted: every drop increments [`Outbox::dropped`] with its cause.

use super::json::{self, Value};
use super::Millis;

/// Limits of the queue and its batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most events queued.
    pub max_events: usize,
    /// Most bytes queued (serialized events).
    pub max_bytes: usize,
    /// Largest batch body, bytes (under the 64 KiB beacon limit).
    pub batch_bytes: usize,
    /// Most events per batch.
    pub batch_events: usize,
    /// A batch leaves once its oldest event is this old...
    pub max_age: Millis,
    /// ...or once this many events wait.
    pub flush_events: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_events: 1_000,
            max_bytes: 512 * 1024,
            batch_bytes: 60_000,
            batch_events: 200,
            max_age: Millis(5_000),
            flush_events: 20,
        }
    }
}

/// A queued event.
#[derive(Clone, Debug, PartialEq)]
pub struct Queued {
    /// Event id (for the caller's bookkeeping).
    pub id: String,
    /// Its wire JSON.
    pub json: String,
    /// Behaviour signals (scroll, idle, page views) go first when the queue is full.
    pub low_value: bool,
    /// When it was queued.
    pub at: Millis,
}

/// A batch handed to the transport.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Number of events (the first `count` of the queue).
    pub count: usize,
    /// The request body: `{"site":…,"sent_at":…,"events":[…]}`.
    pub body: String,
}

/// How a send ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    /// No response (offline, DNS, CORS, aborted).
    Network,
    /// An HTTP status, with `Retry-After` if the server sent one.
    Status(u16, Option<Millis>),
}

/// What the outbox did with a settled batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// Delivered; removed from the queue.
    Delivered,
    /// Kept; try again at this time.
    Retry(Millis),
    /// Refused by the server for good; removed and counted.
    Dropped,
    /// No batch was in flight (a late or repeated answer): nothing changed.
    Idle,
}

/// Why events were dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Pushed out because the queue was full.
    pub overflow: u64,
    /// Refused by the server (4xx other than 408/429).
    pub rejected: u64,
    /// Larger than a whole batch on their own.
    pub oversize: u64,
}

impl Dropped {
    /// All drops.
    pub fn total(&self) -> u64 {
        self.overflow + self.rejected + self.oversize
    }
}

/// Longest back-off between retries.
pub const MAX_BACKOFF: Millis = Millis(60_000);
/// Longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Millis = Millis(300_000);

/// Whether a response means "try again later".
///
/// ```
/// use nudge::engine::outbox::{retryable, Response};
/// assert!(retryable(Response::Network));
/// assert!(retryable(Response::Status(503, None)) && retryable(Response::Status(429, None)));
/// assert!(!retryable(Response::Status(400, None)));
/// ```
pub fn retryable(r: Response) -> bool {
    match r {
        Response::Network => true,
        Response::Status(s, _) => s == 408 || s == 429 || (500..600).contains(&s),
    }
}

/// Back-off before retry number `attempt` (1-based): about `min(0.5 s · 2^(attempt-1), 60 s)`,
/// scaled by `0.5 + jitter / 2` for `jitter` in [0, 1) so clients that failed together
/// do not return together.
///
/// ```
/// use nudge::engine::{outbox::backoff, Millis};
/// assert_eq!(backoff(1, 0.999_999), Millis(499));
/// assert_eq!(backoff(20, 0.0), Millis(30_000));
/// ```
pub fn backoff(attempt: u32, jitter: f64) -> Millis {
    let base = 500u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(20)).min(MAX_BACKOFF.0);
    let j = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
    Millis((base as f64 * (0.5 + j / 2.0)) as u64)
}

/// The queue and its retry state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outbox {
    /// Limits.
    pub limits: Limits,
    /// Events waiting, oldest first.
    pub queue: Vec<Queued>,
    /// Bytes queued.
    pub bytes: usize,
    /// Failed attempts in a row.
    pub attempt: u32,
    /// No send before this time.
    pub not_before: Millis,
    /// The batch in flight, if any (its event count).
    pub in_flight: Option<usize>,
    /// Drops, by cause.
    pub dropped: Dropped,
}

impl Outbox {
    /// An empty outbox with these limits.
    pub fn new(limits: Limits) -> Outbox {
        Outbox { limits, ..Outbox::default() }
    }

    /// Queues an event's wire JSON. When full, drops the oldest low-value event not in
    /// flight (else the oldest not in flight) until it fits. An event too big for any
    /// batch is dropped and counted.
    pub fn push(&mut self, id: &str, json: String, low_value: bool, now: Millis) {
        if json.len() + 64 > self.limits.batch_bytes {
            self.dropped.oversize += 1;
            return;
        }
        let pinned = self.in_flight.unwrap_or(0);
        while self.queue.len() >= self.limits.max_events
            || self.bytes + json.len() > self.limits.max_bytes
        {
            let victim =
                self.queue.iter().skip(pinned).position(|q| q.low_value).map(|i| i + pinned);
            let victim = victim.or((self.queue.len() > pinned).then_some(pinned));
            let Some(i) = victim else {
                // Everything queued is in flight: the newcomer is the one that cannot fit.
                self.dropped.overflow += 1;
                return;
            };
            if i < self.queue.len() {
                let q = self.queue.remove(i);
                self.bytes -= q.json.len();
                self.dropped.overflow += 1;
            }
        }
        self.bytes += json.len();
        self.queue.push(Queued { id: id.to_string(), json, low_value, at: now });
    }

    /// Whether a batch is due: enough events or an old enough one, not backing off, and
    /// nothing in flight. `force` (page hiding) ignores size and age but not back-off.
    pub fn due(&self, now: Millis, force: bool) -> bool {
        let Some(oldest) = self.queue.first() else { return false };
        self.in_flight.is_none()
            && now >= self.not_before
            && (force
                || self.queue.len() >= self.limits.flush_events
                || now.since(oldest.at) >= self.limits.max_age)
    }

    /// The next batch, if one is due; it stays queued until [`Outbox::settle`].
    ///
    /// ```
    /// use nudge::engine::{outbox::{Outbox, Limits, Response, Settled}, Millis};
    /// let mut ob = Outbox::new(Limits::default());
    /// ob.push("e1", r#"{"id":"e1"}"#.into(), false, Millis(0));
    /// assert!(ob.poll("shop", Millis(1), false).is_none()); // not due yet
    /// let b = ob.poll("shop", Millis(1), true).unwrap();
    /// assert_eq!(b.body, r#"{"site":"shop","sent_at":1,"events":[{"id":"e1"}]}"#);
    /// assert_eq!(ob.settle(Response::Status(200, None), Millis(2), 0.5), Settled::Delivered);
    /// assert!(ob.queue.is_empty());
    /// ```
    pub fn poll(&mut self, site: &str, now: Millis, force: bool) -> Option<Batch> {
        if !self.due(now, force) {
            return None;
        }
        let mut body = String::with_capacity(256);
        body.push_str("{\"site\":");
        json::write_str(&mut body, site);
        body.push_str(",\"sent_at\":");
        json::write_num(&mut body, now.0 as f64);
        body.push_str(",\"events\":[");
        // `push` allows 64 bytes for this header; with a longer site id the oldest event may
        // not fit even alone, and would block the queue for good. It is too big: drop it.
        while let Some(q) = self.queue.first() {
            if body.len() + q.json.len() + 3 <= self.limits.batch_bytes {
                break;
            }
            self.bytes -= q.json.len();
            self.dropped.oversize += 1;
            self.queue.remove(0);
        }
        if self.queue.is_empty() {
            return None;
        }
        let mut count = 0;
        for q in &self.queue {
            if count == self.limits.batch_events
                || body.len() + q.json.len() + 3 > self.limits.batch_bytes
            {
                break;
            }
            if count > 0 {
                body.push(',');
            }
            body.push_str(&q.json);
            count += 1;
        }
        body.push_str("]}");
        self.in_flight = Some(count);
        Some(Batch { count, body })
    }

    /// Records how the in-flight batch ended.
    pub fn settle(&mut self, r: Response, now: Millis, jitter: f64) -> Settled {
        let Some(count) = self.in_flight.take() else { return Settled::Idle };
        let ok = matches!(r, Response::Status(200..=299, _));
        if ok || !retryable(r) {
            for q in self.queue.drain(..count.min(self.queue.len())) {
                self.bytes -= q.json.len();
            }
            self.attempt = 0;
            self.not_before = now;
            if ok {
                return Settled::Delivered;
            }
            self.dropped.rejected += count as u64;
            return Settled::Dropped;
        }
        self.attempt = self.attempt.saturating_add(1);
        let mut wait = backoff(self.attempt, jitter);
        if let Response::Status(_, Some(after)) = r {
            wait = wait.max(Millis(after.0.min(MAX_RETRY_AFTER.0)));
        }
        self.not_before = now.plus(wait);
        Settled::Retry(self.not_before)
    }

    /// The persisted form (events and drop counts; retry timing restarts on load).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.bytes + 64);
        out.push_str("{\"v\":1,\"q\":[");
        for (i, q) in self.queue.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            json::write_str(&mut out, &q.id);
            out.push(',');
            json::write_str(&mut out, &q.json);
            out.push_str(if q.low_value { ",true," } else { ",false," });
            json::write_uint(&mut out, q.at.0);
            out.push(']');
        }
        out.push_str("],\"d\":[");
        let d = &self.dropped;
        for (i, n) in [d.overflow, d.rejected, d.oversize].into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::write_uint(&mut out, n);
        }
        out.push_str("]}");
        out
    }

    /// Restores a persisted outbox into one with `limits`; `None` if unreadable.
    pub fn from_json(text: &str, limits: Limits) -> Option<Outbox> {
        let v = json::parse(text).ok()?;
        if v.get("v")?.as_f64()? != 1.0 {
            return None;
        }
        let mut ob = Outbox::new(limits);
        let Value::Arr(d) = v.get("d")? else { return None };
        let num = |i: usize| d.get(i).and_then(Value::as_f64).map(|f| f as u64);
        ob.dropped = Dropped { overflow: num(0)?, rejected: num(1)?, oversize: num(2)? };
        let Value::Arr(q) = v.get("q")? else { return None };
        for item in q {
            let Value::Arr(p) = item else { return None };
            let id = p.first()?.as_str()?;
            let json = p.get(1)?.as_str()?.to_string();
            let low = matches!(p.get(2)?, Value::Bool(true));
            let at = Millis(p.get(3)?.as_f64()? as u64);
            ob.push(id, json, low, at);
        }
        Some(ob)
    }
}
