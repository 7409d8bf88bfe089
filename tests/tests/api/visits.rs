//! Door-knock visits (issue 7): suggestions recorded on a visit become routed tickets in one
//! transaction; coverage shows which buildings were walked.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_visit_with_three_suggestions_is_routed_and_counted() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let body = json!({
        "building_id": w.building_a2,
        "household": "2单元301",
        "notes": "老人独居，腿脚不便",
        "suggestions": [
            {"kind": "complaint", "category": "noise", "description": "楼上夜间装修噪音"},
            {"kind": "suggestion", "category": "lighting", "description": "楼道灯太暗，建议更换"},
            {"kind": "complaint", "category": "noise", "description": "广场舞音响太大", "anonymous": true, "resident_phone": "13900001111"}
        ]
    });
    let r = app.post("/api/v1/visits", &w.gw_a2.token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let tickets = r.body["tickets"].as_array().cloned().unwrap_or_default();
    assert_eq!(tickets.len(), 3);
    assert_eq!(
        tickets[0]["assignee_id"],
        w.gw_a2.id.as_str(),
        "to the recording worker"
    );
    assert_eq!(
        tickets[1]["assignee_id"],
        w.ca_admin.id.as_str(),
        "lighting is the community's"
    );
    for t in &tickets {
        assert_eq!(t["grid_id"], w.a2.as_str());
    }
    let id = tickets[2]["id"].as_str().unwrap_or_default();
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ca_admin.token)
        .await
        .body;
    assert_eq!(
        (t["channel"].as_str(), t["anonymous"].as_bool()),
        (Some("door_knock"), Some(true))
    );
    assert_eq!(t["contact_phone"], "139****1111");

    let visits = app
        .get(
            &format!("/api/v1/visits?area_id={}", w.ca),
            &w.ca_admin.token,
        )
        .await
        .body;
    assert_eq!(visits.as_array().map(Vec::len), Some(1));
    assert_eq!(visits[0]["household"], "2单元301");
    let workers = app
        .get(
            &format!("/api/v1/stats/workers?area_id={}", w.ca),
            &w.ca_admin.token,
        )
        .await
        .body;
    let gw_a2 = workers
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|x| x["staff_id"] == w.gw_a2.id.as_str())
                .cloned()
        })
        .unwrap_or_default();
    assert_eq!(gw_a2["visits"].as_u64(), Some(1));

    // An assistant recording a visit takes the grid-level suggestion too.
    let building_a1 = app
        .create("/api/v1/admin/buildings", json!({"name": "甲一网格1号楼", "grid_id": w.a1, "location": {"lat": 39.902, "lng": 116.402, "coord_system": "wgs84"}}))
        .await;
    let r = app
        .post("/api/v1/visits", &w.ga_a1.token, json!({"building_id": building_a1, "suggestions": [{"kind": "complaint", "category": "noise", "description": "夜里狗叫"}]}))
        .await;
    assert_eq!(
        r.body["tickets"][0]["assignee_id"],
        w.ga_a1.id.as_str(),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn only_the_grids_own_workers_record_visits_and_a_bad_suggestion_writes_nothing() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let one = json!({"building_id": w.building_a2, "suggestions": [{"kind": "complaint", "category": "noise", "description": "噪音"}]});
    assert_eq!(
        app.post("/api/v1/visits", &w.gw_a1.token, one.clone())
            .await
            .status,
        StatusCode::FORBIDDEN,
        "another grid's worker"
    );
    assert_eq!(
        app.post("/api/v1/visits", &w.ca_admin.token, one.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let resident = app.resident("r1").await;
    assert_eq!(
        app.post("/api/v1/visits", &resident, one).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .post(
            "/api/v1/visits",
            &w.gw_a2.token,
            json!({"building_id": uuid::Uuid::new_v4(), "suggestions": []}),
        )
        .await;
    assert_eq!(r.code(), "unknown_building");
    let bad = json!({"building_id": w.building_a2, "suggestions": [
        {"kind": "complaint", "category": "noise", "description": "噪音"},
        {"kind": "complaint", "category": "dragons", "description": "?"}
    ]});
    let r = app.post("/api/v1/visits", &w.gw_a2.token, bad).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_category")
    );
    assert_eq!(
        app.get(&format!("/api/v1/visits?area_id={}", w.a2), &w.gw_a2.token)
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    assert_eq!(
        app.count("/api/v1/work/tickets", &w.gw_a2.token).await,
        0,
        "no ticket either: one transaction"
    );
}

#[tokio::test]
async fn coverage_shows_which_buildings_were_walked() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let second = app
        .create(
            "/api/v1/admin/buildings",
            json!({"name": "甲二网格5号楼", "grid_id": w.a2}),
        )
        .await;
    let r = app
        .post(
            "/api/v1/visits",
            &w.gw_a2.token,
            json!({"building_id": w.building_a2, "suggestions": []}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "a visit with nothing raised still counts: {}",
        r.body
    );
    let cov = app
        .get(
            &format!("/api/v1/stats/visit-coverage?area_id={}", w.a2),
            &w.gw_a2.token,
        )
        .await;
    assert_eq!(cov.status, StatusCode::OK, "{}", cov.body);
    let grid = &cov.body["grids"][0];
    assert_eq!(
        (
            grid["buildings_total"].as_u64(),
            grid["visited"].as_u64(),
            grid["coverage_rate"].as_f64()
        ),
        (Some(2), Some(1), Some(0.5))
    );
    assert_eq!(grid["not_visited"][0]["building_id"], second.as_str());
    let street = app
        .get(
            &format!("/api/v1/stats/visit-coverage?area_id={}", w.street),
            &w.street_admin.token,
        )
        .await
        .body;
    assert_eq!(
        (
            street["buildings_total"].as_u64(),
            street["visited"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/stats/visit-coverage?area_id={}", w.cb),
            &w.gw_a2.token
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}
