//! `nudge-collector`: the command line around [`nudge_collector::app`].
//!
//! Parses flags (each with an environment variable), opens the store (SQLite, or ClickHouse
//! with `--clickhouse`), registers the
//! sites given on the command line, serves until SIGTERM or Ctrl-C, then drains: in-flight
//! requests finish, the writer commits what it was handed, and only then does the process
//! exit. It prints `listening on http://ADDR` on stdout once the socket is bound (tests and
//! scripts read the port from it when started with port 0).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use nudge::engine::Millis;
use nudge_collector::rate::Rate;
use nudge_collector::site::{read_site_arg, read_sites_file};
use nudge_collector::state::{system_clock, Mount, Secret};
use nudge_collector::store::clickhouse::{self, ClickHouseStore};
use nudge_collector::store::sqlite::SqliteStore;
use nudge_collector::store::Store;
use nudge_collector::{app, AppState, Config};

/// Collects nudge events into SQLite or ClickHouse, serves live campaign sets, and offers an
/// admin API for sites, campaigns and reports. See docs/wire.md for the HTTP interface.
#[derive(Debug, Parser)]
#[command(name = "nudge-collector", version, about, long_about = None)]
struct Args {
    /// SQLite database file; created (with its tables) if absent.
    #[arg(long, env = "NUDGE_DB", default_value = "nudge.db")]
    db: PathBuf,

    /// Store in ClickHouse instead of SQLite: its HTTP interface,
    /// http://[USER[:PASSWORD]@]HOST:PORT. Many collectors may share one.
    #[arg(long, env = "NUDGE_CLICKHOUSE", value_name = "URL", hide_env_values = true)]
    clickhouse: Option<String>,

    /// ClickHouse database for the collector's tables; created if absent.
    #[arg(long, env = "NUDGE_CLICKHOUSE_DATABASE", default_value = "nudge")]
    clickhouse_database: String,

    /// Least time between two event inserts into ClickHouse, in ms: batches arriving
    /// meanwhile go into the next insert (ClickHouse prefers few large inserts).
    #[arg(long, env = "NUDGE_CLICKHOUSE_FLUSH_MS", default_value_t = 200)]
    clickhouse_flush_ms: u64,

    /// How long sites and live campaign sets read from the store are reused, in ms: the
    /// most an admin change made through another collector takes to show here.
    #[arg(long, env = "NUDGE_CACHE_MS", default_value_t = 3_000)]
    cache_ms: u64,

    /// Serve a directory as static files: URLPATH=DIR, e.g. /=www or /dist=dist.
    /// Repeatable; API routes come first.
    #[arg(long = "static", value_name = "URLPATH=DIR")]
    statics: Vec<String>,

    /// Address to listen on. Use port 0 for any free port (printed on stdout).
    #[arg(long, env = "NUDGE_LISTEN", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,

    /// Bearer token for /v1/admin/*. Without it the admin API answers 403. Prefer the
    /// environment variable: command lines are visible to other users.
    #[arg(long, env = "NUDGE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,

    /// JSON file of sites to register at start-up:
    /// {"sites": [{"key": "shop", "origins": ["https://shop.example"]}]}.
    #[arg(long, env = "NUDGE_SITES", conflicts_with = "site")]
    sites: Option<PathBuf>,

    /// A site to register at start-up: KEY (any origin) or KEY=ORIGIN[,ORIGIN...]. Repeatable.
    /// Replaces the origins stored for that site (also with --sites).
    #[arg(long, value_name = "KEY[=ORIGINS]")]
    site: Vec<String>,

    /// Largest batch body in bytes; bigger bodies get 413 and a bad row.
    #[arg(long, env = "NUDGE_BODY_LIMIT", default_value_t = 256 * 1024)]
    body_limit: usize,

    /// Requests per second allowed from one client IP (sustained).
    #[arg(long, env = "NUDGE_IP_RATE", default_value_t = 20.0)]
    ip_rate: f64,

    /// Requests one client IP may send at once before the rate applies.
    #[arg(long, env = "NUDGE_IP_BURST", default_value_t = 200.0)]
    ip_burst: f64,

    /// Batches per second allowed for one site (sustained).
    #[arg(long, env = "NUDGE_SITE_RATE", default_value_t = 2_000.0)]
    site_rate: f64,

    /// Batches one site may send at once before the rate applies.
    #[arg(long, env = "NUDGE_SITE_BURST", default_value_t = 10_000.0)]
    site_burst: f64,

