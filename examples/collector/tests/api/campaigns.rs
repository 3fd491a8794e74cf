//! Campaign sets: draft validation through the admin API (with the engine's own spec cases),
//! publishing, and the public live set with ETag / 304.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use nudge::engine::json::{self, Value};

use crate::common::*;

const WELCOME: &str = r#"{"schema": 1, "campaigns": [
  {"id": "welcome", "placement": {"type": "bar"}, "content": {"headline": "Hi"},
   "trigger": {"event": "Page Viewed"}}]}"#;

fn get_live(site: &str, if_none_match: Option<&str>) -> Request<Body> {
    let mut req = Request::get(format!("/v1/sites/{site}/campaigns")).body(Body::empty()).unwrap();
    if let Some(tag) = if_none_match {
        req.headers_mut().insert(header::IF_NONE_MATCH, tag.parse().unwrap());
    }
    req
}

#[tokio::test]
async fn live_set_is_cached_with_etags_until_a_publish() {
    let h = harness().await;
    let empty = h.send(get_live(SITE, None)).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.json(), serde_json::json!({"schema": 1, "campaigns": []}));
    assert_eq!(empty.header("cache-control"), Some("public, max-age=60"));
    let tag0 = empty.header("etag").unwrap().to_string();
    assert!(tag0.starts_with('"') && tag0.ends_with('"'), "{tag0}");

    let unchanged = h.send(get_live(SITE, Some(&tag0))).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert!(unchanged.body.is_empty());
    assert_eq!(unchanged.header("etag"), Some(tag0.as_str()));

    let saved = h.admin(Method::PUT, "/v1/admin/sites/shop/campaigns", WELCOME).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert_eq!(saved.json()["campaigns"], 1);
    // A draft is not live yet.
    assert_eq!(h.send(get_live(SITE, Some(&tag0))).await.status, StatusCode::NOT_MODIFIED);

    let published = h.admin(Method::POST, "/v1/admin/sites/shop/publish", "").await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text());
    assert_eq!(published.json()["version"], 1);
    let live = h.send(get_live(SITE, Some(&tag0))).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.json()["campaigns"][0]["id"], "welcome");
    let tag1 = live.header("etag").unwrap().to_string();
    assert_ne!(tag1, tag0);
    assert_eq!(published.json()["etag"], tag1.as_str());
    assert_eq!(
        h.send(get_live(SITE, Some(&format!("W/{tag1}")))).await.status,
        StatusCode::NOT_MODIFIED
    );
    // What was published is what the editor saved, compacted.
    let draft = h.admin(Method::GET, "/v1/admin/sites/shop/campaigns", "").await;
    assert_eq!(draft.text(), live.text());
}

#[tokio::test]
async fn unknown_sites_and_missing_drafts_are_explained() {
    let h = harness().await;
    let a = h.send(get_live("nope", None)).await;
    assert_eq!(
        (a.status, a.error()),
        (StatusCode::NOT_FOUND, r#"unknown site "nope""#.to_string())
    );
    let a = h.admin(Method::POST, "/v1/admin/sites/shop/publish", "").await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(a.error().contains("no draft to publish"), "{}", a.error());
    let a = h.admin(Method::PUT, "/v1/admin/sites/nope/campaigns", WELCOME).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_campaign_with_a_wrong_field_gets_the_sdks_path_errors() {
    let h = harness().await;
    let doc = r#"{"schema": 1, "campaigns": [
      {"id": "ok", "placement": {"type": "bar"}, "content": {"headline": "Hi"}, "trigger": {"event": "Page Viewed"}},
      {"id": "broken", "placement": {"type": "bar"}, "content": {"headline": "Hi"},
       "trigger": {"count": {"event": "Product Viewed", "at_least": 3, "wihtin": "7d"}}}]}"#;
    let a = h.admin(Method::PUT, "/v1/admin/sites/shop/campaigns", doc).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    let first = &a.json()["errors"][0];
    assert_eq!(first["path"], "campaigns[1].trigger.count.wihtin");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["code"], "unknown");
    assert!(first["message"].as_str().unwrap().contains(r#"did you mean "within"?"#), "{first}");
    // Refused whole: nothing was saved.
    assert_eq!(
        h.admin(Method::GET, "/v1/admin/sites/shop/campaigns", "").await.status,
        StatusCode::NOT_FOUND
    );
    // Not JSON at all is a 422 with the parser's position, like the SDK's.
    let a = h.admin(Method::PUT, "/v1/admin/sites/shop/campaigns", "{\"schema\": 1,").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.json()["errors"][0]["code"], "json");
}

/// Runs the engine's own validation cases (`tests/spec/validate.json`) through the admin
/// API: the same findings, at the same paths, as the SDK gives.
#[tokio::test]
async fn admin_api_gives_the_engines_validation_findings() {
    let h = harness().await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/spec/validate.json");
    let spec =
        json::parse(&std::fs::read_to_string(path).expect("validate.json")).expect("spec parses");
    let Value::Arr(cases) = spec else { panic!("spec is an array") };
    assert!(cases.len() > 20, "the spec has cases");
    for case in &cases {
        let Value::Arr(parts) = case else { panic!("case is [name, input, expected]") };
        let name = parts[0].as_str().unwrap();
        let text = match &parts[1] {
            Value::Str(raw) => raw.clone(),
            doc => json::to_string(doc),
        };
        let mut want: Vec<String> = match parts[2].get("errors") {
            Some(Value::Arr(errors)) => errors.iter().map(json::to_string).collect(),
            _ => panic!("{name}: expected.errors"),
        };
        // The SDK needs offsets for a zone; the collector adds them, so that one finding
        // is the SDK's alone.
        let mut messages: Vec<&str> = match parts[2].get("messages") {
            Some(Value::Arr(m)) => m.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if let Some(i) = messages.iter().position(|m| m.contains("(the collector adds them)")) {
            messages.remove(i);
            want.remove(i);
        }
        let a = h.admin(Method::PUT, "/v1/admin/sites/shop/campaigns", text).await;
        let hard = want.iter().any(|e| e.ends_with(r#""error"]"#));
        let (status, key) = if hard {
            (StatusCode::UNPROCESSABLE_ENTITY, "errors")
        } else {
            (StatusCode::OK, "warnings")
        };
        assert_eq!(a.status, status, "{name}: {}", a.text());
        let got: Vec<String> = a.json()[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| serde_json::json!([f["path"], f["code"], f["severity"]]).to_string())
            .collect();
        assert_eq!(got, want, "{name}");
        if !messages.is_empty() {
            let got: Vec<String> = a.json()[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    format!("{}: {}", f["path"].as_str().unwrap(), f["message"].as_str().unwrap())
                })
                .collect();
            assert_eq!(got, messages, "{name}: messages");
        }
    }
}
