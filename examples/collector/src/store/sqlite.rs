//! The SQLite backend: one file, WAL, a single writer thread that commits in groups.
//!
//! SQLite allows one writer at a time, so every write is a job sent through a bounded
//! channel to one thread that owns the write connection. The thread takes every job that is
//! already waiting, runs each inside its own savepoint, commits them all in one transaction
//! (one fsync for many batches) and only then answers each job. A batch acknowledged with a
//! 200 is therefore on disk: `kill -9` right after the answer loses nothing. Reads go to a
//! small pool of read-only connections on the blocking thread pool; WAL lets them run
//! while the writer commits.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use nudge::engine::event::names;
use nudge::engine::Millis;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

use super::{
    etag, ArmCount, BadRow, Draft, Published, Row, Site, Store, StoreError, StoreFuture, Stored,
};

/// Most jobs committed in one transaction; bounds the latency one commit adds.
const GROUP: usize = 256;
/// Jobs waiting for the writer before senders wait too (back-pressure on ingest).
const QUEUE: usize = 1_024;
/// Idle read connections kept open.
const READERS: usize = 4;

/// The schema, applied once per `user_version` step.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    site        TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    ts          INTEGER NOT NULL,
    client_ts   INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    anon_id     TEXT    NOT NULL,
    session     INTEGER,
    campaign_id TEXT,
    variant     TEXT,
    props       TEXT    NOT NULL,
    page        TEXT,
    UNIQUE (site, event_id)
);
CREATE INDEX events_site_ts ON events (site, ts);
CREATE INDEX events_campaign ON events (site, campaign_id, ts) WHERE campaign_id IS NOT NULL;
CREATE TABLE bad_rows (
    id          INTEGER PRIMARY KEY,
    site        TEXT,
    received_at INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    raw         TEXT    NOT NULL,
    raw_bytes   INTEGER NOT NULL
);
CREATE TABLE sites (
    key        TEXT PRIMARY KEY,
    origins    TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE campaign_sets (
    site          TEXT PRIMARY KEY REFERENCES sites (key),
    draft         TEXT,
    draft_at      INTEGER,
    live          TEXT,
    live_version  INTEGER NOT NULL DEFAULT 0,
    live_etag     TEXT,
    published_at  INTEGER
);
"#];

/// A job for the writer: runs against the write connection inside the open transaction and
/// returns what to do once the transaction's fate (commit or not) is known.
type Job = Box<dyn FnOnce(&Connection) -> Finish + Send>;
type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// The SQLite [`Store`].
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data behind, still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SqliteStore {
    /// Opens (creating if absent) the database file, migrates it and starts the writer.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        // FULL: a commit is fsynced before the writer answers, so an acknowledged batch
        // survives power loss too; group commit keeps the fsync count low.
        // The writer keeps 64 MiB of pages (SQLite's default is 2 MiB): inserts into the
        // `(site, event_id)` index land all over it, and a miss costs a read per event.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;
             PRAGMA cache_size = -65536;
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(backend)?;
        migrate(&conn).map_err(backend)?;
        let (tx, rx) = mpsc::channel::<Job>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_loop(&conn, rx))
            .map_err(|e| StoreError::Backend(format!("could not start the writer thread: {e}")))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Runs `f` on the writer thread inside a savepoint; resolves after the group commits.
    fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let tx = lock(&self.writer).clone();
        Box::pin(async move {
            let tx = tx.ok_or(StoreError::Closed)?;
            let (done, wait) = oneshot::channel();
            let job: Job = Box::new(move |conn: &Connection| {
                let result = in_savepoint(conn, f);
                Box::new(move |commit: Result<(), StoreError>| {
                    // The waiter may have gone (client hung up); the data is stored anyway.
                    let _ = done.send(commit.and(result));
                })
            });
            tx.send(job).await.map_err(|_| StoreError::Closed)?;
            // Only queued jobs may keep the writer alive once the store is closing.
            drop(tx);
            wait.await.map_err(|_| StoreError::Backend("the writer dropped the job".into()))?
        })
    }

    /// Runs `f` on a pooled read-only connection on the blocking thread pool.
    fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let (pool, path) = (Arc::clone(&self.readers), self.path.clone());
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conn = match lock(&pool).pop() {
                    Some(c) => c,
                    None => open_reader(&path).map_err(backend)?,
                };
                let out = f(&conn).map_err(backend);
                let mut idle = lock(&pool);
                if idle.len() < READERS {
                    idle.push(conn);
                }
                out
            })
            .await
            .map_err(|e| StoreError::Backend(format!("read task failed: {e}")))?
        })
    }
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        conn.execute_batch(&format!("BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;", i + 1))?;
    }
    Ok(())
}

fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> Result<T, StoreError> {
    // Prepared once per connection: two statements per batch add up at a thousand batches
    // a second.
    let run = |sql: &str| conn.prepare_cached(sql).and_then(|mut st| st.execute([])).map(|_| ());
    run("SAVEPOINT job").map_err(backend)?;
    match f(conn) {
        Ok(v) => {
            run("RELEASE job").map_err(backend)?;
            Ok(v)
        }
        Err(e) => {
            // Undo this job only; the other jobs of the group still commit.
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            Err(backend(e))
        }
    }
}

fn write_loop(conn: &Connection, mut rx: mpsc::Receiver<Job>) {
    // `blocking_recv` returns `None` only once every sender is gone *and* the queue is
    // empty, so closing drains what was already accepted.
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Dropping the jobs unrun drops their answer channels: each caller gets an
            // error, and nothing was written outside a transaction.
            tracing::error!("could not begin a transaction for {} jobs: {e}", jobs.len());
            continue;
        }
        let finishes: Vec<Finish> = jobs.into_iter().map(|job| job(conn)).collect();
        let commit = conn.execute_batch("COMMIT").map_err(backend);
        if let Err(e) = &commit {
            tracing::error!("commit of {} jobs failed: {e}", finishes.len());
            let _ = conn.execute_batch("ROLLBACK");
        }
        for finish in finishes {
            finish(commit.clone());
        }
    }
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
}

fn insert_rows(conn: &Connection, rows: &[Row], bad: &[BadRow]) -> rusqlite::Result<Stored> {
    let mut stored = Stored::default();
    let mut ins = conn.prepare_cached(
        "INSERT OR IGNORE INTO events (site, event_id, name, ts, client_ts, received_at, anon_id,
             session, campaign_id, variant, props, page)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for r in rows {
        let n = ins.execute(params![
            r.site,
            r.event_id,
            r.name,
            r.ts.0 as i64,
            r.client_ts.0 as i64,
            r.received_at.0 as i64,
            r.anon_id,
            r.session,
            r.campaign_id,
            r.variant,
            r.props,
            r.page,
        ])?;
        if n == 0 {
            stored.duplicates += 1;
        } else {
            stored.accepted += 1;
        }
    }
    let mut keep = conn.prepare_cached(
        "INSERT INTO bad_rows (site, received_at, reason, raw, raw_bytes) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for b in bad {
        keep.execute(params![b.site, b.received_at.0 as i64, b.reason, b.raw, b.raw_bytes as i64])?;
    }
    Ok(stored)
}

fn published(version: i64, doc: String, at: i64) -> Published {
    Published {
        version: version as u64,
        etag: etag(version as u64, &doc),
        doc,
        at: Millis(at as u64),
    }
}

