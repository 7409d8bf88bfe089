//! What a front end looks up (issue 21, parts 1–6): who am I, what is here, buildings, the
//! people in my scope, and what administrators manage of categories, staff and passwords.
use qiaomen_tests::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Metres between two WGS-84 points, near enough for a few kilometres.
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let dy = (a.0 - b.0) * 111_320.0;
    let dx = (a.1 - b.1) * 111_320.0 * a.0.to_radians().cos();
    (dx * dx + dy * dy).sqrt()
}

#[tokio::test]
async fn residents_and_staff_learn_who_they_are_and_a_home_routes_tickets() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("me-1").await;

    let me = app.get("/api/v1/me", &resident).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["phone_bound"], false);
    assert_eq!(me.body["phone_masked"], Value::Null);
    assert_eq!(me.body["home_building"], Value::Null);
    assert_eq!(
        me.body["privacy_version"], app.state.notice.version,
        "agreed at login, as the mini-program asks"
    );
    assert_eq!(me.body["privacy_notice_pending"], false);
    let accepted = app.settings.notifications.templates["accepted"]
        .template_id
        .clone();
    assert_eq!(me.body["subscriptions"]["accepted"], 0, "{}", me.body);
    let r = app
        .post(
            "/api/v1/me/subscriptions",
            &resident,
            json!({"template_ids": [accepted, accepted]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let me = app.get("/api/v1/me", &resident).await;
    assert_eq!(me.body["subscriptions"]["accepted"], 2, "{}", me.body);

    // A home building: a ticket with neither a point nor a building goes to its grid.
    let put = |body: Value| app.send(Method::PUT, "/api/v1/me/home", Some(&resident), Some(body));
    let r = put(json!({"building_id": uuid::Uuid::new_v4()})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "unknown_building");
    let r = put(json!({"building_id": w.building_a2})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["home_building"]["id"], w.building_a2.as_str());
    assert_eq!(r.body["home_building"]["grid"]["id"], w.a2.as_str());
    let t = app
        .post(
            "/api/v1/tickets",
            &resident,
            json!({"kind": "complaint", "category": "noise", "description": "楼上每晚装修到十一点"}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    assert_eq!(t.body["grid"]["id"], w.a2.as_str());
    assert_eq!(t.body["assignee"]["id"], w.gw_a2.id.as_str());

    // Staff: roles with their areas and the broadest of them as the default area.
    let me = app.get("/api/v1/staff/me", &w.gw_a1.token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["login"], "gw_a1");
    assert_eq!(me.body["status"], "active");
    assert_eq!(me.body["assignments"][0]["role"], "grid_worker");
    assert_eq!(me.body["assignments"][0]["area"]["id"], w.a1.as_str());
    assert_eq!(me.body["assignments"][0]["area"]["kind"], "grid");
    assert_eq!(me.body["home_area_id"], w.a1.as_str());
    let dept = app.get("/api/v1/staff/me", &w.dept.token).await;
    assert_eq!(dept.body["assignments"][0]["department"], "城市管理");
    assert_eq!(dept.body["home_area_id"], w.street.as_str());

    // Each only their own kind.
    assert_eq!(
        app.get("/api/v1/me", &w.gw_a1.token).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/staff/me", &resident).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get_anonymous("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_area_tree_boundaries_and_what_is_at_a_point() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("at-1").await;

    let roots = app.get("/api/v1/areas", &resident).await;
    assert_eq!(roots.status, StatusCode::OK, "{}", roots.body);
    assert_eq!(ids(&roots.body["items"]), vec![w.street.clone()]);
    assert_eq!(roots.body["items"][0]["children_count"], 2);
    assert_eq!(roots.body["items"][0]["children"], json!([]));
    let deep = app
        .get(
            &format!("/api/v1/areas?parent_id={}&depth=2", w.street),
            &resident,
        )
        .await;
    assert_eq!(ids(&deep.body["items"]), vec![w.ca.clone(), w.cb.clone()]);
    assert_eq!(
        ids(&deep.body["items"][0]["children"]),
        vec![w.a1.clone(), w.a2.clone()]
    );
    assert_eq!(deep.body["items"][0]["children"][0]["kind"], "grid");
    assert_eq!(deep.body["items"][0]["children"][0]["code"], "A1");
    let unknown = app
        .get(
            &format!("/api/v1/areas?parent_id={}", uuid::Uuid::new_v4()),
            &resident,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    for depth in [0, 6] {
        let r = app
            .get(&format!("/api/v1/areas?depth={depth}"), &resident)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "depth {depth}");
    }

    // A grid's boundary as stored, and shifted a few hundred metres in GCJ-02.
    let wgs = app
        .get(&format!("/api/v1/areas/{}/boundary", w.a1), &resident)
        .await;
    assert_eq!(wgs.status, StatusCode::OK, "{}", wgs.body);
    assert_eq!(wgs.body["type"], "Feature");
    assert_eq!(wgs.body["properties"]["community"]["id"], w.ca.as_str());
    let corner = &wgs.body["geometry"]["coordinates"][0][0][0];
    assert_eq!(corner, &json!([116.4, 39.9]), "{}", wgs.body);
    let gcj = app
        .get(
            &format!("/api/v1/areas/{}/boundary?coord_system=gcj02", w.a1),
            &resident,
        )
        .await;
    assert_eq!(gcj.body["properties"]["coord_system"], "gcj02");
    let c = &gcj.body["geometry"]["coordinates"][0][0][0];
    let expected = qiaomen_api::domain::coords::wgs84_to_gcj02(39.9, 116.4);
    let got = (c[1].as_f64().unwrap_or(0.0), c[0].as_f64().unwrap_or(0.0));
    assert!(metres(got, expected) < 0.01, "{got:?} vs {expected:?}");
    assert!(metres(got, (39.9, 116.4)) > 100.0);
    // A community's is its grids' polygons; a map's collection holds the grids below.
    let ca = app
        .get(&format!("/api/v1/areas/{}/boundary", w.ca), &resident)
        .await;
    assert_eq!(ca.body["geometry"]["type"], "MultiPolygon");
    assert_eq!(
        ca.body["geometry"]["coordinates"].as_array().map(Vec::len),
        Some(2)
    );
    let map = app
        .get(
            &format!("/api/v1/areas/geojson?area_id={}", w.cb),
            &resident,
        )
        .await;
    assert_eq!(map.body["type"], "FeatureCollection");
    let names: Vec<&str> = map.body["features"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["properties"]["name"].as_str())
        .collect();
    assert_eq!(names, vec!["乙一网格", "乙二网格"]);
    let all = app.get("/api/v1/areas/geojson", &resident).await;
    assert_eq!(all.body["features"].as_array().map(Vec::len), Some(4));

    // What is at a point: its places, the categories in display order, the nearest buildings.
    let (lat, lng) = A2_POINT;
    let here = app
        .get(&format!("/api/v1/areas/at?lat={lat}&lng={lng}"), &resident)
        .await;
    assert_eq!(here.status, StatusCode::OK, "{}", here.body);
    assert_eq!(here.body["served"], true);
    assert_eq!(here.body["grid"]["id"], w.a2.as_str());
    assert_eq!(here.body["community"]["id"], w.ca.as_str());
    assert_eq!(here.body["street"]["id"], w.street.as_str());
    let codes: Vec<&str> = here.body["categories"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        vec!["illegal_construction", "lighting", "noise", "sanitation"]
    );
    assert_eq!(
        here.body["categories"][0]["sla_text"],
        "1小时内响应，2天内办结"
    );
    let building = &here.body["nearest_buildings"][0];
    assert_eq!(building["id"], w.building_a2.as_str());
    let d = building["distance_meters"].as_f64().unwrap_or(-1.0);
    assert!((100.0..200.0).contains(&d), "{d}");
    // The same place given in GCJ-02.
    let (glat, glng) = qiaomen_api::domain::coords::wgs84_to_gcj02(lat, lng);
    let g = app
        .get(
            &format!("/api/v1/areas/at?lat={glat}&lng={glng}&coord_system=gcj02"),
            &resident,
        )
        .await;
    assert_eq!(g.body["grid"]["id"], w.a2.as_str());
    let loc = &g.body["nearest_buildings"][0]["location"];
    let shown = (
        loc["lat"].as_f64().unwrap_or(0.0),
        loc["lng"].as_f64().unwrap_or(0.0),
    );
    assert!(
        metres(
            shown,
            qiaomen_api::domain::coords::wgs84_to_gcj02(39.906, 116.416)
        ) < 0.01
    );
    // Near the grids: served at the nearest; far: not served, the nearest named.
    let (lat, lng) = NEAR_OUTSIDE_POINT;
    let near = app
        .get(&format!("/api/v1/areas/at?lat={lat}&lng={lng}"), &resident)
        .await;
    assert_eq!(near.body["served"], true);
    assert_eq!(near.body["grid"]["id"], w.a1.as_str());
    let (lat, lng) = FAR_POINT;
    let far = app
        .get(&format!("/api/v1/areas/at?lat={lat}&lng={lng}"), &resident)
        .await;
    assert_eq!(far.body["served"], false, "{}", far.body);
    assert_eq!(far.body["grid"], Value::Null);
    assert_eq!(far.body["categories"], json!([]));
    assert_eq!(far.body["nearest"]["grid"]["id"], w.a1.as_str());
    assert!(
        far.body["nearest"]["distance_meters"]
            .as_f64()
            .unwrap_or(0.0)
            > 10_000.0
    );
    let bad = app.get("/api/v1/areas/at?lat=91&lng=116", &resident).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get_anonymous("/api/v1/areas").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn buildings_and_the_people_in_a_staff_members_scope() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("b-1").await;

    let in_grid = app
        .get(&format!("/api/v1/buildings?grid_id={}", w.a2), &resident)
        .await;
    assert_eq!(in_grid.status, StatusCode::OK, "{}", in_grid.body);
    assert_eq!(ids(&in_grid.body["items"]), vec![w.building_a2.clone()]);
    assert_eq!(in_grid.body["items"][0]["grid"]["name"], "甲二网格");
    let found = app
        .get(
            "/api/v1/buildings?q=%E6%B5%8B%E8%AF%95%E8%B7%AF",
            &w.gw_a2.token,
        )
        .await;
    assert_eq!(ids(&found.body["items"]), vec![w.building_a2.clone()]);
    let wildcard = app.get("/api/v1/buildings?q=%25", &resident).await;
    assert_eq!(wildcard.body["items"], json!([]), "% is taken literally");
    let neither = app.get("/api/v1/buildings", &resident).await;
    assert_eq!(neither.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = app
        .get(
            &format!("/api/v1/buildings?grid_id={}", uuid::Uuid::new_v4()),
            &resident,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // A grid worker sees the people of their grid, with the tickets each holds open.
    app.new_ticket(&resident, "noise", A1_POINT).await;
    let mine = app.get("/api/v1/staff", &w.gw_a1.token).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    let names: Vec<(&str, u64)> = mine.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default(),
                p["open_tickets"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    assert_eq!(names, vec![("ga_a1", 0), ("gw_a1", 1)]);
    assert_eq!(
        mine.body["items"][0]["roles"][0]["skills"],
        json!(["noise"])
    );
    let other = app
        .get(&format!("/api/v1/staff?area_id={}", w.a2), &w.gw_a1.token)
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    // A community admin: the people of the community's grids and the community.
    let workers = app
        .get("/api/v1/staff?role=grid_worker", &w.ca_admin.token)
        .await;
    let names: Vec<&str> = workers.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, vec!["gw_a1", "gw_a2"]);
    let by_name = app
        .get("/api/v1/staff?q=GW_A2", &w.street_admin.token)
        .await;
    assert_eq!(ids(&by_name.body["items"]), vec![w.gw_a2.id.clone()]);
    assert_eq!(
        app.get("/api/v1/staff", &resident).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn administrators_manage_categories_accounts_and_passwords() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let admin = app.admin_token.clone();

    let r = app
        .patch(
            "/api/v1/admin/categories/noise",
            &admin,
            json!({"display_order": -1, "description": "夜间施工、广场舞等", "response_minutes": 120, "resolution_hours": 72}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["sla_text"], "2小时内响应，3天内办结");
    let list = app.get_anonymous("/api/v1/categories").await;
    assert_eq!(list.body[0]["code"], "noise");
    assert_eq!(list.body[0]["description"], "夜间施工、广场舞等");
    assert_eq!(list.body[0]["display_order"], -1);
    let r = app
        .patch(
            "/api/v1/admin/categories/noise",
            &admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(r.body["active"], false);
    let list = app.get_anonymous("/api/v1/categories").await;
    assert_ne!(list.body[0]["code"], "noise");
    let half = app
        .patch(
            "/api/v1/admin/categories/lighting",
            &admin,
            json!({"response_minutes": 30}),
        )
        .await;
    assert_eq!(half.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = app
        .patch(
            "/api/v1/admin/categories/nope",
            &admin,
            json!({"active": true}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let not_admin = app
        .patch(
            "/api/v1/admin/categories/lighting",
            &w.street_admin.token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(not_admin.status, StatusCode::FORBIDDEN);

    // Accounts a page at a time, every one once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/admin/staff?limit=3&cursor={c}"),
            None => "/api/v1/admin/staff?limit=3".to_owned(),
        };
        let page = app.get(&path, &admin).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(ids(&page.body["items"]));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9, "root and the world's eight");
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 9);
    let gws = app.get("/api/v1/admin/staff?q=gw_", &admin).await;
    assert_eq!(gws.body["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(gws.body["items"][0]["login"], "gw_a1");
    let bad = app.get("/api/v1/admin/staff?cursor=%21%21", &admin).await;
    assert_eq!(bad.code(), "invalid_cursor");

    // Passwords: one's own with the old one; an administrator's reset.
    let change = |old: &str, new: &str| {
        app.post(
            "/api/v1/staff/me/password",
            &w.gw_a1.token,
            json!({"old": old, "new": new}),
        )
    };
    let wrong = change("not-my-password", "A-new-password-1").await;
    assert_eq!(wrong.code(), "wrong_password", "{}", wrong.body);
    let short = change("password-123", "short").await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(short.body["field"], "new");
    let ok = change("password-123", "A-new-password-1").await;
    assert!(ok.status.is_success(), "{}", ok.body);
    app.staff_login("gw_a1", "A-new-password-1").await;
    let old = app
        .post_anonymous(
            "/api/v1/auth/staff",
            json!({"login": "gw_a1", "password": "password-123"}),
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let reset = app
        .post(
            &format!("/api/v1/admin/staff/{}/password", w.gw_a2.id),
            &admin,
            json!({"new": "Reset-by-admin-1"}),
        )
        .await;
    assert!(reset.status.is_success(), "{}", reset.body);
    app.staff_login("gw_a2", "Reset-by-admin-1").await;
    let not_admin = app
        .post(
            &format!("/api/v1/admin/staff/{}/password", w.gw_a2.id),
            &w.ca_admin.token,
            json!({"new": "taken-over-now"}),
        )
        .await;
    assert_eq!(not_admin.status, StatusCode::FORBIDDEN);
}
