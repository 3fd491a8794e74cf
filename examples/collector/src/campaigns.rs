//! Campaign sets: the public live set (with ETag caching) and the admin draft/publish flow.
//!
//! A draft is validated by the engine itself ([`campaign::load`]), so the admin API answers
//! with exactly the JSON-path errors the SDK would give; a draft with any error is refused
//! (422), one with only warnings is saved and the warnings returned. Publishing copies the
//! draft to the live slot under a new version and entity tag; shops fetch the live set
//! from `GET /v1/sites/{site}/campaigns` and revalidate with `If-None-Match`.
//!
//! Schedules' time zones are resolved into offsets ([`crate::zone`]) when a set is saved
//! and again when it is published, so the live set carries the transitions from the moment
//! it went live. The live set is cached in-process for the cache time (`--cache-ms`), so a
//! publish through another collector on the same store shows here within that time.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nudge::engine::assign::stable_hash;
use nudge::engine::campaign;
use nudge::engine::json;
use nudge::engine::Millis;
use serde::Serialize;

use crate::body::{self, BodyError};
use crate::error::{AppError, Finding};
use crate::state::AppState;
use crate::store::{Published, StoreError};
use crate::zone;

/// What a site serves before anything is published.
pub const EMPTY_SET: &str = r#"{"schema":1,"campaigns":[]}"#;
/// Shops may reuse the live set this long without asking again.
pub const CACHE_CONTROL: &str = "public, max-age=60";

/// Answers 404 unless the site exists.
pub(crate) async fn known_site(state: &AppState, site: &str) -> Result<(), AppError> {
    match state.sites().await.get(site) {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound(format!("unknown site \"{site}\""))),
    }
}

/// Live campaign sets read from the store, each reused for the cache time. Only known
/// sites reach it, so it holds at most one entry per site.
#[derive(Debug)]
pub struct LiveCache {
    ttl: Millis,
    sets: Mutex<HashMap<String, (Millis, Option<Published>)>>,
}

impl LiveCache {
    /// An empty cache whose entries live `ttl`.
    pub fn new(ttl: Millis) -> LiveCache {
        LiveCache { ttl, sets: Mutex::new(HashMap::new()) }
    }

    /// The live set of `site`, from the cache when it is fresh.
    pub async fn get(&self, state: &AppState, site: &str) -> Result<Option<Published>, StoreError> {
        let now = state.now();
        if let Some((at, p)) = self.lock().get(site) {
            if now >= *at && now.since(*at) < self.ttl {
                return Ok(p.clone());
            }
        }
        let p = state.store().live(site.to_string()).await?;
        self.lock().insert(site.to_string(), (now, p.clone()));
        Ok(p)
    }

    /// Records what this collector just published, so it serves it at once.
    pub fn put(&self, site: &str, p: Published, now: Millis) {
        self.lock().insert(site.to_string(), (now, Some(p)));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Millis, Option<Published>)>> {
        self.sets.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether an `If-None-Match` header matches `etag` (weak comparison, `*` matches).
///
/// ```
/// use axum::http::{HeaderMap, HeaderValue};
/// let mut h = HeaderMap::new();
/// h.insert("if-none-match", HeaderValue::from_static("\"v1-aa\", W/\"v2-bb\""));
/// assert!(nudge_collector::campaigns::not_modified(&h, "\"v2-bb\""));
/// assert!(!nudge_collector::campaigns::not_modified(&h, "\"v3-cc\""));
/// ```
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).any(|list| {
        list.split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
    })
}

/// `GET /v1/sites/{site}/campaigns`: the live campaign set.
pub async fn live(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    known_site(&state, &site).await?;
    let (etag, doc) = match state.live().get(&state, &site).await? {
        Some(Published { etag, doc, .. }) => (etag, doc),
        None => {
            (format!("\"v0-{:016x}\"", stable_hash(EMPTY_SET.as_bytes())), EMPTY_SET.to_string())
        }
    };
    let etag_value =
        HeaderValue::from_str(&etag).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let cache = [
        (header::ETAG, etag_value),
        (header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL)),
    ];
    if not_modified(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((cache, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], doc)
        .into_response())
}

