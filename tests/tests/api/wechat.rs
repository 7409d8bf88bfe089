//! WeChat for real (issue 4): the central access token, phone binding, staff WeChat login.
use qiaomen_tests::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_calls_fetch_the_token_once() {
    let app = spawn_app().await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let client = app.state.wechat.clone();
            tokio::spawn(async move { client.phone_number(&format!("phone-1380000{i:04}")).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.expect("task").is_ok());
    }
    assert_eq!(app.wechat.calls("stable_token"), 1);
    assert_eq!(app.wechat.calls("getuserphonenumber"), 50);
    app.state
        .wechat
        .phone_number("phone-13800001111")
        .await
        .expect("again");
    assert_eq!(app.wechat.calls("stable_token"), 1, "cached");
}

#[tokio::test]
async fn an_expired_token_is_refreshed_in_normal_mode_and_the_call_retried() {
    let app = spawn_app().await;
    let wechat = &app.state.wechat;
    assert_eq!(
        wechat
            .phone_number("phone-13800001111")
            .await
            .expect("first"),
        "13800001111"
    );
    app.wechat.expire_token();
    assert_eq!(
        wechat
            .phone_number("phone-13800002222")
            .await
            .expect("retried"),
        "13800002222"
    );
    assert_eq!(app.wechat.calls("stable_token"), 2);
    assert_eq!(
        app.wechat.calls("getuserphonenumber"),
        3,
        "one refused, then retried once"
    );
    assert_eq!(
        app.wechat
            .force_refreshes
            .load(std::sync::atomic::Ordering::SeqCst),
        0,
        "normal mode sufficed"
    );
}

#[tokio::test]
async fn force_refresh_only_when_normal_mode_returns_the_failed_token_and_not_too_often() {
    let app = spawn_app().await;
    let wechat = &app.state.wechat;
    wechat
        .phone_number("phone-13800001111")
        .await
        .expect("first");
    app.wechat.revoke_current_token();
    assert!(
        wechat.phone_number("phone-13800002222").await.is_ok(),
        "forced once, then retried"
    );
    assert_eq!(
        app.wechat
            .force_refreshes
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    // Again within 30 s: forcing is not allowed, the call fails rather than burn the daily quota.
    app.wechat.revoke_current_token();
    assert!(wechat.phone_number("phone-13800003333").await.is_err());
    assert_eq!(
        app.wechat
            .force_refreshes
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn a_resident_binds_a_phone_that_staff_see_masked() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let r = app
        .post(
            "/api/v1/me/phone",
            &resident,
            json!({"code": "phone-13912345678"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["phone"].as_str()),
        (StatusCode::OK, Some("13912345678")),
        "{}",
        r.body
    );
    let r = app
        .post(
            "/api/v1/me/phone",
            &resident,
            json!({"code": "not-a-phone-code"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "wechat_code_invalid")
    );
    let mut body = complaint_at("noise", A1_POINT);
    body.as_object_mut().map(|o| o.remove("contact_phone"));
    let id = app.post("/api/v1/tickets", &resident, body).await.body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let as_admin = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ca_admin.1)
        .await
        .body;
    assert_eq!(as_admin["contact_phone"], "139****5678");
    let as_assignee = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.1)
        .await
        .body;
    assert_eq!(as_assignee["contact_phone"], "13912345678");
}

#[tokio::test]
async fn staff_bind_their_wechat_and_then_log_in_with_it() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let r = app
        .send(
            Method::POST,
            "/api/v1/auth/staff/wechat",
            None,
            Some(json!({"code": "gw-phone"})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "wechat_not_bound")
    );
    let r = app
        .post(
            "/api/v1/staff/me/wechat",
            &w.gw_a1.1,
            json!({"code": "gw-phone"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .send(
            Method::POST,
            "/api/v1/auth/staff/wechat",
            None,
            Some(json!({"code": "gw-phone"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["staff_id"].as_str()),
        (StatusCode::OK, Some(w.gw_a1.0.as_str())),
        "{}",
        r.body
    );
    let token = r.body["token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        app.get("/api/v1/work/tickets", &token).await.status,
        StatusCode::OK
    );
    // One WeChat account, one staff member.
    let r = app
        .post(
            "/api/v1/staff/me/wechat",
            &w.gw_a2.1,
            json!({"code": "gw-phone"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_exists")
    );
    // Residents cannot bind staff accounts.
    let resident = app.resident("r1").await;
    assert_eq!(
        app.post("/api/v1/staff/me/wechat", &resident, json!({"code": "x"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
