//! Property tests of the engine's invariants: no input panics, no cap is ever exceeded,
//! assignment is stable and fair, and the profile stays bounded.

use nudge::engine::assign::{assign_variant, unit, Arm};
use nudge::engine::campaign::load;
use nudge::engine::decide::{decide, tick, State};
use nudge::engine::event::{names, Event, PageContext};
use nudge::engine::json::{self, Value};
use nudge::engine::profile::Profile;
use nudge::engine::Millis;
use proptest::prelude::*;

/// `(campaign, time, session, treated)` of one exposure.
type Exposure = (String, u64, u32, bool);

const NAMES: &[&str] = &[
    names::PAGE_VIEWED,
    names::PRODUCT_VIEWED,
    names::PRODUCT_ADDED,
    names::PRODUCT_REMOVED,
    names::CART_VIEWED,
    names::CHECKOUT_STARTED,
    names::ORDER_COMPLETED,
    names::SCROLL_DEPTH,
    names::EXIT_INTENT,
    names::CAMPAIGN_DISMISSED,
    "Wishlist Added",
];

/// Arbitrary JSON values, bounded in depth and width.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1e6f64..1e6).prop_map(Value::Num),
        "[a-z_ ]{0,8}".prop_map(Value::Str),
        prop::sample::select(vec![
            "Page Viewed",
            "session",
            "7d",
            "-5m",
            "#fff",
            "bar",
            "modal",
            "eq",
            "all"
        ])
        .prop_map(|s| Value::Str(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop::sample::select(vec![
            "id",
            "trigger",
            "event",
            "count",
            "at_least",
            "within",
            "all",
            "any",
            "not",
            "caps",
            "per_session",
            "placement",
            "type",
            "content",
            "headline",
            "variants",
            "weight",
            "control",
            "page",
            "schedule",
            "hours",
            "goal",
            "audience",
            "where",
            "gt",
            "in",
            "same",
            "sequence",
            "first",
            "then_not",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Arr),
            prop::collection::vec((keys, inner), 0..5).prop_map(|mut kv| {
                kv.sort_by(|a, b| a.0.cmp(b.0));
                kv.dedup_by(|a, b| a.0 == b.0);
                Value::Obj(kv.into_iter().map(|(k, v)| (k.into(), v)).collect())
            }),
        ]
    })
}

fn event(name: &str, i: usize, ts: u64, product: u8) -> Event {
    let mut e = Event::new(&format!("e{i}"), name, Millis(ts))
        .with_prop("product_id", Value::Str(format!("p{product}")))
        .with_prop("price", Value::Num(f64::from(product) * 3.5))
        .with_prop("percent", Value::Num(f64::from(product % 5) * 25.0));
    if name == names::CAMPAIGN_DISMISSED {
        e = e.with_prop("campaign_id", Value::Str(format!("c{}", product % 3)));
    }
    if name == names::PAGE_VIEWED {
        e.page = Some(PageContext {
            url: format!("https://shop.test/p/{product}"),
            path: format!("/p/{product}"),
            ..Default::default()
        });
    }
    e
}

/// Events with strictly increasing timestamps: `(name index, gap ms, product)`.
fn stream(max: usize) -> impl Strategy<Value = Vec<(usize, u64, u8)>> {
    prop::collection::vec((0..NAMES.len(), 1u64..4_000_000, 0u8..12), 1..max)
}