/// The answer to a saved draft.
#[derive(Debug, Serialize)]
pub struct Saved {
    /// Site key.
    pub site: String,
    /// Campaigns in the draft.
    pub campaigns: usize,
    /// Findings that did not block saving.
    pub warnings: Vec<Finding>,
}

/// Reads an admin body as UTF-8 text under the admin limit.
pub(crate) async fn admin_text(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<String, AppError> {
    let limit = state.config().admin_body_limit;
    let bytes = body::read(body, headers, limit).await.map_err(|e| match e {
        BodyError::TooLarge { size, .. } => {
            AppError::TooLarge(format!("the body is {size} bytes; the limit is {limit}"))
        }
        BodyError::Read(e) => AppError::BadRequest(format!("could not read the body: {e}")),
    })?;
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        AppError::BadRequest(format!(
            "the body is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// `PUT /v1/admin/sites/{site}/campaigns`: validates and saves the draft campaign set.
pub async fn put_draft(
    State(state): State<AppState>,
    Path(site): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Saved>, AppError> {
    known_site(&state, &site).await?;
    let text = admin_text(&state, &headers, body).await?;
    let now = state.now();
    let (doc, loaded) = check(&text, now)?;
    let findings: Vec<Finding> = loaded.errors.iter().map(Finding::from).collect();
    let campaigns = loaded.set.campaigns.len();
    state.store().put_draft(site.clone(), doc, now).await?;
    Ok(Json(Saved { site, campaigns, warnings: findings }))
}

/// Resolves the time zones of a campaign set at `now` and validates it with the engine:
/// the compact document to store and what the engine loaded, or every finding (422).
fn check(text: &str, now: Millis) -> Result<(String, campaign::Loaded), AppError> {
    let (doc, zones) = match json::parse(text) {
        Ok(mut v) => {
            let zones = zone::resolve(&mut v, now);
            (json::to_string(&v), zones)
        }
        // Not JSON: the engine reports it with line and column.
        Err(_) => (text.to_string(), Vec::new()),
    };
    let loaded = campaign::load(&doc);
    let mut findings: Vec<Finding> = zones.clone();
    // A schedule with an unknown zone also lacks offsets; the zone is the finding to show.
    findings.extend(
        loaded
            .errors
            .iter()
            .map(Finding::from)
            .filter(|f| !zones.iter().any(|z| z.path.strip_suffix(".tz") == Some(&f.path))),
    );
    if !zones.is_empty() || loaded.hard_errors().next().is_some() {
        return Err(AppError::Invalid(findings));
    }
    Ok((doc, loaded))
}

/// `GET /v1/admin/sites/{site}/campaigns`: the saved draft, as it was saved.
pub async fn get_draft(
    State(state): State<AppState>,
    Path(site): Path<String>,
) -> Result<Response, AppError> {
    known_site(&state, &site).await?;
    let draft = state.store().draft(site.clone()).await?;
    let draft = draft.ok_or_else(|| AppError::NotFound(format!("site \"{site}\" has no draft")))?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], draft.doc)
        .into_response())
}

/// The answer to a publish.
#[derive(Debug, Serialize)]
pub struct PublishedAnswer {
    /// Site key.
    pub site: String,
    /// Publication number.
    pub version: u64,
    /// The entity tag shops will see.
    pub etag: String,
    /// When, ms since the epoch.
    pub published_at: u64,
}

/// `POST /v1/admin/sites/{site}/publish`: makes the draft live.
pub async fn publish(
    State(state): State<AppState>,
    Path(site): Path<String>,
) -> Result<Json<PublishedAnswer>, AppError> {
    known_site(&state, &site).await?;
    let Some(draft) = state.store().draft(site.clone()).await? else {
        return Err(AppError::Conflict(format!(
            "site \"{site}\" has no draft to publish: PUT /v1/admin/sites/{site}/campaigns first"
        )));
    };
    // Offsets start from the moment the set goes live.
    let now = state.now();
    let (doc, _) = check(&draft.doc, now)?;
    let p = state.store().publish(site.clone(), doc, now).await?;
    state.live().put(&site, p.clone(), now);
    tracing::info!(site, version = p.version, "published campaigns");
    Ok(Json(PublishedAnswer { site, version: p.version, etag: p.etag, published_at: p.at.0 }))
}
