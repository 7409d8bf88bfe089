//! Logging in: WeChat code2Session against a fake WeChat, staff passwords, tokens.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_wechat_code_logs_a_resident_in_and_the_same_openid_is_the_same_resident() {
    let app = spawn_app().await;
    let first = app
        .post_anonymous("/api/v1/auth/wechat", json!({"code": "c1"}))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let again = app
        .post_anonymous("/api/v1/auth/wechat", json!({"code": "c1"}))
        .await;
    assert_eq!(first.body["resident_id"], again.body["resident_id"]);
    let other = app
        .post_anonymous("/api/v1/auth/wechat", json!({"code": "c2"}))
        .await;
    assert_ne!(first.body["resident_id"], other.body["resident_id"]);
    let token = first.body["token"].as_str().unwrap_or_default();
    assert_eq!(
        app.get("/api/v1/tickets", token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn wechat_errors_map_to_stable_codes() {
    let app = spawn_app().await;
    for (code, status, problem) in [
        ("bad-code", 401, "wechat_code_invalid"),
        ("busy-1", 503, "wechat_unavailable"),
        ("limited-1", 503, "wechat_unavailable"),
        ("slow-1", 503, "wechat_unavailable"),
    ] {
        let r = app
            .post_anonymous("/api/v1/auth/wechat", json!({"code": code}))
            .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, problem),
            "{code}: {}",
            r.body
        );
        assert_eq!(r.content_type, "application/problem+json");
    }
}

#[tokio::test]
async fn wechat_down_is_unavailable_not_a_crash() {
    let app = spawn_app_with(|s| s.wechat.api_base = "http://127.0.0.1:9".into()).await;
    let r = app
        .post_anonymous("/api/v1/auth/wechat", json!({"code": "c1"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "wechat_unavailable")
    );
}

#[tokio::test]
async fn staff_log_in_with_a_password_and_leavers_cannot() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let r = app
        .post_anonymous(
            "/api/v1/auth/staff",
            json!({"login": "gw_a1", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    let r = app
        .post_anonymous(
            "/api/v1/auth/staff",
            json!({"login": "nobody", "password": "password-123"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    let r = app
        .patch(
            &format!("/api/v1/admin/staff/{}", w.gw_a1.id),
            &app.admin_token,
            json!({"status": "left"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .post_anonymous(
            "/api/v1/auth/staff",
            json!({"login": "gw_a1", "password": "password-123"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Their old token stops working at once.
    let r = app.get("/api/v1/work/tickets", &w.gw_a1.token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn missing_or_forged_tokens_are_refused() {
    let app = spawn_app().await;
    let r = app.get_anonymous("/api/v1/tickets").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let r = app
        .get(
            "/api/v1/tickets",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let resident = app.resident("r1").await;
    let r = app
        .post(
            "/api/v1/admin/areas",
            &resident,
            json!({"kind": "street", "name": "x"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
}
