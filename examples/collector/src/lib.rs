//! The nudge collector: receives event batches from the SDK, serves live campaign sets, and
//! gives marketers an admin API for sites, campaigns and reports.
//!
//! [`app`] builds the whole HTTP surface from an [`AppState`]; `main.rs` only parses the
//! command line, opens the store and serves. Requests flow: CORS → rate limit by IP →
//! handler; handlers validate with the engine (`nudge::engine`) and persist through the
//! [`store::Store`] port, whose SQLite backend commits writes in groups on one thread and
//! whose ClickHouse backend lets many collectors share one store. Directories given with
//! `--static` are served after every API route. The wire format is described in
//! `docs/wire.md` at the workspace root.

pub mod admin;
pub mod body;
pub mod campaigns;
pub mod cors;
pub mod doc;
pub mod error;
pub mod ingest;
pub mod metrics;
pub mod rate;
pub mod report;
pub mod site;
pub mod state;
pub mod store;
pub mod zone;

use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{any, get, post, put};
use axum::{Json, Router};
use tower_http::services::ServeDir;

pub use error::AppError;
pub use state::{AppState, Config};

/// The collector's routes, with their middleware, over `state`.
pub fn app(state: AppState) -> Router {
    let public = Router::new()
        .route("/v1/batch", post(ingest::batch).options(cors::preflight))
        .route("/v1/sites/{site}/campaigns", get(campaigns::live).options(cors::preflight))
        // The last layer added runs first: CORS wraps the rate limit so that a 429 still
        // carries the CORS headers the browser needs to read it.
        .route_layer(from_fn_with_state(state.clone(), rate::limit_ip))
        .route_layer(from_fn_with_state(state.clone(), cors::layer));
    let admin = Router::new()
        .route("/v1/admin/sites", get(admin::list_sites))
        .route("/v1/admin/sites/{site}", put(admin::put_site))
        .route(
            "/v1/admin/sites/{site}/campaigns",
            put(campaigns::put_draft).get(campaigns::get_draft),
        )
        .route("/v1/admin/sites/{site}/publish", post(campaigns::publish))
        .route("/v1/admin/sites/{site}/report", get(report::get))
        .route("/v1/admin/bad-rows", get(admin::bad_rows))
        .route_layer(from_fn_with_state(state.clone(), admin::require_token))
        .route_layer(from_fn_with_state(state.clone(), rate::limit_ip));
    let mut router = Router::new()
        .merge(public)
        .merge(admin)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        // Unknown API paths answer JSON even when `/` serves static files.
        .route("/v1", any(not_found))
        .route("/v1/{*rest}", any(not_found))
        .method_not_allowed_fallback(method_not_allowed);
    let mut root_served = false;
    for m in &state.config().statics {
        // ServeDir guesses MIME types from extensions (`.wasm` is `application/wasm`, which
        // `WebAssembly.instantiateStreaming` insists on) and refuses paths out of `dir`.
        let files = ServeDir::new(&m.dir);
        if m.url == "/" {
            router = router.fallback_service(files);
            root_served = true;
        } else {
            router = router.nest_service(&m.url, files);
        }
    }
    if !root_served {
        router = router.fallback(not_found);
    }
    router.with_state(state)
}

async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], r#"{"ok":true}"#)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    ([(header::CONTENT_TYPE, text)], state.metrics().render())
}

async fn not_found() -> AppError {
    AppError::NotFound("no such route; see docs/wire.md".into())
}

async fn method_not_allowed(method: Method, uri: Uri) -> impl IntoResponse {
    let error = format!("{method} is not allowed on {}; see docs/wire.md", uri.path());
    (StatusCode::METHOD_NOT_ALLOWED, Json(serde_json::json!({ "error": error })))
}
