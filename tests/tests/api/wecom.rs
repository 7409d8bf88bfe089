//! Staff messages through 企业微信 (issue 23, part 5), against a fake that answers like the real
//! one: text cards that open the console's ticket page, the token refreshed when it expires,
//! no-permission and invalid-user errors recorded without retrying, an outage waited out, two
//! senders, each message once.
use qiaomen_api::services::outbox::DrainReport;
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn bind(app: &TestApp, who: &Person, userid: &str) -> Reply {
    app.patch(
        &format!("/api/v1/admin/staff/{}", who.id),
        &app.admin_token,
        json!({"wecom_userid": userid}),
    )
    .await
}

async fn staff_messages(app: &TestApp, ticket: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/api/v1/admin/outbox?ticket_id={ticket}"),
            &app.admin_token,
        )
        .await;
    r.body
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|m| m["recipient_kind"] == "staff")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn staff_messages_go_to_wecom_as_cards_that_open_the_console() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    app.wecom.add_member("zhang-san");
    let r = bind(&app, &w.gw_a1, "zhang-san").await;
    assert_eq!(
        (r.status, &r.body["wecom_userid"]),
        (StatusCode::OK, &json!("zhang-san")),
        "{}",
        r.body
    );
    // Only what 企业微信 takes as one member: no `@all`, no `|` lists, no spaces or markup.
    for bad in ["@all", "gw01|gw02", "zhang san", "<b>x</b>", "-lead"] {
        let r = bind(&app, &w.gw_a2, bad).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            "{bad}"
        );
    }
    // 企业微信 compares userids without case; a refused userid changes no status either.
    let r = app
        .patch(
            &format!("/api/v1/admin/staff/{}", w.gw_a2.id),
            &app.admin_token,
            json!({"status": "on_leave", "wecom_userid": "Zhang-San"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_exists")
    );
    let r = app
        .get(
            &format!("/api/v1/admin/staff/{}", w.gw_a2.id),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        r.body["status"], "active",
        "nothing half-applied: {}",
        r.body
    );
    let r = bind(&app, &w.gw_a2, "zhang-san").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_exists"),
        "one member per userid"
    );
    // A worker cannot bind one for themselves.
    let r = app
        .patch(
            &format!("/api/v1/admin/staff/{}", w.gw_a1.id),
            &w.gw_a1.token,
            json!({"wecom_userid": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let resident = app.resident("wecom-r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    assert_eq!(
        app.send_notifications().await.sent,
        1,
        "the assignment, through 企业微信"
    );
    let cards = app.wecom.sent_to("zhang-san");
    assert_eq!(cards.len(), 1);
    let card = &cards[0]["textcard"];
    assert_eq!(card["title"], "有新工单待您处理");
    assert_eq!(
        card["url"],
        format!("https://qiaomen.test/console/tickets/{id}")
    );
    assert!(
        card["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("工单 QM-"))
    );
    let messages = staff_messages(&app, &id).await;
    assert_eq!(messages[0]["channel"], "wecom");
    assert_eq!(messages[0]["status"], "sent");
    // The ticket's staff view says the same; the resident's has no such part.
    let staff_view = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    let shown = staff_view.body["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        shown
            .iter()
            .any(|m| m["event"] == "assigned" && m["channel"] == "wecom" && m["status"] == "sent"),
        "{shown:?}"
    );
    let own = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
    assert!(own.body.get("notifications").is_none(), "{}", own.body);

    // Unbound again: the next message is the inbox's alone, and says so.
    let r = bind(&app, &w.gw_a1, "").await;
    assert_eq!(r.body["wecom_userid"], Value::Null);
    app.act(&id, "accept", &w.gw_a1, json!({})).await;
    app.act(&id, "resolve", &w.gw_a1, json!({"note": "已处理"}))
        .await;
    app.post(
        &format!("/api/v1/tickets/{id}/rating"),
        &resident,
        json!({"level": "unsatisfied"}),
    )
    .await;
    app.send_notifications().await;
    let reopened = staff_messages(&app, &id)
        .await
        .into_iter()
        .find(|m| m["event"] == "reopened")
        .expect("the reopening");
    assert_eq!(
        (&reopened["status"], &reopened["channel"]),
        (&json!("skipped"), &json!("inbox"))
    );
    assert_eq!(app.wecom.sent_to("zhang-san").len(), 1);
}

#[tokio::test]
async fn wecom_tokens_errors_and_outages_leave_each_message_sent_once() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let peer = app.peer().await;
    app.wecom.add_member("li-si");
    app.wecom.add_member("wang-wu");
    bind(&app, &w.gw_a1, "li-si").await;
    bind(&app, &w.gw_a2, "wang-wu").await;
    let resident = app.resident("wecom-r2").await;

    app.new_ticket(&resident, "noise", A1_POINT).await;
    assert_eq!(app.send_notifications().await.sent, 1);
    // The token expires: 42001, a new token, the message sent once.
    app.wecom.expire_token();
    app.new_ticket(&resident, "noise", A1_POINT).await;
    assert_eq!(app.send_notifications().await.sent, 1);
    assert_eq!(app.wecom.sent_to("li-si").len(), 2);
    assert_eq!(
        app.wecom.calls("gettoken"),
        2,
        "fetched again only after it expired"
    );

    // No permission (the application cannot see wang-wu) and a member who left: recorded, final.
    app.wecom.hide("wang-wu");
    let hidden = app.new_ticket(&resident, "noise", A2_POINT).await;
    let r = app.send_notifications().await;
    assert_eq!(r.failed, 1, "{r:?}");
    let failed = staff_messages(&app, &hidden).await;
    assert!(
        failed[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("60011")),
        "{failed:?}"
    );
    bind(&app, &w.gw_a2, "gone-user").await;
    let gone = app.new_ticket(&resident, "noise", A2_POINT).await;
    app.send_notifications().await;
    let failed = staff_messages(&app, &gone).await;
    assert!(
        failed[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("81013")),
        "{failed:?}"
    );
    let calls = app.wecom.calls("message_send");
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(
        app.send_notifications().await,
        DrainReport::default(),
        "final errors are not retried"
    );
    assert_eq!(app.wecom.calls("message_send"), calls);

    // An outage: held back by both senders, then sent once when 企业微信 returns.
    app.wecom
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    for _ in 0..4 {
        app.new_ticket(&resident, "noise", A1_POINT).await;
    }
    let (a, b) = tokio::join!(app.send_notifications(), peer.send_notifications());
    assert_eq!((a.sent + b.sent, a.retried + b.retried), (0, 4));
    app.wecom
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    app.clock.advance(chrono::Duration::hours(1));
    let (a, b) = tokio::join!(app.send_notifications(), peer.send_notifications());
    assert_eq!(a.sent + b.sent, 4, "{a:?} {b:?}");
    assert_eq!(app.wecom.sent_to("li-si").len(), 6);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"qiaomen_notifications_total{channel="wecom",result="failed"} 2"#),
        "{metrics}"
    );
}
