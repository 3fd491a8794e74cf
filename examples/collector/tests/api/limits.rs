//! Rate limits: per client IP and per site, answered 429 with `Retry-After`.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::{header, StatusCode};
use nudge_collector::rate::Rate;
use nudge_collector::Config;

use crate::common::*;

fn from_ip(ip: &str, body: String) -> axum::http::Request<axum::body::Body> {
    let mut req = batch_request(body);
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

#[tokio::test]
async fn one_ip_over_its_rate_gets_429_with_retry_after() {
    // Two requests at once, then one every 100 s.
    let h =
        harness_with(Config { ip_rate: Rate { per_second: 0.01, burst: 2.0 }, ..config() }).await;
    let body = || batch(&[event("e1", "Page Viewed", NOW, "v1")]);
    for _ in 0..2 {
        assert_eq!(h.send(from_ip("10.1.1.1", body())).await.status, StatusCode::OK);
    }
    let mut req = from_ip("10.1.1.1", body());
    req.headers_mut().insert(header::ORIGIN, ORIGIN.parse().unwrap());
    let limited = h.send(req).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.header("retry-after"), Some("100"));
    assert!(limited.error().starts_with("too many requests"), "{}", limited.error());
    // The browser can read the 429 and its Retry-After.
    assert_eq!(limited.header("access-control-allow-origin"), Some(ORIGIN));
    // Another address is not affected, and 429s are not bad rows (the client retries).
    assert_eq!(h.send(from_ip("10.1.1.2", body())).await.status, StatusCode::OK);
    assert_eq!(h.count("SELECT COUNT(*) FROM bad_rows"), 0);
    let metrics =
        h.send(axum::http::Request::get("/metrics").body(axum::body::Body::empty()).unwrap()).await;
    assert!(metrics.text().contains("nudge_rate_limited_total 1\n"));
}

#[tokio::test]
async fn one_site_over_its_rate_gets_429() {
    let h =
        harness_with(Config { site_rate: Rate { per_second: 1.0, burst: 1.0 }, ..config() }).await;
    let first = h.batch(batch(&[event("e1", "Page Viewed", NOW, "v1")])).await;
    assert_eq!(first.status, StatusCode::OK);
    let second = h.batch(batch(&[event("e2", "Page Viewed", NOW, "v1")])).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(second.header("retry-after"), Some("1"));
    assert_eq!(h.count("SELECT COUNT(*) FROM events WHERE event_id = 'e2'"), 0);
}
