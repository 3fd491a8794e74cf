//! The pure decision engine: events in, decisions and reasons out.
//!
//! Nothing here does I/O, reads a clock or draws randomness: time arrives as [`Millis`],
//! jitter and seeds arrive as arguments. The same code runs in the browser (wasm32) and in
//! the collector (native). Start at [`decide::decide`]; campaigns come from
//! [`campaign::load`]; the visitor's memory is [`profile::Profile`] plus [`cap::Ledger`].
#![warn(missing_docs)]

pub mod assign;
pub mod campaign;
pub mod cap;
pub mod content;
pub mod decide;
pub mod event;
pub mod json;
pub mod map;
pub mod outbox;
pub mod profile;
pub mod rule;
pub mod schedule;
pub mod schema;

/// A point in time or a duration, in milliseconds (Unix epoch for points in time).
///
/// The engine never reads a clock: every `now` is a `Millis` handed in by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Millis {
    /// One second.
    pub const SECOND: Millis = Millis(1_000);
    /// One minute.
    pub const MINUTE: Millis = Millis(60_000);
    /// One hour.
    pub const HOUR: Millis = Millis(3_600_000);
    /// One day (24 hours; the engine's day caps are rolling, not calendar days).
    pub const DAY: Millis = Millis(86_400_000);

    /// `self - earlier`, or zero when `earlier` is later (clocks do go backwards).
    pub fn since(self, earlier: Millis) -> Millis {
        Millis(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating.
    pub fn plus(self, d: Millis) -> Millis {
        Millis(self.0.saturating_add(d.0))
    }

    /// `self - d`, saturating at zero.
    pub fn minus(self, d: Millis) -> Millis {
        Millis(self.0.saturating_sub(d.0))
    }
}
