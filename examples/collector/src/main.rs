//! `nudge-collector`: the command line around [`nudge_collector::app`].
//!
//! Parses flags (each with an environment variable), opens the SQLite store, registers the
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
use nudge_collector::rate::Rate;
use nudge_collector::site::{read_site_arg, read_sites_file};
use nudge_collector::state::{system_clock, Secret};
use nudge_collector::store::sqlite::SqliteStore;
use nudge_collector::store::Store;
use nudge_collector::{app, AppState, Config};

/// Collects nudge events into SQLite, serves live campaign sets, and offers an admin API
/// for sites, campaigns and reports. See docs/wire.md for the HTTP interface.
#[derive(Debug, Parser)]
#[command(name = "nudge-collector", version, about, long_about = None)]
struct Args {
    /// SQLite database file; created (with its tables) if absent.
    #[arg(long, env = "NUDGE_DB", default_value = "nudge.db")]
    db: PathBuf,

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

    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&args.db).with_context(|| format!("opening {}", args.db.display()))?,
    );
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
        ..Config::default()
    };
    if config.admin_token.is_none() {
        tracing::warn!("no admin token: the admin API is off");
    }
    let state = AppState::new(Arc::clone(&store), config, clock).await.context("loading sites")?;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    tracing::info!(db = %args.db.display(), "collector listening on {addr}");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let mut wait_stop = stop_rx;
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        let _ = wait_stop.wait_for(|s| *s).await;
    });
    let mut server = tokio::spawn(async move { server.await });
    tokio::select! {
        () = shutdown_signal() => {}
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

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
