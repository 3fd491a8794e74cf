//! The test harness: a collector over a temporary SQLite file, a settable clock, and
//! helpers to build requests and read answers.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use nudge::engine::Millis;
use nudge_collector::state::{Clock, Secret};
use nudge_collector::store::sqlite::SqliteStore;
use nudge_collector::store::{Site, Store};
use nudge_collector::{app, AppState, Config};
use tempfile::TempDir;
use tower::ServiceExt;

/// The admin token every harness is configured with.
pub(crate) const TOKEN: &str = "test-admin-token";
/// The site registered in every harness.
pub(crate) const SITE: &str = "shop";
/// The origin allowed for [`SITE`].
pub(crate) const ORIGIN: &str = "https://shop.example";
/// The server's "now" unless a test moves it.
pub(crate) const NOW: u64 = 1_700_000_000_000;

pub(crate) struct Harness {
    pub(crate) app: Router,
    pub(crate) db: PathBuf,
    pub(crate) clock: Arc<AtomicU64>,
    // Dropped last: the database file lives in it.
    pub(crate) _dir: TempDir,
}

/// A config for tests: the admin token set, limits as in production.
pub(crate) fn config() -> Config {
    Config { admin_token: Some(Secret(TOKEN.into())), ..Config::default() }
}

pub(crate) async fn harness() -> Harness {
    harness_with(config()).await
}

pub(crate) async fn harness_with(config: Config) -> Harness {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("collector.db");
    let store = Arc::new(SqliteStore::open(&db).expect("open store"));
    let site = Site { key: SITE.into(), origins: vec![ORIGIN.into()] };
    store.put_site(site, Millis(NOW)).await.expect("seed site");
    let clock = Arc::new(AtomicU64::new(NOW));
    let c = Arc::clone(&clock);
    let now: Clock = Arc::new(move || Millis(c.load(Ordering::SeqCst)));
    let state = AppState::new(store, config, now).await.expect("state");
    Harness { app: app(state), db, clock, _dir: dir }
}

/// An answer, read whole.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The `error` message of a JSON error answer.
    pub(crate) fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error field: {}", self.text()))
            .to_string()
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Harness {
    pub(crate) async fn send(&self, req: Request<Body>) -> Answer {
        let resp = self.app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body").to_vec();
        Answer { status, headers, body }
    }

    /// `POST /v1/batch` as the SDK sends it (`text/plain`, no Origin header).
    pub(crate) async fn batch(&self, body: impl Into<Body>) -> Answer {
        self.send(batch_request(body)).await
    }

    /// An admin request with the right token.
    pub(crate) async fn admin(&self, method: Method, uri: &str, body: impl Into<Body>) -> Answer {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .body(body.into())
            .expect("request");
        self.send(req).await
    }

    pub(crate) fn set_now(&self, ms: u64) {
        self.clock.store(ms, Ordering::SeqCst);
    }

    /// Reads one number from the database file directly.
    pub(crate) fn count(&self, sql: &str) -> i64 {
        let conn = rusqlite::Connection::open(&self.db).expect("open db");
        conn.query_row(sql, [], |r| r.get(0)).expect(sql)
    }
}

pub(crate) fn batch_request(body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/v1/batch")
        .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .body(body.into())
        .expect("request")
}

/// One event as the SDK writes it.
pub(crate) fn event(id: &str, name: &str, ts: u64, anon_id: &str) -> String {
    format!(
        r#"{{"id":"{id}","name":"{name}","ts":{ts},"anon_id":"{anon_id}","session":1,"props":{{}},"page":{{"url":"https://shop.example/p/1?x=1","title":"P","device":"mobile","language":"ko"}}}}"#
    )
}

/// A lifecycle event about `campaign` in arm `variant`.
pub(crate) fn lifecycle(
    id: &str,
    name: &str,
    ts: u64,
    anon_id: &str,
    campaign: &str,
    variant: &str,
) -> String {
    format!(
        r#"{{"id":"{id}","name":"{name}","ts":{ts},"anon_id":"{anon_id}","props":{{"campaign_id":"{campaign}","variant":"{variant}"}}}}"#
    )
}

/// A batch body for [`SITE`] sent at [`NOW`].
pub(crate) fn batch(events: &[String]) -> String {
    batch_at(NOW, events)
}

pub(crate) fn batch_at(sent_at: u64, events: &[String]) -> String {
    format!(r#"{{"site":"{SITE}","sent_at":{sent_at},"events":[{}]}}"#, events.join(","))
}
