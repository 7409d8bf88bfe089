//! Operations endpoints at the root: liveness and readiness.
use poem::{IntoResponse, Response, handler, http::StatusCode, web::Data};
use sea_orm::ConnectionTrait;

use crate::state::SharedState;

/// The process is alive.
#[handler]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers; 503 naming what is down otherwise.
#[handler]
pub async fn readyz(state: Data<&SharedState>) -> Response {
    match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => (
            StatusCode::OK,
            poem::web::Json(serde_json::json!({"status": "ready", "database": "up"})),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database down");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                poem::web::Json(serde_json::json!({"status": "unavailable", "database": "down"})),
            )
                .into_response()
        }
    }
}
