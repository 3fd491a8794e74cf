//! Time zones resolved by the collector: a saved or published schedule with `tz` is served
//! with `offsets`, which the engine's own `Schedule::check` then reads; an unknown zone is a
//! 422 at its JSON path with a "did you mean".

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use nudge::engine::campaign;
use nudge::engine::schedule::{Closed, Schedule};
use nudge::engine::Millis;

use crate::common::*;

fn set(zones: &[&str]) -> String {
    let campaigns: Vec<String> = zones
        .iter()
        .enumerate()
        .map(|(i, tz)| {
            format!(
                r#"{{"id": "c{i}", "placement": {{"type": "bar"}}, "content": {{"headline": "Hi"}},
                   "trigger": {{"event": "Page Viewed"}},
                   "schedule": {{"hours": [9, 18], "tz": "{tz}"}}}}"#
            )
        })
        .collect();
    format!(r#"{{"schema": 1, "campaigns": [{}]}}"#, campaigns.join(","))
}

/// The schedules of the live set, as the SDK would load them.
async fn live_schedules(h: &Harness) -> Vec<Schedule> {
    let live = h.send(Request::get("/v1/sites/shop/campaigns").body(Body::empty()).unwrap()).await;
    assert_eq!(live.status, StatusCode::OK);
    let loaded = campaign::load(&live.text());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.set.campaigns.iter().map(|c| c.schedule.clone()).collect()
}

#[tokio::test]
async fn zones_become_offsets_that_the_engine_checks() {
    let h = harness().await;
    let saved = h
        .admin(Method::PUT, "/v1/admin/sites/shop/campaigns", set(&["Asia/Seoul", "Europe/Berlin"]))
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    // The draft is stored resolved (from the time it was saved).
    let draft = h.admin(Method::GET, "/v1/admin/sites/shop/campaigns", "").await.text();
    assert!(draft.contains(&format!(r#""offsets":[[{NOW},540]]"#)), "{draft}");

    // Published a day later: the offsets start then.
    let later = NOW + 86_400_000;
    h.set_now(later);
    let p = h.admin(Method::POST, "/v1/admin/sites/shop/publish", "").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text());
    let s = live_schedules(&h).await;
    let (seoul, berlin) = (&s[0], &s[1]);

    // Seoul: +9 h all year, no transitions.
    assert_eq!(seoul.offsets, [(Millis(later), 540)]);
    assert_eq!(seoul.check(Millis(1_700_096_400_000)), Ok(())); // 2023-11-16 01:00 UTC = 10:00 KST
    assert_eq!(seoul.check(Millis(1_700_128_800_000)), Err(Closed::Hour)); // 10:00 UTC = 19:00 KST

    // Berlin: +1 h, +2 h from 31 March 2024 01:00 UTC, +1 h from 27 October 01:00 UTC.
    assert_eq!(
        berlin.offsets,
        [(Millis(later), 60), (Millis(1_711_846_800_000), 120), (Millis(1_729_990_800_000), 60)]
    );
    assert_eq!(berlin.offset_at(Millis(1_711_846_799_999)), 60);
    assert_eq!(berlin.offset_at(Millis(1_711_846_800_000)), 120);
    // 16:30 UTC is 17:30 in January (open) but 18:30 in July (closed).
    assert_eq!(berlin.check(Millis(1_705_336_200_000)), Ok(()));
    assert_eq!(berlin.check(Millis(1_721_061_000_000)), Err(Closed::Hour));
    // 07:30 UTC is 08:30 in January (closed) but 09:30 in July (open).
    assert_eq!(berlin.check(Millis(1_705_303_800_000)), Err(Closed::Hour));
    assert_eq!(berlin.check(Millis(1_721_028_600_000)), Ok(()));
}

#[tokio::test]
async fn an_unknown_zone_is_a_path_error_with_a_suggestion() {
    let h = harness().await;
    let a = h
        .admin(Method::PUT, "/v1/admin/sites/shop/campaigns", set(&["Europe/Berlin", "Asai/Seoul"]))
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    let errors = a.json()["errors"].clone();
    assert_eq!(
        errors.as_array().map(Vec::len),
        Some(1),
        "only the zone, not the missing offsets: {errors}"
    );
    assert_eq!(errors[0]["path"], "campaigns[1].schedule.tz");
    assert_eq!(
        errors[0]["message"],
        r#"unknown time zone "Asai/Seoul", did you mean "Asia/Seoul"?"#
    );
    assert_eq!(errors[0]["code"], "unknown");
    assert_eq!(
        h.admin(Method::GET, "/v1/admin/sites/shop/campaigns", "").await.status,
        StatusCode::NOT_FOUND
    );
}
