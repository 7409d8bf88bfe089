//! `/wechat/push`: WeChat's message push (消息推送) for the mini-program. `GET` answers the URL
//! check (echoes `echostr` when the signature is right); `POST` takes events in JSON or XML,
//! plain or safe mode (see `services::wechat_push`). It answers `success` as WeChat expects;
//! a bad signature, a stale timestamp or an undecryptable body is `401` and writes nothing.
use poem::{
    Body, Request, Response, Route, handler,
    http::StatusCode,
    web::{Data, Query},
};

use crate::{
    services::{
        ServiceError,
        wechat_push::{self, PushQuery},
    },
    state::SharedState,
};

pub fn routes() -> Route {
    Route::new().at("/", poem::get(check).post(event))
}

fn answer(result: Result<String, ServiceError>) -> Response {
    let (status, text) = match result {
        Ok(text) => (StatusCode::OK, text),
        Err(ServiceError::NotFound) => (StatusCode::NOT_FOUND, String::new()),
        Err(ServiceError::Rejected { detail, .. }) => {
            tracing::warn!(
                why = detail.as_deref().unwrap_or_default(),
                "wechat push refused"
            );
            (StatusCode::UNAUTHORIZED, String::new())
        }
        Err(e) => {
            tracing::warn!(error = %e, "wechat push failed; WeChat will retry");
            (StatusCode::SERVICE_UNAVAILABLE, String::new())
        }
    };
    Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .body(text)
}

#[handler]
async fn check(state: Data<&SharedState>, Query(q): Query<PushQuery>) -> Response {
    answer(wechat_push::verify_url(&state.ctx(), &q).await)
}

#[handler]
async fn event(
    _req: &Request,
    state: Data<&SharedState>,
    Query(q): Query<PushQuery>,
    body: Body,
) -> Response {
    let Ok(text) = body.into_string().await else {
        return answer(Err(ServiceError::Rejected {
            code: crate::error::Code::InvalidBody,
            field: None,
            detail: Some("unreadable body".into()),
        }));
    };
    let ctx = state.ctx();
    answer(
        wechat_push::accept(&ctx, &q, &text)
            .await
            .map(|()| "success".to_owned()),
    )
}
