//! Photos: judged by their bytes, cleaned of location data, limited per ticket, attached by
//! their owner only, served only where the ticket may be seen.
use qiaomen_tests::{samples::*, *};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn location_and_camera_metadata_are_stripped_before_storing() {
    let app = spawn_app().await;
    let resident = app.resident("r1").await;
    for (name, content_type, bytes, kind) in [
        ("a.jpg", "image/jpeg", jpeg_with_exif(), "image/jpeg"),
        ("b.png", "image/png", png_with_metadata(), "image/png"),
        ("c.heic", "image/heic", heic_with_exif(), "image/heic"),
    ] {
        assert!(
            contains(&bytes, SECRET),
            "{name}: the sample carries the marker"
        );
        let r = app.upload(&resident, name, content_type, &bytes).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        assert_eq!(r.body["content_type"], kind);
        let url = r.body["url"].as_str().unwrap_or_default().to_owned();
        let (status, stored) = app.fetch_bytes(&url, &resident).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!contains(&stored, SECRET), "{name}: metadata gone");
        assert_eq!(
            stored[..4],
            bytes[..4],
            "{name}: still the same kind of file"
        );
        assert_eq!(r.body["size_bytes"].as_u64(), Some(stored.len() as u64));
    }
}

#[tokio::test]
async fn a_phones_secondary_images_and_their_location_are_cut_off() {
    let app = spawn_app().await;
    let resident = app.resident("r1").await;
    let bytes = jpeg_with_secondary_image();
    assert!(contains(&bytes, SECRET));
    let r = app
        .upload(&resident, "IMG_0001.jpg", "image/jpeg", &bytes)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let url = r.body["url"].as_str().unwrap_or_default().to_owned();
    let resp = app
        .http
        .get(format!("{}{url}", app.base))
        .bearer_auth(&resident)
        .send()
        .await
        .expect("photo");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        disposition.starts_with("inline; filename=\"") && disposition.ends_with(".jpg\""),
        "{disposition}"
    );
    let stored = resp.bytes().await.expect("bytes");
    assert!(!contains(&stored, SECRET), "the second image's GPS is gone");
    assert!(!contains(&stored, b"MPF\0"), "and the index pointing to it");
    assert!(contains(&stored, b"ICC_PROFILE"), "colour stays");
    assert_eq!(
        stored.iter().filter(|&&b| b == 0xD8).count(),
        1,
        "one image"
    );
    assert!(stored.ends_with(&[0xFF, 0xD9]));
}

#[tokio::test]
async fn uploads_are_judged_by_their_bytes_not_their_name() {
    let app = spawn_app_with(|s| s.media.max_bytes = 2048).await;
    let resident = app.resident("r1").await;
    let r = app
        .upload(
            &resident,
            "photo.jpg",
            "image/jpeg",
            b"<html>not a photo</html>",
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_an_image")
    );
    let r = app
        .upload(
            &resident,
            "anim.gif",
            "image/gif",
            b"GIF89a\x01\0\x01\0\0\0\0;",
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_an_image")
    );
    let mut big = jpeg_with_exif();
    big.resize(4096, 0);
    let r = app.upload(&resident, "big.jpg", "image/jpeg", &big).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    // A JPEG named .txt is still a JPEG.
    let r = app
        .upload(&resident, "notes.txt", "text/plain", &jpeg_with_exif())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn photos_attach_to_tickets_by_their_owner_up_to_nine() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let alice = app.resident("alice").await;
    let bob = app.resident("bob").await;
    let mut ids = vec![];
    for _ in 0..10 {
        ids.push(
            app.upload(&alice, "p.jpg", "image/jpeg", &jpeg_with_exif())
                .await
                .body["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let bobs = app
        .upload(&bob, "p.jpg", "image/jpeg", &jpeg_with_exif())
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let mut body = complaint_at("noise", A1_POINT);
    body["attachment_ids"] = json!([bobs]);
    let r = app.post("/api/v1/tickets", &alice, body.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_attachment"),
        "someone else's photo"
    );
    body["attachment_ids"] = json!(ids);
    let r = app.post("/api/v1/tickets", &alice, body.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "too_many_attachments")
    );
    assert_eq!(
        Some(app.count("/api/v1/tickets", &alice).await),
        Some(0),
        "nothing written"
    );

    body["attachment_ids"] = json!(ids[..9]);
    let r = app.post("/api/v1/tickets", &alice, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap_or_default().to_owned();
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    let photos = t.body["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(photos.len(), 9);
    assert_eq!(photos[0]["purpose"], "ticket");
    // Already attached: cannot be used again; a tenth photo on a comment is one too many.
    body["attachment_ids"] = json!([ids[0]]);
    let r = app.post("/api/v1/tickets", &alice, body).await;
    assert_eq!(r.code(), "invalid_attachment");
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            &alice,
            json!({"text": "再补一张", "attachment_ids": [ids[9]]}),
        )
        .await;
    assert_eq!(r.code(), "too_many_attachments");

    // The grid's worker sees them, another resident or another grid's worker does not (by
    // the bearer token; a signed `url` is the viewer's own, see signed_photos.rs).
    let url = format!(
        "/api/v1/attachments/{}",
        photos[0]["id"].as_str().unwrap_or_default()
    );
    assert_eq!(
        app.fetch_bytes(&url, &w.gw_a1.token).await.0,
        StatusCode::OK
    );
    assert_eq!(app.fetch_bytes(&url, &bob).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.fetch_bytes(&url, &w.gw_a2.token).await.0,
        StatusCode::NOT_FOUND
    );
    // An unattached photo is its owner's alone.
    let loose = format!("/api/v1/attachments/{}", ids[9]);
    assert_eq!(app.fetch_bytes(&loose, &alice).await.0, StatusCode::OK);
    assert_eq!(
        app.fetch_bytes(&loose, &w.street_admin.token).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_category_can_require_a_photo_of_the_fix() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    app.create(
        "/api/v1/admin/categories",
        json!({"code": "fire_exit", "name": "消防通道堵塞", "handling_level": "grid", "response_minutes": 30, "resolution_hours": 24, "requires_resolution_photo": true}),
    )
    .await;
    let resident = app.resident("r1").await;
    let id = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("fire_exit", A1_POINT),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let worker = &w.gw_a1.token;
    app.post(&format!("/api/v1/tickets/{id}/accept"), worker, json!({}))
        .await;
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/resolve"),
            worker,
            json!({"note": "已清理"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "resolution_photo_required"
        )
    );
    let photo = app
        .upload(worker, "fixed.jpg", "image/jpeg", &jpeg_with_exif())
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/resolve"),
            worker,
            json!({"note": "已清理", "attachment_ids": [photo]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "resolved");
    assert_eq!(r.body["attachments"][0]["purpose"], "resolution");
    // The resident sees the proof.
    let url = format!(
        "/api/v1/attachments/{}",
        r.body["attachments"][0]["id"].as_str().unwrap_or_default()
    );
    assert_eq!(app.fetch_bytes(&url, &resident).await.0, StatusCode::OK);
}
