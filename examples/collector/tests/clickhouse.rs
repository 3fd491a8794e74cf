//! The ClickHouse backend against a real server: Debian's `clickhouse-server` (18.16),
//! started here on 127.0.0.1 with free ports and a temporary data directory, and stopped
//! (killed) when the test ends, pass or fail. `cargo xtask test` installs the package.
//!
//! One test function runs the scenarios in turn, each in its own database, so that one
//! server start (a few seconds) serves them all: a batch is stored once, two collectors
//! sharing one ClickHouse agree on duplicates and see each other's admin changes after
//! the cache time, the report equals the SQLite backend's on the same data, and bad rows
//! are kept.

// The SQLite harness and request helpers of the API tests; not every helper is used here.
#[allow(dead_code)]
#[path = "api/common.rs"]
mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use nudge::engine::Millis;
use nudge_collector::state::Clock;
use nudge_collector::store::clickhouse::{ClickHouseStore, Options};
use nudge_collector::store::{Site, Store};
use nudge_collector::{app, AppState};
use serde_json::{json, Value};
use tower::ServiceExt;

use common::*;

const SERVER: &str = "/usr/sbin/clickhouse-server";
const CONFIG: &str = "/etc/clickhouse-server/config.xml";

/// A ClickHouse server of our own; killed on drop.
struct ClickHouse {
    child: Child,
    http: String,
    dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// One plain HTTP/1.0 request (so the answer is not chunked); the status and body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let status = resp.split(' ').nth(1)?.parse().ok()?;
    Some((status, resp.split_once("\r\n\r\n")?.1.to_string()))
}

