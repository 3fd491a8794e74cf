//! The ClickHouse backend: for many stateless collectors behind a load balancer, one store.
//!
//! Spoken over ClickHouse's HTTP interface (queries in the request body, rows in
//! `JSONEachRow`), so it needs no driver. Tested against ClickHouse 18.16, the version
//! Debian ships: times are `UInt64` milliseconds (no `DateTime64` there).
//!
//! - `events` is a `ReplacingMergeTree` ordered by `(site, event_id)`, without
//!   partitions, so copies of one event (a retried batch that reached two collectors at
//!   once) collapse into one row when parts merge; until then every report reads with
//!   `FINAL`, so a duplicate never counts twice.
//! - Ingest goes through one writer task per collector that groups the batches waiting
//!   for it: one query finds which event ids of the group are already stored, one `INSERT`
//!   writes the new rows, one more the bad rows, and only then is each batch answered.
//!   After an insert the writer waits `flush_gap` before the next, so a busy collector
//!   sends a few large inserts a second instead of one small part per batch (ClickHouse
//!   merges parts in the background and refuses inserts when too many pile up).
//! - Sites, drafts and published sets are small tables read through the collector's
//!   short cache; `published` keeps every version.
//!
//! The duplicate count in a batch's answer is exact except in one race: the same event
//! arriving at two collectors within one insert's time is reported as accepted by both,
//! yet stored (after merging) and counted in reports once.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{header, Request, StatusCode};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use nudge::engine::event::names;
use nudge::engine::Millis;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{
    etag, ArmCount, BadRow, Draft, Published, Row, Site, Store, StoreError, StoreFuture, Stored,
};

/// Most batches written in one insert.
const GROUP: usize = 512;
/// Batches waiting for the writer before senders wait too (back-pressure on ingest).
const QUEUE: usize = 2_048;
/// Event ids per existence query (ids are at most 128 characters; ClickHouse parses at
/// most 256 KiB of query text).
const IDS_PER_QUERY: usize = 1_000;
/// Longest a single ClickHouse request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to reach ClickHouse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `http://[user[:password]@]host:port` of the HTTP interface.
    pub url: String,
    /// Database holding the collector's tables; created if absent.
    pub database: String,
    /// Least time between two event inserts of this collector.
    pub flush_gap: Duration,
}

impl Options {
    /// Options for `url` with the default database (`nudge`) and flush gap (200 ms).
    pub fn new(url: &str) -> Options {
        Options {
            url: url.to_string(),
            database: "nudge".into(),
            flush_gap: Duration::from_millis(200),
        }
    }
}

const TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS events (
        site String, event_id String, name String,
        ts UInt64, client_ts UInt64, received_at UInt64,
        anon_id String, session Nullable(UInt32),
        campaign_id Nullable(String), variant Nullable(String),
        props String, page Nullable(String)
    ) ENGINE = ReplacingMergeTree ORDER BY (site, event_id)",
    "CREATE TABLE IF NOT EXISTS bad_rows (
        site Nullable(String), received_at UInt64, reason String, raw String, raw_bytes UInt64
    ) ENGINE = MergeTree ORDER BY received_at",
    "CREATE TABLE IF NOT EXISTS sites (
        key String, origins Array(String), updated_at UInt64
    ) ENGINE = ReplacingMergeTree(updated_at) ORDER BY key",
    "CREATE TABLE IF NOT EXISTS drafts (
        site String, doc String, saved_at UInt64
    ) ENGINE = MergeTree ORDER BY (site, saved_at)",
    "CREATE TABLE IF NOT EXISTS published (
        site String, version UInt64, doc String, etag String, published_at UInt64
    ) ENGINE = MergeTree ORDER BY (site, version)",
];

/// The HTTP side: one keep-alive client and the URL every request goes to.
#[derive(Clone, Debug)]
struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    /// `http://host:port/?database=…&…`.
    url: String,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("clickhouse: {e}"))
}

/// Percent-encodes a query-string value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A ClickHouse string literal.
///
/// ```
/// assert_eq!(nudge_collector::store::clickhouse::literal(r"it's a \ test"), r"'it\'s a \\ test'");
/// ```
pub fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_literal(&mut out, s);
    out
}

