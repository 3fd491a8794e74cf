//! The admin gate and site management.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use nudge_collector::Config;

use crate::common::*;

fn with_auth(auth: Option<&str>) -> Request<Body> {
    let mut req = Request::get("/v1/admin/sites").body(Body::empty()).unwrap();
    if let Some(a) = auth {
        req.headers_mut().insert(header::AUTHORIZATION, a.parse().unwrap());
    }
    req
}

#[tokio::test]
async fn admin_token_is_required() {
    let h = harness().await;
    let none = h.send(with_auth(None)).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    assert!(none.error().contains("Authorization: Bearer"), "{}", none.error());
    let wrong = h.send(with_auth(Some("Bearer not-the-token"))).await;
    assert_eq!(
        (wrong.status, wrong.error()),
        (StatusCode::UNAUTHORIZED, "wrong admin token".to_string())
    );
    assert!(!wrong.text().contains(TOKEN), "the token is never echoed");
    let prefix = h.send(with_auth(Some(&format!("Bearer {}", &TOKEN[..5])))).await;
    assert_eq!(prefix.status, StatusCode::UNAUTHORIZED);
    let basic = h.send(with_auth(Some(&format!("Basic {TOKEN}")))).await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
    let right = h.send(with_auth(Some(&format!("Bearer {TOKEN}")))).await;
    assert_eq!(right.status, StatusCode::OK);
    assert_eq!(right.json()[0]["site"], SITE);
    // Every admin route is behind the gate.
    for (method, uri) in [
        (Method::PUT, "/v1/admin/sites/x"),
        (Method::PUT, "/v1/admin/sites/shop/campaigns"),
        (Method::POST, "/v1/admin/sites/shop/publish"),
        (Method::GET, "/v1/admin/sites/shop/report"),
        (Method::GET, "/v1/admin/bad-rows"),
    ] {
        let req = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
        assert_eq!(h.send(req).await.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
}

#[tokio::test]
async fn without_a_configured_token_the_admin_api_is_off() {
    let h = harness_with(Config { admin_token: None, ..config() }).await;
    let a = h.send(with_auth(Some(&format!("Bearer {TOKEN}")))).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.error().contains("--admin-token"), "{}", a.error());
}

#[tokio::test]
async fn sites_are_created_validated_and_used_at_once() {
    let h = harness().await;
    let new = h
        .admin(Method::PUT, "/v1/admin/sites/outlet", r#"{"origins": ["https://Outlet.example"]}"#)
        .await;
    assert_eq!(new.status, StatusCode::CREATED, "{}", new.text());
    assert_eq!(new.json()["origins"][0], "https://outlet.example");
    let again = h.admin(Method::PUT, "/v1/admin/sites/outlet", r#"{"origins": ["*"]}"#).await;
    assert_eq!(again.status, StatusCode::OK);
    // The new site takes batches straight away, from any origin now.
    let body = r#"{"site":"outlet","sent_at":1700000000000,"events":[]}"#;
    let mut req = batch_request(body);
    req.headers_mut().insert(header::ORIGIN, "https://anywhere.example".parse().unwrap());
    assert_eq!(h.send(req).await.status, StatusCode::OK);

    let bad = h
        .admin(
            Method::PUT,
            "/v1/admin/sites/outlet",
            r#"{"origins": ["https://a.example/shop"], "x": 1}"#,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = bad.json()["errors"].clone();
    assert_eq!(errors[0]["path"], "x");
    assert_eq!(errors[1]["path"], "origins[0]");
    assert!(errors[1]["message"].as_str().unwrap().contains("no path"), "{errors}");
    let bad_key = h.admin(Method::PUT, "/v1/admin/sites/..", r#"{"origins": []}"#).await;
    assert_eq!(bad_key.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn health_and_unknown_routes_answer_json() {
    let h = harness().await;
    let ok = h.send(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!((ok.status, ok.json()["ok"].as_bool()), (StatusCode::OK, Some(true)));
    let missing = h.send(Request::get("/v2/nothing").body(Body::empty()).unwrap()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.error().contains("no such route"));
    let wrong = h.send(Request::delete("/v1/batch").body(Body::empty()).unwrap()).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.error(), "DELETE is not allowed on /v1/batch; see docs/wire.md");
}

/// Two collectors on one SQLite file: a site and a publication made through one reach the
/// other once its cache time has passed, and not before (the collector keeps no state).
#[tokio::test]
async fn a_second_collector_on_the_same_file_sees_admin_changes_after_the_cache_time() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use nudge::engine::Millis;
    use nudge_collector::state::Clock;
    use nudge_collector::store::sqlite::SqliteStore;
    use nudge_collector::{app, AppState};

    let a = harness().await;
    let store = Arc::new(SqliteStore::open(&a.db).expect("second store on the same file"));
    let clock = Arc::new(AtomicU64::new(NOW));
    let c = Arc::clone(&clock);
    let now: Clock = Arc::new(move || Millis(c.load(Ordering::SeqCst)));
    let b = Harness {
        app: app(AppState::new(store, config(), now).await.expect("state")),
        db: a.db.clone(),
        clock: Arc::clone(&clock),
        _dir: tempfile::TempDir::new().unwrap(),
    };
    let outlet = || batch_request(r#"{"site":"outlet","sent_at":1700000000000,"events":[]}"#);
    let live = || Request::get("/v1/sites/shop/campaigns").body(Body::empty()).unwrap();
    assert_eq!(b.send(live()).await.json()["campaigns"], serde_json::json!([]));

    let made = a.admin(Method::PUT, "/v1/admin/sites/outlet", r#"{"origins": ["*"]}"#).await;
    assert_eq!(made.status, StatusCode::CREATED);
    let set = r#"{"schema":1,"campaigns":[{"id":"w","placement":{"type":"bar"},"content":{"headline":"Hi"},"trigger":{"event":"Page Viewed"}}]}"#;
    assert_eq!(
        a.admin(Method::PUT, "/v1/admin/sites/shop/campaigns", set).await.status,
        StatusCode::OK
    );
    assert_eq!(
        a.admin(Method::POST, "/v1/admin/sites/shop/publish", "").await.status,
        StatusCode::OK
    );
    assert_eq!(a.send(outlet()).await.status, StatusCode::OK, "A sees its own change at once");
    assert_eq!(b.send(outlet()).await.status, StatusCode::FORBIDDEN, "B serves its cache");
    assert_eq!(b.send(live()).await.json()["campaigns"], serde_json::json!([]));

    clock.fetch_add(config().cache_ttl.0, Ordering::SeqCst);
    assert_eq!(b.send(outlet()).await.status, StatusCode::OK);
    assert_eq!(b.send(live()).await.json()["campaigns"][0]["id"], "w");
}
