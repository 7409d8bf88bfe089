//! Opaque page cursors: `<kind>:<value>` in URL-safe base64, so a client passes back what it
//! was given and nothing else parses. A cursor of another kind, or beyond its bound, is
//! `400 invalid_cursor`.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::{ServiceError, ServiceResult};
use crate::error::Code;

/// At most this many rows are skipped to reach a page of an offset-paged list.
pub const MAX_OFFSET: u64 = 10_000;

pub fn encode(kind: &str, value: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{value}"))
}

fn invalid() -> ServiceError {
    ServiceError::Rejected {
        code: Code::InvalidCursor,
        field: Some("cursor".into()),
        detail: None,
    }
}

/// The value of a cursor of `kind` (at most 256 bytes).
pub fn decode(kind: &str, cursor: &str) -> ServiceResult<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| Some(text.strip_prefix(kind)?.strip_prefix(':')?.to_owned()))
        .filter(|v| !v.is_empty() && v.len() <= 256)
        .ok_or_else(invalid)
}

/// A keyset position, the creation time (µs) and id of the last row shown: `<µs>:<id>`.
pub fn keyset_value(at: chrono::DateTime<chrono::Utc>, id: uuid::Uuid) -> String {
    format!("{}:{id}", at.timestamp_micros())
}

/// The creation time and id a keyset value holds.
pub fn parse_keyset(value: &str) -> ServiceResult<(chrono::DateTime<chrono::Utc>, uuid::Uuid)> {
    let (micros, id) = value.split_once(':').ok_or_else(invalid)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_micros)
        .ok_or_else(invalid)?;
    let id = uuid::Uuid::parse_str(id).map_err(|_| invalid())?;
    Ok((at, id))
}

/// The next page of an offset-paged list: after `offset + limit` rows, if there are more and
/// the bound allows.
pub fn next_offset(kind: &str, offset: u64, limit: u64, more: bool) -> Option<String> {
    (more && offset + limit < MAX_OFFSET).then(|| encode(kind, &(offset + limit).to_string()))
}

/// The offset a cursor of `kind` holds (0 without one).
pub fn offset(kind: &str, cursor: Option<&str>) -> ServiceResult<u64> {
    match cursor {
        None => Ok(0),
        Some(c) => decode(kind, c)?
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= MAX_OFFSET)
            .ok_or_else(invalid),
    }
}
