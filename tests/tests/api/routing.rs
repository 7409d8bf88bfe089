//! Routing at submission: building, point (concave grid, hole, shared border, GCJ-02), home
//! grid, level by category, person by role and skill, and the queue when nobody fits.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::json;

async fn submit(app: &TestApp, token: &str, body: serde_json::Value) -> serde_json::Value {
    let r = app.post("/api/v1/tickets", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

/// An administrator sets a staff member's status (`active`, `on_leave`, `left`).
async fn set_status(app: &TestApp, staff_id: &str, status: &str) {
    let r = app
        .patch(
            &format!("/api/v1/admin/staff/{staff_id}"),
            &app.admin_token,
            json!({ "status": status }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn a_building_routes_to_its_grid_worker() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let t = submit(&app, &resident, json!({"kind": "complaint", "category": "noise", "description": "3号楼楼道噪音", "building_id": w.building_a2})).await;
    assert_eq!(t["status"], "assigned");
    assert_eq!(t["grid"]["id"], w.a2.as_str());
    assert_eq!(t["grid"]["name"], "甲二网格");
    assert_eq!(t["assignee"]["id"], w.gw_a2.id.as_str());
    assert!(
        t["number"]
            .as_str()
            .is_some_and(|n| n.starts_with("QM-") && n.len() == "QM-20261122-000001".len())
    );
    assert!(t["response_due_at"].is_string() && t["resolution_due_at"].is_string());
}

#[tokio::test]
async fn points_route_by_polygon_not_by_bounding_box() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;

    let inside_l = submit(&app, &resident, complaint_at("noise", A1_POINT)).await;
    assert_eq!(inside_l["grid"]["id"], w.a1.as_str());
    assert_eq!(inside_l["assignee"]["id"], w.gw_a1.id.as_str());

    // The notch of the L lies inside A1's bounding box but outside A1 and every other grid: it
    // waits in the queue of the nearest grid's community.
    let notch = submit(&app, &resident, complaint_at("noise", NOTCH_POINT)).await;
    assert_eq!(notch["status"], "pending_dispatch");
    assert!(notch["grid"].is_null());
    assert!(notch["assignee"].is_null());
    assert_eq!(notch["handling_area"]["id"], w.ca.as_str());
}

#[tokio::test]
async fn a_point_in_a_hole_belongs_to_the_grid_filling_it() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let in_hole = submit(&app, &resident, complaint_at("noise", HOLE_POINT)).await;
    assert_eq!(in_hole["grid"]["id"], w.b2.as_str());
    // B2 has no staff: the ticket waits in B2's queue for the community to dispatch.
    assert_eq!(in_hole["status"], "pending_dispatch");
    let ring = submit(&app, &resident, complaint_at("noise", B1_POINT)).await;
    assert_eq!(ring["grid"]["id"], w.b1.as_str());
    assert_eq!(ring["assignee"]["id"], w.gw_b1.id.as_str());
}

#[tokio::test]
async fn a_point_on_a_shared_border_goes_to_the_grid_with_the_smaller_code() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    for _ in 0..3 {
        let t = submit(&app, &resident, complaint_at("noise", BORDER_A1_A2)).await;
        assert_eq!(t["grid"]["id"], w.a1.as_str(), "A1 < A2");
    }
}

#[tokio::test]
async fn gcj02_coordinates_are_converted_before_lookup() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    // A point just west of A2's east edge in WGS-84; sent as the phone would, in GCJ-02, which
    // lies roughly 600 m further east: read as WGS-84 it would miss A2.
    let (lat, lng) = (39.905, 116.4195);
    let (g_lat, g_lng) = qiaomen_api::domain::coords::wgs84_to_gcj02(lat, lng);
    assert!(g_lng > 116.42, "the raw GCJ-02 value lies outside A2");
    let body = json!({"kind": "complaint", "category": "noise", "description": "噪音", "location": {"lat": g_lat, "lng": g_lng, "coord_system": "gcj02"}});
    let t = submit(&app, &resident, body).await;
    assert_eq!(t["grid"]["id"], w.a2.as_str());
    assert!((t["location"]["lng"].as_f64().unwrap_or_default() - lng).abs() < 1e-6);
    // Without `coord_system` the point is taken as WGS-84.
    let plain = json!({"kind": "complaint", "category": "noise", "description": "噪音", "location": {"lat": lat, "lng": lng}});
    let t = submit(&app, &resident, plain).await;
    assert_eq!(t["grid"]["id"], w.a2.as_str());
}

