//! `POST /v1/batch`: check a batch of events, store the good ones once, keep every bad one.
//!
//! The body arrives as `text/plain` (the browser sends it that way to avoid a CORS
//! preflight), so it is read whatever its content type. A body that is not a batch at all
//! (too large, not UTF-8, not JSON, wrong shape, unknown site, origin not allowed) is
//! answered 4xx with the reason and kept in `bad_rows`; inside a good envelope each event
//! is judged on its own by the engine's [`Event::read`] plus the size limits below. Client
//! clocks are corrected by the difference between the server's clock and `sent_at`.

use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nudge::engine::event::{Event, PageContext, Utm};
use nudge::engine::json::{self, Value};
use nudge::engine::schema::{AsPath, Errors, Path as SchemaPath};
use nudge::engine::Millis;
use serde::Serialize;

use crate::body::{self, BodyError};
use crate::doc::Issues;
use crate::error::AppError;
use crate::rate::retry_after;
use crate::site::{valid_key, Sites};
use crate::state::AppState;
use crate::store::{BadRow, Row};

/// Longest event name, in characters.
pub const MAX_NAME: usize = 128;
/// Longest event id and anonymous id, in characters.
pub const MAX_ID: usize = 128;
/// Largest `props` object, as compact JSON bytes.
pub const MAX_PROPS: usize = 8 * 1024;
/// Largest `page` object, as compact JSON bytes.
pub const MAX_PAGE: usize = 8 * 1024;
/// Clock differences up to this are left alone (network time, not a wrong clock).
pub const SKEW_TOLERANCE: Millis = Millis(5_000);
/// Most per-event reasons echoed in one answer (all are kept in `bad_rows`).
pub const MAX_REASONS: usize = 20;

/// The answer to a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// Events stored now.
    pub accepted: usize,
    /// Events stored before (same site and id).
    pub duplicates: usize,
    /// Events refused (kept in `bad_rows`).
    pub rejected: usize,
    /// Why, for the first [`MAX_REASONS`] refused events: `path: message`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// The envelope of a batch: `{"site": …, "sent_at": …, "events": [...]}`.
#[derive(Debug, PartialEq)]
pub struct Envelope<'a> {
    /// Site key.
    pub site: String,
    /// The client's clock when it sent the batch.
    pub sent_at: Millis,
    /// The events, unread.
    pub events: &'a [Value],
}

/// Reads the envelope; the error is every finding as `path: message`, joined by `; `.
pub fn read_envelope(v: &Value) -> Result<Envelope<'_>, String> {
    let mut issues = Issues::default();
    let envelope = issues.object(v, "$", &["site", "sent_at", "events"]).and_then(|o| {
        let site = o.req("site", &mut issues).and_then(|(v, p)| match v.as_str() {
            Some(s) if valid_key(s) => Some(s.to_string()),
            _ => {
                issues.expected(&p, "a site key (1 to 64 letters, digits, '-', '_' or '.')", v);
                None
            }
        });
        let sent_at =
            o.req("sent_at", &mut issues).and_then(|(v, p)| read_millis(v, &p, &mut issues));
        let events = o.req("events", &mut issues).and_then(|(v, p)| match v {
            Value::Arr(items) => Some(items.as_slice()),
            other => {
                issues.expected(&p, "an array of events", other);
                None
            }
        });
        Some(Envelope { site: site?, sent_at: sent_at?, events: events? })
    });
    match envelope {
        Some(e) if issues.is_empty() => Ok(e),
        _ => Err(issues.joined()),
    }
}

fn read_millis(v: &Value, path: &str, issues: &mut Issues) -> Option<Millis> {
    match v {
        Value::Num(n) if n.fract() == 0.0 && *n >= 0.0 && *n < 1e15 => Some(Millis(*n as u64)),
        other => {
            issues.expected(path, "a timestamp in milliseconds", other);
            None
        }
    }
}

/// The correction added to client timestamps: `now - sent_at` when that is beyond
/// [`SKEW_TOLERANCE`], else zero.
///
/// ```
/// use nudge::engine::Millis;
/// use nudge_collector::ingest::skew;
/// assert_eq!(skew(Millis(100_000), Millis(99_000)), 0);
/// assert_eq!(skew(Millis(100_000), Millis(160_000)), -60_000);
/// ```
pub fn skew(now: Millis, sent_at: Millis) -> i64 {
    let d = now.0 as i64 - sent_at.0 as i64;
    if d.unsigned_abs() > SKEW_TOLERANCE.0 {
        d
    } else {
        0
    }
}