impl ClickHouse {
    fn start() -> ClickHouse {
        assert!(
            Path::new(SERVER).exists(),
            "{SERVER} is missing: `cargo xtask test` installs it (apt-get install clickhouse-server)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path().display().to_string();
        std::fs::create_dir_all(dir.path().join("tmp")).expect("tmp dir");
        let (http_port, tcp_port, inter_port) = (free_port(), free_port(), free_port());
        let child = Command::new(SERVER)
            .arg(format!("--config-file={CONFIG}"))
            .arg("--")
            .arg(format!("--path={d}/"))
            .arg(format!("--tmp_path={d}/tmp/"))
            .arg(format!("--user_files_path={d}/user_files/"))
            .arg(format!("--format_schema_path={d}/format_schemas/"))
            .arg(format!("--logger.log={d}/log"))
            .arg(format!("--logger.errorlog={d}/err"))
            .arg("--listen_host=127.0.0.1")
            .arg(format!("--http_port={http_port}"))
            .arg(format!("--tcp_port={tcp_port}"))
            .arg(format!("--interserver_http_port={inter_port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start clickhouse-server");
        let mut ch = ClickHouse { child, http: format!("127.0.0.1:{http_port}"), dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some((200, body)) = http(&ch.http, "GET", "/ping", "") {
                assert_eq!(body.trim(), "Ok.");
                break;
            }
            if let Ok(Some(status)) = ch.child.try_wait() {
                let err = std::fs::read_to_string(ch.dir.path().join("err")).unwrap_or_default();
                panic!("clickhouse-server exited with {status}:\n{err}");
            }
            assert!(Instant::now() < deadline, "clickhouse-server did not answer within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        ch
    }

    fn url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// Runs a query and returns its text answer.
    fn query(&self, sql: &str) -> String {
        match http(&self.http, "POST", "/", sql) {
            Some((200, body)) => body.trim().to_string(),
            other => panic!("{sql}: {other:?}"),
        }
    }
}

impl Drop for ClickHouse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A collector over ClickHouse database `db`, its clock, and its store.
struct Instance {
    app: Router,
    clock: Arc<AtomicU64>,
    store: Arc<ClickHouseStore>,
}

async fn instance(ch: &ClickHouse, db: &str) -> Instance {
    let options = Options {
        database: db.into(),
        flush_gap: Duration::from_millis(5),
        ..Options::new(&ch.url())
    };
    let store = Arc::new(ClickHouseStore::open(&options).await.expect("open ClickHouse"));
    let site = Site { key: SITE.into(), origins: vec![ORIGIN.into()] };
    store.put_site(site, Millis(NOW)).await.expect("seed site");
    let clock = Arc::new(AtomicU64::new(NOW));
    let c = Arc::clone(&clock);
    let now: Clock = Arc::new(move || Millis(c.load(Ordering::SeqCst)));
    let state = AppState::new(store.clone(), config(), now).await.expect("state");
    Instance { app: app(state), clock, store }
}

impl Instance {
    async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = self.app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    async fn batch(&self, body: String) -> (StatusCode, Value) {
        self.send(batch_request(body)).await
    }

    async fn admin(&self, method: Method, uri: &str, body: &str) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .body(Body::from(body.to_string()))
            .expect("request");
        self.send(req).await
    }

    async fn report(&self) -> Value {
        let (status, r) = self
            .admin(Method::GET, &format!("/v1/admin/sites/{SITE}/report?to={}", NOW + 1), "")
            .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        r
    }
}

fn events(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| event(&format!("{prefix}{i}"), "Page Viewed", NOW - 1_000, "v1")).collect()
}

async fn batch_is_stored_once(ch: &ClickHouse) {
    let a = instance(ch, "once").await;
    let body = batch(&events("e", 50));
    assert_eq!(
        a.batch(body.clone()).await,
        (StatusCode::OK, json!({"accepted": 50, "duplicates": 0, "rejected": 0}))
    );
    assert_eq!(a.batch(body).await.1, json!({"accepted": 0, "duplicates": 50, "rejected": 0}));
    // The same id twice in one batch is a duplicate as well.
    let twice =
        batch(&[event("t1", "Cart Viewed", NOW, "v1"), event("t1", "Cart Viewed", NOW, "v1")]);
    assert_eq!(a.batch(twice).await.1, json!({"accepted": 1, "duplicates": 1, "rejected": 0}));
    // Nothing was written twice, not even before a merge.
    assert_eq!(ch.query("SELECT count() FROM once.events"), "51");
    let row = ch.query(
        "SELECT name, ts, anon_id, session, page FROM once.events WHERE event_id = 'e7' FORMAT TSV",
    );
    assert!(row.starts_with(&format!("Page Viewed\t{}\tv1\t1\t", NOW - 1_000)), "{row}");
    assert!(row.contains(r#""path":"/p/1""#), "page context as the engine wrote it: {row}");
    a.store.close().await.expect("close");
}

async fn two_instances_share_one_clickhouse(ch: &ClickHouse) {
    let (a, b) = (instance(ch, "shared").await, instance(ch, "shared").await);
    let body = batch(&events("d", 20));
    assert_eq!(a.batch(body.clone()).await.1["accepted"], 20);
    assert_eq!(b.batch(body).await.1, json!({"accepted": 0, "duplicates": 20, "rejected": 0}));

    // The same retried batch reaching both at the same moment: whatever each answers,
    // the event is stored and reported once.
    let race = batch(&[lifecycle("r1", "Campaign Shown", NOW - 10, "v9", "welcome", "a")]);
    let (ra, rb) = tokio::join!(a.batch(race.clone()), b.batch(race));
    let accepted = ra.1["accepted"].as_u64().unwrap() + rb.1["accepted"].as_u64().unwrap();
    assert!((1..=2).contains(&accepted), "{ra:?} {rb:?}");
    assert_eq!(ch.query("SELECT count() FROM shared.events FINAL WHERE event_id = 'r1'"), "1");
    for i in [&a, &b] {
        let arms = &i.report().await["campaigns"][0]["arms"];
        assert_eq!(
            (arms[0]["impressions"].as_u64(), arms[0]["visitors"].as_u64()),
            (Some(1), Some(1))
        );
    }

    // A site and a publication made through A reach B once B's cache has expired.
    let (s, _) = a.admin(Method::PUT, "/v1/admin/sites/outlet", r#"{"origins": ["*"]}"#).await;
    assert_eq!(s, StatusCode::CREATED);
    let outlet = r#"{"site":"outlet","sent_at":1700000000000,"events":[]}"#.to_string();
    assert_eq!(a.batch(outlet.clone()).await.0, StatusCode::OK);
    assert_eq!(
        b.batch(outlet.clone()).await.0,
        StatusCode::FORBIDDEN,
        "B still has its cached sites"
    );
    b.clock.fetch_add(config().cache_ttl.0, Ordering::SeqCst);
    assert_eq!(b.batch(outlet).await.0, StatusCode::OK, "B reloaded the sites");

    let live = || Request::get("/v1/sites/outlet/campaigns").body(Body::empty()).unwrap();
    assert_eq!(b.send(live()).await.1["campaigns"], json!([]));
    let set = r#"{"schema":1,"campaigns":[{"id":"w","placement":{"type":"bar"},"content":{"headline":"Hi"},"trigger":{"event":"Page Viewed"}}]}"#;
    assert_eq!(
        a.admin(Method::PUT, "/v1/admin/sites/outlet/campaigns", set).await.0,
        StatusCode::OK
    );
    let (s, p) = a.admin(Method::POST, "/v1/admin/sites/outlet/publish", "").await;
    assert_eq!((s, p["version"].as_u64()), (StatusCode::OK, Some(1)), "{p}");
    assert_eq!(a.send(live()).await.1["campaigns"][0]["id"], "w");
    assert_eq!(b.send(live()).await.1["campaigns"], json!([]), "B still has its cached set");
    b.clock.fetch_add(config().cache_ttl.0, Ordering::SeqCst);
    assert_eq!(b.send(live()).await.1["campaigns"][0]["id"], "w");
    let (_, p2) = b.admin(Method::POST, "/v1/admin/sites/outlet/publish", "").await;
    assert_eq!(p2["version"], 2);
    a.store.close().await.expect("close a");
    b.store.close().await.expect("close b");
}

/// Exposures, conversions, clicks and dismissals over three arms, with duplicates sent
/// again and events outside the window.
fn report_dataset() -> Vec<String> {
    let mut out = Vec::new();
    let t = NOW - 100_000;
    let mut n = 0;
    let mut push = |name: &str, ts: u64, visitor: String, variant: &str| {
        n += 1;
        out.push(lifecycle(&format!("q{n}"), name, ts, &visitor, "spring", variant));
    };
    for i in 0..40 {
        push("Campaign Held Out", t, format!("c{i}"), "control");
        push("Campaign Shown", t, format!("a{i}"), "a");
        push("Campaign Shown", t + 1, format!("b{i}"), "b");
        if i % 3 == 0 {
            push("Campaign Shown", t + 2, format!("a{i}"), "a");
        }
        if i % 5 == 0 {
            push("Campaign Converted", t + 10, format!("c{i}"), "control");
            push("Campaign Converted", t + 10, format!("b{i}"), "b");
        }
        if i % 2 == 0 {
            push("Campaign Converted", t + 10, format!("a{i}"), "a");
            push("Campaign Clicked", t + 5, format!("a{i}"), "a");
        }
        if i % 7 == 0 {
            push("Campaign Dismissed", t + 5, format!("b{i}"), "b");
        }
    }
    push("Campaign Converted", NOW + 50_000, "b1".into(), "b");
    out.push(event("x1", "Page Viewed", t, "a0"));
    out
}

async fn report_equals_sqlite(ch: &ClickHouse) {
    let data = report_dataset();
    let sqlite = harness().await;
    let (a, b) = (instance(ch, "report").await, instance(ch, "report").await);
    for chunk in data.chunks(25) {
        let body = batch(chunk);
        assert_eq!(sqlite.batch(body.clone()).await.status, StatusCode::OK);
        assert_eq!(a.batch(body).await.0, StatusCode::OK);
    }
    // Everything again, through the other collector and the SQLite one: all duplicates.
    for chunk in data.chunks(40) {
        let body = batch(chunk);
        assert_eq!(sqlite.batch(body.clone()).await.json()["accepted"], 0);
        assert_eq!(b.batch(body).await.1["accepted"], 0);
    }
    let want = sqlite
        .admin(Method::GET, &format!("/v1/admin/sites/{SITE}/report?to={}", NOW + 1), "")
        .await
        .json();
    assert!(want["campaigns"][0]["arms"].as_array().is_some_and(|a| a.len() == 3), "{want}");
    assert_eq!(a.report().await, want);
    assert_eq!(b.report().await, want);
    a.store.close().await.expect("close a");
    b.store.close().await.expect("close b");
}

async fn bad_rows_are_kept(ch: &ClickHouse) {
    let a = instance(ch, "bad").await;
    let bad_event = r#"{"id":"b2","name":"Page Viewed","ts":"soon","anon_id":"v1"}"#.to_string();
    let (s, answer) = a.batch(batch(&[event("g1", "Page Viewed", NOW, "v1"), bad_event])).await;
    assert_eq!(
        (s, answer["accepted"].as_u64(), answer["rejected"].as_u64()),
        (StatusCode::OK, Some(1), Some(1))
    );
    assert_eq!(a.batch("not json at all".into()).await.0, StatusCode::BAD_REQUEST);
    a.clock.fetch_add(1, Ordering::SeqCst);
    assert_eq!(
        a.batch(r#"{"site":"nope","sent_at":1,"events":[]}"#.into()).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, rows) = a.admin(Method::GET, "/v1/admin/bad-rows", "").await;
    assert_eq!(s, StatusCode::OK);
    let rows = rows.as_array().expect("a list").clone();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0]["site"], "nope");
    assert_eq!(rows[0]["reason"], r#"unknown site "nope""#);
    let reasons: Vec<&str> = rows.iter().filter_map(|r| r["reason"].as_str()).collect();
    assert!(
        reasons.contains(&r#"events[1].ts: expected a timestamp in milliseconds, found "soon""#),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.starts_with("the body is not JSON")), "{reasons:?}");
    let raw = rows.iter().find(|r| r["raw"] == "not json at all").expect("the raw body");
    assert_eq!((raw["site"].is_null(), raw["raw_bytes"].as_u64()), (true, Some(15)));
    a.store.close().await.expect("close");
}

#[test]
fn clickhouse_backend_against_a_real_server() {
    let ch = ClickHouse::start();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        batch_is_stored_once(&ch).await;
        two_instances_share_one_clickhouse(&ch).await;
        report_equals_sqlite(&ch).await;
        bad_rows_are_kept(&ch).await;
    });
}
