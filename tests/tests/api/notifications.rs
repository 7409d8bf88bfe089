//! Notifications that reach people (issue 23): the inbox as the channel of record, messages that
//! wait for a grant, long-term subscriptions, and delivery once across senders — expired claims,
//! one grant for many messages, a sender stopped mid-batch.
use std::sync::atomic::{AtomicUsize, Ordering};

use entity::notification_outbox::Column;
use qiaomen_api::services::outbox::drain;
use qiaomen_tests::*;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

fn kinds(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|n| n["kind"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn every_message_is_in_its_recipients_inbox_and_only_theirs() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("inbox-r1").await;
    let other = app.resident("inbox-r2").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    // A refused action writes nothing, to the inbox either.
    let r = app.act(&id, "accept", &w.gw_b1, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(kinds(&app.get("/api/v1/me/notifications", &resident).await.body).is_empty());
    app.act(&id, "accept", &w.gw_a1, json!({})).await;
    app.act(&id, "resolve", &w.gw_a1, json!({"note": "已处理"}))
        .await;

    let r = app.get("/api/v1/me/notifications", &resident).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(kinds(&r.body), ["resolved", "accepted"], "newest first");
    assert_eq!(r.body["unread_count"], 2);
    let first = &r.body["items"][0];
    assert_eq!(first["title"], "您的诉求已办结，请评价");
    assert_eq!(first["ticket_id"], id.as_str());
    assert_eq!(first["read"], false);
    assert!(
        first["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("工单 QM-"))
    );
    let staff = app
        .get("/api/v1/staff/me/notifications", &w.gw_a1.token)
        .await;
    assert_eq!(kinds(&staff.body), ["assigned"], "{}", staff.body);
    assert!(kinds(&app.get("/api/v1/me/notifications", &other).await.body).is_empty());
    // A resident's token is no staff inbox, and the other way round.
    assert_eq!(
        app.get("/api/v1/staff/me/notifications", &resident)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Pages: one at a time, the cursor carries on; a forged cursor is refused.
    let p1 = app.get("/api/v1/me/notifications?limit=1", &resident).await;
    assert_eq!(kinds(&p1.body), ["resolved"]);
    let cursor = p1.body["next_cursor"].as_str().expect("more").to_owned();
    let p2 = app
        .get(
            &format!("/api/v1/me/notifications?limit=1&cursor={cursor}"),
            &resident,
        )
        .await;
    assert_eq!(kinds(&p2.body), ["accepted"]);
    assert_eq!(p2.body["next_cursor"], Value::Null);
    let bad = app
        .get("/api/v1/me/notifications?cursor=bm9wZQ", &resident)
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid_cursor")
    );

    // Marking read: someone else's ids change nothing; one, then all.
    let staff_id = staff.body["items"][0]["id"]
        .as_str()
        .expect("present")
        .to_owned();
    let r = app
        .post(
            "/api/v1/me/notifications/read",
            &resident,
            json!({"ids": [staff_id]}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["unread_count"].as_u64()),
        (StatusCode::OK, Some(2))
    );
    let theirs = app
        .get("/api/v1/staff/me/notifications?unread=true", &w.gw_a1.token)
        .await;
    assert_eq!(theirs.body["unread_count"], 1, "still unread for its owner");
    let one = p1.body["items"][0]["id"]
        .as_str()
        .expect("present")
        .to_owned();
    let r = app
        .post(
            "/api/v1/me/notifications/read",
            &resident,
            json!({"ids": [one]}),
        )
        .await;
    assert_eq!(r.body["unread_count"], 1);
    let unread = app
        .get("/api/v1/me/notifications?unread=true", &resident)
        .await;
    assert_eq!(kinds(&unread.body), ["accepted"]);
    let r = app
        .post("/api/v1/me/notifications/read", &resident, json!({}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field")
    );
    let r = app
        .post(
            "/api/v1/me/notifications/read",
            &resident,
            json!({"all": true}),
        )
        .await;
    assert_eq!(r.body["unread_count"], 0);
    let all = app.get("/api/v1/me/notifications", &resident).await;
    assert!(
        all.body["items"]
            .as_array()
            .expect("present")
            .iter()
            .all(|n| n["read"] == true)
    );
}

#[tokio::test]
async fn a_message_waits_for_its_grant_and_the_newest_goes_when_granted() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("wait-r1").await;
    let r = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await;
    assert_eq!(r.body["suggest_subscribe"], json!(["accepted", "resolved"]));
    let id = r.body["id"].as_str().expect("present").to_owned();
    // Resolved, reopened by an unsatisfied rating, resolved again: two `resolved` messages.
    for _ in 0..2 {
        app.act(&id, "accept", &w.gw_a1, json!({})).await;
        let r = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
        assert_eq!(r.body["suggest_subscribe"], json!(["resolved"]));
        app.act(&id, "resolve", &w.gw_a1, json!({"note": "已处理"}))
            .await;
        app.send_notifications().await;
        if app
            .get(&format!("/api/v1/tickets/{id}"), &resident)
            .await
            .body["reopen_count"]
            == 0
        {
            app.post(
                &format!("/api/v1/tickets/{id}/rating"),
                &resident,
                json!({"level": "unsatisfied"}),
            )
            .await;
        }
    }
    let waiting = app
        .outbox(&format!("status=waiting_grant&ticket_id={id}"))
        .await;
    let events: Vec<&str> = waiting.iter().filter_map(|m| m["event"].as_str()).collect();
    assert_eq!(
        events.iter().filter(|e| **e == "resolved").count(),
        2,
        "{waiting:?}"
    );
    assert_eq!(
        events.iter().filter(|e| **e == "accepted").count(),
        2,
        "{waiting:?}"
    );
    assert!(
        waiting
            .iter()
            .all(|m| m["channel"] == "wechat" && m["wait_until"].is_string())
    );
    assert!(
        app.wechat.sent_to("openid-wait-r1").is_empty(),
        "nothing sent without a grant"
    );

    // The resident grants 办结提醒: the newest `resolved` goes, the older is superseded.
    let r = app
        .post(
            "/api/v1/me/subscriptions",
            &resident,
            json!({"template_ids": ["REPLACE-resolved"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.send_notifications().await.sent, 1);
    let sent = app.wechat.sent_to("openid-wait-r1");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["template_id"], "REPLACE-resolved");
    let resolved = app.outbox(&format!("ticket_id={id}")).await;
    let resolved: Vec<&Value> = resolved
        .iter()
        .filter(|m| m["event"] == "resolved")
        .collect();
    assert_eq!(resolved[0]["status"], "sent", "the newest: {resolved:?}");
    assert_eq!(resolved[1]["status"], "skipped", "{resolved:?}");
    assert!(
        resolved[1]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("superseded"))
    );

    // `accepted` was never granted: after the wait it is given up, still in the inbox.
    app.clock.advance(chrono::Duration::days(8));
    app.send_notifications().await;
    assert!(
        app.outbox(&format!("status=waiting_grant&ticket_id={id}"))
            .await
            .is_empty()
    );
    let inbox = app.get("/api/v1/me/notifications", &resident).await;
    assert_eq!(
        kinds(&inbox.body)
            .iter()
            .filter(|k| *k == "accepted")
            .count(),
        2
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"qiaomen_notifications_total{channel="wechat",result="sent"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_long_term_template_is_not_used_up() {
    let app = spawn_app_with(|s| {
        if let Some(t) = s.notifications.templates.get_mut("accepted") {
            t.long_term = true;
        }
    })
    .await;
    let w = World::build(&app).await;
    let resident = app.resident("long-r1").await;
    app.post(
        "/api/v1/me/subscriptions",
        &resident,
        json!({"template_ids": ["REPLACE-accepted"]}),
    )
    .await;
    for _ in 0..3 {
        let id = app.new_ticket(&resident, "noise", A1_POINT).await;
        app.act(&id, "accept", &w.gw_a1, json!({})).await;
    }
    app.send_notifications().await;
    assert_eq!(app.wechat.sent_to("openid-long-r1").len(), 3);
}

/// Three senders on one database: messages whose claims expired (a node died mid-send) go once;
/// one grant lets one of many messages through; a stopped sender leaves nothing claimed.
#[tokio::test]
async fn three_senders_deliver_every_message_once() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let (b, c) = (app.peer().await, app.peer().await);
    app.post(
        "/api/v1/staff/me/wechat",
        &w.gw_a1.token,
        json!({"code": "gw-a1-wx"}),
    )
    .await;
    // (a) 12 assignments to the worker, left `sending` with expired claims by a dead node.
    let resident = app.resident("claims-r1").await;
    for _ in 0..12 {
        app.new_ticket(&resident, "noise", A1_POINT).await;
    }
    let past = app.state.clock.now() - chrono::Duration::minutes(5);
    entity::notification_outbox::Entity::update_many()
        .col_expr(Column::Status, Expr::value("sending"))
        .col_expr(Column::ClaimToken, Expr::value("dead-node"))
        .col_expr(Column::ClaimedUntil, Expr::value(past))
        .filter(Column::RecipientKind.eq("staff"))
        .exec(&app.state.db)
        .await
        .expect("a dead node's claims");
    let (x, y, z) = tokio::join!(
        app.send_notifications(),
        b.send_notifications(),
        c.send_notifications()
    );
    assert_eq!(x.sent + y.sent + z.sent, 12, "{x:?} {y:?} {z:?}");
    assert_eq!(app.wechat.sent_to("openid-gw-a1-wx").len(), 12, "each once");

    // (b) one grant, five messages of its template: one goes, four wait.
    let granted = app.resident("claims-r2").await;
    app.post(
        "/api/v1/me/subscriptions",
        &granted,
        json!({"template_ids": ["REPLACE-accepted"]}),
    )
    .await;
    for _ in 0..5 {
        let id = app.new_ticket(&granted, "noise", A1_POINT).await;
        app.act(&id, "accept", &w.gw_a1, json!({})).await;
    }
    let (x, y, z) = tokio::join!(
        app.send_notifications(),
        b.send_notifications(),
        c.send_notifications()
    );
    assert_eq!(
        app.wechat.sent_to("openid-claims-r2").len(),
        1,
        "one grant, one message"
    );
    assert_eq!(x.waiting + y.waiting + z.waiting, 4);

    // (c) a sender told to stop after its first message: the rest stay due, not claimed, and
    // another sender delivers them once.
    for _ in 0..6 {
        app.new_ticket(&resident, "noise", A1_POINT).await;
    }
    let before = app.wechat.sent_to("openid-gw-a1-wx").len();
    let taken = AtomicUsize::new(0);
    let ctx = app.state.ctx();
    let stopped = drain(&ctx, &|| taken.fetch_add(1, Ordering::SeqCst) >= 1)
        .await
        .expect("drain");
    assert_eq!(stopped.sent, 1, "{stopped:?}");
    assert!(
        app.outbox("status=sending").await.is_empty(),
        "nothing left claimed"
    );
    let rest = b.send_notifications().await;
    assert_eq!(rest.sent, 5, "{rest:?}");
    assert_eq!(app.wechat.sent_to("openid-gw-a1-wx").len(), before + 6);
}
