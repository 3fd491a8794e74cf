//! Reading request bodies under a size limit without losing what the caller sent.
//!
//! axum's own limit answers 413 in plain text and throws the bytes away; the collector
//! instead stops reading at the limit, keeps the first bytes for the bad-rows table, and
//! lets the handler answer with a JSON error. A `Content-Length` over the limit is refused
//! before reading anything.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use http_body_util::BodyExt;

/// How much of a refused body is kept for the bad-rows table.
pub const KEEP: usize = 4_096;

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Over the limit; `prefix` is the start of it, `size` what we know of its length.
    TooLarge {
        /// The first bytes (at most [`KEEP`]).
        prefix: Bytes,
        /// Declared length, or bytes seen before giving up.
        size: usize,
    },
    /// The connection failed mid-body.
    Read(String),
}

/// Reads the whole body if it is at most `limit` bytes.
pub async fn read(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(size) = declared.filter(|n| *n > limit) {
        return Err(BodyError::TooLarge { prefix: Bytes::new(), size });
    }
    let mut body = body;
    let mut buf: Vec<u8> = Vec::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        let Ok(data) = frame.into_data() else { continue };
        if buf.len() + data.len() > limit {
            let size = buf.len() + data.len();
            buf.extend_from_slice(&data[..KEEP.saturating_sub(buf.len()).min(data.len())]);
            buf.truncate(KEEP);
            return Err(BodyError::TooLarge { prefix: Bytes::from(buf), size });
        }
        buf.extend_from_slice(&data);
    }
    Ok(Bytes::from(buf))
}

/// The start of `bytes` as text for a bad row: the first [`KEEP`] bytes, with invalid
/// UTF-8 (and a character cut in half at the end) replaced by U+FFFD. The bad row's reason
/// says when the body itself was not UTF-8.
pub fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(KEEP)]).into_owned()
}
