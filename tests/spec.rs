//! Runs the language-neutral cases in `tests/spec/*.json` against the engine, natively.
//!
//! Each file is a JSON array of cases `[name, input, expected]`. One `check_*` function per
//! file turns `input` into the actual result as a JSON value; the runner compares it with
//! `expected` (objects compare without regard to key order) and, after running every case
//! of every file, fails listing each mismatch with its file, case name, expected and actual.
//! A case that panics is a failure of that case, not of the run. The collector reuses these
//! files, so the input formats below are a contract, not an implementation detail.
//!
//! **Events** in inputs are `[ts, name, props?, page?]` or an event object
//! (`{"name", "ts", "props"?, "page"?, "id"?}`); a missing id is made from the position.
//!
//! - `rule.json`: `{"rule", "events"?, "event"?, "now"?, "consent"?}`. The rule is the
//!   trigger of a one-campaign set; `events` (and `{"activity": ts}` entries) are folded
//!   into a fresh profile, then `event` (the current one, or `null` for a timer tick) is
//!   folded in too, as `decide` does. `now` defaults to the current (else the last) event's
//!   time. Result: `true`, or the path of the failing rule without the `campaigns[0].`
//!   prefix (an expected `false` accepts any failing path). A rule that does not load
//!   yields `{"errors": [...]}`.
//! - `validate.json`: a campaign set document, or a string holding raw text. Result:
//!   `{"valid": [ids in arbitration order], "errors": [[path, code, severity], ...],
//!   "messages": [text, ...]}`; `messages` is compared only when the case gives it.
//! - `cap.json`, `decide.json`: `{"campaigns": [...], "budget"?, "visitor"?, "consent"?,
//!   "steps": [...], "out"?, "last"?}`. Campaigns missing `placement`, `content` or
//!   `trigger` get `{"type": "bar"}`, `{"headline": "Hi"}` and `{"event": "Page Viewed"}`.
//!   Steps are events (decided at their own time), `{"tick": ts}`, and the silent
//!   `{"activity": ts}`, `{"consent": "granted"|"denied"|"pending"}` and `{"reload": true}`
//!   (the state goes through its persisted form, as on a page load). Each event or
//!   tick yields one entry, by `out`: `"shows"` (default; shown campaign ids), `"events"`
//!   (lifecycle events as `"shown a default"`, `"held_out a control"`, `"converted a v1"`),
//!   `"reasons"` (`Reason::to_value()` per campaign, in arbitration order) or `"full"`
//!   (`{"shows": [...], "events": [wire JSON]}`). With `"last": true` only the final
//!   entry is returned. Each step also runs on a twin state with `explain` flipped; if
//!   shows, events or state differ, the result says so and the case fails.
//! - `assign.json`: `{"unit": [visitor, campaign, salt]}` → number in [0, 1);
//!   `{"hash": text}` → 16 hex digits; `{"assign": [u, control, [[id, weight], ...]]}` and
//!   `{"arm": [visitor, campaign, salt, control, [[id, weight], ...]]}` → the arm's name.
//! - `outbox.json`: `{"limits"?, "site"?, "steps": [...]}` against one outbox. Steps:
//!   `{"push": id, "at", "low"?, "json"? | "size"?}` (silent; `size` pads the default
//!   `{"id":…}` body to that many bytes), `{"poll": ts, "force"?, "brief"?}` → `null` or
//!   `{"count", "body"}` (`{"count", "bytes"}` when brief), `{"settle": status|"network",
//!   "at", "jitter"?, "retry_after"?}` → `"delivered"`, `"dropped"` or `{"retry": ts}`,
//!   `{"due": ts, "force"?}` → boolean, `{"state": true}` → `{"queued": [ids], "bytes",
//!   "dropped": [overflow, rejected, oversize], "attempt"}`, `{"restore": true}` → the
//!   outbox reloaded from its persisted form (`true` if that worked), `{"backoff":
//!   [attempt, jitter]}` → milliseconds and `{"retryable": status|"network"}` → boolean.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use nudge::engine::assign::{assign_variant, stable_hash, unit};
use nudge::engine::campaign::{load, load_value, CampaignSet};
use nudge::engine::decide::{decide, tick, Outcome, State};
use nudge::engine::event::Event;
use nudge::engine::json::{self, Value};
use nudge::engine::outbox::{backoff, retryable, Limits, Outbox, Response, Settled};
use nudge::engine::profile::{Consent, Profile};
use nudge::engine::rule::Ctx;
use nudge::engine::schema::{Errors, Severity};
use nudge::engine::Millis;

