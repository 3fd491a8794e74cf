//! Native engine benchmark: median time of one `decide` against 50 active campaigns, load
//! time of the set, and the persisted profile size after 10,000 events. Prints one JSON
//! object; `cargo xtask bench` merges it into `target/bench/engine.json`.
//!
//! Figures are medians over rounds, in thread CPU time (the machine is shared and has two
//! cores, so wall time also measures the scheduler); the wall-clock medians are reported
//! beside them with a `_wall` suffix.

#[path = "fixture.rs"]
mod fixture;

use std::hint::black_box;
use std::time::Instant;

use cpu_time::ThreadTime;
use nudge::engine::campaign::load;
use nudge::engine::decide::{decide, State};
use nudge::engine::event::Event;
use nudge::engine::Millis;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Runs `prepare` (untimed) then `work` (timed) for each round; returns the medians of CPU
/// and wall seconds per unit of work, where `work` returns how many units it did.
fn measure<T>(
    rounds: usize,
    mut prepare: impl FnMut(usize) -> T,
    mut work: impl FnMut(T) -> usize,
) -> (f64, f64) {
    let (mut cpu, mut wall) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        let input = prepare(r);
        let (c, w) = (ThreadTime::now(), Instant::now());
        let n = work(input) as f64;
        cpu.push(c.elapsed().as_secs_f64() / n);
        wall.push(w.elapsed().as_secs_f64() / n);
    }
    (median(cpu), median(wall))
}

fn main() {
    // Fewer rounds under an instruction counter (valgrind), where time is not measured.
    let rounds =
        std::env::var("NUDGE_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(15);
    let doc = fixture::campaigns(50);
    let set = load(&doc).set;
    assert_eq!(set.campaigns.len(), 50, "the fixture must load cleanly");

    let (load_cpu, load_wall) = measure(
        rounds,
        |_| (),
        |()| {
            (0..20).for_each(|_| drop(black_box(load(black_box(&doc)))));
            20
        },
    );
    let (parse_cpu, _) = measure(
        rounds,
        |_| (),
        |()| {
            (0..20).for_each(|_| drop(black_box(nudge::engine::json::parse(black_box(&doc)))));
            20
        },
    );

    // A visitor with history, then each round replays the stream a day later.
    let mut state = State::new("bench-visitor");
    let events: Vec<Event> = (0..2_000).map(fixture::event).collect();
    for e in &events {
        decide(&mut state, &set, e, e.ts, false);
    }
    let (decide_cpu, decide_wall) = measure(
        rounds,
        |r| {
            let shifted: Vec<Event> = events
                .iter()
                .map(|e| Event { ts: Millis(e.ts.0 + (r as u64 + 1) * Millis::DAY.0), ..e.clone() })
                .collect();
            (state.clone(), shifted)
        },
        |(mut s, shifted)| {
            for e in &shifted {
                black_box(decide(&mut s, &set, e, e.ts, false));
            }
            shifted.len()
        },
    );

    let mut state = State::new("bench-visitor");
    for i in 0..10_000 {
        let e = fixture::event(i);
        decide(&mut state, &set, &e, e.ts, false);
    }
    println!(
        "{{\"decide_50_native_ns\":{:.0},\"decide_50_native_ns_wall\":{:.0},\"load_50_native_us\":{:.1},\
         \"load_50_native_us_wall\":{:.1},\"parse_50_native_us\":{:.1},\"campaign_doc_bytes\":{},\
         \"profile_bytes_10k_events\":{},\"state_bytes_10k_events\":{}}}",
        decide_cpu * 1e9,
        decide_wall * 1e9,
        load_cpu * 1e6,
        load_wall * 1e6,
        parse_cpu * 1e6,
        doc.len(),
        state.profile.to_json().len(),
        state.to_json().len()
    );
}
