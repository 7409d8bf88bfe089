//! What every request passes through before a handler: a request id, logs and metrics, body size
//! and JSON depth limits, and rate limits.
use std::time::{Duration, Instant};

use poem::{Body, Endpoint, IntoResponse, Request, Response, http::HeaderValue, http::header};
use tracing::Instrument;
use uuid::Uuid;

use crate::{
    error::{ApiError, Code},
    metrics::route_label,
    services::auth::PrincipalKind,
    state::SharedState,
};

pub const REQUEST_ID: &str = "x-request-id";

fn state_of(req: &Request) -> Option<SharedState> {
    req.data::<SharedState>().cloned()
}

/// Gives each request an id (the client's `X-Request-Id` if it sent a sane one), logs it with
/// the outcome, records metrics, and returns the id in the response.
pub async fn observe<E: Endpoint>(ep: E, mut req: Request) -> poem::Result<Response> {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    req.headers_mut().insert(
        REQUEST_ID,
        HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid")),
    );
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let state = state_of(&req);
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let started = Instant::now();
    let result = ep.call(req).instrument(span.clone()).await;
    let mut resp = match result {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let status = resp.status();
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    if let Some(state) = state {
        let route = if status == poem::http::StatusCode::NOT_FOUND
            && !path.starts_with("/api/v1/tickets")
        {
            "unmatched".to_owned()
        } else {
            route_label(&path)
        };
        state
            .metrics
            .requests
            .with_label_values(&[route.as_str(), method.as_str(), status.as_str()])
            .inc();
        state
            .metrics
            .latency
            .with_label_values(&[route.as_str(), method.as_str()])
            .observe(elapsed.as_secs_f64());
    }
    Ok(resp)
}

/// Refuses bodies over the limit (413) by their declared length, and JSON nested deeper than the
/// limit (400) before any parser sees it.
pub async fn guard_body<E: Endpoint>(ep: E, mut req: Request) -> poem::Result<Response> {
    let Some(state) = state_of(&req) else {
        return ep.call(req).await.map(IntoResponse::into_response);
    };
    let media = req.uri().path().starts_with("/api/v1/attachments");
    let limit = if media {
        state.settings.media.max_bytes + 64 * 1024
    } else {
        state.settings.limits.json_body_bytes
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::new(Code::PayloadTooLarge)
            .detail(format!("at most {limit} bytes"))
            .into());
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    if is_json && !media {
        let bytes = req
            .take_body()
            .into_bytes_limit(limit as usize)
            .await
            .map_err(|_| ApiError::new(Code::PayloadTooLarge))?;
        if json_depth(&bytes) > state.settings.limits.json_max_depth {
            return Err(ApiError::new(Code::JsonTooDeep)
                .detail(format!(
                    "at most {} levels",
                    state.settings.limits.json_max_depth
                ))
                .into());
        }
        req.set_body(Body::from(bytes));
    }
    ep.call(req).await.map(IntoResponse::into_response)
}

/// The deepest nesting of objects and arrays, ignoring brackets inside strings.
pub fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn client_ip(req: &Request, trust_forwarded_for: bool) -> String {
    let forwarded = trust_forwarded_for
        .then(|| {
            req.headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
        })
        .flatten()
        .and_then(|v| v.split(',').next())
        .map(|ip| ip.trim().to_owned());
    forwarded.unwrap_or_else(|| {
        req.remote_addr()
            .as_socket_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".into())
    })
}

/// Fixed-window limits per person (residents, staff, admins) or, for anonymous calls, per
/// client IP. A cache outage lets requests through (logged): availability over strictness.
pub async fn rate_limit<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let Some(state) = state_of(&req) else {
        return ep.call(req).await.map(IntoResponse::into_response);
    };
    let path = req.uri().path();
    if !path.starts_with("/api/v1/") && !path.starts_with("/open311/") {
        return ep.call(req).await.map(IntoResponse::into_response);
    }
    let limits = &state.settings.rate_limits;
    let claims = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| state.tokens.verify(t));
    let (key, limit) = match claims {
        Some(c) if c.kind == PrincipalKind::Resident => (
            format!("rl:r:{}", c.sub),
            limits.resident_requests_per_minute,
        ),
        Some(c) if path.starts_with("/api/v1/admin") => {
            (format!("rl:a:{}", c.sub), limits.admin_requests_per_minute)
        }
        Some(c) => (format!("rl:s:{}", c.sub), limits.staff_requests_per_minute),
        None => (
            format!("rl:ip:{}", client_ip(&req, limits.trust_forwarded_for)),
            limits.ip_requests_per_minute,
        ),
    };
    check(&state, &key, limit, Duration::from_secs(60)).await?;
    ep.call(req).await.map(IntoResponse::into_response)
}

/// Counts one hit against `key`; past `limit` in the window, a 429 with the seconds to wait.
pub async fn check(
    state: &SharedState,
    key: &str,
    limit: u64,
    window: Duration,
) -> Result<(), ApiError> {
    match state.cache.hit(key, window).await {
        Ok((count, left)) if count > limit => Err(ApiError {
            retry_after: Some(left.as_secs() + u64::from(left.subsec_nanos() > 0)),
            ..ApiError::new(Code::RateLimited)
                .detail(format!("at most {limit} per {} s", window.as_secs()))
        }),
        Ok(_) => Ok(()),
        Err(e) => {
            state
                .metrics
                .cache_errors
                .with_label_values(&["rate_limit"])
                .inc();
            tracing::warn!(error = %e, "rate limit skipped: cache unavailable");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::json_depth;

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(json_depth(br#"{"a": "[[[{{{", "b": [1, [2]]}"#), 3);
        assert_eq!(json_depth(br#"{"a": "\"[[["}"#), 1);
        assert_eq!(json_depth(b"42"), 0);
    }
}