type Check = fn(&Value) -> Value;

const FILES: &[(&str, Check)] = &[
    ("rule.json", check_rule),
    ("validate.json", check_validate),
    ("cap.json", check_cap),
    ("decide.json", check_decide),
    ("assign.json", check_assign),
    ("outbox.json", check_outbox),
];

#[test]
fn spec() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spec");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/spec exists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut failures = Vec::new();
    let mut total = 0;
    for name in &on_disk {
        let Some((_, check)) = FILES.iter().find(|(f, _)| f == name) else {
            failures.push(format!("{name}: no check function for this file"));
            continue;
        };
        let text = std::fs::read_to_string(dir.join(name)).expect("readable spec file");
        let cases = match json::parse(&text) {
            Ok(Value::Arr(cases)) => cases,
            Ok(_) => {
                failures.push(format!("{name}: not a JSON array"));
                continue;
            }
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let mut seen: Vec<&str> = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            total += 1;
            let Value::Arr(parts) = case else {
                failures.push(format!("{name}[{i}]: a case is [name, input, expected]"));
                continue;
            };
            let [Value::Str(case_name), input, expected] = parts.as_slice() else {
                failures.push(format!("{name}[{i}]: a case is [name, input, expected]"));
                continue;
            };
            if seen.contains(&case_name.as_str()) {
                failures.push(format!("{name}: duplicate case name {case_name:?}"));
            }
            seen.push(case_name);
            let actual = match catch_unwind(AssertUnwindSafe(|| check(input))) {
                Ok(v) => normalise(name, expected, v),
                Err(p) => {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    Value::Str(format!("panicked: {msg}"))
                }
            };
            if !same(expected, &actual) {
                failures.push(format!(
                    "{name}: {case_name}\n  expected: {}\n  actual:   {}",
                    json::to_string(expected),
                    json::to_string(&actual)
                ));
            }
        }
    }
    for (f, _) in FILES {
        if !on_disk.iter().any(|n| n == f) {
            failures.push(format!("{f}: missing"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} spec cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{total} spec cases passed");
}

/// Applies the per-file comparison rules documented at the top of this file.
fn normalise(file: &str, expected: &Value, actual: Value) -> Value {
    match (file, expected, actual) {
        ("rule.json", Value::Bool(false), Value::Str(_)) => Value::Bool(false),
        ("validate.json", exp, Value::Obj(mut fields)) => {
            if exp.get("messages").is_none() {
                fields.retain(|(k, _)| k != "messages");
            }
            Value::Obj(fields)
        }
        (_, _, actual) => actual,
    }
}

/// JSON equality: objects compare as sets of keys; numbers within one unit in the last
/// place, because the engine's small number reader (no `core` float parser in the browser
/// build) may round a 17-digit literal one ulp away from the nearest double.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => {
            x == y || (x - y).abs() <= x.abs().max(y.abs()) * f64::EPSILON
        }
        (Value::Arr(x), Value::Arr(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Obj(x), Value::Obj(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

// ---- input helpers ---------------------------------------------------------------------

fn s(x: &str) -> Value {
    Value::Str(x.to_string())
}

fn obj(fields: Vec<(&str, Value)>) -> Value {
    Value::Obj(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

fn items(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Arr(items)) => items,
        _ => &[],
    }
}

fn ms(v: &Value) -> Millis {
    Millis(v.as_f64().expect("a time in milliseconds") as u64)
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key) == Some(&Value::Bool(true))
}

/// Reads an event in either spec form; `id` is used when the event gives none.
fn event(v: &Value, id: &str) -> Event {
    let full = match v {
        Value::Arr(parts) => {
            let mut f = vec![("id", s(id)), ("ts", parts[0].clone()), ("name", parts[1].clone())];
            if let Some(p) = parts.get(2) {
                f.push(("props", p.clone()));
            }
            if let Some(p) = parts.get(3) {
                f.push(("page", p.clone()));
            }
            obj(f)
        }
        Value::Obj(fields) if v.get("id").is_none() => {
            let mut fields = fields.clone();
            fields.push(("id".into(), s(id)));
            Value::Obj(fields)
        }
        other => other.clone(),
    };
    let mut errs = Errors::default();
    match Event::read(&full, "event", &mut errs) {
        Some(e) => e,
        None => panic!("bad event in spec input: {:?}", errs.list),
    }
}

fn consent(v: Option<&Value>) -> Consent {
    match v.and_then(Value::as_str) {
        None | Some("granted") => Consent::Granted,
        Some("denied") => Consent::Denied,
        Some("pending") => Consent::Pending,
        Some(other) => panic!("unknown consent {other:?}"),
    }
}

fn errors_value(errors: &[nudge::engine::schema::CampaignError]) -> Value {
    Value::Arr(
        errors
            .iter()
            .map(|e| {
                let sev = if e.severity == Severity::Error { "error" } else { "warning" };
                Value::Arr(vec![s(&e.path), s(e.kind.code()), s(sev)])
            })
            .collect(),
    )
}

// ---- rule.json ---------------------------------------------------------------------------

fn check_rule(input: &Value) -> Value {
    let rule = input.get("rule").expect("a rule").clone();
    let campaign = obj(vec![
        ("id", s("r")),
        ("placement", obj(vec![("type", s("bar"))])),
        ("content", obj(vec![("headline", s("x"))])),
        ("trigger", rule),
    ]);
    let doc = obj(vec![("schema", Value::Num(1.0)), ("campaigns", Value::Arr(vec![campaign]))]);
    let loaded = load_value(doc);
    if loaded.hard_errors().next().is_some() {
        return obj(vec![("errors", errors_value(&loaded.errors))]);
    }
    let set = loaded.set;
    let mut profile = Profile::new("v1");
    let mut last = Millis(0);
    for (i, step) in items(input.get("events")).iter().enumerate() {
        if let Some(t) = step.get("activity") {
            profile.note_activity(ms(t));
            last = ms(t);
        } else {
            let e = event(step, &format!("e{i}"));
            profile.record(&e, &set.tracks);
            last = e.ts;
        }
    }
    let current = input.get("event").filter(|v| **v != Value::Null).map(|v| event(v, "now"));
    if let Some(e) = &current {
        profile.record(e, &set.tracks);
        last = e.ts;
    }
    let now = input.get("now").map_or(last, ms);
    let cx = Ctx {
        profile: &profile,
        event: current.as_ref(),
        now,
        consent: consent(input.get("consent")),
    };
    match set.campaigns[0].trigger.check(&cx) {
        Ok(()) => Value::Bool(true),
        Err(r) => s(r.path.strip_prefix("campaigns[0].").unwrap_or(&r.path)),
    }
}

// ---- validate.json -----------------------------------------------------------------------

fn check_validate(input: &Value) -> Value {
    let loaded = match input {
        Value::Str(text) => load(text),
        doc => load_value(doc.clone()),
    };
    let valid = loaded.set.campaigns.iter().map(|c| s(&c.id)).collect();
    let messages = loaded.errors.iter().map(|e| s(&e.to_string())).collect();
    obj(vec![
        ("valid", Value::Arr(valid)),
        ("errors", errors_value(&loaded.errors)),
        ("messages", Value::Arr(messages)),
    ])
}

// ---- cap.json and decide.json ------------------------------------------------------------

fn check_cap(input: &Value) -> Value {
    run_decide(input)
}

fn check_decide(input: &Value) -> Value {
    run_decide(input)
}

fn campaign_set(input: &Value) -> CampaignSet {
    let campaigns = items(input.get("campaigns"))
        .iter()
        .map(|c| {
            let Value::Obj(fields) = c else { return c.clone() };
            let mut fields = fields.clone();
            for (key, default) in [
                ("placement", obj(vec![("type", s("bar"))])),
                ("content", obj(vec![("headline", s("Hi"))])),
                ("trigger", obj(vec![("event", s("Page Viewed"))])),
            ] {
                if c.get(key).is_none() {
                    fields.push((key.into(), default));
                }
            }
            Value::Obj(fields)
        })
        .collect();
    let mut doc = vec![("schema", Value::Num(1.0)), ("campaigns", Value::Arr(campaigns))];
    if let Some(b) = input.get("budget") {
        doc.push(("budget", b.clone()));
    }
    let loaded = load_value(obj(doc));
    if loaded.hard_errors().next().is_some() {
        panic!("campaigns do not load: {}", json::to_string(&errors_value(&loaded.errors)));
    }
    loaded.set
}

fn outcome_value(mode: &str, set: &CampaignSet, state: &State, out: &Outcome) -> Value {
    match mode {
        "shows" => Value::Arr(out.shows.iter().map(|sh| s(&sh.campaign)).collect()),
        "events" => Value::Arr(
            out.events
                .iter()
                .map(|e| {
                    let kind = e.name.strip_prefix("Campaign ").unwrap_or(&e.name);
                    let kind = kind.to_lowercase().replace(' ', "_");
                    let prop =
                        |k: &str| e.prop(k).and_then(Value::as_str).unwrap_or("-").to_string();
                    s(&format!("{kind} {} {}", prop("campaign_id"), prop("variant")))
                })
                .collect(),
        ),
        "reasons" => {
            let mut reasons: Vec<_> = out.reasons.iter().collect();
            reasons.sort_by_key(|r| set.campaigns.iter().position(|c| c.id == r.campaign));
            Value::Arr(reasons.iter().map(|r| r.to_value()).collect())
        }
        "full" => {
            let shows = out
                .shows
                .iter()
                .map(|sh| {
                    obj(vec![
                        ("campaign", s(&sh.campaign)),
                        ("variant", s(&sh.variant)),
                        ("slot", s(sh.slot.as_str())),
                        (
                            "countdown_ends",
                            sh.countdown_ends.map_or(Value::Null, |t| Value::Num(t.0 as f64)),
                        ),
                    ])
                })
                .collect();
            let p = &state.profile;
            let events = out
                .events
                .iter()
                .map(|e| json::parse(&e.to_json(&p.anon_id, p.sessions)).expect("wire JSON parses"))
                .collect();
            obj(vec![("shows", Value::Arr(shows)), ("events", Value::Arr(events))])
        }
        other => panic!("unknown out mode {other:?}"),
    }
}

fn run_decide(input: &Value) -> Value {
    let set = campaign_set(input);
    let mut state = State::new(input.get("visitor").and_then(Value::as_str).unwrap_or("v1"));
    state.consent = consent(input.get("consent"));
    let mode = input.get("out").and_then(Value::as_str).unwrap_or("shows");
    let explain = mode == "reasons";
    // A twin state decides every step with `explain` flipped: asking why must never change
    // what is shown, sent or remembered.
    let mut twin = state.clone();
    let mut results = Vec::new();
    for (i, step) in items(input.get("steps")).iter().enumerate() {
        let (out, other) = if let Some(t) = step.get("tick") {
            (tick(&mut state, &set, ms(t), explain), tick(&mut twin, &set, ms(t), !explain))
        } else if let Some(t) = step.get("activity") {
            state.profile.note_activity(ms(t));
            twin.profile.note_activity(ms(t));
            continue;
        } else if let Some(c) = step.get("consent") {
            state.consent = consent(Some(c));
            twin.consent = state.consent;
            continue;
        } else if flag(step, "reload") {
            let reload = |st: &State| {
                let mut back = State::from_json(&st.to_json()).expect("state restores");
                back.consent = st.consent;
                back
            };
            state = reload(&state);
            twin = reload(&twin);
            continue;
        } else {
            let e = event(step, &format!("e{i}"));
            (
                decide(&mut state, &set, &e, e.ts, explain),
                decide(&mut twin, &set, &e, e.ts, !explain),
            )
        };
        if out.shows != other.shows || out.events != other.events || state != twin {
            return s(&format!("step {i}: the outcome depends on explain"));
        }
        results.push(outcome_value(mode, &set, &state, &out));
    }
    if flag(input, "last") {
        return results.pop().unwrap_or(Value::Null);
    }
    Value::Arr(results)
}

// ---- assign.json -------------------------------------------------------------------------

fn weights(v: &Value) -> Vec<(String, f64)> {
    items(Some(v))
        .iter()
        .map(|pair| {
            let p = items(Some(pair));
            (p[0].as_str().expect("variant id").to_string(), p[1].as_f64().expect("weight"))
        })
        .collect()
}

fn check_assign(input: &Value) -> Value {
    let str_at = |a: &[Value], i: usize| a[i].as_str().expect("a string").to_string();
    let num_at = |a: &[Value], i: usize| a[i].as_f64().expect("a number");
    if let Some(Value::Arr(a)) = input.get("unit") {
        let u = unit(&str_at(a, 0), &str_at(a, 1), &str_at(a, 2));
        if !(0.0..1.0).contains(&u) || u != unit(&str_at(a, 0), &str_at(a, 1), &str_at(a, 2)) {
            return s(&format!("unit {u} is outside [0, 1) or not stable"));
        }
        return Value::Num(u);
    }
    if let Some(text) = input.get("hash").and_then(Value::as_str) {
        return s(&format!("{:016x}", stable_hash(text.as_bytes())));
    }
    if let Some(Value::Arr(a)) = input.get("assign") {
        return s(assign_variant(num_at(a, 0), num_at(a, 1), &weights(&a[2])).name());
    }
    if let Some(Value::Arr(a)) = input.get("arm") {
        let u = unit(&str_at(a, 0), &str_at(a, 1), &str_at(a, 2));
        return s(assign_variant(u, num_at(a, 3), &weights(&a[4])).name());
    }
    panic!("unknown assign input")
}

// ---- outbox.json -------------------------------------------------------------------------

fn limits(v: Option<&Value>) -> Limits {
    let mut l = Limits::default();
    let Some(Value::Obj(fields)) = v else { return l };
    for (k, x) in fields {
        let n = x.as_f64().expect("a number") as usize;
        match k.as_str() {
            "max_events" => l.max_events = n,
            "max_bytes" => l.max_bytes = n,
            "batch_bytes" => l.batch_bytes = n,
            "batch_events" => l.batch_events = n,
            "max_age" => l.max_age = Millis(n as u64),
            "flush_events" => l.flush_events = n,
            other => panic!("unknown limit {other:?}"),
        }
    }
    l
}

fn response(v: &Value, retry_after: Option<&Value>) -> Response {
    match v {
        Value::Str(x) if x == "network" => Response::Network,
        Value::Num(n) => Response::Status(*n as u16, retry_after.map(ms)),
        other => panic!("unknown response {other:?}"),
    }
}

fn check_outbox(input: &Value) -> Value {
    let lim = limits(input.get("limits"));
    let site = input.get("site").and_then(Value::as_str).unwrap_or("shop");
    let mut ob = Outbox::new(lim);
    let mut results = Vec::new();
    for step in items(input.get("steps")) {
        let num = |k: &str| step.get(k).map(ms);
        let r = if let Some(id) = step.get("push").and_then(Value::as_str) {
            let mut body = match step.get("json").and_then(Value::as_str) {
                Some(j) => j.to_string(),
                None => format!("{{\"id\":\"{id}\"}}"),
            };
            if let Some(size) = step.get("size").and_then(Value::as_f64) {
                body.truncate(body.len() - 1);
                body.push_str(",\"pad\":\"");
                while body.len() + 2 < size as usize {
                    body.push('x');
                }
                body.push_str("\"}");
                assert_eq!(body.len(), size as usize, "size too small to pad to");
            }
            ob.push(id, body, flag(step, "low"), num("at").expect("push needs at"));
            continue;
        } else if let Some(t) = step.get("poll") {
            match ob.poll(site, ms(t), flag(step, "force")) {
                None => Value::Null,
                Some(b) if flag(step, "brief") => obj(vec![
                    ("count", Value::Num(b.count as f64)),
                    ("bytes", Value::Num(b.body.len() as f64)),
                ]),
                Some(b) => obj(vec![("count", Value::Num(b.count as f64)), ("body", s(&b.body))]),
            }
        } else if let Some(r) = step.get("settle") {
            let jitter = step.get("jitter").and_then(Value::as_f64).unwrap_or(0.0);
            let at = num("at").expect("settle needs at");
            match ob.settle(response(r, step.get("retry_after")), at, jitter) {
                Settled::Delivered => s("delivered"),
                Settled::Dropped => s("dropped"),
                Settled::Idle => s("idle"),
                Settled::Retry(t) => obj(vec![("retry", Value::Num(t.0 as f64))]),
            }
        } else if let Some(t) = step.get("due") {
            Value::Bool(ob.due(ms(t), flag(step, "force")))
        } else if flag(step, "state") {
            let n = |x: u64| Value::Num(x as f64);
            obj(vec![
                ("queued", Value::Arr(ob.queue.iter().map(|q| s(&q.id)).collect())),
                ("bytes", n(ob.bytes as u64)),
                (
                    "dropped",
                    Value::Arr(vec![
                        n(ob.dropped.overflow),
                        n(ob.dropped.rejected),
                        n(ob.dropped.oversize),
                    ]),
                ),
                ("attempt", n(u64::from(ob.attempt))),
            ])
        } else if flag(step, "restore") {
            match Outbox::from_json(&ob.to_json(), lim) {
                Some(restored) => {
                    ob = restored;
                    Value::Bool(true)
                }
                None => Value::Bool(false),
            }
        } else if let Some(Value::Arr(a)) = step.get("backoff") {
            let attempt = a[0].as_f64().expect("attempt") as u32;
            Value::Num(backoff(attempt, a[1].as_f64().expect("jitter")).0 as f64)
        } else if let Some(r) = step.get("retryable") {
            Value::Bool(retryable(response(r, None)))
        } else {
            panic!("unknown outbox step {}", json::to_string(step))
        };
        results.push(r);
    }
    Value::Arr(results)
}