impl Store for SqliteStore {
    fn ingest(&self, rows: Vec<Row>, bad: Vec<BadRow>) -> StoreFuture<'_, Stored> {
        self.write(move |conn| insert_rows(conn, &rows, &bad))
    }

    fn bad_rows(&self, limit: usize) -> StoreFuture<'_, Vec<BadRow>> {
        self.read(move |conn| {
            let mut q = conn.prepare(
                "SELECT site, received_at, reason, raw, raw_bytes FROM bad_rows ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = q.query_map([limit as i64], |r| {
                Ok(BadRow {
                    site: r.get(0)?,
                    received_at: Millis(r.get::<_, i64>(1)? as u64),
                    reason: r.get(2)?,
                    raw: r.get(3)?,
                    raw_bytes: r.get::<_, i64>(4)? as usize,
                })
            })?;
            rows.collect()
        })
    }

    fn sites(&self) -> StoreFuture<'_, Vec<Site>> {
        self.read(|conn| {
            let mut q = conn.prepare("SELECT key, origins FROM sites ORDER BY key")?;
            let rows = q.query_map([], |r| {
                let origins: String = r.get(1)?;
                Ok(Site {
                    key: r.get(0)?,
                    origins: origins.split_whitespace().map(str::to_string).collect(),
                })
            })?;
            rows.collect()
        })
    }

    fn put_site(&self, site: Site, now: Millis) -> StoreFuture<'_, bool> {
        self.write(move |conn| {
            let existed: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM sites WHERE key = ?1)",
                [&site.key],
                |r| r.get(0),
            )?;
            // Origins never contain whitespace (they are validated), so a space joins them.
            conn.execute(
                "INSERT INTO sites (key, origins, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET origins = excluded.origins, updated_at = excluded.updated_at",
                params![site.key, site.origins.join(" "), now.0 as i64],
            )?;
            Ok(!existed)
        })
    }

    fn put_draft(&self, site: String, doc: String, now: Millis) -> StoreFuture<'_, ()> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO campaign_sets (site, draft, draft_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (site) DO UPDATE SET draft = excluded.draft, draft_at = excluded.draft_at",
                params![site, doc, now.0 as i64],
            )?;
            Ok(())
        })
    }

    fn draft(&self, site: String) -> StoreFuture<'_, Option<Draft>> {
        self.read(move |conn| {
            conn.query_row(
                "SELECT draft, draft_at FROM campaign_sets WHERE site = ?1 AND draft IS NOT NULL",
                [site],
                |r| Ok(Draft { doc: r.get(0)?, at: Millis(r.get::<_, i64>(1)? as u64) }),
            )
            .optional()
        })
    }

    fn publish(&self, site: String, doc: String, now: Millis) -> StoreFuture<'_, Published> {
        self.write(move |conn| {
            let version: i64 = conn
                .query_row("SELECT live_version FROM campaign_sets WHERE site = ?1", [&site], |r| {
                    r.get(0)
                })
                .optional()?
                .unwrap_or(0);
            let p = published(version + 1, doc, now.0 as i64);
            conn.execute(
                "INSERT INTO campaign_sets (site, live, live_version, live_etag, published_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (site) DO UPDATE SET live = excluded.live,
                     live_version = excluded.live_version, live_etag = excluded.live_etag,
                     published_at = excluded.published_at",
                params![site, p.doc, p.version as i64, p.etag, now.0 as i64],
            )?;
            Ok(p)
        })
    }

    fn live(&self, site: String) -> StoreFuture<'_, Option<Published>> {
        self.read(move |conn| {
            conn.query_row(
                "SELECT live_version, live, published_at FROM campaign_sets
                 WHERE site = ?1 AND live IS NOT NULL",
                [site],
                |r| Ok(published(r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
        })
    }

    fn arm_counts(&self, site: String, from: Millis, to: Millis) -> StoreFuture<'_, Vec<ArmCount>> {
        self.read(move |conn| {
            let mut q = conn.prepare(
                "SELECT campaign_id, variant, name, COUNT(*), COUNT(DISTINCT anon_id) FROM events
                 WHERE site = ?1 AND campaign_id IS NOT NULL AND ts >= ?2 AND ts < ?3
                   AND name IN (?4, ?5, ?6, ?7, ?8)
                 GROUP BY campaign_id, variant, name
                 ORDER BY campaign_id, variant, name",
            )?;
            let rows = q.query_map(
                params![
                    site,
                    from.0.min(i64::MAX as u64) as i64,
                    to.0.min(i64::MAX as u64) as i64,
                    names::CAMPAIGN_SHOWN,
                    names::CAMPAIGN_HELD_OUT,
                    names::CAMPAIGN_CLICKED,
                    names::CAMPAIGN_DISMISSED,
                    names::CAMPAIGN_CONVERTED,
                ],
                |r| {
                    Ok(ArmCount {
                        campaign_id: r.get(0)?,
                        variant: r.get(1)?,
                        name: r.get(2)?,
                        events: r.get::<_, i64>(3)? as u64,
                        visitors: r.get::<_, i64>(4)? as u64,
                    })
                },
            )?;
            rows.collect()
        })
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        // Dropping our sender lets the writer drain what is queued and exit; handlers that
        // still hold a clone are finishing their own last write.
        lock(&self.writer).take();
        let thread = lock(&self.thread).take();
        Box::pin(async move {
            if let Some(t) = thread {
                tokio::task::spawn_blocking(move || t.join())
                    .await
                    .map_err(|e| StoreError::Backend(format!("join failed: {e}")))?
                    .map_err(|_| StoreError::Backend("the writer thread panicked".into()))?;
            }
            Ok(())
        })
    }
}