const CAPPED: &str = r#"{"schema":1,"budget":{"per_session":3,"min_gap":"2m"},"campaigns":[
 {"id":"c0","placement":{"type":"modal"},"content":{"headline":"a"},"trigger":{"event":"Product Viewed"},
  "caps":{"per_session":2,"per_day":3,"min_gap":"10m","ever":6,"after_dismiss":"1h"},"control":0.3},
 {"id":"c1","placement":{"type":"bar"},"content":{"headline":"b"},"trigger":{"count":{"event":"Product Viewed","at_least":2,"within":"session","same":"product_id"}},
  "caps":{"per_days":{"days":2,"max":2},"min_gap":"30m"}},
 {"id":"c2","priority":5,"placement":{"type":"bar"},"content":{"headline":"c"},"trigger":{"any":[{"event":"Page Viewed"},{"time_on_page":"20s"}]},
  "caps":{"per_session":1,"per_day":2}}]}"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parse_and_load_never_panic(text in "\\PC{0,200}") {
        let _ = json::parse(&text);
        let _ = load(&text);
    }

    #[test]
    fn decide_never_panics(doc in value(), campaigns in prop::collection::vec(value(), 0..4), events in stream(30)) {
        // Arbitrary documents, and arbitrary campaigns inside a well-formed envelope.
        let _ = nudge::engine::campaign::load_value(doc);
        let env = Value::Obj(vec![("schema".into(), Value::Num(1.0)), ("campaigns".into(), Value::Arr(campaigns))]);
        let loaded = nudge::engine::campaign::load_value(env);
        for e in &loaded.errors {
            prop_assert!(!e.path.is_empty());
        }
        let set = load(CAPPED).set;
        let mut state = State::new("v");
        let mut ts = 1_700_000_000_000;
        for (i, (n, gap, p)) in events.iter().enumerate() {
            ts += gap;
            decide(&mut state, &loaded.set, &event(NAMES[*n], i, ts, *p), Millis(ts), true);
            decide(&mut state, &set, &event(NAMES[*n], i, ts, *p), Millis(ts), true);
            tick(&mut state, &set, Millis(ts + 1_000), true);
        }
    }

    #[test]
    fn caps_are_never_exceeded(events in stream(120)) {
        let set = load(CAPPED).set;
        prop_assert_eq!(set.campaigns.len(), 3);
        let mut state = State::new("visitor-7");
        // (campaign, time, session) of every exposure; treated ones also for the budget.
        let mut exposures: Vec<Exposure> = Vec::new();
        let mut ts = 1_700_000_000_000;
        for (i, (n, gap, p)) in events.iter().enumerate() {
            ts += gap;
            let mut outs = vec![decide(&mut state, &set, &event(NAMES[*n], i, ts, *p), Millis(ts), false)];
            outs.push(tick(&mut state, &set, Millis(ts + 30_000), false));
            for (k, out) in outs.iter().enumerate() {
                let at = ts + if k == 0 { 0 } else { 30_000 };
                for e in &out.events {
                    let id = e.prop("campaign_id").and_then(Value::as_str).unwrap_or_default().to_string();
                    match e.name.as_str() {
                        names::CAMPAIGN_SHOWN => exposures.push((id, at, state.profile.sessions, true)),
                        names::CAMPAIGN_HELD_OUT => exposures.push((id, at, state.profile.sessions, false)),
                        _ => {}
                    }
                }
            }
        }
        let count = |id: &str, f: &dyn Fn(&Exposure) -> bool| {
            exposures.iter().filter(|x| x.0 == id && f(x)).count()
        };
        for (id, t, s, _) in &exposures {
            let in_session = count(id, &|x| x.2 == *s);
            let in_day = count(id, &|x| x.1 <= *t && x.1 > t - 86_400_000);
            let gap_ok = exposures.iter().filter(|x| x.0 == *id && x.1 < *t).all(|x| {
                let gap = if id == "c0" { 600_000 } else if id == "c1" { 1_800_000 } else { 0 };
                t - x.1 >= gap
            });
            prop_assert!(gap_ok, "{} shown within its min_gap", id);
            match id.as_str() {
                "c0" => {
                    prop_assert!(in_session <= 2 && in_day <= 3, "c0 session {} day {}", in_session, in_day);
                    prop_assert!(count("c0", &|_| true) <= 6);
                }
                "c1" => prop_assert!(count("c1", &|x| x.1 <= *t && x.1 > t - 2 * 86_400_000) <= 2),
                _ => prop_assert!(in_session <= 1 && in_day <= 2),
            }
            let treated_in_session = exposures.iter().filter(|x| x.3 && x.2 == *s).count();
            prop_assert!(treated_in_session <= 3, "budget per session exceeded: {}", treated_in_session);
        }
        let treated: Vec<u64> = exposures.iter().filter(|x| x.3).map(|x| x.1).collect();
        for w in treated.windows(2) {
            prop_assert!(w[1] == w[0] || w[1] - w[0] >= 120_000, "budget min_gap violated");
        }
    }

    #[test]
    fn profile_round_trips(events in stream(60)) {
        let set = load(CAPPED).set;
        let mut state = State::new("v");
        let mut ts = 1_700_000_000_000;
        for (i, (n, gap, p)) in events.iter().enumerate() {
            ts += gap;
            decide(&mut state, &set, &event(NAMES[*n], i, ts, *p), Millis(ts), false);
        }
        let restored = State::from_json(&state.to_json()).expect("state restores");
        prop_assert_eq!(&restored.ledger, &state.ledger);
        let mut p = state.profile.clone();
        p.page = Default::default();
        prop_assert_eq!(Profile::from_json(&p.to_json()).unwrap(), p);
    }
}