/// Records a size finding at `path.key` only when `got > max`: the path is rendered only
/// for a finding, never for a good event.
fn check_len(
    issues: &mut Issues,
    path: &SchemaPath<'_>,
    key: &str,
    what: &str,
    got: usize,
    max: usize,
) {
    if got > max {
        let at = path.key(key).render();
        issues.push(&at, "invalid", format!("{what} is {got}, at most {max} allowed"));
    }
}

/// An upper bound of `json::write(v)`'s length: every character of a string may become a
/// six-byte escape, and a number is at most 24 bytes.
fn written_at_most(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 5,
        Value::Num(_) => 24,
        Value::Str(s) => 2 + 6 * s.len(),
        Value::Arr(items) => 2 + items.iter().map(|i| 1 + written_at_most(i)).sum::<usize>(),
        Value::Obj(fields) => {
            2 + fields.iter().map(|(k, v)| 4 + 6 * k.len() + written_at_most(v)).sum::<usize>()
        }
    }
}

/// Writes the page context as the engine's `page_json` would, straight into `out`, without
/// building a JSON value first (this runs for every stored event).
fn write_page(out: &mut String, p: &PageContext) {
    let field = |out: &mut String, first: bool, key: &str, value: &str| {
        out.push_str(if first { "{\"" } else { ",\"" });
        out.push_str(key);
        out.push_str("\":");
        json::write_str(out, value);
    };
    field(out, true, "url", &p.url);
    field(out, false, "path", &p.path);
    field(out, false, "referrer", &p.referrer);
    field(out, false, "title", &p.title);
    field(out, false, "device", p.device.as_str());
    field(out, false, "language", &p.language);
    if p.utm != Utm::default() {
        out.push_str(",\"utm\":");
        for (i, (key, value)) in
            [("source", &p.utm.source), ("medium", &p.utm.medium), ("campaign", &p.utm.campaign)]
                .into_iter()
                .enumerate()
        {
            out.push_str(if i == 0 { "{\"" } else { ",\"" });
            out.push_str(key);
            out.push_str("\":");
            match value {
                Some(v) => json::write_str(out, v),
                None => out.push_str("null"),
            }
        }
        out.push('}');
    }
    if let Some(t) = &p.page_type {
        field(out, false, "type", t);
    }
    out.push('}');
}

/// Checks one event of a batch (`path` is `events[i]`) and builds its row. `scratch` is a
/// buffer reused across the events of a batch.
///
/// The engine's [`Event::read`] judges the event itself; the collector adds what only it
/// cares about: `anon_id` (required: reports count visitors), `session`, and size limits.
/// Paths are rendered only for findings, so a good event costs no path text.
pub fn check_event(
    v: &Value,
    path: &(impl AsPath + ?Sized),
    site: &str,
    skew: i64,
    now: Millis,
    scratch: &mut String,
) -> Result<Row, String> {
    let path = path.as_path();
    let mut errs = Errors::default();
    let event = Event::read(v, &path, &mut errs);
    let mut issues = Issues::default();
    let anon_id = match v.get("anon_id") {
        Some(Value::Str(s)) if !s.is_empty() => Some(s.as_str()),
        Some(other) => {
            issues.expected(&path.key("anon_id").render(), "a non-empty string", other);
            None
        }
        // A non-object event already has its finding from the engine.
        None if matches!(v, Value::Obj(_)) => {
            issues.push(&path.render(), "missing", "missing required field \"anon_id\"".into());
            None
        }
        None => None,
    };
    let session = match v.get("session") {
        None | Some(Value::Null) => None,
        Some(Value::Num(n)) if n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(u32::MAX) => {
            Some(*n as u32)
        }
        Some(other) => {
            issues.expected(&path.key("session").render(), "a whole number ≥ 0", other);
            None
        }
    };
    if let Some(a) = anon_id {
        check_len(&mut issues, &path, "anon_id", "length", a.chars().count(), MAX_ID);
    }
    let props = event.as_ref().map(|e| json::to_string(&e.props));
    if let Some(e) = &event {
        check_len(&mut issues, &path, "name", "length", e.name.chars().count(), MAX_NAME);
        check_len(&mut issues, &path, "id", "length", e.id.chars().count(), MAX_ID);
    }
    if let Some(p) = &props {
        check_len(&mut issues, &path, "props", "size in bytes", p.len(), MAX_PROPS);
    }
    if let Some(page) = v.get("page") {
        // The limit is on the page as sent. Most pages are far below it, which a bound
        // shows without writing them out; the rest are measured in the reused buffer.
        if written_at_most(page) > MAX_PAGE {
            scratch.clear();
            json::write(scratch, page);
            check_len(&mut issues, &path, "page", "size in bytes", scratch.len(), MAX_PAGE);
        }
    }
    let (Some(e), Some(anon_id), Some(props), true) =
        (event, anon_id, props, errs.list.is_empty() && issues.is_empty())
    else {
        let mut all: Vec<String> = errs.list.iter().map(ToString::to_string).collect();
        all.extend(issues.0.iter().map(ToString::to_string));
        return Err(all.join("; "));
    };
    let prop_str = |k: &str| {
        e.prop(k).and_then(Value::as_str).filter(|s| s.len() <= MAX_ID).map(str::to_string)
    };
    let page = e.page.as_ref().map(|p| {
        let mut out = String::with_capacity(scratch.len() + 32);
        write_page(&mut out, p);
        out
    });
    Ok(Row {
        site: site.to_string(),
        ts: Millis(e.ts.0.saturating_add_signed(skew)),
        client_ts: e.ts,
        received_at: now,
        anon_id: anon_id.to_string(),
        session,
        campaign_id: prop_str("campaign_id"),
        variant: prop_str("variant"),
        props,
        page,
        event_id: e.id,
        name: e.name,
    })
}

