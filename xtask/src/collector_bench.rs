//! The collector benchmark of `cargo xtask bench`: ingest throughput and batch latency of
//! the `server`-profile collector on a fresh SQLite file, written to
//! `target/bench/collector.json`.
//!
//! The load comes from `nudge-load` (built from `examples/collector`, tokio + hyper): it
//! only talks to 127.0.0.1, is bounded in time and count, and stops by itself. Two runs
//! after a short warm-up: a closed loop with several connections for
//! [`SUSTAIN_SECS`] (sustained events/s), then an open loop offering 5,000 events/s
//! (p99 of a batch's answer time, measured from when the batch was due). Batches hold 50
//! events. The load generator and the collector share this machine's cores, so the
//! figures are what one machine does with both on it; the JSON says how many cores.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::{cargo, root, run};

/// Seconds of full load for `ingest_events_per_s`.
const SUSTAIN_SECS: u32 = 20;
/// Seconds at the offered rate for `p99_batch_ms_at_5k`.
const LATENCY_SECS: u32 = 15;
/// Events per batch, as a busy page's outbox sends them.
const BATCH: u32 = 50;
/// Workers (connections) of the closed-loop run. A collector serves many browsers at once;
/// with few closed-loop connections the figure would measure one fsync's latency (each
/// worker waits for its group's commit) rather than what the collector can ingest.
const CONNECTIONS: u32 = 32;
/// `(key, target, higher is better)`.
const TARGETS: &[(&str, f64, bool)] =
    &[("ingest_events_per_s", 50_000.0, true), ("p99_batch_ms_at_5k", 50.0, false)];

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// The collector, killed if still running when dropped.
struct Collector {
    child: Child,
    addr: String,
}

impl Collector {
    fn start(bin: &Path, db: &Path) -> Result<Collector> {
        let mut child = Command::new(bin)
            .arg("--db")
            .arg(db)
            .args(["--listen", "127.0.0.1:0", "--site", "bench"])
            // The benchmark is the only client: rate limits would measure themselves.
            .args(["--ip-rate", "1e9", "--ip-burst", "1e9", "--site-rate", "1e9"])
            .args(["--site-burst", "1e9"])
            .env("RUST_LOG", "warn")
            .env_remove("NUDGE_ADMIN_TOKEN")
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut line = String::new();
        let stdout = child.stdout.take().context("collector stdout")?;
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .with_context(|| format!("unexpected first line {line:?}"))?
            .to_string();
        Ok(Collector { child, addr })
    }

    fn get(&self, path: &str) -> Result<String> {
        let mut s = TcpStream::connect(&self.addr)?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr)?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
    }

    /// SIGTERM, then wait: the collector drains and checkpoints.
    fn stop(mut self) -> Result<()> {
        run(Command::new("kill").args(["-TERM", &self.child.id().to_string()]))?;
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the collector exited with {status}");
        }
        Ok(())
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `nudge-load` and returns its JSON line without braces.
fn load(bin: &Path, addr: &str, extra: &[String]) -> Result<String> {
    let mut cmd = Command::new(bin);
    cmd.args(["--addr", addr, "--site", "bench", "--batch", &BATCH.to_string()]).args(extra);
    eprintln!("$ {cmd:?}");
    let out = cmd.output().context("running nudge-load")?;
    if !out.status.success() {
        bail!("nudge-load failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line =
        text.lines().rev().find(|l| l.starts_with('{')).context("no JSON from nudge-load")?;
    eprintln!("  {line}");
    Ok(line.trim().trim_start_matches('{').trim_end_matches('}').to_string())
}

fn figure(fields: &str, key: &str) -> Result<f64> {
    let at = fields.find(&format!("\"{key}\":")).with_context(|| format!("no {key}"))?;
    let rest = &fields[at + key.len() + 3..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().with_context(|| format!("{key} is not a number"))
}

/// A Prometheus counter's value from `/metrics`.
fn counter(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Builds the collector and `nudge-load` with `--profile server`.
pub(crate) fn build() -> Result<PathBuf> {
    run(&mut cargo(&["build", "-p", "nudge-collector", "--profile", "server", "--bins"]))?;
    Ok(target_dir().join("server"))
}

pub(crate) fn bench() -> Result<()> {
    let bins = build()?;
    let (collector_bin, load_bin) = (bins.join("nudge-collector"), bins.join("nudge-load"));
    let dir = root().join("target/bench/collector-run");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("bench.db");
    let collector = Collector::start(&collector_bin, &db)?;
    let addr = collector.addr.clone();
    let s = |v: u32| v.to_string();

    // Warm-up: page cache, connection set-up, SQLite's first pages.
    load(&load_bin, &addr, &["--secs".into(), "3".into(), "--prefix".into(), "w".into()])?;
    let before = counter(&collector.get("/metrics")?, "nudge_events_ingested_total").unwrap_or(0.0);
    let sustained = load(
        &load_bin,
        &addr,
        &[
            "--connections".into(),
            s(CONNECTIONS),
            "--secs".into(),
            s(SUSTAIN_SECS),
            "--prefix".into(),
            "s".into(),
        ],
    )?;
    let metrics = collector.get("/metrics")?;
    let stored = counter(&metrics, "nudge_events_ingested_total").unwrap_or(0.0) - before;
    let at_5k = load(
        &load_bin,
        &addr,
        &[
            "--rate".into(),
            "5000".into(),
            "--connections".into(),
            "16".into(),
            "--secs".into(),
            s(LATENCY_SECS),
            "--prefix".into(),
            "l".into(),
        ],
    )?;
    collector.stop()?;

    let per_s = figure(&sustained, "events_per_s")?;
    let sent = figure(&sustained, "events")?;
    if stored < sent {
        bail!("the collector stored {stored} events of the {sent} answered 200");
    }
    let p99 = figure(&at_5k, "p99_ms")?;
    let offered = figure(&at_5k, "events_per_s")?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut all_met = true;
    let mut report = String::from("collector benchmark (SQLite, server profile)\n");
    for (key, target, higher) in TARGETS {
        let value = if *key == "ingest_events_per_s" { per_s } else { p99 };
        let met = if *higher { value >= *target } else { value <= *target };
        all_met &= met;
        let cmp = if *higher { "≥" } else { "≤" };
        report.push_str(&format!(
            "  {key:<24} {value:>10.1}   target {cmp} {target:<8} {}\n",
            if met { "met" } else { "MISSED" }
        ));
    }
    let json = format!(
        "{{\"ingest_events_per_s\":{per_s:.0},\"p99_batch_ms_at_5k\":{p99:.2},\
         \"events_per_s_at_5k\":{offered:.0},\"batch_events\":{BATCH},\
         \"connections\":{CONNECTIONS},\"sustain_secs\":{SUSTAIN_SECS},\
         \"latency_secs\":{LATENCY_SECS},\"cores_shared_with_load\":{cores},\
         \"stored_events_sustained\":{stored:.0},\"targets_met\":{all_met},\
         \"sustained\":{{{sustained}}},\"at_5k\":{{{at_5k}}}}}\n"
    );
    let path = root().join("target/bench/collector.json");
    std::fs::write(&path, json)?;
    print!("{report}");
    println!("wrote {}", path.display());
    Ok(())
}
