//! nudge: an on-site engagement SDK for online stores.
//!
//! [`engine`] is the pure decision core (no I/O, no clock, no randomness): it turns shopper
//! events into decisions about which campaign to show. It builds and tests natively and is
//! linked by the collector. `web` (wasm32 only) is the thin browser shell around it: the JS
//! API, DOM listeners, storage, rendering and transport.

pub mod engine;
#[cfg(target_arch = "wasm32")]
mod web;
