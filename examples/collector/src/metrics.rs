//! Counters and a latency histogram, rendered in the Prometheus text format at `/metrics`.
//!
//! Plain atomics: a metrics crate would add a registry and macros for a dozen numbers.
//! Names follow Prometheus conventions (`_total` for counters, `_seconds` for durations).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Upper bounds of the batch latency buckets, in seconds.
const BOUNDS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// A fixed-bucket histogram of durations.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BOUNDS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        // Buckets are stored non-cumulative and summed when rendered.
        if let Some(i) = BOUNDS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros().min(u128::from(u64::MAX)) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, n) in BOUNDS.iter().zip(&self.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// Everything the collector counts.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Batches answered 200.
    pub batches: Counter,
    /// Events stored for the first time.
    pub ingested: Counter,
    /// Events already stored (same site and id).
    pub duplicates: Counter,
    /// Events refused and kept as bad rows.
    pub rejected: Counter,
    /// Bodies refused as a whole (4xx), each kept as a bad row.
    pub bodies_rejected: Counter,
    /// Requests answered 429.
    pub rate_limited: Counter,
    /// Time from request to answer for `POST /v1/batch`, any outcome.
    pub batch_latency: Histogram,
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2_048);
        let counters: [(&str, &str, &Counter); 6] = [
            ("nudge_batches_total", "Batches accepted (200).", &self.batches),
            ("nudge_events_ingested_total", "Events stored for the first time.", &self.ingested),
            (
                "nudge_events_duplicate_total",
                "Events already stored (same site and event id).",
                &self.duplicates,
            ),
            ("nudge_events_rejected_total", "Events refused and kept in bad_rows.", &self.rejected),
            (
                "nudge_bodies_rejected_total",
                "Batch bodies refused as a whole and kept in bad_rows.",
                &self.bodies_rejected,
            ),
            ("nudge_rate_limited_total", "Requests answered 429.", &self.rate_limited),
        ];
        for (name, help, c) in counters {
            let _ =
                writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", c.get());
        }
        self.batch_latency.render(
            &mut out,
            "nudge_batch_seconds",
            "Time to answer POST /v1/batch.",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.batch_latency.observe(Duration::from_micros(500));
        m.batch_latency.observe(Duration::from_millis(30));
        m.batch_latency.observe(Duration::from_secs(5));
        let text = m.render();
        assert!(text.contains("nudge_batch_seconds_bucket{le=\"0.001\"} 1\n"), "{text}");
        assert!(text.contains("nudge_batch_seconds_bucket{le=\"0.05\"} 2\n"), "{text}");
        assert!(text.contains("nudge_batch_seconds_bucket{le=\"+Inf\"} 3\n"), "{text}");
        assert!(text.contains("nudge_batch_seconds_count 3\n"), "{text}");
    }
}
