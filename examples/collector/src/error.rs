//! `AppError`: every way a request can fail, and the JSON answer each one gets.
//!
//! Handlers return `Result<_, AppError>`; [`IntoResponse`] turns an error into a status and
//! a body `{"error": "..."}` (or `{"errors": [...]}` for campaign findings), so a client
//! always learns why. Storage failures are logged here, once, and answered without detail.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nudge::engine::schema::{CampaignError, Severity};
use serde::Serialize;

use crate::doc::Issue;
use crate::store::StoreError;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no or wrong admin token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: known caller, not allowed (unknown site, origin not on the allow-list).
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such site or route.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with stored state (publishing without a draft).
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is over the limit.
    #[error("{0}")]
    TooLarge(String),
    /// 422: a campaign set with errors; every finding at its JSON path.
    #[error("the campaign set has errors")]
    Invalid(Vec<Finding>),
    /// 429: over the rate limit; retry after this many seconds.
    #[error("too many requests: retry after {0} s")]
    RateLimited(u64),
    /// 500 or 503: storage failed or is shutting down.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One finding on the wire: the engine's `CampaignError` (or the collector's own
/// [`Issue`]), flattened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// JSON path, e.g. `campaigns[0].trigger.count.wihtin`.
    pub path: String,
    /// What is wrong, lowercase.
    pub message: String,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// Stable short code: `json`, `expected`, `unknown`, `missing`, `invalid`.
    pub code: &'static str,
}

impl From<&CampaignError> for Finding {
    fn from(e: &CampaignError) -> Finding {
        Finding {
            path: e.path.clone(),
            message: e.kind.to_string(),
            severity: match e.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            code: e.kind.code(),
        }
    }
}

impl From<&Issue> for Finding {
    fn from(i: &Issue) -> Finding {
        Finding {
            path: i.path.clone(),
            message: i.message.clone(),
            severity: "error",
            code: i.code,
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

#[derive(Serialize)]
struct FindingsBody<'a> {
    error: &'a str,
    errors: &'a [Finding],
}

impl AppError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Store(StoreError::Closed) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Store(StoreError::Backend(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            AppError::Invalid(findings) => {
                let body = FindingsBody { error: "the campaign set has errors", errors: findings };
                (status, Json(body)).into_response()
            }
            AppError::Store(e) => {
                tracing::error!("{e}");
                let message = match e {
                    StoreError::Closed => "the collector is shutting down; retry later",
                    StoreError::Backend(_) => "internal storage error",
                };
                let mut r = (status, Json(ErrorBody { error: message })).into_response();
                if matches!(e, StoreError::Closed) {
                    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                }
                r
            }
            AppError::RateLimited(secs) => {
                let message = self.to_string();
                let mut r = (status, Json(ErrorBody { error: &message })).into_response();
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*secs));
                r
            }
            AppError::Unauthorized(message) => {
                let mut r = (status, Json(ErrorBody { error: message })).into_response();
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                r
            }
            AppError::BadRequest(message)
            | AppError::Forbidden(message)
            | AppError::NotFound(message)
            | AppError::Conflict(message)
            | AppError::TooLarge(message) => {
                (status, Json(ErrorBody { error: message })).into_response()
            }
        }
    }
}
