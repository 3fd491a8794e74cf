//! CORS for the public routes, answered from each site's origin allow-list.
//!
//! A response carries `Access-Control-Allow-Origin` only for an allowed origin: the site's
//! own list when the route names the site (`/v1/sites/{site}/...`), otherwise any site's
//! list (a batch names its site inside the body, which a preflight does not have). The
//! batch handler then checks the origin against the named site itself. Errors and 429s get
//! the headers too, so the SDK can read the status and `Retry-After` instead of seeing a
//! network error and retrying blindly.

use axum::extract::{RawPathParams, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

/// How long a browser may cache a preflight answer.
const MAX_AGE: &str = "86400";

async fn allowed_origin(
    state: &AppState,
    params: &RawPathParams,
    headers: &HeaderMap,
) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let site = params.iter().find(|(k, _)| *k == "site").map(|(_, v)| v);
    state.sites().await.allows(site, origin.to_str().ok()?).then(|| origin.clone())
}

/// Middleware: adds the CORS answer headers to every response of the public routes.
pub async fn layer(
    State(state): State<AppState>,
    params: RawPathParams,
    req: Request,
    next: Next,
) -> Response {
    let allowed = allowed_origin(&state, &params, req.headers()).await;
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // The answer differs by origin, and campaigns are cached publicly: say so.
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allowed {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After, ETag"),
        );
    }
    resp
}

/// `OPTIONS` on a public route: the preflight answer, 403 for an origin no site allows.
pub async fn preflight(
    State(state): State<AppState>,
    params: RawPathParams,
    headers: HeaderMap,
) -> Response {
    let Some(origin) = allowed_origin(&state, &params, &headers).await else {
        return AppError::Forbidden("this origin is not on any site's allow-list".into())
            .into_response();
    };
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
    let asked = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    // Echoing what was asked is safe here: no route reads cookies or credentials.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        asked.unwrap_or(HeaderValue::from_static("Content-Type")),
    );
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
    resp
}