fn push_literal(out: &mut String, s: &str) {
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

impl Http {
    fn new(url: &str, database: Option<&str>) -> Result<Http, StoreError> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            backend(format!("{url:?}: expected http://[user[:password]@]host:port"))
        })?;
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(backend(format!("{url:?}: no host")));
        }
        // Numbers come back as numbers, not strings; errors stop at the first bad row.
        let mut q = String::from("output_format_json_quote_64bit_integers=0");
        if let Some(db) = database {
            let _ = write!(q, "&database={}", encode(db));
        }
        if let Some(u) = userinfo {
            let (user, password) = u.split_once(':').unwrap_or((u, ""));
            let _ = write!(q, "&user={}&password={}", encode(user), encode(password));
        }
        let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        Ok(Http { client, url: format!("http://{host}/?{q}") })
    }

    /// Sends `body` (a query, optionally followed by rows) and returns the answer text.
    async fn query(&self, body: String) -> Result<String, StoreError> {
        let req = Request::post(&self.url)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Full::new(Bytes::from(body)))
            .map_err(backend)?;
        let exchange = async {
            let resp = self.client.request(req).await.map_err(backend)?;
            let status = resp.status();
            let bytes = resp.into_body().collect().await.map_err(backend)?.to_bytes();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if status != StatusCode::OK {
                return Err(backend(format!("{status}: {}", text.trim())));
            }
            Ok(text)
        };
        tokio::time::timeout(TIMEOUT, exchange).await.map_err(|_| backend("timed out"))?
    }

    /// Runs a `SELECT … FORMAT JSONEachRow` and reads each line as a `T`.
    async fn rows<T: for<'de> Deserialize<'de>>(&self, sql: String) -> Result<Vec<T>, StoreError> {
        let text = self.query(format!("{sql} FORMAT JSONEachRow")).await?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| backend(format!("reading {l:?}: {e}"))))
            .collect()
    }

    /// `INSERT INTO table FORMAT JSONEachRow` with one line per row.
    async fn insert<T: Serialize>(&self, table: &str, rows: &[T]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut body = format!("INSERT INTO {table} FORMAT JSONEachRow\n").into_bytes();
        for r in rows {
            serde_json::to_writer(&mut body, r).map_err(backend)?;
            body.push(b'\n');
        }
        // serde_json writes UTF-8 only.
        self.query(String::from_utf8(body).map_err(backend)?).await.map(|_| ())
    }
}

/// An event row as ClickHouse reads it.
#[derive(Serialize)]
struct EventLine<'a> {
    site: &'a str,
    event_id: &'a str,
    name: &'a str,
    ts: u64,
    client_ts: u64,
    received_at: u64,
    anon_id: &'a str,
    session: Option<u32>,
    campaign_id: Option<&'a str>,
    variant: Option<&'a str>,
    props: &'a str,
    page: Option<&'a str>,
}

