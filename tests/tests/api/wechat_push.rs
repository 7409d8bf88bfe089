//! WeChat's message push (issue 23, part 4) as WeChat's servers send it: the URL check, events
//! in JSON and XML, plain and safe mode; grants and refusals from the subscription popup,
//! delivery results; bad signatures, stale timestamps, foreign ciphertext and replays.
use qiaomen_api::config::Secret;
use qiaomen_tests::{wechat_push::*, *};
use reqwest::StatusCode;
use serde_json::json;

async fn push_app() -> TestApp {
    spawn_app_with(|s| {
        s.wechat.push_token = Secret::new(TOKEN);
        s.wechat.encoding_aes_key = Secret::new(AES_KEY);
    })
    .await
}

/// POSTs a push as WeChat would, `at` seconds since the epoch: plain (signed query) or safe
/// (the message encrypted, `msg_signature` over the ciphertext).
async fn push(app: &TestApp, body: &str, at: i64, nonce: &str, safe: bool) -> (StatusCode, String) {
    let ts = at.to_string();
    let mut query = vec![
        ("timestamp", ts.clone()),
        ("nonce", nonce.to_owned()),
        ("signature", sign(&[TOKEN, &ts, nonce])),
        ("openid", "ignored".to_owned()),
    ];
    let body = if safe {
        let encrypted = encrypt(AES_KEY, &app.settings.wechat.appid, body);
        query.push(("encrypt_type", "aes".into()));
        query.push(("msg_signature", sign(&[TOKEN, &ts, nonce, &encrypted])));
        json!({"ToUserName": "gh_test", "Encrypt": encrypted}).to_string()
    } else {
        body.to_owned()
    };
    send_push(app, &query, body).await
}

async fn send_push(app: &TestApp, query: &[(&str, String)], body: String) -> (StatusCode, String) {
    let resp = app
        .http
        .post(format!("{}/wechat/push?{}", app.base, encoded(query)))
        .body(body)
        .send()
        .await
        .expect("push");
    (resp.status(), resp.text().await.unwrap_or_default())
}

