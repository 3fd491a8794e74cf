//! The browser shell (wasm32 only): the thin layer between the page and the pure engine.
//!
//! Each module owns one thing: [`api`] the JS API (the only place that knows JS names),
//! `runtime` the running SDK (state, campaigns, decisions), `listen` the DOM listeners,
//! `store` storage, `transport` the network, `clock` time and randomness, `render` the
//! DOM of a campaign on screen. After `init`, nothing here throws into the page: runtime
//! failures degrade quietly and are logged once.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod clock;
mod listen;
pub(crate) mod render;
mod runtime;
mod store;
mod transport;

use std::cell::Cell;

#[cfg(test)]
#[path = "../../tests/web/shell.rs"]
mod tests;

/// Kinds of runtime trouble, each logged at most once per page.
#[derive(Clone, Copy)]
pub(crate) enum Warn {
    /// The campaign set could not be fetched or had rejected campaigns.
    Campaigns,
    /// A campaign could not be rendered.
    Render,
    /// A page callback (`on`) threw.
    Callback,
    /// A call with arguments of the wrong kind (after `init` these warn, never throw).
    Usage,
    /// An event whose properties nest deeper than `event::MAX_PROPS_DEPTH`.
    Deep,
}

thread_local! {
    static WARNED: Cell<u8> = const { Cell::new(0) };
}

/// `console.warn(message)`, once per kind per page.
pub(crate) fn warn_once(kind: Warn, message: &str) {
    let bit = 1u8 << (kind as u8);
    if WARNED.with(|w| w.replace(w.get() | bit)) & bit == 0 {
        web_sys::console::warn_1(&message.into());
    }
}

/// A JS value as an engine value, through `JSON.stringify` (functions, DOM nodes and
/// cycles are not data: what cannot be stringified becomes `None`). One string crossing
/// the boundary and the engine's own parser cost fewer bytes than a serde deserializer.
pub(crate) fn to_value(v: &wasm_bindgen::JsValue) -> Option<crate::engine::json::Value> {
    let s = js_sys::JSON::stringify(v).ok()?.as_string()?;
    crate::engine::json::parse(&s).ok()
}
