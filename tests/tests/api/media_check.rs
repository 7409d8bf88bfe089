//! Residents' photos are checked too (issue 23, part 6): each upload goes to WeChat's
//! `media_check_async` with a signed URL WeChat can fetch; until the verdict comes the photo is
//! its owner's and staff's alone; a `risky` verdict (the `wxa_media_check` push) hides it from
//! residents and the public and flags the ticket for `/work/moderation`.
use qiaomen_api::config::Secret;
use qiaomen_tests::{wechat_push::*, *};
use reqwest::StatusCode;
use serde_json::json;

fn png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(64, 48, image::Rgb([200, 30, 30]))
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// A push of WeChat's verdict on `trace_id`, in safe mode as WeChat sends it.
async fn verdict(app: &TestApp, trace_id: &str, suggest: &str) -> StatusCode {
    let ts = app.state.clock.now().timestamp().to_string();
    let nonce = format!("m-{trace_id}");
    let event = json!({
        "ToUserName": "gh_test", "FromUserName": "ignored", "CreateTime": 1700000000,
        "MsgType": "event", "Event": "wxa_media_check", "appid": app.settings.wechat.appid,
        "trace_id": trace_id, "version": 2, "errcode": 0, "errmsg": "ok",
        "result": {"suggest": suggest, "label": if suggest == "risky" { 20002 } else { 100 }},
        "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest}]
    });
    let encrypted = encrypt(AES_KEY, &app.settings.wechat.appid, &event.to_string());
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("timestamp", &ts)
        .append_pair("nonce", &nonce)
        .append_pair("signature", &sign(&[TOKEN, &ts, &nonce]))
        .append_pair("encrypt_type", "aes")
        .append_pair("msg_signature", &sign(&[TOKEN, &ts, &nonce, &encrypted]))
        .finish();
    app.http
        .post(format!("{}/wechat/push?{query}", app.base))
        .body(json!({"ToUserName": "gh_test", "Encrypt": encrypted}).to_string())
        .send()
        .await
        .expect("push")
        .status()
}

#[tokio::test]
async fn a_residents_photo_is_checked_by_wechat_and_a_risky_one_hidden_and_flagged() {
    let first = spawn_app_with(|s| {
        s.content_safety.enabled = true;
        s.wechat.push_token = Secret::new(TOKEN);
        s.wechat.encoding_aes_key = Secret::new(AES_KEY);
    })
    .await;
    // The node residents reach names the public address WeChat fetches photos from.
    let app = first
        .peer_with(|s| s.content_safety.public_base_url = first.base.clone())
        .await;
    let w = World::build(&app).await;
    let alice = app.resident("media-alice").await;
    let bob = app.resident("media-bob").await;

    let upload = |who: String| {
        let app = &app;
        async move {
            let r = app.upload(&who, "p.png", "image/png", &png()).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body["id"].as_str().expect("id").to_owned()
        }
    };
    let photo = upload(alice.clone()).await;
    let checks = app
        .wechat
        .media_checks
        .lock()
        .map(|c| c.clone())
        .unwrap_or_default();
    assert_eq!(checks.len(), 1, "the upload went to media_check_async");
    let (trace_id, url, status, size) = checks[0].clone();
    assert!(url.starts_with(&first.base), "{url}");
    assert_eq!(
        (status, size > 0),
        (200, true),
        "WeChat could fetch the photo"
    );

    let mut body = complaint_at("noise", A1_POINT);
    body["attachment_ids"] = json!([photo]);
    body["public"] = json!(true);
    let r = app.post("/api/v1/tickets", &alice, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    let photos = |token: String| {
        let (app, id) = (&app, id.clone());
        async move {
            let r = app.get(&format!("/api/v1/tickets/{id}"), &token).await;
            r.body["attachments"].as_array().map(Vec::len).unwrap_or(0)
        }
    };
    // Pending: the owner and the grid worker see it.
    assert_eq!(photos(alice.clone()).await, 1);
    assert_eq!(photos(w.gw_a1.token.clone()).await, 1);
    // WeChat says pass: nothing changes for them, and the ticket is not flagged.
    assert_eq!(verdict(&first, &trace_id, "pass").await, StatusCode::OK);
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    assert_eq!(t.body["moderation"], serde_json::Value::Null, "{}", t.body);

    // A second photo, risky: hidden from its owner's ticket view, the ticket flagged.
    let risky = upload(bob.clone()).await;
    let trace = app
        .wechat
        .media_checks
        .lock()
        .map(|c| c[1].0.clone())
        .expect("second check");
    let mut body = complaint_at("noise", A1_POINT);
    body["attachment_ids"] = json!([risky]);
    let r = app.post("/api/v1/tickets", &bob, body).await;
    let risky_ticket = r.body["id"].as_str().expect("id").to_owned();
    assert_eq!(verdict(&first, &trace, "risky").await, StatusCode::OK);
    let r = app
        .get(&format!("/api/v1/tickets/{risky_ticket}"), &bob)
        .await;
    assert_eq!(r.body["attachments"], json!([]), "{}", r.body);
    let flagged = app.get("/api/v1/work/moderation", &w.gw_a1.token).await;
    assert!(
        flagged.body.to_string().contains(&risky_ticket),
        "flagged for moderation: {}",
        flagged.body
    );
    // Fetching it by id is refused to the resident too.
    let (status, _) = app
        .fetch_bytes(&format!("/api/v1/attachments/{risky}"), &bob)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
