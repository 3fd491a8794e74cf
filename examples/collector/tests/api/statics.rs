//! `--static`: directories served after the API routes, with the right MIME types.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use nudge_collector::state::Mount;
use nudge_collector::Config;

use crate::common::*;

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn static_dirs_are_served_after_the_api() {
    let www = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(www.path().join("index.html"), "<h1>shop</h1>").unwrap();
    std::fs::create_dir(www.path().join("v1")).unwrap();
    std::fs::write(www.path().join("v1/batch"), "shadow").unwrap();
    std::fs::write(dist.path().join("nudge_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dist.path().join("nudge.js"), "export {}").unwrap();
    let mount = |arg: &str| Mount::parse(arg).unwrap();
    let statics = vec![
        mount(&format!("/={}", www.path().display())),
        mount(&format!("/dist={}", dist.path().display())),
    ];
    let h = harness_with(Config { statics, ..config() }).await;

    let index = h.send(get("/")).await;
    assert_eq!((index.status, index.text()), (StatusCode::OK, "<h1>shop</h1>".to_string()));
    assert!(index.header("content-type").unwrap().starts_with("text/html"));
    let wasm = h.send(get("/dist/nudge_bg.wasm")).await;
    assert_eq!(wasm.status, StatusCode::OK);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    let js = h.send(get("/dist/nudge.js")).await;
    assert!(js.header("content-type").unwrap().contains("javascript"), "{:?}", js.headers);

    // API routes win over files, and unknown API paths still answer JSON.
    assert_eq!(h.send(get("/healthz")).await.json()["ok"], true);
    let batch = h.batch(batch(&[event("s1", "Page Viewed", NOW, "v1")])).await;
    assert_eq!(batch.json()["accepted"], 1);
    let missing = h.send(get("/v1/nothing")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.error().contains("no such route"));
    assert_eq!(h.send(get("/nothing.html")).await.status, StatusCode::NOT_FOUND);
    // No escaping the directory.
    assert_eq!(h.send(get("/dist/../index.html")).await.status, StatusCode::NOT_FOUND);
}

#[test]
fn mounts_are_checked() {
    assert_eq!(Mount::parse("www").unwrap().url, "/");
    assert_eq!(Mount::parse("/examples/=examples").unwrap().url, "/examples");
    assert!(Mount::parse("/v1=www").unwrap_err().contains("API path"));
    assert!(Mount::parse("/x=").is_err());
}