/// A checked batch: rows to store, bad rows to keep, reasons to echo.
#[derive(Debug, Default)]
pub struct Checked {
    /// Good events.
    pub rows: Vec<Row>,
    /// Refused events.
    pub bad: Vec<BadRow>,
}

/// Checks every event of an envelope at server time `now`.
pub fn check_batch(env: &Envelope<'_>, now: Millis) -> Checked {
    let skew = skew(now, env.sent_at);
    let mut out = Checked { rows: Vec::with_capacity(env.events.len()), bad: Vec::new() };
    let mut scratch = String::new();
    let events = SchemaPath::Key(&SchemaPath::Root, "events");
    for (i, v) in env.events.iter().enumerate() {
        match check_event(v, &SchemaPath::Index(&events, i), &env.site, skew, now, &mut scratch) {
            Ok(row) => out.rows.push(row),
            Err(reason) => {
                let raw = json::to_string(v);
                out.bad.push(BadRow {
                    site: Some(env.site.clone()),
                    received_at: now,
                    reason,
                    raw_bytes: raw.len(),
                    raw: body::excerpt(raw.as_bytes()),
                });
            }
        }
    }
    out
}

/// The handler.
pub async fn batch(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let answer = handle(&state, &headers, body).await;
    state.metrics().batch_latency.observe(started.elapsed());
    match answer {
        Ok(a) => Json(a).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Answer, AppError> {
    let now = state.now();
    let limit = state.config().body_limit;
    let bytes = match body::read(body, headers, limit).await {
        Ok(b) => b,
        Err(BodyError::TooLarge { prefix, size }) => {
            let err = AppError::TooLarge(format!("the body is {size} bytes; the limit is {limit}"));
            return Err(refuse(state, None, err, &prefix, size).await);
        }
        // The client is gone mid-body: nobody will read an answer, and it keeps its batch.
        Err(BodyError::Read(e)) => {
            return Err(AppError::BadRequest(format!("could not read the body: {e}")))
        }
    };
    let sites = state.sites().await;
    let (site, checked) = match accept(&sites, headers, &bytes, now) {
        Ok(accepted) => accepted,
        Err((site, err)) => return Err(refuse(state, site, err, &bytes, bytes.len()).await),
    };
    // A 429 is not a bad row: the client keeps the batch and sends it again later.
    if let Err(wait) = state.site_limiter().take(&site, Instant::now()) {
        state.metrics().rate_limited.inc();
        return Err(AppError::RateLimited(retry_after(wait)));
    }
    let errors = checked.bad.iter().take(MAX_REASONS).map(|b| b.reason.clone()).collect();
    let rejected = checked.bad.len();
    let stored = state.store().ingest(checked.rows, checked.bad).await?;
    let m = state.metrics();
    m.batches.inc();
    m.ingested.add(stored.accepted as u64);
    m.duplicates.add(stored.duplicates as u64);
    m.rejected.add(rejected as u64);
    Ok(Answer { accepted: stored.accepted, duplicates: stored.duplicates, rejected, errors })
}

/// Judges a whole body: its site key and checked events, or why it is not a batch this
/// collector takes (with the site it named, if any, for the bad row).
fn accept(
    sites: &Sites,
    headers: &HeaderMap,
    bytes: &[u8],
    now: Millis,
) -> Result<(String, Checked), (Option<String>, AppError)> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        (
            None,
            AppError::BadRequest(format!(
                "the body is not valid UTF-8 (invalid byte at offset {at})"
            )),
        )
    })?;
    let value = json::parse(text)
        .map_err(|e| (None, AppError::BadRequest(format!("the body is not JSON: {e}"))))?;
    let env = read_envelope(&value).map_err(|why| {
        let site = value.get("site").and_then(Value::as_str).map(str::to_string);
        (site, AppError::BadRequest(format!("the body is not a batch: {why}")))
    })?;
    let Some(site) = sites.get(&env.site) else {
        let err = AppError::Forbidden(format!("unknown site \"{}\"", env.site));
        return Err((Some(env.site), err));
    };
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes());
        if !site.allows(&origin) {
            let err = AppError::Forbidden(format!(
                "origin {origin} is not allowed for site \"{}\"",
                site.key
            ));
            return Err((Some(site.key.clone()), err));
        }
    }
    Ok((site.key.clone(), check_batch(&env, now)))
}