#[tokio::test]
async fn with_the_worker_on_leave_a_skilled_assistant_takes_it_else_the_queue() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    set_status(&app, &w.gw_a1.id, "on_leave").await;
    let resident = app.resident("r1").await;
    let noise = submit(&app, &resident, complaint_at("noise", A1_POINT)).await;
    assert_eq!(
        noise["assignee"]["id"],
        w.ga_a1.id.as_str(),
        "the assistant has the noise skill"
    );
    let sanitation = submit(&app, &resident, complaint_at("sanitation", A1_POINT)).await;
    assert_eq!(
        sanitation["status"], "pending_dispatch",
        "nobody active has the sanitation skill"
    );
    assert_eq!(sanitation["grid"]["id"], w.a1.as_str());
}

#[tokio::test]
async fn ties_go_to_the_worker_with_fewer_open_tickets() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let second = app
        .staff_with_role("gw_a1_b", Some(&w.a1), "grid_worker", json!({}))
        .await
        .id;
    let resident = app.resident("r1").await;
    let mut counts = std::collections::HashMap::new();
    for _ in 0..4 {
        let t = submit(&app, &resident, complaint_at("noise", A1_POINT)).await;
        *counts
            .entry(t["assignee"]["id"].as_str().unwrap_or_default().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(counts.get(&w.gw_a1.id), Some(&2));
    assert_eq!(counts.get(&second), Some(&2));
}

#[tokio::test]
async fn the_category_decides_the_level() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let lighting = submit(&app, &resident, complaint_at("lighting", A1_POINT)).await;
    assert_eq!(lighting["grid"]["id"], w.a1.as_str());
    assert_eq!(lighting["handling_area"]["id"], w.ca.as_str());
    assert_eq!(lighting["assignee"]["id"], w.ca_admin.id.as_str());
    let building = submit(
        &app,
        &resident,
        complaint_at("illegal_construction", B1_POINT),
    )
    .await;
    assert_eq!(building["handling_area"]["id"], w.street.as_str());
    assert_eq!(
        building["assignee"]["id"],
        w.dept.id.as_str(),
        "the department named after the category group"
    );
}

#[tokio::test]
async fn a_ticket_with_no_place_waits_in_the_street_queue() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let token = app.resident("home").await;
    // Without building, point or home the ticket cannot be placed in a grid.
    let t = submit(
        &app,
        &token,
        json!({"kind": "suggestion", "category": "noise", "description": "建议加装隔音"}),
    )
    .await;
    assert_eq!(t["status"], "pending_dispatch");
    assert!(t["grid"].is_null());
    assert_eq!(
        t["handling_area"]["id"],
        w.street.as_str(),
        "the only street's queue"
    );
}

/// SPEC §4: a point within `routing.nearest_grid_max_meters` of a grid waits at the nearest
/// community; a farther one is refused and nothing is written, not even a ticket number.
#[tokio::test]
async fn a_point_outside_the_service_area_is_refused_and_a_near_one_queued() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let near = submit(&app, &resident, complaint_at("noise", NEAR_OUTSIDE_POINT)).await;
    assert_eq!(near["status"], "pending_dispatch");
    assert_eq!(near["handling_area"]["id"], w.ca.as_str(), "A1's community");

    let r = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", FAR_POINT),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["code"], "outside_service_area");
    assert_eq!(r.body["title"], "不在本街道受理范围");
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("甲一网格") && detail.contains("16."),
        "{detail}"
    );

    // A building settles the place even when the point is far away.
    let mut with_building = complaint_at("noise", FAR_POINT);
    with_building["building_id"] = json!(w.building_a2);
    let t = submit(&app, &resident, with_building).await;
    assert_eq!(t["grid"]["id"], w.a2.as_str());
    let mine = app.get("/api/v1/tickets", &resident).await;
    assert_eq!(mine.body["items"].as_array().map(Vec::len), Some(2));
    let number = |t: &serde_json::Value| t["number"].as_str().unwrap_or_default().to_owned();
    assert!(
        number(&t).ends_with("-000002"),
        "the refusal drew no number: {} after {}",
        number(&t),
        number(&near)
    );
}

