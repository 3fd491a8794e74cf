//! The campaign report on a small dataset whose figures are worked out by hand.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::common::*;

const C: &str = "welcome";

/// Control: 10 visitors held out, 1 converts. Variant `a`: 10 visitors shown (one twice),
/// 4 convert (one twice), 3 clicks, 2 dismissals. Variant `b`: 10 shown, 2 convert. One
/// more `b` conversion falls after the window.
fn dataset() -> Vec<String> {
    let mut out = Vec::new();
    let mut n = 0;
    let mut push = |name: &str, ts: u64, visitor: String, variant: &str| {
        n += 1;
        out.push(lifecycle(&format!("r{n}"), name, ts, &visitor, C, variant));
    };
    let t = NOW - 100_000;
    for i in 0..10 {
        push("Campaign Held Out", t, format!("c{i}"), "control");
        push("Campaign Shown", t, format!("a{i}"), "a");
        push("Campaign Shown", t, format!("b{i}"), "b");
    }
    push("Campaign Shown", t + 1, "a0".into(), "a");
    push("Campaign Converted", t + 10, "c0".into(), "control");
    for i in 0..4 {
        push("Campaign Converted", t + 10, format!("a{i}"), "a");
    }
    push("Campaign Converted", t + 20, "a0".into(), "a");
    for i in 0..3 {
        push("Campaign Clicked", t + 5, format!("a{i}"), "a");
    }
    for i in 5..7 {
        push("Campaign Dismissed", t + 5, format!("a{i}"), "a");
    }
    for i in 0..2 {
        push("Campaign Converted", t + 10, format!("b{i}"), "b");
    }
    push("Campaign Converted", NOW + 50_000, "b2".into(), "b");
    // Not lifecycle events: ignored by the report.
    out.push(event("x1", "Page Viewed", t, "a0"));
    out
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|got| (got - want).abs() < 1e-4)
}

#[tokio::test]
async fn report_counts_arms_and_tests_lift_against_control() {
    let h = harness().await;
    let a = h.batch(batch(&dataset())).await;
    assert_eq!(a.json()["rejected"], 0, "{}", a.text());

    let to = NOW + 1;
    let r = h.admin(Method::GET, &format!("/v1/admin/sites/shop/report?from=0&to={to}"), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let report = r.json();
    let arms = report["campaigns"][0]["arms"].as_array().unwrap().clone();
    assert_eq!(report["campaigns"][0]["campaign_id"], C);
    let ids: Vec<&str> = arms.iter().map(|a| a["variant"].as_str().unwrap()).collect();
    assert_eq!(ids, ["control", "a", "b"]);

    let (control, va, vb) = (&arms[0], &arms[1], &arms[2]);
    assert_eq!((control["holdouts"].as_u64(), control["visitors"].as_u64()), (Some(10), Some(10)));
    assert!(close(&control["conversion_rate"], 0.1));
    assert!(control["vs_control"].is_null());

    assert_eq!(va["impressions"], 11);
    assert_eq!(va["visitors"], 10);
    assert_eq!(va["conversions"], 5);
    assert_eq!(va["converted_visitors"], 4);
    assert_eq!((va["clicks"].as_u64(), va["dismissals"].as_u64()), (Some(3), Some(2)));
    assert!(close(&va["conversion_rate"], 0.4));
    // 40 % vs 10 %: lift 3.0; pooled p = 0.25, z = 0.3 / sqrt(0.25 · 0.75 · 0.2) = 1.5492.
    let cmp = &va["vs_control"];
    assert!(close(&cmp["lift"], 3.0), "{cmp}");
    assert!(close(&cmp["difference"], 0.3), "{cmp}");
    assert!(close(&cmp["z"], 1.549_193), "{cmp}");
    assert!(close(&cmp["p_value"], 0.121_335), "{cmp}");
    assert!(close(&cmp["confidence"], 0.878_665), "{cmp}");

    // b: 20 % vs 10 %, the late conversion is outside the window.
    assert_eq!(vb["converted_visitors"], 2);
    assert!(close(&vb["vs_control"]["lift"], 1.0));
    assert!(close(&vb["vs_control"]["z"], 0.626_224));
    assert!(close(&vb["vs_control"]["p_value"], 0.531_168));

    // A window holding only the late conversion.
    let late = h
        .admin(
            Method::GET,
            &format!("/v1/admin/sites/shop/report?from={}&to={}", NOW + 1, NOW + 100_000),
            "",
        )
        .await;
    let late = late.json();
    let arms = late["campaigns"][0]["arms"].as_array().unwrap();
    assert_eq!(arms.len(), 1);
    assert_eq!(
        (arms[0]["variant"].as_str(), arms[0]["conversions"].as_u64()),
        (Some("b"), Some(1))
    );
}

#[tokio::test]
async fn report_windows_are_checked() {
    let h = harness().await;
    let a = h.admin(Method::GET, "/v1/admin/sites/shop/report?from=10&to=5", "").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.error(), "from (10) must be before to (5)");
    let a = h.admin(Method::GET, "/v1/admin/sites/shop/report?from=yesterday", "").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.error().contains("ms since the epoch"), "{}", a.error());
    let a = h.admin(Method::GET, "/v1/admin/sites/nope/report", "").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}
