//! Rate limits: in-process token buckets per client IP and per site.
//!
//! Each key gets a bucket of `burst` tokens refilled at `per_second`; a request takes one.
//! An empty bucket answers 429 with `Retry-After` (whole seconds until a token is back),
//! which the SDK's outbox honours. The limits are per collector process: behind a load
//! balancer each instance counts on its own, which is the usual trade for staying stateless.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::AppError;
use crate::state::AppState;

/// A rate: `per_second` sustained, up to `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Tokens added per second.
    pub per_second: f64,
    /// Bucket size.
    pub burst: f64,
}

/// Buckets kept before idle ones (full again) are swept out.
const SWEEP_AT: usize = 10_000;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by key.
#[derive(Debug)]
pub struct Limiter<K> {
    rate: Rate,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// A limiter where every key gets `rate`.
    pub fn new(rate: Rate) -> Limiter<K> {
        Limiter { rate, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes a token for `key` at `now`, or says how long until one is available.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use nudge_collector::rate::{Limiter, Rate};
    /// let l = Limiter::new(Rate { per_second: 0.5, burst: 1.0 });
    /// let t = Instant::now();
    /// assert!(l.take(&"ip", t).is_ok());
    /// assert_eq!(l.take(&"ip", t), Err(Duration::from_secs(2)));
    /// assert!(l.take(&"ip", t + Duration::from_secs(2)).is_ok());
    /// ```
    pub fn take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let Rate { per_second, burst } = self.rate;
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= SWEEP_AT && !buckets.contains_key(key) {
            // A bucket that has refilled is the same as no bucket: forget it.
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_second < burst
            });
        }
        let b = buckets.entry(key.clone()).or_insert(Bucket { tokens: burst, at: now });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_second).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else if per_second <= 0.0 {
            Err(Duration::from_secs(3_600))
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / per_second))
        }
    }
}

/// Whole seconds for `Retry-After`: rounded up, at least one.
pub fn retry_after(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// The client's address: the connection's peer, or with `behind_proxy` the last entry of
/// `X-Forwarded-For` (the one our own proxy added; earlier entries are the client's word).
pub fn client_ip(headers: &HeaderMap, peer: Option<SocketAddr>, behind_proxy: bool) -> IpAddr {
    let forwarded = behind_proxy
        .then(|| {
            headers.get("x-forwarded-for")?.to_str().ok()?.rsplit(',').next()?.trim().parse().ok()
        })
        .flatten();
    forwarded.or(peer.map(|p| p.ip())).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Middleware: one token from the caller's IP bucket per request, else 429.
pub async fn limit_ip(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let ip = client_ip(req.headers(), peer, state.config().behind_proxy);
    if let Err(wait) = state.ip_limiter().take(&ip, Instant::now()) {
        state.metrics().rate_limited.inc();
        return Err(AppError::RateLimited(retry_after(wait)));
    }
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_and_sweep() {
        let l = Limiter::new(Rate { per_second: 10.0, burst: 2.0 });
        let t = Instant::now();
        assert!(l.take(&1u32, t).is_ok() && l.take(&1, t).is_ok());
        assert_eq!(l.take(&1, t).map_err(retry_after), Err(1));
        assert!(l.take(&1, t + Duration::from_millis(100)).is_ok());
        for k in 0..SWEEP_AT as u32 + 5 {
            let _ = l.take(&k, t);
        }
        let later = t + Duration::from_secs(10);
        let _ = l.take(&u32::MAX, later);
        assert!(l.buckets.lock().unwrap().len() < 10, "idle buckets are swept");
    }

    #[test]
    fn forwarded_for_only_behind_a_proxy() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.2.3.4, 10.0.0.9".parse().unwrap());
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(client_ip(&h, Some(peer), false), peer.ip());
        assert_eq!(client_ip(&h, Some(peer), true), "10.0.0.9".parse::<IpAddr>().unwrap());
    }
}