impl<'a> From<&'a Row> for EventLine<'a> {
    fn from(r: &'a Row) -> EventLine<'a> {
        EventLine {
            site: &r.site,
            event_id: &r.event_id,
            name: &r.name,
            ts: r.ts.0,
            client_ts: r.client_ts.0,
            received_at: r.received_at.0,
            anon_id: &r.anon_id,
            session: r.session,
            campaign_id: r.campaign_id.as_deref(),
            variant: r.variant.as_deref(),
            props: &r.props,
            page: r.page.as_deref(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct BadLine {
    site: Option<String>,
    received_at: u64,
    reason: String,
    raw: String,
    raw_bytes: u64,
}

impl From<&BadRow> for BadLine {
    fn from(b: &BadRow) -> BadLine {
        BadLine {
            site: b.site.clone(),
            received_at: b.received_at.0,
            reason: b.reason.clone(),
            raw: b.raw.clone(),
            raw_bytes: b.raw_bytes as u64,
        }
    }
}

/// One batch waiting for the writer.
struct Job {
    rows: Vec<Row>,
    bad: Vec<BadRow>,
    done: oneshot::Sender<Result<Stored, StoreError>>,
}

/// The ClickHouse [`Store`].
pub struct ClickHouseStore {
    http: Http,
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data behind, still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ClickHouseStore {
    /// Connects, creates the database and tables if absent, and starts the writer task.
    /// Must be called inside a Tokio runtime.
    pub async fn open(options: &Options) -> Result<ClickHouseStore, StoreError> {
        let server = Http::new(&options.url, None)?;
        server
            .query(format!("CREATE DATABASE IF NOT EXISTS `{}`", options.database.replace('`', "")))
            .await?;
        let http = Http::new(&options.url, Some(&options.database))?;
        for sql in TABLES {
            http.query((*sql).to_string()).await?;
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(write_loop(http.clone(), rx, options.flush_gap));
        Ok(ClickHouseStore { http, writer: Mutex::new(Some(tx)), task: Mutex::new(Some(task)) })
    }
}

async fn write_loop(http: Http, mut rx: mpsc::Receiver<Job>, gap: Duration) {
    let mut last: Option<Instant> = None;
    // `recv` returns `None` only once every sender is gone and the queue is empty, so
    // closing drains what was already accepted.
    while let Some(first) = rx.recv().await {
        if let Some(at) = last {
            tokio::time::sleep_until((at + gap).into()).await;
        }
        let mut jobs = vec![first];
        while jobs.len() < GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        last = Some(Instant::now());
        match write_group(&http, &jobs).await {
            Ok(counts) => {
                for (job, stored) in jobs.into_iter().zip(counts) {
                    // The waiter may have gone (client hung up); the data is stored anyway.
                    let _ = job.done.send(Ok(stored));
                }
            }
            Err(e) => {
                tracing::error!("insert of {} batches failed: {e}", jobs.len());
                for job in jobs {
                    let _ = job.done.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Writes one group: returns what each job stored, in order.
async fn write_group(http: &Http, jobs: &[Job]) -> Result<Vec<Stored>, StoreError> {
    let stored_before = existing(http, jobs.iter().flat_map(|j| &j.rows)).await?;
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let mut new_rows: Vec<EventLine<'_>> = Vec::new();
    let mut counts = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut s = Stored::default();
        for r in &job.rows {
            let key = (r.site.as_str(), r.event_id.as_str());
            if stored_before.contains(&(r.site.clone(), r.event_id.clone())) || !seen.insert(key) {
                s.duplicates += 1;
            } else {
                s.accepted += 1;
                new_rows.push(EventLine::from(r));
            }
        }
        counts.push(s);
    }
    let bad: Vec<BadLine> = jobs.iter().flat_map(|j| &j.bad).map(BadLine::from).collect();
    http.insert("events", &new_rows).await?;
    http.insert("bad_rows", &bad).await?;
    Ok(counts)
}

/// Which `(site, event_id)` of `rows` are already stored.
async fn existing<'a>(
    http: &Http,
    rows: impl Iterator<Item = &'a Row>,
) -> Result<HashSet<(String, String)>, StoreError> {
    #[derive(Deserialize)]
    struct Key {
        site: String,
        event_id: String,
    }
    let mut by_site: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for r in rows {
        by_site.entry(&r.site).or_default().push(&r.event_id);
    }
    let mut found = HashSet::new();
    for (site, ids) in by_site {
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let mut sql = String::from("SELECT DISTINCT site, event_id FROM events WHERE site = ");
            push_literal(&mut sql, site);
            sql.push_str(" AND event_id IN (");
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                push_literal(&mut sql, id);
            }
            sql.push(')');
            for k in http.rows::<Key>(sql).await? {
                found.insert((k.site, k.event_id));
            }
        }
    }
    Ok(found)
}

impl Store for ClickHouseStore {
    fn ingest(&self, rows: Vec<Row>, bad: Vec<BadRow>) -> StoreFuture<'_, Stored> {
        let tx = lock(&self.writer).clone();
        Box::pin(async move {
            let tx = tx.ok_or(StoreError::Closed)?;
            let (done, wait) = oneshot::channel();
            tx.send(Job { rows, bad, done }).await.map_err(|_| StoreError::Closed)?;
            // Only queued jobs may keep the writer alive once the store is closing.
            drop(tx);
            wait.await.map_err(|_| StoreError::Backend("the writer dropped the job".into()))?
        })
    }

    fn bad_rows(&self, limit: usize) -> StoreFuture<'_, Vec<BadRow>> {
        Box::pin(async move {
            let sql = format!(
                "SELECT site, received_at, reason, raw, raw_bytes FROM bad_rows
                 ORDER BY received_at DESC LIMIT {limit}"
            );
            Ok(self
                .http
                .rows::<BadLine>(sql)
                .await?
                .into_iter()
                .map(|b| BadRow {
                    site: b.site,
                    received_at: Millis(b.received_at),
                    reason: b.reason,
                    raw: b.raw,
                    raw_bytes: b.raw_bytes as usize,
                })
                .collect())
        })
    }

    fn sites(&self) -> StoreFuture<'_, Vec<Site>> {
        Box::pin(async move {
            #[derive(Deserialize)]
            struct Line {
                key: String,
                origins: Vec<String>,
            }
            let sql = "SELECT key, origins FROM sites FINAL ORDER BY key".to_string();
            let lines = self.http.rows::<Line>(sql).await?;
            Ok(lines.into_iter().map(|l| Site { key: l.key, origins: l.origins }).collect())
        })
    }

    fn put_site(&self, site: Site, now: Millis) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            #[derive(Deserialize)]
            struct Count {
                n: u64,
            }
            #[derive(Serialize)]
            struct Line<'a> {
                key: &'a str,
                origins: &'a [String],
                updated_at: u64,
            }
            let sql = format!("SELECT count() AS n FROM sites WHERE key = {}", literal(&site.key));
            let existed = self.http.rows::<Count>(sql).await?.first().is_some_and(|c| c.n > 0);
            let line = Line { key: &site.key, origins: &site.origins, updated_at: now.0 };
            self.http.insert("sites", &[line]).await?;
            Ok(!existed)
        })
    }

    fn put_draft(&self, site: String, doc: String, now: Millis) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            #[derive(Serialize)]
            struct Line<'a> {
                site: &'a str,
                doc: &'a str,
                saved_at: u64,
            }
            self.http.insert("drafts", &[Line { site: &site, doc: &doc, saved_at: now.0 }]).await
        })
    }

    fn draft(&self, site: String) -> StoreFuture<'_, Option<Draft>> {
        Box::pin(async move {
            #[derive(Deserialize)]
            struct Line {
                doc: String,
                saved_at: u64,
            }
            let sql = format!(
                "SELECT doc, saved_at FROM drafts WHERE site = {} ORDER BY saved_at DESC LIMIT 1",
                literal(&site)
            );
            let line = self.http.rows::<Line>(sql).await?.into_iter().next();
            Ok(line.map(|l| Draft { doc: l.doc, at: Millis(l.saved_at) }))
        })
    }

    fn publish(&self, site: String, doc: String, now: Millis) -> StoreFuture<'_, Published> {
        Box::pin(async move {
            #[derive(Deserialize)]
            struct Max {
                v: u64,
            }
            #[derive(Serialize)]
            struct Line<'a> {
                site: &'a str,
                version: u64,
                doc: &'a str,
                etag: &'a str,
                published_at: u64,
            }
            let sql =
                format!("SELECT max(version) AS v FROM published WHERE site = {}", literal(&site));
            let version = self.http.rows::<Max>(sql).await?.first().map_or(0, |m| m.v) + 1;
            let tag = etag(version, &doc);
            let line = Line { site: &site, version, doc: &doc, etag: &tag, published_at: now.0 };
            self.http.insert("published", &[line]).await?;
            Ok(Published { version, etag: tag, doc, at: now })
        })
    }

    fn live(&self, site: String) -> StoreFuture<'_, Option<Published>> {
        Box::pin(async move {
            #[derive(Deserialize)]
            struct Line {
                version: u64,
                doc: String,
                etag: String,
                published_at: u64,
            }
            // Two collectors publishing at once may both pick the same version; the later
            // publication wins, and its ETag differs by content.
            let sql = format!(
                "SELECT version, doc, etag, published_at FROM published WHERE site = {}
                 ORDER BY version DESC, published_at DESC LIMIT 1",
                literal(&site)
            );
            let line = self.http.rows::<Line>(sql).await?.into_iter().next();
            Ok(line.map(|l| Published {
                version: l.version,
                etag: l.etag,
                doc: l.doc,
                at: Millis(l.published_at),
            }))
        })
    }

    fn arm_counts(&self, site: String, from: Millis, to: Millis) -> StoreFuture<'_, Vec<ArmCount>> {
        Box::pin(async move {
            #[derive(Deserialize)]
            struct Line {
                campaign_id: String,
                variant: Option<String>,
                name: String,
                events: u64,
                visitors: u64,
            }
            let lifecycle = [
                names::CAMPAIGN_SHOWN,
                names::CAMPAIGN_HELD_OUT,
                names::CAMPAIGN_CLICKED,
                names::CAMPAIGN_DISMISSED,
                names::CAMPAIGN_CONVERTED,
            ]
            .map(literal)
            .join(", ");
            // FINAL merges copies of one (site, event_id) at read time, so an event stored
            // twice (before the background merge) still counts once.
            let sql = format!(
                "SELECT assumeNotNull(campaign_id) AS campaign_id, variant, name,
                        count() AS events, uniqExact(anon_id) AS visitors
                 FROM events FINAL
                 WHERE site = {} AND isNotNull(campaign_id) AND ts >= {} AND ts < {}
                   AND name IN ({lifecycle})
                 GROUP BY campaign_id, variant, name
                 ORDER BY campaign_id, variant, name",
                literal(&site),
                from.0,
                to.0
            );
            Ok(self
                .http
                .rows::<Line>(sql)
                .await?
                .into_iter()
                .map(|l| ArmCount {
                    campaign_id: l.campaign_id,
                    variant: l.variant,
                    name: l.name,
                    events: l.events,
                    visitors: l.visitors,
                })
                .collect())
        })
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        // Dropping our sender lets the writer drain what is queued and end.
        lock(&self.writer).take();
        let task = lock(&self.task).take();
        Box::pin(async move {
            if let Some(t) = task {
                t.await.map_err(|e| StoreError::Backend(format!("the writer task failed: {e}")))?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_database_and_credentials() {
        let h = Http::new("http://u:p%w@127.0.0.1:8123/", Some("nudge")).unwrap();
        assert_eq!(
            h.url,
            "http://127.0.0.1:8123/?output_format_json_quote_64bit_integers=0&database=nudge&user=u&password=p%25w"
        );
        assert!(Http::new("https://x:8443", None).is_err());
    }
}
