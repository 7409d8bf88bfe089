//! Operations endpoints at the root: liveness, readiness and Prometheus metrics.
use poem::{
    IntoResponse, Request, Response, handler,
    http::{StatusCode, header},
    web::Data,
};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::{
    error::{ApiError, Code, Lang},
    services,
    state::SharedState,
};

/// The process is alive.
#[handler]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database (and Redis, when configured) answer; 503 naming what is down otherwise.
#[handler]
pub async fn readyz(state: Data<&SharedState>) -> Response {
    let database = match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => "up",
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database down");
            "down"
        }
    };
    let cache = match state.cache.ping().await {
        Ok(()) => "up",
        Err(e) => {
            tracing::warn!(error = %e, "readiness: cache down");
            "down"
        }
    };
    let ready = database == "up" && cache == "up";
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": database,
        "cache": cache,
        "cache_kind": state.cache.kind(),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, poem::web::Json(body)).into_response()
}

/// `/metrics` on the API's own address: only with `Authorization: Bearer <ops.metrics_token>`;
/// without a configured token it is not served there at all (404, as for any unknown path).
#[handler]
pub async fn metrics_with_token(req: &Request, state: Data<&SharedState>) -> Response {
    let expected = state.settings.ops.metrics_token.expose();
    if expected.is_empty() {
        return ApiError::new(Code::NotFound).render(Lang::from_request(req));
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same_secret(presented.as_bytes(), expected.as_bytes()) {
        return ApiError::new(Code::Unauthorized).render(Lang::from_request(req));
    }
    render_metrics(&state).await
}

/// Compares without stopping at the first difference, so timing does not reveal a prefix.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `/metrics` on `ops.metrics_listen`, an internal address.
#[handler]
pub async fn metrics(state: Data<&SharedState>) -> Response {
    render_metrics(&state).await
}

/// Prometheus text format: request counts and latencies by route and status, open tickets by
/// status (read through the status index over open work only, never a scan of every ticket),
/// and outbox messages by status.
async fn render_metrics(state: &SharedState) -> Response {
    match services::tickets::count_open_by_status(&state.db).await {
        Ok(counts) => {
            state.metrics.tickets.reset();
            for (status, n) in counts {
                state
                    .metrics
                    .tickets
                    .with_label_values(&[status.as_str()])
                    .set(n);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: ticket counts unavailable"),
    }
    match services::outbox::count_by_status(&state.db).await {
        Ok(counts) => {
            state.metrics.outbox.reset();
            for (status, n) in counts {
                state
                    .metrics
                    .outbox
                    .with_label_values(&[status.as_str()])
                    .set(n);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: outbox counts unavailable"),
    }
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