/// Keeps a refused body as a bad row, then hands back the error to answer with. If even
/// the bad row cannot be stored, the answer becomes the storage error (5xx) so the client
/// keeps its batch and retries: nothing is lost silently.
async fn refuse(
    state: &AppState,
    site: Option<String>,
    err: AppError,
    raw: &[u8],
    size: usize,
) -> AppError {
    state.metrics().bodies_rejected.inc();
    tracing::debug!(site, status = %err.status(), "refused a body: {err}");
    let bad = BadRow {
        site,
        received_at: state.now(),
        reason: err.to_string(),
        raw: body::excerpt(raw),
        raw_bytes: size,
    };
    match state.store().ingest(Vec::new(), vec![bad]).await {
        Ok(_) => err,
        Err(store) => AppError::Store(store),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(extra: &str) -> Value {
        json::parse(&format!(
            r#"{{"id":"e1","name":"Page Viewed","ts":1000,"anon_id":"v1"{extra}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn skew_is_corrected_and_client_ts_kept() {
        let row = check_event(&event(""), "events[0]", "shop", -500, Millis(9), &mut String::new())
            .unwrap();
        assert_eq!((row.ts, row.client_ts), (Millis(500), Millis(1000)));
    }

    #[test]
    fn limits_and_engine_errors_are_reasons_with_paths() {
        let long = "x".repeat(MAX_NAME + 1);
        let v = json::parse(&format!(r#"{{"id":"e1","name":"{long}","ts":"soon","anon_id":"v"}}"#))
            .unwrap();
        let why =
            check_event(&v, "events[3]", "shop", 0, Millis(0), &mut String::new()).unwrap_err();
        assert!(
            why.contains("events[3].ts: expected a timestamp in milliseconds, found \"soon\""),
            "{why}"
        );
        let v = json::parse(r#"{"id":"e1","name":"n","ts":1}"#).unwrap();
        let why =
            check_event(&v, "events[0]", "shop", 0, Millis(0), &mut String::new()).unwrap_err();
        assert_eq!(why, "events[0]: missing required field \"anon_id\"");
        let big = format!(r#","props":{{"q":"{}"}}"#, "y".repeat(MAX_PROPS));
        let why = check_event(&event(&big), "events[0]", "shop", 0, Millis(0), &mut String::new())
            .unwrap_err();
        assert!(why.starts_with("events[0].props: size in bytes is 8200, at most 8192"), "{why}");
        let why = check_event(
            &event(r#","session":-1"#),
            "events[0]",
            "shop",
            0,
            Millis(0),
            &mut String::new(),
        )
        .unwrap_err();
        assert!(why.starts_with("events[0].session: expected a whole number"), "{why}");
    }

    #[test]
    fn pages_are_written_as_the_engine_writes_them() {
        use nudge::engine::event::page_json;
        for extra in [
            "",
            r#","page":{"url":"https://s.example/p?utm_source=n&utm_campaign=x","title":"\"Hi\"\n","type":"product","language":"ko"}"#,
            r#","page":{"url":"https://s.example/","device":"desktop","referrer":"https://r.example/"}"#,
        ] {
            let v = event(extra);
            let row =
                check_event(&v, "events[0]", "shop", 0, Millis(0), &mut String::new()).unwrap();
            let mut errs = Errors::default();
            let e = Event::read(&v, "events[0]", &mut errs).unwrap();
            assert_eq!(
                row.page,
                e.page.as_ref().map(|p| json::to_string(&page_json(p))),
                "{extra}"
            );
        }
    }

    #[test]
    fn envelope_errors_name_the_field() {
        let v = json::parse(r#"{"site":"shop","sent_at":1,"event":[]}"#).unwrap();
        let why = read_envelope(&v).unwrap_err();
        assert!(why.contains(r#"event: unknown field "event", did you mean "events"?"#), "{why}");
        assert!(why.contains(r#"missing required field "events""#), "{why}");
    }
}
