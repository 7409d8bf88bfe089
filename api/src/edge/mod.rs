//! What every request passes through before a handler: a request id, logs and metrics,
//! security headers, a caught panic, bounded bodies and clean text ([`body`]), and rate limits
//! ([`limits`]).
mod body;
mod limits;
mod operations;

use std::time::Instant;

use poem::{Endpoint, IntoResponse, PathPattern, Request, Response, http::HeaderValue};
use tracing::Instrument;
use uuid::Uuid;

pub use body::{guard_body, json_depth};
pub use limits::{check, client_address, rate_limit};
pub use operations::{Operations, known_query};

use crate::{
    error::{ApiError, Code, Lang},
    metrics::{RouteTemplates, method_label},
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
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let state = state_of(&req);
    let templates = req.data::<RouteTemplates>().cloned();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let started = Instant::now();
    let result = crate::services::audit::in_request(id.clone(), ep.call(req))
        .instrument(span.clone())
        .await;
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
    security_headers(&mut resp, &path);
    if let Some(state) = state {
        let route = templates.unwrap_or_default().label(
            resp.data::<PathPattern>().map(|p| &*p.0),
            status == poem::http::StatusCode::NOT_FOUND,
        );
        let method = method_label(&method);
        state
            .metrics
            .requests
            .with_label_values(&[route.as_str(), method, status.as_str()])
            .inc();
        state
            .metrics
            .latency
            .with_label_values(&[route.as_str(), method])
            .observe(elapsed.as_secs_f64());
    }
    Ok(resp)
}

/// Headers every response carries: no content sniffing, no referrer leaving the site, and no
/// framing (but for the documentation UI, which frames nothing of ours either way).
fn security_headers(resp: &mut Response, path: &str) {
    let headers = resp.headers_mut();
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    if path != "/docs" && !path.starts_with("/docs/") {
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    }
}

/// What a panic in a handler becomes: a logged `500 internal_error` problem, not a dropped
/// connection (poem's `CatchPanic` calls this). The panic's message is not logged: it may quote
/// the text being handled (a resident's phone); the panic hook logs where it happened.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked; answered 500");
    ApiError::new(Code::Internal).render(Lang::Zh)
}

#[cfg(test)]
mod tests {
    use poem::{EndpointExt, Route, get, handler, middleware::CatchPanic};

    use super::*;

    #[handler]
    fn boom() -> &'static str {
        let digits: Vec<u32> = Vec::new();
        // An out-of-bounds index, as a slicing bug would make.
        let _ = digits[digits.len()];
        "unreachable"
    }

    #[tokio::test]
    async fn a_panic_is_a_500_problem_not_a_dropped_connection() {
        let app = Route::new()
            .at("/boom", get(boom))
            .with(CatchPanic::new().with_handler(panic_response));
        let resp = app
            .call(
                Request::builder()
                    .uri("/boom".parse().unwrap_or_default())
                    .finish(),
            )
            .await
            .map(IntoResponse::into_response);
        let resp = match resp {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        assert_eq!(resp.status().as_u16(), 500);
        assert_eq!(resp.content_type(), Some("application/problem+json"));
        let body = resp.into_body().into_string().await.unwrap_or_default();
        assert!(body.contains("\"code\":\"internal_error\""), "{body}");
    }
}
