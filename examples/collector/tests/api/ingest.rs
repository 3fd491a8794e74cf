//! `POST /v1/batch` with good input: storage, de-duplication, clock skew, CORS, metrics.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn good_batch_is_stored_once_with_its_fields() {
    let h = harness().await;
    let events = [
        event("e1", "Page Viewed", NOW - 2_000, "v1"),
        lifecycle("e2", "Campaign Shown", NOW - 1_000, "v1", "welcome", "a"),
    ];
    let a = h.batch(batch(&events)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json(), json!({"accepted": 2, "duplicates": 0, "rejected": 0}));
    assert_eq!(h.count("SELECT COUNT(*) FROM events"), 2);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM events WHERE campaign_id = 'welcome' AND variant = 'a'"),
        1
    );
    assert_eq!(h.count("SELECT session FROM events WHERE event_id = 'e1'"), 1);
    let conn = rusqlite::Connection::open(&h.db).unwrap();
    let page: String =
        conn.query_row("SELECT page FROM events WHERE event_id = 'e1'", [], |r| r.get(0)).unwrap();
    assert!(page.contains(r#""path":"/p/1""#), "page context normalised by the engine: {page}");
}

#[tokio::test]
async fn same_batch_twice_counts_duplicates() {
    let h = harness().await;
    let body =
        batch(&[event("e1", "Page Viewed", NOW, "v1"), event("e2", "Cart Viewed", NOW, "v1")]);
    assert_eq!(
        h.batch(body.clone()).await.json(),
        json!({"accepted": 2, "duplicates": 0, "rejected": 0})
    );
    assert_eq!(h.batch(body).await.json(), json!({"accepted": 0, "duplicates": 2, "rejected": 0}));
    // The same id twice inside one batch is a duplicate too.
    let twice =
        batch(&[event("e3", "Page Viewed", NOW, "v1"), event("e3", "Page Viewed", NOW, "v1")]);
    assert_eq!(h.batch(twice).await.json(), json!({"accepted": 1, "duplicates": 1, "rejected": 0}));
    assert_eq!(h.count("SELECT COUNT(*) FROM events"), 3);
    let metrics = h.send(Request::get("/metrics").body(Body::empty()).unwrap()).await.text();
    assert!(metrics.contains("nudge_events_ingested_total 3\n"), "{metrics}");
    assert!(metrics.contains("nudge_events_duplicate_total 3\n"), "{metrics}");
    assert!(metrics.contains("nudge_batch_seconds_count 3\n"), "{metrics}");
}

#[tokio::test]
async fn bad_events_are_kept_beside_good_ones() {
    let h = harness().await;
    let bad_ts = r#"{"id":"e2","name":"Page Viewed","ts":"yesterday","anon_id":"v1"}"#.to_string();
    let a = h.batch(batch(&[event("e1", "Page Viewed", NOW, "v1"), bad_ts])).await;
    assert_eq!(a.status, StatusCode::OK);
    let j = a.json();
    assert_eq!((j["accepted"].as_u64(), j["rejected"].as_u64()), (Some(1), Some(1)));
    let why = j["errors"][0].as_str().unwrap();
    assert_eq!(why, r#"events[1].ts: expected a timestamp in milliseconds, found "yesterday""#);
    let conn = rusqlite::Connection::open(&h.db).unwrap();
    let (reason, raw, site): (String, String, String) = conn
        .query_row("SELECT reason, raw, site FROM bad_rows", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((reason.as_str(), site.as_str()), (why, SITE));
    assert!(raw.contains(r#""ts":"yesterday""#), "{raw}");
}

#[tokio::test]
async fn client_clock_skew_is_corrected_and_client_ts_kept() {
    let h = harness().await;
    // The client's clock is one hour behind: it says it sent at NOW - 1 h.
    let behind = NOW - 3_600_000;
    let a = h.batch(batch_at(behind, &[event("e1", "Page Viewed", behind - 10_000, "v1")])).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(h.count("SELECT ts FROM events WHERE event_id = 'e1'"), (NOW - 10_000) as i64);
    assert_eq!(
        h.count("SELECT client_ts FROM events WHERE event_id = 'e1'"),
        (behind - 10_000) as i64
    );
    // A couple of seconds is network time, not a wrong clock: left alone.
    h.batch(batch_at(NOW - 2_000, &[event("e2", "Page Viewed", NOW - 5_000, "v1")])).await;
    assert_eq!(h.count("SELECT ts FROM events WHERE event_id = 'e2'"), (NOW - 5_000) as i64);
    // The server's clock moves on while a client's stays put: a batch sent "at NOW" that
    // arrives two hours later (server time) is a client clock two hours behind.
    h.set_now(NOW + 7_200_000);
    h.batch(batch(&[event("e3", "Page Viewed", NOW - 1_000, "v1")])).await;
    assert_eq!(h.count("SELECT ts FROM events WHERE event_id = 'e3'"), (NOW + 7_199_000) as i64);
}

#[tokio::test]
async fn cors_follows_each_sites_allow_list() {
    let h = harness().await;
    let body = batch(&[event("e1", "Page Viewed", NOW, "v1")]);
    let from = |origin: &str, body: String| {
        let mut req = batch_request(body);
        req.headers_mut().insert(header::ORIGIN, origin.parse().unwrap());
        req
    };
    let ok = h.send(from(ORIGIN, body.clone())).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.header("access-control-allow-origin"), Some(ORIGIN));
    assert!(ok.header("access-control-expose-headers").unwrap().contains("Retry-After"));

    let evil =
        h.send(from("https://evil.example", batch(&[event("e9", "Page Viewed", NOW, "v1")]))).await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    assert_eq!(evil.error(), r#"origin https://evil.example is not allowed for site "shop""#);
    assert_eq!(evil.header("access-control-allow-origin"), None);
    assert_eq!(h.count("SELECT COUNT(*) FROM events WHERE event_id = 'e9'"), 0);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM bad_rows WHERE reason LIKE 'origin https://evil.example%'"),
        1
    );

    let preflight = |origin: &str, uri: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri(uri)
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let pf = h.send(preflight(ORIGIN, "/v1/batch")).await;
    assert_eq!(pf.status, StatusCode::NO_CONTENT);
    assert_eq!(pf.header("access-control-allow-origin"), Some(ORIGIN));
    assert!(pf.header("access-control-allow-methods").unwrap().contains("POST"));
    assert_eq!(pf.header("access-control-allow-headers"), Some("content-type"));
    let pf = h.send(preflight(ORIGIN, "/v1/sites/shop/campaigns")).await;
    assert_eq!(pf.status, StatusCode::NO_CONTENT);
    let pf = h.send(preflight("https://evil.example", "/v1/batch")).await;
    assert_eq!(pf.status, StatusCode::FORBIDDEN);
    assert_eq!(pf.header("access-control-allow-origin"), None);
}
