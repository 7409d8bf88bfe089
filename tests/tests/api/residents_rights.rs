//! Residents' rights under the PIPL (issue 24, items 2–4): a copy of one's data, leaving, and
//! retention, through the HTTP API with the test clock driving the scheduler.
use std::io::Read;

use qiaomen_api::scheduler::Scheduler;
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A ticket with a photo, a contact phone, an address with a room and personal details in its
/// text.
async fn detailed_ticket(app: &TestApp, resident: &str) -> (String, Vec<u8>) {
    let photo = samples::jpeg_with_exif();
    let up = app
        .upload(resident, "IMG_0001.jpg", "image/jpeg", &photo)
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let (_, stored) = app
        .fetch_bytes(up.body["url"].as_str().unwrap_or_default(), resident)
        .await;
    let mut body = complaint_at("noise", A1_POINT);
    body["description"] = json!("我叫张三，电话13912345678，楼下夜里施工很吵");
    body["address_text"] = json!("幸福里3号楼2单元501室");
    body["attachment_ids"] = json!([up.body["id"]]);
    let r = app.post("/api/v1/tickets", resident, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (r.body["id"].as_str().expect("id").to_owned(), stored)
}

/// Accepted, resolved and rated satisfied: closed.
async fn close(app: &TestApp, w: &World, id: &str, resident: &str) {
    let r = app.act(id, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .act(
            id,
            "resolve",
            &w.gw_a1,
            json!({"note": "已协调施工方夜间停工"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/rating"),
            resident,
            json!({"level": "satisfied", "score": 5, "comment": "张师傅处理及时"}),
        )
        .await;
    assert_eq!(r.body["status"], "closed", "{}", r.body);
}

fn unzip(bytes: &[u8]) -> (Value, Vec<(String, Vec<u8>)>) {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut data = Value::Null;
    let mut files = vec![];
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).expect("entry");
        let mut content = vec![];
        f.read_to_end(&mut content).expect("read entry");
        let name = f.name().expect("an entry name").into_owned();
        if name == "data.json" {
            data = serde_json::from_slice(&content).expect("data.json is JSON");
        } else {
            files.push((name, content));
        }
    }
    (data, files)
}

async fn download(app: &TestApp, token: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = app
        .http
        .get(format!("{}/api/v1/me/data", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("copy");
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, resp.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn a_resident_downloads_a_copy_of_everything_held_about_them() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let alice = app.resident("copy-alice").await;
    let bob = app.resident("copy-bob").await;
    let (id, photo) = detailed_ticket(&app, &alice).await;
    app.new_ticket(&bob, "noise", A1_POINT).await;
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/reveal-contact"),
            &w.gw_a1.token,
            json!({"reason": "上门前电话确认具体楼栋"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            &w.gw_a1.token,
            json!({"text": "内部：施工方是某建筑公司", "internal": true}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    close(&app, &w, &id, &alice).await;

    let (status, headers, bytes) = download(&app, &alice).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/zip");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .starts_with("attachment; filename=\"qiaomen-my-data-"),
    );
    let (data, files) = unzip(&bytes);
    let me = app.get("/api/v1/me", &alice).await;
    assert_eq!(data["profile"]["resident_id"], me.body["resident_id"]);
    assert_eq!(data["privacy_agreements"][0]["version"], "2026-11-28");
    let tickets = data["tickets"].as_array().cloned().unwrap_or_default();
    assert_eq!(tickets.len(), 1, "only Alice's own ticket");
    let t = &tickets[0];
    assert_eq!(t["id"], id.as_str());
    assert_eq!(t["contact_phone"], "13812341234", "her own number, whole");
    assert_eq!(t["ratings"][0]["comment"], "张师傅处理及时");
    let actions: Vec<&str> = t["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"resolve") && actions.contains(&"rate"),
        "{actions:?}"
    );
    assert!(
        !data.to_string().contains("某建筑公司"),
        "internal notes are not the resident's timeline"
    );
    let reveals = data["contact_reveals"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(reveals.len(), 1);
    assert_eq!(reveals[0]["staff_name"], "gw_a1");
    assert_eq!(reveals[0]["reason"], "上门前电话确认具体楼栋");
    assert!(reveals[0]["at"].is_string());
    assert!(
        data["notifications"]
            .as_array()
            .is_some_and(|n| !n.is_empty()),
        "her inbox: {}",
        data["notifications"]
    );
    assert_eq!(
        files.len(),
        1,
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(files[0].0.starts_with("photos/QM-"), "{}", files[0].0);
    assert_eq!(files[0].1, photo, "the photo as stored");

    // Staff have no copy to take; a few copies a day, then 429 with Retry-After.
    let r = app.get("/api/v1/me/data", &w.gw_a1.token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for _ in 0..2 {
        assert_eq!(download(&app, &alice).await.0, StatusCode::OK);
    }
    let (status, headers, _) = download(&app, &alice).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    assert_eq!(
        download(&app, &bob).await.0,
        StatusCode::OK,
        "Bob's allowance is his own"
    );
}

#[tokio::test]
async fn a_resident_who_leaves_is_anonymised_after_the_grace_period_and_the_tickets_stay() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let scheduler = Scheduler::new(app.state.clone());
    let leaver = app.resident("leaver").await;
    let (id, _) = detailed_ticket(&app, &leaver).await;
    let r = app
        .post("/api/v1/me/deletion", &leaver, json!({"confirm": false}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/api/v1/me", &leaver).await.status, StatusCode::OK);
    let r = app
        .post("/api/v1/me/deletion", &leaver, json!({"confirm": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let closed_at = r.body["closed_at"].as_str().expect("closed_at");
    let anonymise_at = r.body["anonymise_at"].as_str().expect("anonymise_at");
    let days = chrono::DateTime::parse_from_rfc3339(anonymise_at).expect("time")
        - chrono::DateTime::parse_from_rfc3339(closed_at).expect("time");
    assert_eq!(days.num_days(), 15, "privacy.deletion_grace_days");

    // Closed at once: the token stops; logging in again says so.
    for path in ["/api/v1/me", "/api/v1/tickets"] {
        let r = app.get(path, &leaver).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let again = app
        .post_anonymous("/api/v1/auth/wechat", json!({"code": "leaver"}))
        .await;
    assert_eq!(again.code(), "account_closed", "{}", again.body);

    // Within the grace period another resident changes their mind.
    let stayer = app.resident("stayer").await;
    let r = app
        .post("/api/v1/me/deletion", &stayer, json!({"confirm": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.clock.advance(chrono::Duration::days(14));
    assert_eq!(
        tick(&scheduler).await.anonymised,
        0,
        "not before the grace period ends"
    );
    let back = app
        .post_anonymous(
            "/api/v1/auth/wechat",
            json!({"code": "stayer", "restore": true}),
        )
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let token = back.body["token"].as_str().expect("token");
    assert_eq!(app.get("/api/v1/me", token).await.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/me", &stayer).await.status,
        StatusCode::UNAUTHORIZED,
        "a token from before the closing stays dead once restored"
    );

    app.clock.advance(chrono::Duration::days(2));
    // A photo address signed now, to ask for the photo once it is gone.
    let before = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    let photo_url = before.body["attachments"][0]["url"]
        .as_str()
        .expect("photo url")
        .to_owned();
    assert_eq!(
        app.fetch_bytes(&photo_url, &w.gw_a1.token).await.0,
        StatusCode::OK
    );
    assert_eq!(
        tick(&scheduler).await.anonymised,
        1,
        "the leaver, not the stayer"
    );
    assert_eq!(tick(&scheduler).await.anonymised, 0, "once");

    // The ticket stays for the statistics, its personal details gone.
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ca_admin.token)
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    let text = t.body["description"].as_str().unwrap_or_default();
    assert!(
        !text.contains("张三") && !text.contains("13912345678"),
        "{text}"
    );
    assert!(text.contains("楼下夜里施工很吵"), "{text}");
    assert_eq!(t.body["address_text"], "幸福里3号楼*单元***室");
    assert_eq!(t.body["attachments"], json!([]));
    let events = t.body["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        events
            .iter()
            .filter(|e| e["action"] == "resident_anonymised")
            .count(),
        1
    );
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/reveal-contact"),
            &w.gw_a1.token,
            json!({"reason": "核实联系方式"}),
        )
        .await;
    assert_eq!(r.body["contact_phone"], Value::Null, "{}", r.body);
    let (status, _) = app.fetch_bytes(&photo_url, &w.gw_a1.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the photo is deleted");
    let summary = app
        .get(
            &format!(
                "/api/v1/stats/summary?area_id={}&from={}&to={}",
                w.a1,
                (app.state.clock.now() - chrono::Duration::days(60)).format("%Y-%m-%d"),
                app.state.clock.now().format("%Y-%m-%d"),
            ),
            &w.street_admin.token,
        )
        .await;
    assert_eq!(
        summary.body["received"], 1,
        "still counted: {}",
        summary.body
    );

    // The same WeChat account coming back is a new resident.
    let new = app
        .post_anonymous("/api/v1/auth/wechat", json!({"code": "leaver"}))
        .await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.body);
    assert_ne!(new.body["resident_id"], t.body["resident_id"]);
    let mine = app
        .get(
            "/api/v1/tickets",
            new.body["token"].as_str().unwrap_or_default(),
        )
        .await;
    assert_eq!(mine.body["items"], json!([]), "{}", mine.body);
}

#[tokio::test]
async fn personal_data_leaves_closed_tickets_after_the_retention_period_once() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let scheduler = Scheduler::new(app.state.clone());
    let resident = app.resident("retained").await;
    let mut closed = vec![];
    for _ in 0..3 {
        let (id, _) = detailed_ticket(&app, &resident).await;
        close(&app, &w, &id, &resident).await;
        closed.push(id);
    }
    let (open, _) = detailed_ticket(&app, &resident).await;

    app.clock.advance(chrono::Duration::days(3 * 365 - 1));
    assert_eq!(tick(&scheduler).await.personal_data_removed, 0, "not yet");
    app.clock.advance(chrono::Duration::days(2));
    // Two nodes at once: each ticket is cleared once.
    let (node_a, node_b) = (app.state.ctx(), app.state.ctx());
    let now = app.state.clock.now();
    let (a, b) = tokio::join!(
        qiaomen_api::services::privacy::retention::clear_due(&node_a, now, 10),
        qiaomen_api::services::privacy::retention::clear_due(&node_b, now, 10),
    );
    assert_eq!(a.expect("node a") + b.expect("node b"), 3);
    assert_eq!(
        tick(&scheduler).await.personal_data_removed,
        0,
        "nothing left"
    );

    for id in &closed {
        let t = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
        assert_eq!(t.status, StatusCode::OK, "{}", t.body);
        assert_eq!(t.body["contact_phone"], Value::Null);
        assert_eq!(t.body["address_text"], "幸福里3号楼*单元***室");
        assert_eq!(t.body["attachments"], json!([]));
        let (lat, lng) = (
            t.body["location"]["lat"].as_f64().expect("lat"),
            t.body["location"]["lng"].as_f64().expect("lng"),
        );
        assert_ne!((lat, lng), A1_POINT, "the exact point is gone");
        let dy = (lat - A1_POINT.0) * 111_320.0;
        let dx = (lng - A1_POINT.1) * 111_320.0 * A1_POINT.0.to_radians().cos();
        assert!((dx * dx + dy * dy).sqrt() < 75.0, "kept to about 100 m");
        let removals: Vec<Value> = t.body["events"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["action"] == "personal_data_removed")
            .cloned()
            .collect();
        assert_eq!(removals.len(), 1, "one event, once");
        let note = removals[0]["note"].as_str().unwrap_or_default();
        assert!(note.contains("联系电话") && note.contains("照片"), "{note}");
    }
    let still = app.get(&format!("/api/v1/tickets/{open}"), &resident).await;
    assert_eq!(
        still.body["contact_phone"], "13812341234",
        "an open ticket keeps all"
    );
    assert_eq!(still.body["attachments"].as_array().map(Vec::len), Some(1));
}
