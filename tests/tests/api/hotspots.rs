//! Hot spots (issue 26 item 1), through the HTTP API.
use chrono::Duration;
use qiaomen_api::clock::Clock;
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A complaint of `category` at `point` saying `text`.
pub(crate) fn told(category: &str, (lat, lng): (f64, f64), text: &str) -> Value {
    json!({
        "kind": "complaint",
        "category": category,
        "description": text,
        "location": {"lat": lat, "lng": lng, "coord_system": "wgs84"},
    })
}

pub(crate) async fn submit(app: &TestApp, resident: &str, body: Value) -> Value {
    let r = app.post("/api/v1/tickets", resident, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

/// `k` metres north of A1's point (about).
pub(crate) fn north_of_a1(k: f64) -> (f64, f64) {
    (A1_POINT.0 + k / 111_320.0, A1_POINT.1)
}

#[tokio::test]
async fn tickets_gathering_at_one_corner_make_a_hot_spot_with_its_trend() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let residents = [
        app.resident("h1").await,
        app.resident("h2").await,
        app.resident("h3").await,
        app.resident("h4").await,
    ];
    let now = app.clock.now();
    // Forty days ago, two noise complaints at the corner: the period before.
    app.clock.set(now - Duration::days(40));
    for (k, resident) in residents.iter().take(2).enumerate() {
        submit(
            &app,
            resident,
            told("noise", north_of_a1(k as f64 * 5.0), "楼下烧烤店太吵了"),
        )
        .await;
    }
    app.clock.set(now - Duration::days(3));
    // Now six there, from four residents, worded their own ways, one of them phoned in.
    let texts = [
        "楼下烧烤店半夜还在营业，吵得睡不着",
        "烧烤店噪音扰民，每天到凌晨两点",
        "烧烤摊太吵了，孩子没法睡觉，电话13812345678",
        "楼下烧烤店天天吵到半夜",
        "烧烤店的噪音太大了",
        "这家烧烤店晚上很吵",
    ];
    let mut numbers = vec![];
    for (k, text) in texts.iter().enumerate() {
        let t = submit(
            &app,
            &residents[k % 4],
            told("noise", north_of_a1(k as f64 * 6.0), text),
        )
        .await;
        numbers.push(t["number"].as_str().unwrap_or_default().to_owned());
    }
    // A lone complaint 300 m away, and four of another category at the corner: no hot spot.
    submit(
        &app,
        &residents[0],
        told("noise", north_of_a1(300.0), "装修噪音"),
    )
    .await;
    for k in 0..4 {
        submit(
            &app,
            &residents[1],
            told("sanitation", north_of_a1(k as f64), "垃圾没人清理"),
        )
        .await;
    }
    app.clock.set(now);

    let path = format!("/api/v1/stats/hotspots?area_id={}", w.street);
    let r = app.get(&path, &w.street_admin.token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["type"], "FeatureCollection");
    assert_eq!(r.body["radius_meters"], 50.0);
    assert_eq!(r.body["min_tickets"], 5);
    let features = r.body["features"].as_array().cloned().unwrap_or_default();
    assert_eq!(features.len(), 1, "{}", r.body);
    let f = &features[0];
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["geometry"]["type"], "Polygon");
    let ring = f["geometry"]["coordinates"][0]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(ring.len() >= 4 && ring.first() == ring.last(), "{ring:?}");
    let p = &f["properties"];
    assert_eq!(p["category"], "noise");
    assert_eq!(p["ticket_count"], 6);
    assert_eq!(p["resident_count"], 4);
    assert_eq!(p["support_count"], 0);
    assert_eq!(p["previous_count"], 2);
    assert_eq!(p["trend"], "rising");
    assert_eq!(p["change_percent"], 200.0);
    let shown: Vec<String> =
        serde_json::from_value(p["ticket_numbers"].clone()).unwrap_or_default();
    assert_eq!(shown.len(), 5);
    assert!(shown.iter().all(|n| numbers.contains(n)));
    // The most typical text is one of the six, with the phone number masked.
    let typical = p["typical"]["text"].as_str().unwrap_or_default();
    assert!(typical.contains("烧烤"), "{typical}");
    assert!(!typical.contains("13812345678"));
    assert!(
        numbers.contains(
            &p["typical"]["number"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        )
    );
    // The outline lies around the corner.
    let lng = p["center"][0].as_f64().unwrap_or_default();
    assert!((lng - A1_POINT.1).abs() < 0.001, "{lng}");

    // The console's map draws it over the grids and names it.
    let cookie = crate::console::console_login(&app, "street_admin", PASSWORD).await;
    let month = format!(
        "/console/map?from={}&to={}",
        (now - Duration::days(30)).format("%Y-%m-%d"),
        (now + Duration::days(1)).format("%Y-%m-%d")
    );
    let (status, html) = crate::console::page(&app, &month, &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("class=\"hotspot\""), "{html}");
    assert!(html.contains("热点 · 噪音扰民：6 件，4 位居民"), "{html}");

    // One category; the other has too few; GCJ-02 moves the outline for WeChat's map.
    let r = app
        .get(
            &format!("{path}&category=sanitation"),
            &w.street_admin.token,
        )
        .await;
    assert_eq!(r.body["features"].as_array().map(Vec::len), Some(0));
    let r = app
        .get(&format!("{path}&coord_system=gcj02"), &w.street_admin.token)
        .await;
    let moved = r.body["features"][0]["properties"]["center"][0]
        .as_f64()
        .unwrap_or_default();
    assert!((moved - lng).abs() > 0.001, "{moved} {lng}");
    // The period before saw no hot spot (two tickets).
    let r = app
        .get(
            &format!(
                "{path}&from={}&to={}",
                (now - Duration::days(60)).format("%Y-%m-%d"),
                (now - Duration::days(30)).format("%Y-%m-%d")
            ),
            &w.street_admin.token,
        )
        .await;
    assert_eq!(
        r.body["features"].as_array().map(Vec::len),
        Some(0),
        "{}",
        r.body
    );

    // Who may ask: an office over the area; another community's admin 404, bad input 422.
    let r = app
        .get(
            &format!("/api/v1/stats/hotspots?area_id={}", w.ca),
            &w.cb_admin.token,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .get(
            &format!("/api/v1/stats/hotspots?area_id={}", w.ca),
            &w.ca_admin.token,
        )
        .await;
    assert_eq!(r.body["features"][0]["properties"]["ticket_count"], 6);
    for bad in ["&category=nope", "&limit=0", "&limit=101"] {
        let r = app
            .get(&format!("{path}{bad}"), &w.street_admin.token)
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.body
        );
    }
    let r = app.get(&path, &residents[0]).await;
    assert!(r.status == StatusCode::FORBIDDEN || r.status == StatusCode::UNAUTHORIZED);
}
