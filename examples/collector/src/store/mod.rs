//! The storage port: everything the collector keeps goes through the [`Store`] trait.
//!
//! Handlers never see SQL. [`sqlite::SqliteStore`] is the embedded default;
//! [`clickhouse::ClickHouseStore`] is for many stateless collectors behind a load balancer.
//! The trait returns boxed futures so it stays object-safe: the backend is chosen at start-up
//! and held as `Arc<dyn Store>`. Every write future resolves only after the data is durable
//! (committed), which is what lets the HTTP layer answer 200 and mean it.

pub mod clickhouse;
pub mod sqlite;

use std::future::Future;
use std::pin::Pin;

use nudge::engine::Millis;

/// A boxed, sendable future returned by [`Store`] methods.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Why storage failed. Cloneable because one group commit answers many waiting batches.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store is shutting down (or its writer died) and takes no more work.
    #[error("the store is closed")]
    Closed,
    /// The backend reported an error.
    #[error("storage error: {0}")]
    Backend(String),
}

/// One good event, ready to store.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Site key.
    pub site: String,
    /// The event's own id (unique per site: the de-duplication key).
    pub event_id: String,
    /// Event name.
    pub name: String,
    /// Timestamp on the server's clock (client timestamp corrected for clock skew).
    pub ts: Millis,
    /// Timestamp as the client sent it.
    pub client_ts: Millis,
    /// When the collector received it.
    pub received_at: Millis,
    /// The visitor's anonymous id.
    pub anon_id: String,
    /// The visitor's session number, if sent.
    pub session: Option<u32>,
    /// `props.campaign_id` of lifecycle events, pulled out for reports.
    pub campaign_id: Option<String>,
    /// `props.variant` of lifecycle events (`"control"` for hold-outs).
    pub variant: Option<String>,
    /// Properties as compact JSON.
    pub props: String,
    /// Page context as compact JSON, if sent.
    pub page: Option<String>,
}

/// Input that could not be stored as an event, kept with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    /// Site key, when the body got far enough to name one.
    pub site: Option<String>,
    /// When it arrived.
    pub received_at: Millis,
    /// Why it was refused: `path: message`.
    pub reason: String,
    /// The raw input (one event's JSON, or the start of a body), truncated.
    pub raw: String,
    /// Size of the whole raw input in bytes, before truncation.
    pub raw_bytes: usize,
}

/// What one ingest call stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stored {
    /// New events written.
    pub accepted: usize,
    /// Events whose `(site, event_id)` was already stored.
    pub duplicates: usize,
}

/// A site: its key and the origins whose pages may send events and read campaigns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The public site key (`data-site` in the script tag).
    pub key: String,
    /// Allowed origins (`https://shop.example`), or `*` for any.
    pub origins: Vec<String>,
}

/// The entity tag of a published document: version and content hash.
pub fn etag(version: u64, doc: &str) -> String {
    format!("\"v{version}-{:016x}\"", nudge::engine::assign::stable_hash(doc.as_bytes()))
}

/// A published campaign set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// Publication number, from 1.
    pub version: u64,
    /// Quoted entity tag for HTTP caching.
    pub etag: String,
    /// The campaign set document, compact JSON.
    pub doc: String,
    /// When it was published.
    pub at: Millis,
}

/// The draft campaign set of a site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    /// The document, compact JSON.
    pub doc: String,
    /// When it was last saved.
    pub at: Millis,
}

/// Event and visitor counts for one campaign arm and one lifecycle event name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArmCount {
    /// Campaign id.
    pub campaign_id: String,
    /// Variant id (`"control"` for the hold-out), if the event carried one.
    pub variant: Option<String>,
    /// Lifecycle event name (`Campaign Shown`, …).
    pub name: String,
    /// Number of events.
    pub events: u64,
    /// Number of distinct visitors among them.
    pub visitors: u64,
}

/// Where collector data lives. Implementations must be safe to share between handlers.
pub trait Store: Send + Sync {
    /// Stores good events once each and keeps every bad row; resolves after the commit.
    fn ingest(&self, rows: Vec<Row>, bad: Vec<BadRow>) -> StoreFuture<'_, Stored>;
    /// The most recent bad rows, newest first.
    fn bad_rows(&self, limit: usize) -> StoreFuture<'_, Vec<BadRow>>;
    /// All sites.
    fn sites(&self) -> StoreFuture<'_, Vec<Site>>;
    /// Creates or replaces a site; `true` when it was new.
    fn put_site(&self, site: Site, now: Millis) -> StoreFuture<'_, bool>;
    /// Saves the draft campaign set of a site (already validated).
    fn put_draft(&self, site: String, doc: String, now: Millis) -> StoreFuture<'_, ()>;
    /// The draft campaign set of a site, if one was saved.
    fn draft(&self, site: String) -> StoreFuture<'_, Option<Draft>>;
    /// Makes `doc` (the site's draft, with its time zones resolved) live under the next
    /// version.
    fn publish(&self, site: String, doc: String, now: Millis) -> StoreFuture<'_, Published>;
    /// The live campaign set of a site, if one was published.
    fn live(&self, site: String) -> StoreFuture<'_, Option<Published>>;
    /// Lifecycle event counts per campaign, arm and name with `from <= ts < to`.
    fn arm_counts(&self, site: String, from: Millis, to: Millis) -> StoreFuture<'_, Vec<ArmCount>>;
    /// Finishes queued writes and stops taking new ones.
    fn close(&self) -> StoreFuture<'_, ()>;
}
