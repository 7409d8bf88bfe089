//! Operations endpoints at the root: liveness, readiness and Prometheus metrics.
use poem::{IntoResponse, Response, handler, http::StatusCode, web::Data};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::{services, state::SharedState};

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

/// Prometheus text format: request counts and latencies by route and status, tickets by status.
#[handler]
pub async fn metrics(state: Data<&SharedState>) -> Response {
    match services::tickets::count_by_status(&state.db).await {
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
