//! The admin API's gate (bearer token) and its site and bad-row endpoints.
//!
//! The token is compared in constant time and never logged. Without a configured token the
//! admin API is off (403), rather than open. Campaign and report endpoints live in
//! `campaigns` and `report`; they sit behind the same gate.

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::campaigns::admin_text;
use crate::error::{AppError, Finding};
use crate::site::{read_site_body, valid_key};
use crate::state::AppState;
use crate::store::{BadRow, Site};

/// Middleware: lets a request through only with `Authorization: Bearer <admin token>`.
pub async fn require_token(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    let Some(expected) = &state.config().admin_token else {
        return Err(AppError::Forbidden(
            "the admin API is off: start the collector with --admin-token".into(),
        ));
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(token) if bool::from(token.as_bytes().ct_eq(expected.0.as_bytes())) => {
            Ok(next.run(req).await)
        }
        Some(_) => Err(AppError::Unauthorized("wrong admin token".into())),
        None => Err(AppError::Unauthorized(
            "the admin API needs Authorization: Bearer <admin token>".into(),
        )),
    }
}

/// A site on the wire.
#[derive(Debug, Serialize)]
pub struct SiteAnswer {
    /// Site key.
    pub site: String,
    /// Allowed origins.
    pub origins: Vec<String>,
}

impl From<Site> for SiteAnswer {
    fn from(s: Site) -> SiteAnswer {
        SiteAnswer { site: s.key, origins: s.origins }
    }
}

/// `PUT /v1/admin/sites/{site}` with `{"origins": [...]}`: creates (201) or updates (200).
pub async fn put_site(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<SiteAnswer>), AppError> {
    if !valid_key(&key) {
        return Err(AppError::BadRequest(format!(
            "\"{key}\" is not a site key: use 1 to 64 letters, digits, '-', '_' or '.'"
        )));
    }
    let text = admin_text(&state, &headers, body).await?;
    let site = read_site_body(&key, &text)
        .map_err(|issues| AppError::Invalid(issues.0.iter().map(Finding::from).collect()))?;
    let created = state.store().put_site(site.clone(), state.now()).await?;
    state.registry().put(site.clone());
    tracing::info!(site = site.key, created, "site saved");
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(site.into())))
}

/// `GET /v1/admin/sites`: every site.
pub async fn list_sites(State(state): State<AppState>) -> Result<Json<Vec<SiteAnswer>>, AppError> {
    Ok(Json(state.store().sites().await?.into_iter().map(SiteAnswer::from).collect()))
}

/// Query of `GET /v1/admin/bad-rows`.
#[derive(Debug, Deserialize)]
pub struct BadRowsQuery {
    /// How many, newest first (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// A bad row on the wire.
#[derive(Debug, Serialize)]
pub struct BadRowAnswer {
    /// Site key, if the input named one.
    pub site: Option<String>,
    /// When it arrived, ms since the epoch.
    pub received_at: u64,
    /// Why it was refused.
    pub reason: String,
    /// The raw input, truncated.
    pub raw: String,
    /// Size of the raw input before truncation.
    pub raw_bytes: usize,
}

/// `GET /v1/admin/bad-rows?limit=N`: the most recent refused input, with reasons.
pub async fn bad_rows(
    State(state): State<AppState>,
    query: Result<Query<BadRowsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<BadRowAnswer>>, AppError> {
    let Query(q) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let rows = state.store().bad_rows(q.limit.unwrap_or(100).min(1_000)).await?;
    let rows = rows
        .into_iter()
        .map(|b: BadRow| BadRowAnswer {
            site: b.site,
            received_at: b.received_at.0,
            reason: b.reason,
            raw: b.raw,
            raw_bytes: b.raw_bytes,
        })
        .collect();
    Ok(Json(rows))
}