fn encoded(pairs: &[(&str, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn now(app: &TestApp) -> i64 {
    app.state.clock.now().timestamp()
}

fn popup_xml(openid: &str, template: &str, status: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
         <CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent><List>\
         <TemplateId><![CDATA[{template}]]></TemplateId><SubscribeStatusString><![CDATA[{status}]]></SubscribeStatusString>\
         <PopupScene>0</PopupScene></List></SubscribeMsgPopupEvent></xml>"
    )
}

#[tokio::test]
async fn the_push_url_is_checked_by_its_signature() {
    let app = push_app().await;
    let ts = now(&app).to_string();
    let good = sign(&[TOKEN, &ts, "n1"]);
    let check = |sig: String| {
        let (app, ts) = (&app, ts.clone());
        async move {
            let query = [
                ("signature", sig),
                ("timestamp", ts),
                ("nonce", "n1".into()),
                ("echostr", "echo-123".into()),
            ];
            let resp = app
                .http
                .get(format!("{}/wechat/push?{}", app.base, encoded(&query)))
                .send()
                .await
                .expect("check");
            (resp.status(), resp.text().await.unwrap_or_default())
        }
    };
    assert_eq!(
        check(good.clone()).await,
        (StatusCode::OK, "echo-123".to_owned())
    );
    // A signed query is used once: replayed, it is refused.
    assert_eq!(check(good).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(check("0".repeat(40)).await.0, StatusCode::UNAUTHORIZED);
    // Without a push token configured there is no push endpoint.
    let plain = spawn_app().await;
    let resp = plain
        .http
        .get(format!(
            "{}/wechat/push?signature=x&timestamp=1&nonce=n&echostr=e",
            plain.base
        ))
        .send()
        .await
        .expect("check");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn popup_events_grant_and_refuse_in_xml_and_json_plain_and_safe() {
    let app = push_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("push-r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    app.act(&id, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(app.send_notifications().await.waiting, 1, "no grant yet");

    // A forged push (wrong signature), a stale one and foreign ciphertext change nothing.
    let xml = popup_xml("openid-push-r1", "REPLACE-accepted", "accept");
    let ts = now(&app).to_string();
    let forged = vec![
        ("timestamp", ts.clone()),
        ("nonce", "f1".to_owned()),
        ("signature", sign(&["not-the-token", &ts, "f1"])),
    ];
    assert_eq!(
        send_push(&app, &forged, xml.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        push(&app, &xml, now(&app) - 600, "old", false).await.0,
        StatusCode::UNAUTHORIZED
    );
    let foreign = encrypt(AES_KEY, "wx-someone-else", &xml);
    let query = vec![
        ("timestamp", ts.clone()),
        ("nonce", "f2".to_owned()),
        ("encrypt_type", "aes".to_owned()),
        ("msg_signature", sign(&[TOKEN, &ts, "f2", &foreign])),
    ];
    let body = json!({"Encrypt": foreign}).to_string();
    assert_eq!(
        send_push(&app, &query, body).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.send_notifications().await.sent, 0);
    assert!(app.wechat.sent_to("openid-push-r1").is_empty());

    // With an EncodingAESKey configured, a plain body under a valid query signature (which does
    // not cover the body) is refused.
    assert_eq!(
        push(&app, &xml, now(&app), "plain", false).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.send_notifications().await.sent, 0);

    // The popup's accept, XML in safe mode: the waiting message goes.
    let sent_at = now(&app);
    assert_eq!(
        push(&app, &xml, sent_at, "p1", true).await,
        (StatusCode::OK, "success".to_owned())
    );
    assert_eq!(app.send_notifications().await.sent, 1);
    assert_eq!(app.wechat.sent_to("openid-push-r1").len(), 1);
    // The same push again (WeChat retries: the same timestamp and nonce) grants nothing more.
    assert_eq!(
        push(&app, &xml, sent_at, "p1", true).await.0,
        StatusCode::OK
    );
    let again = app.new_ticket(&resident, "noise", A1_POINT).await;
    app.act(&again, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(
        app.send_notifications().await.waiting,
        1,
        "a replay is no second grant"
    );

    // Safe mode, JSON: accept for `accepted`, reject for `resolved`.
    let json_event = json!({
        "ToUserName": "gh_test", "FromUserName": "openid-push-r1", "CreateTime": 1700000000,
        "MsgType": "event", "Event": "subscribe_msg_popup_event",
        "List": [
            {"TemplateId": "REPLACE-accepted", "SubscribeStatusString": "accept", "PopupScene": "0"},
            {"TemplateId": "REPLACE-resolved", "SubscribeStatusString": "reject", "PopupScene": "0"}
        ]
    });
    assert_eq!(
        push(&app, &json_event.to_string(), now(&app), "s1", true).await,
        (StatusCode::OK, "success".to_owned())
    );
    assert_eq!(
        app.send_notifications().await.sent,
        1,
        "the second accepted message went"
    );
    app.act(&again, "resolve", &w.gw_a1, json!({"note": "已处理"}))
        .await;
    assert_eq!(
        app.send_notifications().await.waiting,
        1,
        "resolved was refused: it waits"
    );
    assert_eq!(app.wechat.sent_to("openid-push-r1").len(), 2);
}

#[tokio::test]
async fn sent_events_record_what_became_of_a_message() {
    let app = push_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("push-r2").await;
    app.post(
        "/api/v1/me/subscriptions",
        &resident,
        json!({"template_ids": ["REPLACE-accepted"]}),
    )
    .await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    app.act(&id, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(app.send_notifications().await.sent, 1);
    // The fake numbers the messages it accepts from 1_700_000_000_000_000_001.
    let msgid = "1700000000000000001";
    let event = json!({
        "FromUserName": "openid-push-r2", "Event": "subscribe_msg_sent_event", "MsgType": "event",
        "List": {"TemplateId": "REPLACE-accepted", "MsgID": msgid, "ErrorCode": "0", "ErrorStatus": "success"}
    });
    assert_eq!(
        push(&app, &event.to_string(), now(&app), "d1", true)
            .await
            .0,
        StatusCode::OK
    );
    let sent = app.outbox(&format!("status=sent&ticket_id={id}")).await;
    let resident_message = sent
        .iter()
        .find(|m| m["recipient_kind"] == "resident")
        .expect("the resident's message");
    assert_eq!(resident_message["delivery"], "delivered", "{sent:?}");
}

/// Plain mode (no EncodingAESKey): the query's signature is checked before the body is read;
/// XML nested far deeper than an event is refused without being walked.
#[tokio::test]
async fn plain_mode_checks_the_signature_first_and_refuses_deep_xml() {
    let app = spawn_app_with(|s| s.wechat.push_token = Secret::new(TOKEN)).await;
    let w = World::build(&app).await;
    let resident = app.resident("plain-r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    app.act(&id, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(app.send_notifications().await.waiting, 1);
    let deep = format!("{}{}", "<a>".repeat(50_000), "</a>".repeat(50_000));
    let ts = now(&app).to_string();
    let unsigned = vec![("timestamp", ts.clone()), ("nonce", "d1".to_owned())];
    assert_eq!(
        send_push(&app, &unsigned, deep.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        push(&app, &deep, now(&app), "d2", false).await.0,
        StatusCode::UNAUTHORIZED,
        "signed, but no event"
    );
    let xml = popup_xml("openid-plain-r1", "REPLACE-accepted", "accept");
    assert_eq!(
        push(&app, &xml, now(&app), "ok1", false).await,
        (StatusCode::OK, "success".to_owned())
    );
    assert_eq!(app.send_notifications().await.sent, 1);
}