#[test]
fn assignment_is_stable_and_fair_over_100k_ids() {
    let variants = [("a".to_string(), 1.0), ("b".to_string(), 3.0)];
    let control = 0.2;
    let mut counts = [0usize; 3];
    for i in 0..100_000 {
        let id = format!("anon-{i:08x}");
        let u = unit(&id, "spring-sale", "s1");
        assert_eq!(u, unit(&id, "spring-sale", "s1"), "unit must be stable");
        assert!((0.0..1.0).contains(&u));
        match assign_variant(u, control, &variants) {
            Arm::Control => counts[0] += 1,
            Arm::Variant(v) if v == "a" => counts[1] += 1,
            Arm::Variant(_) => counts[2] += 1,
        }
    }
    let expected = [0.2, 0.8 * 0.25, 0.8 * 0.75];
    for (got, want) in counts.iter().zip(expected) {
        let share = *got as f64 / 100_000.0;
        assert!((share - want).abs() <= 0.01, "share {share} vs weight {want}: {counts:?}");
    }
}

#[test]
fn persisted_arm_never_flips_when_weights_change() {
    let doc = |wa: u32, wb: u32| {
        format!(
            r#"{{"schema":1,"campaigns":[{{"id":"ab","placement":{{"type":"bar"}},"content":{{"headline":"x"}},
            "trigger":{{"event":"Page Viewed"}},"caps":{{}},"variants":[{{"id":"a","weight":{wa}}},{{"id":"b","weight":{wb}}}]}}]}}"#
        )
    };
    let before = load(&doc(1, 0)).set;
    let after = load(&doc(0, 1)).set;
    for v in 0..50 {
        let mut state = State::new(&format!("visitor-{v}"));
        let out = decide(
            &mut state,
            &before,
            &Event::new("e1", names::PAGE_VIEWED, Millis(1)),
            Millis(1),
            false,
        );
        assert_eq!(out.shows[0].variant, "a");
        let out = decide(
            &mut state,
            &after,
            &Event::new("e2", names::PAGE_VIEWED, Millis(10_000_000)),
            Millis(10_000_000),
            false,
        );
        assert_eq!(out.shows[0].variant, "a", "the arm flipped for visitor-{v}");
    }
}

#[test]
fn profile_stays_under_8kb_after_10k_events() {
    let set = load(CAPPED).set;
    let mut state = State::new("long-stayer");
    let mut ts = 1_700_000_000_000u64;
    for i in 0..10_000usize {
        ts += 61_000 + (i as u64 % 7) * 1_000_000;
        let name = if i % 13 == 0 {
            format!("Custom Event {}", i % 97)
        } else {
            NAMES[i % NAMES.len()].to_string()
        };
        let mut e = event(&name, i, ts, (i % 251) as u8);
        e = e.with_prop("product_id", Value::Str(format!("product-{}", i % 997)));
        if i % 17 == 0 {
            e = Event::new(&format!("id{i}"), names::IDENTIFIED, Millis(ts)).with_prop(
                "traits",
                Value::Obj(
                    (0..40)
                        .map(|k| (format!("trait_{k}").into(), Value::Str("x".repeat(300))))
                        .collect(),
                ),
            );
        }
        decide(&mut state, &set, &e, Millis(ts), false);
    }
    let bytes = state.profile.to_json().len();
    assert!(bytes < 8_192, "profile is {bytes} bytes after 10,000 events");
}
