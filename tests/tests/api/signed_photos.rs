//! Photos a mini-program can show (issue 21, part 10): each attachment in a response carries a
//! URL and a thumbnail URL signed for the caller, loaded without a header until they expire;
//! a tampered or expired one is 403, and the viewer must still see the ticket.
use std::io::Cursor;

use chrono::Duration;
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A real 1200×800 PNG (the samples are minimal files no decoder draws).
fn big_png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(1200, 800, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

async fn get_plain(app: &TestApp, path: &str) -> (StatusCode, Vec<u8>, String) {
    let resp = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .expect("get");
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        status,
        resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
        ct,
    )
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn photos_load_by_signed_urls_until_they_expire() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("photos").await;
    app.clock.set(beijing("2026-11-20 09:00"));
    let png = big_png();
    let up = app.upload(&resident, "p.png", "image/png", &png).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let photo = str_of(&up.body["id"]);
    assert!(str_of(&up.body["url"]).starts_with(&format!("/api/v1/media/{photo}?")));
    let mut body = complaint_at("noise", A1_POINT);
    body["attachment_ids"] = json!([photo]);
    let t = app.post("/api/v1/tickets", &resident, body).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let id = str_of(&t.body["id"]);
    // Signed in the submission's own answer too.
    let at_once = str_of(&t.body["attachments"][0]["url"]);
    assert_eq!(get_plain(&app, &at_once).await.0, StatusCode::OK);

    // The resident's URLs: the photo as uploaded (metadata stripped), and a thumbnail.
    let mine = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
    let url = str_of(&mine.body["attachments"][0]["url"]);
    let thumb = str_of(&mine.body["attachments"][0]["thumbnail_url"]);
    let (status, bytes, ct) = get_plain(&app, &url).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/png"));
    assert!(image::load_from_memory(&bytes).is_ok_and(|i| i.width() == 1200));
    let (status, small, ct) = get_plain(&app, &thumb).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/jpeg"));
    let decoded = image::load_from_memory(&small).expect("thumbnail decodes");
    assert_eq!((decoded.width(), decoded.height()), (320, 213));
    // Made once and kept.
    let (_, again, _) = get_plain(&app, &thumb).await;
    assert_eq!(again, small);
    use sea_orm::EntityTrait;
    let row = entity::attachment::Entity::find_by_id(uuid::Uuid::parse_str(&photo).expect("id"))
        .one(&app.state.db)
        .await
        .expect("db")
        .expect("row");
    assert!(row.thumbnail_key.is_some());

    // Tampered: another signature, another photo, another variant.
    let tampered = format!("{}x", &url[..url.len() - 1]);
    assert_eq!(get_plain(&app, &tampered).await.0, StatusCode::FORBIDDEN);
    let other = url.replace(&photo, &uuid::Uuid::new_v4().to_string());
    assert_eq!(get_plain(&app, &other).await.0, StatusCode::FORBIDDEN);
    let swapped = url.replace("variant=full", "variant=thumb");
    assert_eq!(get_plain(&app, &swapped).await.0, StatusCode::FORBIDDEN);
    let unsigned = format!("/api/v1/media/{photo}?variant=full&sig=");
    assert_eq!(get_plain(&app, &unsigned).await.0, StatusCode::FORBIDDEN);

    // A worker's URL stops working when the ticket leaves their sight.
    let staff_view = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    let staff_url = str_of(&staff_view.body["attachments"][0]["url"]);
    assert_ne!(staff_url, url, "signed for each viewer");
    assert_eq!(get_plain(&app, &staff_url).await.0, StatusCode::OK);
    let r = app
        .act(
            &id,
            "transfer",
            &w.street_admin,
            json!({"grid_id": w.b1, "reason": "不属本网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(get_plain(&app, &staff_url).await.0, StatusCode::NOT_FOUND);

    // An hour later (media.url_ttl_seconds) the resident's URL has expired.
    assert_eq!(get_plain(&app, &url).await.0, StatusCode::OK);
    app.clock
        .set(beijing("2026-11-20 10:01") + Duration::seconds(1));
    assert_eq!(get_plain(&app, &url).await.0, StatusCode::FORBIDDEN);
    let fresh = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
    let renewed = str_of(&fresh.body["attachments"][0]["url"]);
    assert_eq!(get_plain(&app, &renewed).await.0, StatusCode::OK);
}

/// A photo beyond the decoding bounds is its own thumbnail, marked so and never decoded again.
#[tokio::test]
async fn a_photo_too_large_to_decode_is_its_own_thumbnail() {
    let app = spawn_app().await;
    let resident = app.resident("wide").await;
    let wide = image::RgbImage::from_pixel(9000, 4, image::Rgb([10, 20, 30]));
    let mut png = Cursor::new(Vec::new());
    wide.write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    let up = app
        .upload(&resident, "w.png", "image/png", png.get_ref())
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let (status, bytes, ct) = get_plain(&app, &str_of(&up.body["thumbnail_url"])).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/png"));
    assert!(image::load_from_memory(&bytes).is_ok_and(|i| i.width() == 9000));
    use sea_orm::EntityTrait;
    let row = entity::attachment::Entity::find_by_id(
        uuid::Uuid::parse_str(&str_of(&up.body["id"])).expect("id"),
    )
    .one(&app.state.db)
    .await
    .expect("db")
    .expect("row");
    assert_eq!(row.thumbnail_key.as_deref(), Some(row.storage_key.as_str()));
}
