//! `AppState`: what every handler shares (store, cached sites and live sets, limiters,
//! metrics, clock, config).
//!
//! Cheap to clone (one `Arc`). The clock is injected so tests can fix "now" when they check
//! clock-skew correction and cache expiry; production uses the system clock. Nothing here
//! is the truth about sites or campaigns: both are read-through caches of the store, so
//! any number of collectors can share one store.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use nudge::engine::Millis;

use crate::campaigns::LiveCache;
use crate::metrics::Metrics;
use crate::rate::{Limiter, Rate};
use crate::site::{Registry, Sites};
use crate::store::{Store, StoreError};

/// Where "now" comes from.
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

/// The system clock as [`Millis`] since the Unix epoch.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        Millis(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64))
    })
}

/// A secret that never prints (the admin token).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Settings that do not change while running.
#[derive(Clone, Debug)]
pub struct Config {
    /// Bearer token for `/v1/admin/*`; `None` turns the admin API off.
    pub admin_token: Option<Secret>,
    /// Largest `POST /v1/batch` body, bytes.
    pub body_limit: usize,
    /// Largest admin request body, bytes (campaign sets are bigger than batches).
    pub admin_body_limit: usize,
    /// Per client IP, all public and admin routes.
    pub ip_rate: Rate,
    /// Per site, batches.
    pub site_rate: Rate,
    /// Trust the last `X-Forwarded-For` hop as the client address.
    pub behind_proxy: bool,
    /// How long sites and live campaign sets read from the store are reused before
    /// reading them again: the most an admin change through another collector takes to
    /// reach this one.
    pub cache_ttl: Millis,
    /// Directories served as static files under URL paths (`--static /=www`), after the
    /// API routes.
    pub statics: Vec<Mount>,
}

/// A directory served under a URL path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// URL path prefix, starting with `/` (`/` for the site root).
    pub url: String,
    /// The directory.
    pub dir: PathBuf,
}

impl Mount {
    /// Reads `URLPATH=DIR` (or just `DIR`, served at `/`).
    ///
    /// ```
    /// let m = nudge_collector::state::Mount::parse("/examples=examples").unwrap();
    /// assert_eq!((m.url.as_str(), m.dir.to_str()), ("/examples", Some("examples")));
    /// assert!(nudge_collector::state::Mount::parse("examples=examples").is_err());
    /// ```
    pub fn parse(arg: &str) -> Result<Mount, String> {
        let (url, dir) = arg.split_once('=').unwrap_or(("/", arg));
        let url = if url.len() > 1 { url.trim_end_matches('/') } else { url };
        if !url.starts_with('/') || dir.is_empty() {
            return Err(format!(
                "{arg:?}: expected URLPATH=DIR with URLPATH starting with /, like /=www"
            ));
        }
        if url.starts_with("/v1") || url == "/healthz" || url == "/metrics" {
            return Err(format!("{arg:?}: {url} is an API path"));
        }
        Ok(Mount { url: url.to_string(), dir: PathBuf::from(dir) })
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            admin_token: None,
            body_limit: 256 * 1024,
            admin_body_limit: 1024 * 1024,
            // A shop's visitors behind one NAT share an address, so the per-IP limit is
            // generous; it is there to stop one machine flooding, not one shopper.
            ip_rate: Rate { per_second: 20.0, burst: 200.0 },
            site_rate: Rate { per_second: 2_000.0, burst: 10_000.0 },
            behind_proxy: false,
            cache_ttl: Millis(3_000),
            statics: Vec::new(),
        }
    }
}

struct Inner {
    store: Arc<dyn Store>,
    sites: Registry,
    live: LiveCache,
    ip_limiter: Limiter<IpAddr>,
    site_limiter: Limiter<String>,
    metrics: Metrics,
    clock: Clock,
    config: Config,
}

/// Shared state of the collector.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Loads the sites from `store` and builds the state.
    pub async fn new(
        store: Arc<dyn Store>,
        config: Config,
        clock: Clock,
    ) -> Result<AppState, StoreError> {
        let sites = Registry::new(store.sites().await?, clock(), config.cache_ttl);
        Ok(AppState(Arc::new(Inner {
            live: LiveCache::new(config.cache_ttl),
            ip_limiter: Limiter::new(config.ip_rate),
            site_limiter: Limiter::new(config.site_rate),
            store,
            sites,
            metrics: Metrics::default(),
            clock,
            config,
        })))
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        &*self.0.store
    }

    /// The sites, as of at most the cache time ago.
    pub async fn sites(&self) -> Arc<Sites> {
        self.0.sites.snapshot(&*self.0.store, self.now()).await
    }

    /// The site registry (to write a change through).
    pub fn registry(&self) -> &Registry {
        &self.0.sites
    }

    /// The cache of live campaign sets.
    pub fn live(&self) -> &LiveCache {
        &self.0.live
    }

    /// Per-IP buckets.
    pub fn ip_limiter(&self) -> &Limiter<IpAddr> {
        &self.0.ip_limiter
    }

    /// Per-site buckets.
    pub fn site_limiter(&self) -> &Limiter<String> {
        &self.0.site_limiter
    }

    /// Counters.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Now, on the server's clock.
    pub fn now(&self) -> Millis {
        (self.0.clock)()
    }

    /// Settings.
    pub fn config(&self) -> &Config {
        &self.0.config
    }
}
