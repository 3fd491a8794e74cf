//! The engine benchmark as wasm exports: Node times each call (the engine has no clock).

#[path = "../../../benches/fixture.rs"]
mod fixture;

use nudge::engine::campaign::{load, CampaignSet};
use nudge::engine::decide::{decide, State};
use nudge::engine::event::Event;
use nudge::engine::Millis;
use wasm_bindgen::prelude::wasm_bindgen;

/// A warmed-up engine: 50 campaigns, a visitor with history, and the event stream.
#[wasm_bindgen]
pub struct Bench {
    doc: String,
    set: CampaignSet,
    state: State,
    events: Vec<Event>,
    round: u64,
    scratch: State,
}

#[wasm_bindgen]
impl Bench {
    /// Loads the fixture and replays 2,000 events to warm the state.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Bench {
        let doc = fixture::campaigns(50);
        let set = load(&doc).set;
        let events: Vec<Event> = (0..2_000).map(fixture::event).collect();
        let mut state = State::new("bench-visitor");
        for e in &events {
            decide(&mut state, &set, e, e.ts, false);
        }
        Bench { doc, set, scratch: state.clone(), state, events, round: 0 }
    }

    /// Number of campaigns that loaded (the harness checks it is 50).
    pub fn campaigns(&self) -> usize {
        self.set.campaigns.len()
    }

    /// Parses and validates the 50-campaign document `n` times.
    pub fn load(&self, n: u32) -> usize {
        (0..n).map(|_| load(&self.doc).set.campaigns.len()).sum()
    }

    /// Parses the 50-campaign document `n` times, without validating: the share of
    /// [`Bench::load`] that is JSON parsing.
    pub fn parse(&self, n: u32) -> usize {
        (0..n).map(|_| usize::from(nudge::engine::json::parse(&self.doc).is_ok())).sum()
    }

    /// Shifts the stream a day later and returns a fresh copy of the warmed state, so the
    /// timed call that follows ([`Bench::decide_round`]) measures `decide` alone.
    pub fn prepare_round(&mut self) {
        self.round += 1;
        for e in &mut self.events {
            e.ts = Millis(e.ts.0 + 86_400_000);
        }
        self.scratch = self.state.clone();
    }

    /// Runs every event of the stream through `decide` once. Returns how many events ran.
    pub fn decide_round(&mut self) -> usize {
        let mut shows = 0;
        for e in &self.events {
            shows += decide(&mut self.scratch, &self.set, e, e.ts, false).shows.len();
        }
        std::hint::black_box(shows);
        self.events.len()
    }
}

impl Default for Bench {
    fn default() -> Bench {
        Bench::new()
    }
}
