//! Native engine benchmark: median time of one `decide` against 50 active campaigns, load
//! time of the set, and the persisted profile size after 10,000 events. Prints one JSON
//! object; `cargo xtask bench` merges it into `target/bench/engine.json`.

#[path = "fixture.rs"]
mod fixture;

use std::hint::black_box;
use std::time::Instant;

use nudge::engine::campaign::load;
use nudge::engine::decide::{decide, State};

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    // Fewer rounds under an instruction counter (valgrind), where time is not measured.
    let rounds_n =
        std::env::var("NUDGE_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(15);
    let doc = fixture::campaigns(50);
    let set = load(&doc).set;
    assert_eq!(set.campaigns.len(), 50, "the fixture must load cleanly");

    let rounds: Vec<f64> = (0..rounds_n)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..20 {
                black_box(load(black_box(&doc)));
            }
            t.elapsed().as_secs_f64() * 1e6 / 20.0
        })
        .collect();
    let load_us = median(rounds);
    let rounds: Vec<f64> = (0..rounds_n)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..20 {
                black_box(nudge::engine::json::parse(black_box(&doc)).ok());
            }
            t.elapsed().as_secs_f64() * 1e6 / 20.0
        })
        .collect();
    let parse_us = median(rounds);

    let mut state = State::new("bench-visitor");
    let events: Vec<_> = (0..2_000).map(fixture::event).collect();
    for e in &events {
        decide(&mut state, &set, e, e.ts, false);
    }
    let rounds: Vec<f64> = (0..rounds_n)
        .map(|r| {
            let mut s = state.clone();
            let shifted: Vec<_> = events
                .iter()
                .map(|e| {
                    let mut e = e.clone();
                    e.ts = nudge::engine::Millis(e.ts.0 + (r as u64 + 1) * 86_400_000);
                    e
                })
                .collect();
            let t = Instant::now();
            for e in &shifted {
                black_box(decide(&mut s, &set, e, e.ts, false));
            }
            t.elapsed().as_secs_f64() * 1e9 / events.len() as f64
        })
        .collect();
    let decide_ns = median(rounds);

    let mut state = State::new("bench-visitor");
    for i in 0..10_000 {
        let e = fixture::event(i);
        decide(&mut state, &set, &e, e.ts, false);
    }
    println!(
        "{{\"decide_50_native_ns\":{:.0},\"load_50_native_us\":{:.1},\"parse_50_native_us\":{:.1},\"profile_bytes_10k_events\":{},\"state_bytes_10k_events\":{}}}",
        decide_ns,
        load_us,
        parse_us,
        state.profile.to_json().len(),
        state.to_json().len()
    );
}
