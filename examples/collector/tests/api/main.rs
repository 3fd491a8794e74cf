//! HTTP-level tests of the collector: `app(state)` driven with `oneshot` over a temporary
//! SQLite file, one module per area. `common` builds the harness and requests.

mod admin;
mod bad_input;
mod campaigns;
mod common;
mod ingest;
mod limits;
mod report;
mod statics;
mod zone;