#[tokio::test]
async fn the_index_follows_a_changed_boundary() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    // Move A2 far away: its old ground now belongs to no grid.
    let moved = json!({"boundary": {"type": "Polygon", "coordinates": [[[116.50, 39.95], [116.51, 39.95], [116.51, 39.96], [116.50, 39.96], [116.50, 39.95]]]}});
    let r = app
        .patch(
            &format!("/api/v1/admin/areas/{}", w.a2),
            &app.admin_token,
            moved,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let t = submit(&app, &resident, complaint_at("noise", A2_POINT)).await;
    assert!(t["grid"].is_null(), "{}", t);
    let t = submit(&app, &resident, complaint_at("noise", (39.955, 116.505))).await;
    assert_eq!(t["grid"]["id"], w.a2.as_str());
}

/// Staff, assignments and categories live in each node's in-memory directory: a change made
/// through one node counts on another at its next request, for sight, routing and sign-in.
#[tokio::test]
async fn staff_and_category_changes_on_one_node_count_at_once_on_another() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let peer = app.peer().await;
    let resident = app.resident("r1").await;
    let first = submit(&peer, &resident, complaint_at("noise", A1_POINT)).await;
    assert_eq!(first["assignee"]["id"], w.gw_a1.id.as_str());
    let ids = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|t| t["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let inbox = peer.get("/api/v1/work/tickets", &w.gw_a2.token).await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(!ids(&inbox.body).contains(&first["id"].as_str().unwrap_or("?").to_owned()));
    // A ticket's page reads the directory's generation in the same statement as the ticket.
    let page = format!("/api/v1/tickets/{}", first["id"].as_str().unwrap_or("?"));
    assert_eq!(
        peer.get(&page, &w.gw_a2.token).await.status,
        StatusCode::NOT_FOUND
    );

    // An assignment made on the first node widens what the worker sees on the peer.
    let r = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/admin/staff/{}/assignments", w.gw_a2.id),
            Some(&app.admin_token),
            Some(json!({"area_id": w.a1, "role": "grid_assistant"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let inbox = peer.get("/api/v1/work/tickets", &w.gw_a2.token).await;
    assert!(ids(&inbox.body).contains(&first["id"].as_str().unwrap_or("?").to_owned()));
    let shown = peer.get(&page, &w.gw_a2.token).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.body["id"], first["id"]);

    // A worker put on leave there is passed over by the peer's routing.
    set_status(&app, &w.gw_a1.id, "on_leave").await;
    let second = submit(&peer, &resident, complaint_at("noise", A1_POINT)).await;
    assert_ne!(second["assignee"]["id"], w.gw_a1.id.as_str());

    // A new category can be used on the peer straight away.
    app.create(
        "/api/v1/admin/categories",
        json!({"code": "graffiti", "name": "乱涂乱画", "handling_level": "grid",
               "response_minutes": 60, "resolution_hours": 24}),
    )
    .await;
    let third = submit(&peer, &resident, complaint_at("graffiti", A1_POINT)).await;
    assert_eq!(third["category"]["code"], "graffiti");

    // A closed account is refused on the peer at once.
    set_status(&app, &w.gw_a2.id, "left").await;
    let inbox = peer.get("/api/v1/work/tickets", &w.gw_a2.token).await;
    assert_eq!(inbox.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        peer.get(&page, &w.gw_a2.token).await.status,
        StatusCode::UNAUTHORIZED
    );
}
