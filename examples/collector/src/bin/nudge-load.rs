//! `nudge-load`: a bounded load generator for the collector's `POST /v1/batch`, used by
//! `cargo xtask bench`.
//!
//! Loopback only (it refuses any other address), bounded in time (`--secs`) and in count
//! (`--max-batches`), and it stops by itself. Two modes:
//! - **closed loop** (`--rate 0`): `--connections` workers each send a batch, wait for the
//!   answer, and send the next, as fast as the collector allows: the sustained ingest rate.
//! - **open loop** (`--rate EVENTS_PER_S`): batches are due at fixed times whatever the
//!   answers do, spread over the workers; latency is measured from when a batch was
//!   *due*, so a stalled collector cannot hide its stall by slowing the sender down
//!   (no coordinated omission).
//!
//! Every event id is unique (`--prefix` plus a counter), so everything sent is stored.
//! Prints one JSON line: batches and events answered 200, errors, the rate achieved, and
//! latency percentiles in ms.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

/// Sends event batches to a collector on this machine, bounded in time and count.
#[derive(Debug, Parser)]
#[command(name = "nudge-load", about, long_about = None)]
struct Args {
    /// The collector, e.g. 127.0.0.1:8787 (loopback only).
    #[arg(long)]
    addr: SocketAddr,
    /// Site key the collector knows (any origin).
    #[arg(long, default_value = "bench")]
    site: String,
    /// Concurrent connections (one worker each).
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Events per batch.
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Offered events per second; 0 sends as fast as answers come back.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 20.0)]
    secs: f64,
    /// Stop after this many batches in all, whatever the time.
    #[arg(long, default_value_t = 2_000_000)]
    max_batches: u64,
    /// Event id prefix (different per run so nothing is a duplicate).
    #[arg(long, default_value = "r")]
    prefix: String,
}

/// One batch body with `n` events numbered from `first`.
fn body(site: &str, prefix: &str, first: u64, n: usize, now: u64) -> String {
    let mut s = String::with_capacity(80 + n * 330);
    let _ = write!(s, r#"{{"site":"{site}","sent_at":{now},"events":["#);
    for i in 0..n as u64 {
        let k = first + i;
        if i > 0 {
            s.push(',');
        }
        let visitor = k % 5_000;
        // Mostly shop browsing, some campaign lifecycle events (they feed reports).
        match k % 10 {
            0 => {
                let _ = write!(
                    s,
                    r#"{{"id":"{prefix}{k}","name":"Campaign Shown","ts":{now},"anon_id":"v{visitor}","session":1,"props":{{"campaign_id":"spring","variant":"a"}}}}"#
                );
            }
            _ => {
                let _ = write!(
                    s,
                    r#"{{"id":"{prefix}{k}","name":"Product Viewed","ts":{now},"anon_id":"v{visitor}","session":2,"props":{{"product_id":"p{}","price":29.9,"currency":"KRW"}},"page":{{"url":"https://shop.example/p/{}?utm_source=news","title":"Product","device":"mobile","language":"ko"}}}}"#,
                    k % 300,
                    k % 300
                );
            }
        }
    }
    s.push_str("]}");
    s
}

struct Shared {
    args: Args,
    start: Instant,
    /// Batches handed out so far (each worker takes the next number).
    next: AtomicU64,
    stop: AtomicBool,
    ok_batches: AtomicU64,
    errors: AtomicU64,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

async fn worker(shared: Arc<Shared>, id: usize) -> Result<Vec<f64>> {
    let a = &shared.args;
    let stream = tokio::net::TcpStream::connect(a.addr).await.context("connecting")?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let deadline = shared.start + Duration::from_secs_f64(a.secs);
    let mut latencies = Vec::new();
    let mut own = 0u64;
    loop {
        let n = shared.next.fetch_add(1, Ordering::Relaxed);
        if n >= a.max_batches || shared.stop.load(Ordering::Relaxed) {
            break;
        }
        // Open loop: batch number n is due at n / batches-per-second, on worker n % c.
        let due = if a.rate > 0.0 {
            let per_s = a.rate / a.batch as f64;
            let own_n = own * a.connections as u64 + id as u64;
            own += 1;
            let at = shared.start + Duration::from_secs_f64(own_n as f64 / per_s);
            if at >= deadline {
                break;
            }
            tokio::time::sleep_until(at.into()).await;
            at
        } else {
            if Instant::now() >= deadline {
                break;
            }
            Instant::now()
        };
        let text = body(&a.site, &a.prefix, n * a.batch as u64, a.batch, now_ms());
        let req = Request::post("/v1/batch")
            .header("host", a.addr.to_string())
            .header("content-type", "text/plain;charset=UTF-8")
            .body(Full::new(Bytes::from(text)))?;
        sender.ready().await?;
        let resp = sender.send_request(req).await?;
        let status = resp.status();
        let _ = resp.into_body().collect().await?;
        latencies.push(due.elapsed().as_secs_f64() * 1e3);
        if status.is_success() {
            shared.ok_batches.fetch_add(1, Ordering::Relaxed);
        } else {
            shared.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(latencies)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// mimalloc instead of the system allocator: see the dependency's comment in Cargo.toml.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !args.addr.ip().is_loopback() {
        bail!("nudge-load only sends to this machine (loopback), not {}", args.addr);
    }
    if args.connections == 0 || args.batch == 0 || !(args.secs > 0.0 && args.secs <= 600.0) {
        bail!("need connections ≥ 1, batch ≥ 1 and 0 < secs ≤ 600");
    }
    let (connections, batch) = (args.connections, args.batch);
    let shared = Arc::new(Shared {
        args,
        start: Instant::now(),
        next: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        ok_batches: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });
    let workers: Vec<_> =
        (0..connections).map(|i| tokio::spawn(worker(Arc::clone(&shared), i))).collect();
    let mut latencies = Vec::new();
    for w in workers {
        match w.await? {
            Ok(l) => latencies.extend(l),
            Err(e) => {
                shared.stop.store(true, Ordering::Relaxed);
                eprintln!("nudge-load: a worker failed: {e:#}");
                shared.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let elapsed = shared.start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let ok = shared.ok_batches.load(Ordering::Relaxed);
    let events = ok * batch as u64;
    println!(
        "{{\"batches\":{ok},\"events\":{events},\"errors\":{},\"secs\":{elapsed:.3},\"events_per_s\":{:.0},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2}}}",
        shared.errors.load(Ordering::Relaxed),
        events as f64 / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0.0),
    );
    Ok(())
}