    /// Take the client IP from the last X-Forwarded-For entry (only behind your own proxy).
    #[arg(long, env = "NUDGE_BEHIND_PROXY")]
    behind_proxy: bool,

    /// How long to wait for in-flight requests after SIGTERM or Ctrl-C, in seconds.
    #[arg(long, default_value_t = 10)]
    drain_secs: u64,
}

/// mimalloc instead of the system allocator: see the dependency's comment in Cargo.toml.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    let level =
        std::env::var("RUST_LOG").ok().and_then(|l| l.parse().ok()).unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(level).init();
    let args = Args::parse();
    for (name, r) in [
        ("ip", args.ip_rate),
        ("site", args.site_rate),
        ("ip burst", args.ip_burst),
        ("site burst", args.site_burst),
    ] {
        if !(r.is_finite() && r >= 0.0) {
            bail!("the {name} rate must be a number ≥ 0, got {r}");
        }
    }

    let mut seed = Vec::new();
    if let Some(path) = &args.sites {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        seed = read_sites_file(&text)
            .map_err(|i| anyhow::anyhow!(i.joined()))
            .with_context(|| format!("in {}", path.display()))?;
    }
    for arg in &args.site {
        seed.push(read_site_arg(arg).map_err(anyhow::Error::msg).context("in --site")?);
    }

    let mut statics = Vec::new();
    for arg in &args.statics {
        let mount = Mount::parse(arg).map_err(anyhow::Error::msg).context("in --static")?;
        if !mount.dir.is_dir() {
            bail!("--static {arg}: {} is not a directory", mount.dir.display());
        }
        statics.push(mount);
    }

    let (store, where_): (Arc<dyn Store>, String) = match &args.clickhouse {
        Some(url) => {
            let options = clickhouse::Options {
                database: args.clickhouse_database.clone(),
                flush_gap: Duration::from_millis(args.clickhouse_flush_ms),
                ..clickhouse::Options::new(url)
            };
            let store = ClickHouseStore::open(&options).await.context("opening ClickHouse")?;
            (Arc::new(store), format!("clickhouse database {}", options.database))
        }
        None => {
            let store = SqliteStore::open(&args.db)
                .with_context(|| format!("opening {}", args.db.display()))?;
            (Arc::new(store), args.db.display().to_string())
        }
    };
    let clock = system_clock();
    for site in seed {
        store.put_site(site, clock()).await.context("registering sites")?;
    }
    let config = Config {
        admin_token: args.admin_token.filter(|t| !t.is_empty()).map(Secret),
        body_limit: args.body_limit,
        ip_rate: Rate { per_second: args.ip_rate, burst: args.ip_burst },
        site_rate: Rate { per_second: args.site_rate, burst: args.site_burst },
        behind_proxy: args.behind_proxy,
        cache_ttl: Millis(args.cache_ms),
        statics,
        ..Config::default()
    };
    if config.admin_token.is_none() {
        tracing::warn!("no admin token: the admin API is off");
    }
    let state = AppState::new(Arc::clone(&store), config, clock).await.context("loading sites")?;

    let stop_signal = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    tracing::info!(store = %where_, "collector listening on {addr}");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let mut wait_stop = stop_rx;
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        let _ = wait_stop.wait_for(|s| *s).await;
    });
    let mut server = tokio::spawn(async move { server.await });
    tokio::select! {
        () = stop_signal => {}
        // The server only ends by itself on an accept error; report it.
        joined = &mut server => {
            joined.context("server task")?.context("serving")?;
            bail!("the server stopped unexpectedly");
        }
    }
    tracing::info!("shutting down: draining in-flight requests");
    let _ = stop_tx.send(true);
    match tokio::time::timeout(Duration::from_secs(args.drain_secs), &mut server).await {
        Ok(joined) => joined.context("server task")?.context("serving")?,
        Err(_) => {
            tracing::warn!("requests still open after {} s; closing them", args.drain_secs);
            server.abort();
        }
    }
    store.close().await.context("closing the store")?;
    tracing::info!("stopped");
    Ok(())
}

/// Listens for Ctrl-C and SIGTERM from now on; the future resolves on either. The
/// handlers are installed here, before the socket is announced: a SIGTERM that arrives
/// before the first poll must drain, not kill the process.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let streams = {
        use tokio::signal::unix::{signal, SignalKind};
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    };
    async move {
        #[cfg(unix)]
        match streams {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!("cannot listen for SIGTERM or Ctrl-C: {e}");
                std::future::pending::<()>().await;
            }
        }
        #[cfg(not(unix))]
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    }
}
