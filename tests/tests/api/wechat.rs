//! WeChat for real (issue 4): the central access token, phone binding, staff WeChat login.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

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
    // The bound phone is offered, not copied: a ticket without a chosen phone carries none.
    let mut body = complaint_at("noise", A1_POINT);
    body.as_object_mut().map(|o| o.remove("contact_phone"));
    let bare = app.post("/api/v1/tickets", &resident, body).await.body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let r = app
        .get(&format!("/api/v1/tickets/{bare}"), &w.gw_a1.token)
        .await;
    assert_eq!(r.body["contact_phone"], Value::Null, "{}", r.body);
    // The resident chose it for this one.
    let mut body = complaint_at("noise", A1_POINT);
    body["contact_phone"] = json!("13912345678");
    let id = app.post("/api/v1/tickets", &resident, body).await.body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let as_admin = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ca_admin.token)
        .await
        .body;
    assert_eq!(as_admin["contact_phone"], "139****5678");
    let as_assignee = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await
        .body;
    assert_eq!(as_assignee["contact_phone"], "139****5678");
}

#[tokio::test]
async fn staff_bind_their_wechat_and_then_log_in_with_it() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let r = app
        .post_anonymous("/api/v1/auth/staff/wechat", json!({"code": "gw-phone"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "wechat_not_bound")
    );
    let r = app
        .post(
            "/api/v1/staff/me/wechat",
            &w.gw_a1.token,
            json!({"code": "gw-phone"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post_anonymous("/api/v1/auth/staff/wechat", json!({"code": "gw-phone"}))
        .await;
    assert_eq!(
        (r.status, r.body["staff_id"].as_str()),
        (StatusCode::OK, Some(w.gw_a1.id.as_str())),
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
            &w.gw_a2.token,
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

#[tokio::test]
async fn messages_wait_out_a_wechat_outage_and_arrive_once_with_two_senders() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let peer = app.peer().await;
    let resident = app.resident("r1").await;
    let r = app
        .post(
            "/api/v1/me/subscriptions",
            &resident,
            json!({"template_ids": ["REPLACE-accepted", "REPLACE-resolved"]}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["granted"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{}",
        r.body
    );
    app.post(
        "/api/v1/staff/me/wechat",
        &w.gw_a1.token,
        json!({"code": "gw-a1-wx"}),
    )
    .await;

    app.wechat
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let id = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.act(&id, "accept", &w.gw_a1, json!({})).await;
    let (a, b) = tokio::join!(app.send_notifications(), peer.send_notifications());
    assert_eq!(
        a.retried + b.retried,
        2,
        "assigned (worker) and accepted (resident), both held back"
    );
    assert_eq!(a.sent + b.sent, 0);
    assert_eq!(app.outbox("status=pending").await.len(), 2);

    // Still down at the next attempt; then WeChat returns.
    app.clock.advance(chrono::Duration::hours(1));
    let (a, b) = tokio::join!(app.send_notifications(), peer.send_notifications());
    assert_eq!(a.retried + b.retried, 2);
    app.wechat
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    app.clock.advance(chrono::Duration::hours(2));
    let (a, b) = tokio::join!(app.send_notifications(), peer.send_notifications());
    assert_eq!(a.sent + b.sent, 2, "{a:?} {b:?}");
    assert_eq!(app.wechat.sent_to("openid-r1").len(), 1);
    assert_eq!(app.wechat.sent_to("openid-gw-a1-wx").len(), 1);
    let message = &app.wechat.sent_to("openid-r1")[0];
    assert_eq!(message["template_id"], "REPLACE-accepted");
    assert_eq!(message["data"]["phrase3"]["value"], "已受理");
    assert!(
        message["data"]["thing2"]["value"]
            .as_str()
            .is_some_and(|v| v.chars().count() <= 20)
    );
    assert!(message["page"].as_str().is_some_and(|p| p.contains(&id)));
    // Nothing more to send, by either node.
    app.clock.advance(chrono::Duration::days(1));
    let (a, b) = tokio::join!(app.send_notifications(), peer.send_notifications());
    assert_eq!((a, b), Default::default());
    assert_eq!(app.outbox("status=sent").await.len(), 2);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"qiaomen_outbox_messages{status="sent"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn final_errors_are_recorded_not_retried_and_grants_are_respected() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    app.post(
        "/api/v1/me/subscriptions",
        &resident,
        json!({"template_ids": ["REPLACE-accepted"]}),
    )
    .await;
    app.wechat.fail_sends("openid-r1", 43101, 0);
    let id = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.act(&id, "accept", &w.gw_a1, json!({})).await;
    let report = app.send_notifications().await;
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(report.skipped, 1, "the worker has no bound WeChat");
    let failed = app.outbox("status=failed").await;
    assert!(
        failed[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("43101")),
        "{failed:?}"
    );
    let sends = app.wechat.calls("subscribe_send");
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(app.send_notifications().await, Default::default());
    assert_eq!(app.wechat.calls("subscribe_send"), sends, "not retried");

    // Without an unused grant nothing is sent: resolved was never granted, so it waits.
    app.act(&id, "resolve", &w.gw_a1, json!({"note": "已处理"}))
        .await;
    assert_eq!(app.send_notifications().await.waiting, 1);
    let waiting = app.outbox("status=waiting_grant").await;
    assert!(
        waiting.iter().any(|m| m["event"] == "resolved"),
        "{waiting:?}"
    );
    let skipped = app.outbox("status=skipped").await;
    assert!(
        skipped
            .iter()
            .all(|m| m["recipient_kind"] == "staff" && m["channel"] == "inbox"),
        "{skipped:?}"
    );
}

#[tokio::test]
async fn content_safety_refuses_risky_text_and_flags_what_it_cannot_pass() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let with = |text: &str| {
        let mut body = complaint_at("noise", A1_POINT);
        body["description"] = json!(text);
        body
    };
    let r = app
        .post("/api/v1/tickets", &resident, with("RISKY 内容"))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "content_rejected"),
        "{}",
        r.body
    );
    assert_eq!(
        app.count("/api/v1/tickets", &resident).await,
        0,
        "nothing stored"
    );

    let review = app
        .post(
            "/api/v1/tickets",
            &resident,
            with("REVIEW 这段需要人工看看"),
        )
        .await;
    assert_eq!(
        (review.status, review.body["moderation"].as_str()),
        (StatusCode::CREATED, Some("review"))
    );
    let inactive = app
        .post(
            "/api/v1/tickets",
            &resident,
            with("INACTIVE 用户两小时内未活跃"),
        )
        .await;
    assert_eq!(inactive.body["moderation"], "unchecked");
    app.wechat
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let down = app
        .post("/api/v1/tickets", &resident, with("微信宕机时提交"))
        .await;
    assert_eq!(
        (down.status, down.body["moderation"].as_str()),
        (StatusCode::CREATED, Some("unchecked"))
    );
    app.wechat
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let clean = app
        .post("/api/v1/tickets", &resident, with("楼道灯坏了"))
        .await;
    assert!(clean.body["moderation"].is_null());
    let clean_id = clean.body["id"].as_str().unwrap_or_default().to_owned();
    let r = app
        .post(
            &format!("/api/v1/tickets/{clean_id}/comments"),
            &resident,
            json!({"text": "RISKY 补充"}),
        )
        .await;
    assert_eq!(r.code(), "content_rejected");
    let r = app
        .post(
            &format!("/api/v1/tickets/{clean_id}/comments"),
            &resident,
            json!({"text": "REVIEW 补充"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);

    let flagged = app
        .get("/api/v1/work/moderation", &w.gw_a1.token)
        .await
        .body;
    assert_eq!(
        flagged["items"].as_array().map(Vec::len),
        Some(4),
        "review, unchecked twice, and the flagged comment's ticket"
    );
}

#[tokio::test]
async fn the_content_check_can_be_switched_off() {
    let app = spawn_app_with(|s| s.content_safety.enabled = false).await;
    World::build(&app).await;
    let resident = app.resident("r1").await;
    let mut body = complaint_at("noise", A1_POINT);
    body["description"] = json!("RISKY 但检测已关闭");
    let r = app.post("/api/v1/tickets", &resident, body).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(app.wechat.calls("msg_sec_check"), 0);
}

#[tokio::test]
async fn a_wechat_outage_leaves_no_secret_code_or_token_in_the_log_or_the_outbox() {
    logs::capture();
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    app.post(
        "/api/v1/me/subscriptions",
        &resident,
        json!({"template_ids": ["REPLACE-accepted"]}),
    )
    .await;
    // A token is fetched and cached (binding a phone uses one).
    let r = app
        .post(
            "/api/v1/me/phone",
            &resident,
            json!({"code": "phone-13800001111"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = app.wechat.current_token().expect("a token was minted");
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    app.act(&id, "accept", &w.gw_a1, json!({})).await;

    // WeChat hangs: the send and a login time out.
    app.wechat
        .stalled
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let report = app.send_notifications().await;
    assert_eq!(report.retried, 1, "{report:?}");
    let code = format!("slow-{}", uuid::Uuid::new_v4().simple());
    let r = app
        .post_anonymous("/api/v1/auth/wechat", json!({"code": code}))
        .await;
    assert_eq!(r.code(), "wechat_unavailable");

    let pending = app.outbox("status=pending").await;
    let error = pending[0]["last_error"].as_str().unwrap_or_default();
    assert!(!error.is_empty(), "the failure is recorded: {pending:?}");
    let log = logs::text();
    assert!(log.contains("wechat unavailable"), "the log was captured");
    for secret in [token.as_str(), code.as_str(), "wx-test-secret"] {
        assert!(!error.contains(secret), "{secret} in the outbox: {error}");
        assert!(!log.contains(secret), "{secret} in the log");
    }
}
