//! Bad input: every case answers a problem with its own code, and nothing is written.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

#[tokio::test]
async fn bad_submissions_are_refused_and_write_nothing() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let good = complaint_at("noise", A1_POINT);
    let mut no_description = good.clone();
    no_description
        .as_object_mut()
        .map(|o| o.remove("description"));
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "unknown field",
            with(good.clone(), "priority", json!("urgent")),
            400,
            "invalid_body",
        ),
        (
            "wrong type",
            with(good.clone(), "anonymous", json!("yes")),
            400,
            "invalid_body",
        ),
        (
            "unknown kind",
            with(good.clone(), "kind", json!("rant")),
            400,
            "invalid_body",
        ),
        ("missing description", no_description, 400, "invalid_body"),
        (
            "blank description",
            with(good.clone(), "description", json!("   ")),
            422,
            "text_empty",
        ),
        (
            "long description",
            with(good.clone(), "description", json!("噪".repeat(2001))),
            422,
            "text_too_long",
        ),
        (
            "long title",
            with(good.clone(), "title", json!("标".repeat(61))),
            422,
            "text_too_long",
        ),
        (
            "latitude out of range",
            with(
                good.clone(),
                "location",
                json!({"lat": 91.0, "lng": 116.4, "coord_system": "wgs84"}),
            ),
            422,
            "invalid_location",
        ),
        (
            "longitude out of range",
            with(good.clone(), "location", json!({"lat": 39.9, "lng": 181.0})),
            422,
            "invalid_location",
        ),
        (
            "unknown coordinate system",
            with(
                good.clone(),
                "location",
                json!({"lat": 39.9, "lng": 116.4, "coord_system": "bd09"}),
            ),
            422,
            "invalid_location",
        ),
        (
            "unknown category",
            with(good.clone(), "category", json!("dragons")),
            422,
            "unknown_category",
        ),
        (
            "unknown building",
            with(good.clone(), "building_id", json!(uuid::Uuid::new_v4())),
            422,
            "unknown_building",
        ),
        (
            "bad phone",
            with(good.clone(), "contact_phone", json!("12345")),
            422,
            "invalid_phone",
        ),
        ("not json", Value::String("{".into()), 400, "invalid_body"),
    ];
    for (name, body, status, code) in cases {
        let r = app.post("/api/v1/tickets", &resident, body).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, code),
            "{name}: {}",
            r.body
        );
        assert_eq!(r.content_type, "application/problem+json", "{name}");
        assert_eq!(r.body["status"], status, "{name}");
        assert!(
            r.body["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{name}"
        );
    }
    let mine = app.get("/api/v1/tickets", &resident).await;
    assert_eq!(
        mine.body["items"].as_array().map(Vec::len),
        Some(0),
        "nothing was written"
    );
    let all = app.get("/api/v1/work/tickets", &w.street_admin.token).await;
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn staff_and_admin_inputs_are_checked() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
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
    let admin = app.admin_token.clone();
    let bowtie = json!({"type": "Polygon", "coordinates": [[[116.0, 39.0], [116.1, 39.1], [116.1, 39.0], [116.0, 39.1], [116.0, 39.0]]]});
    let cases: Vec<(&str, String, &str, Value, u16, &str)> = vec![
        (
            "resolve without note",
            format!("/api/v1/tickets/{id}/resolve"),
            &w.gw_a1.token,
            json!({"note": ""}),
            422,
            "text_empty",
        ),
        (
            "transfer to both",
            format!("/api/v1/tickets/{id}/transfer"),
            &w.ca_admin.token,
            json!({"staff_id": w.gw_a2.id, "grid_id": w.a2, "reason": "x"}),
            422,
            "invalid_field",
        ),
        (
            "transfer to a community as grid",
            format!("/api/v1/tickets/{id}/transfer"),
            &w.ca_admin.token,
            json!({"grid_id": w.ca, "reason": "x"}),
            422,
            "not_a_grid",
        ),
        (
            "transfer to unknown staff",
            format!("/api/v1/tickets/{id}/transfer"),
            &w.ca_admin.token,
            json!({"staff_id": uuid::Uuid::new_v4(), "reason": "x"}),
            422,
            "unknown_staff",
        ),
        (
            "rating score out of range",
            format!("/api/v1/tickets/{id}/rating"),
            &resident,
            json!({"level": "satisfied", "score": 9}),
            422,
            "invalid_field",
        ),
        (
            "building in a community",
            "/api/v1/admin/buildings".into(),
            &admin,
            json!({"name": "x", "grid_id": w.ca}),
            422,
            "not_a_grid",
        ),
        (
            "building outside its grid",
            "/api/v1/admin/buildings".into(),
            &admin,
            json!({"name": "x", "grid_id": w.a1, "location": {"lat": 39.905, "lng": 116.415, "coord_system": "wgs84"}}),
            422,
            "building_outside_grid",
        ),
        (
            "self-intersecting boundary",
            "/api/v1/admin/areas".into(),
            &admin,
            json!({"kind": "grid", "name": "x", "parent_id": w.ca, "boundary": bowtie}),
            422,
            "invalid_boundary",
        ),
        (
            "a point as boundary",
            "/api/v1/admin/areas".into(),
            &admin,
            json!({"kind": "grid", "name": "x", "parent_id": w.ca, "boundary": {"type": "Point", "coordinates": [116.0, 39.0]}}),
            422,
            "invalid_boundary",
        ),
        (
            "grid under a street",
            "/api/v1/admin/areas".into(),
            &admin,
            json!({"kind": "grid", "name": "x", "parent_id": w.street}),
            422,
            "invalid_parent",
        ),
        (
            "community without parent",
            "/api/v1/admin/areas".into(),
            &admin,
            json!({"kind": "community", "name": "x"}),
            422,
            "invalid_parent",
        ),
        (
            "grid worker of a community",
            format!("/api/v1/admin/staff/{}/assignments", w.gw_a2.id),
            &admin,
            json!({"area_id": w.ca, "role": "grid_worker"}),
            422,
            "role_area_mismatch",
        ),
        (
            "short password",
            "/api/v1/admin/staff".into(),
            &admin,
            json!({"name": "x", "login": "x", "password": "short"}),
            422,
            "weak_password",
        ),
        (
            "taken login",
            "/api/v1/admin/staff".into(),
            &admin,
            json!({"name": "x", "login": "gw_a1", "password": "password-123"}),
            409,
            "already_exists",
        ),
        (
            "taken category code",
            "/api/v1/admin/categories".into(),
            &admin,
            json!({"code": "noise", "name": "x", "handling_level": "grid", "response_minutes": 1, "resolution_hours": 1}),
            409,
            "already_exists",
        ),
        (
            "zero SLA",
            "/api/v1/admin/categories".into(),
            &admin,
            json!({"code": "x", "name": "x", "handling_level": "grid", "response_minutes": 0, "resolution_hours": 1}),
            422,
            "invalid_field",
        ),
        (
            "unknown handling level",
            "/api/v1/admin/categories".into(),
            &admin,
            json!({"code": "x", "name": "x", "handling_level": "city", "response_minutes": 1, "resolution_hours": 1}),
            400,
            "invalid_body",
        ),
    ];
    for (name, path, token, body, status, code) in cases {
        let r = app.post(&path, token, body).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, code),
            "{name}: {}",
            r.body
        );
    }
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    assert_eq!(t.body["status"], "assigned");
    assert_eq!(
        t.body["events"].as_array().map(Vec::len),
        Some(2),
        "only submit and route"
    );
    let areas = app
        .get(&format!("/api/v1/admin/areas?parent_id={}", w.ca), &admin)
        .await;
    assert_eq!(
        areas.body.as_array().map(Vec::len),
        Some(2),
        "no new grid was made"
    );
}

#[tokio::test]
async fn problems_speak_chinese_by_default_and_english_on_request() {
    let app = spawn_app().await;
    let zh = app
        .send(reqwest::Method::GET, "/api/v1/tickets", None, None)
        .await;
    assert_eq!(zh.body["title"], "未登录或登录已失效");
    let resp = app
        .http
        .get(format!("{}/api/v1/tickets", app.base))
        .header("Accept-Language", "en-US,en;q=0.9")
        .send()
        .await
        .expect("request");
    let en = reply(resp).await;
    assert_eq!(en.body["title"], "Missing or invalid credentials");
    assert_eq!(en.body["code"], "unauthorized");
    let missing = app.get("/api/v1/no-such-thing", &app.admin_token).await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}
