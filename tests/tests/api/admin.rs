//! Administration: the area tree, import, deletion rules, OpenAPI, migrations.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn areas_can_be_listed_changed_and_deleted_only_when_unused() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let admin = &app.admin_token;
    let roots = app.get("/api/v1/admin/areas", admin).await;
    assert_eq!(roots.body.as_array().map(Vec::len), Some(1));
    let grids = app
        .get(&format!("/api/v1/admin/areas?parent_id={}", w.cb), admin)
        .await;
    let codes: Vec<&str> = grids
        .body
        .as_array()
        .map(|a| a.iter().filter_map(|g| g["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, ["B1", "B2"]);
    let b1 = app
        .get(&format!("/api/v1/admin/areas/{}", w.b1), admin)
        .await;
    assert_eq!(b1.body["boundary"]["type"], "Polygon");
    assert_eq!(
        b1.body["boundary"]["coordinates"].as_array().map(Vec::len),
        Some(2),
        "outer ring and hole"
    );

    let r = app
        .delete(&format!("/api/v1/admin/areas/{}", w.a1), admin)
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "area_in_use"));
    let empty = app
        .create(
            "/api/v1/admin/areas",
            json!({"kind": "grid", "name": "空网格", "parent_id": w.ca}),
        )
        .await;
    let r = app
        .delete(&format!("/api/v1/admin/areas/{empty}"), admin)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/api/v1/admin/areas/{empty}"), admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .patch(
            &format!("/api/v1/admin/areas/{}", w.a1),
            admin,
            json!({"name": "甲一网格（新）"}),
        )
        .await;
    assert_eq!(r.body["name"], "甲一网格（新）");
}

#[tokio::test]
async fn a_feature_collection_imports_a_tree_and_routes_by_it() {
    let app = spawn_app().await;
    let fc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": null, "properties": {"kind": "street", "name": "导入街道", "code": "IS"}},
        {"type": "Feature", "geometry": null, "properties": {"kind": "community", "name": "导入社区", "code": "IC", "parent_code": "IS"}},
        {"type": "Feature", "properties": {"kind": "grid", "name": "导入网格", "code": "IG", "parent_code": "IC"},
         "geometry": {"type": "MultiPolygon", "coordinates": [[[[116.3, 39.8], [116.31, 39.8], [116.31, 39.81], [116.3, 39.81], [116.3, 39.8]]], [[[116.32, 39.8], [116.33, 39.8], [116.33, 39.81], [116.32, 39.81], [116.32, 39.8]]]]}}
    ]});
    let r = app
        .post("/api/v1/admin/areas/import", &app.admin_token, fc.clone())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.body["created"].as_u64(), r.body["updated"].as_u64()),
        (Some(3), Some(0))
    );
    let again = app
        .post("/api/v1/admin/areas/import", &app.admin_token, fc)
        .await;
    assert_eq!(
        (
            again.body["created"].as_u64(),
            again.body["updated"].as_u64()
        ),
        (Some(0), Some(3))
    );
    app.create("/api/v1/admin/categories", json!({"code": "noise", "name": "噪音", "handling_level": "grid", "response_minutes": 60, "resolution_hours": 24})).await;
    let resident = app.resident("r1").await;
    // The second polygon of the MultiPolygon.
    let t = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", (39.805, 116.325)),
        )
        .await;
    assert_eq!(t.body["grid"]["name"], "导入网格", "{}", t.body);
}

#[tokio::test]
async fn openapi_and_docs_are_served() {
    let app = spawn_app().await;
    let spec = app.get_anonymous("/openapi.json").await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.body["servers"][0]["url"], "/api/v1");
    for path in [
        "/tickets",
        "/tickets/{id}/accept",
        "/work/tickets",
        "/admin/areas",
        "/auth/wechat",
    ] {
        assert!(
            spec.body["paths"].get(path).is_some(),
            "{path} missing from the spec"
        );
    }
    let docs = app
        .http
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .expect("docs");
    assert_eq!(docs.status(), StatusCode::OK);
    let ready = app.get_anonymous("/readyz").await;
    assert_eq!(
        (ready.status, ready.body["database"].as_str()),
        (StatusCode::OK, Some("up"))
    );
}

#[tokio::test]
async fn categories_are_public_and_admin_create_refuses_a_taken_login() {
    let app = spawn_app().await;
    World::build(&app).await;
    let r = app.get_anonymous("/api/v1/categories").await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(4));
    let again = qiaomen_api::services::staff::create_admin(
        &app.state.db,
        &app.state.passwords,
        qiaomen_api::services::staff::NewStaff {
            name: qiaomen_api::domain::inputs::Text::parse("name", "x", 10).expect("name"),
            login: qiaomen_api::domain::inputs::Text::parse("login", "root", 10).expect("login"),
            password: qiaomen_api::services::staff::Password::parse("Another-password-1")
                .expect("pw"),
            must_change_password: false,
        },
        app.state.clock.now(),
    )
    .await;
    assert!(matches!(
        again,
        Err(qiaomen_api::services::ServiceError::Rejected {
            code: qiaomen_api::error::Code::AlreadyExists,
            ..
        })
    ));
}

#[tokio::test]
async fn migrations_run_down_and_up_again() {
    use qiaomen_api::startup;
    use sea_orm_migration_check::*;
    let settings = test_settings().await;
    let db = startup::connect(&settings).await.expect("connect");
    Migrator::up(&db, None).await.expect("up");
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("status")
            .is_empty()
    );
    Migrator::down(&db, None).await.expect("down");
    assert_eq!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("status")
            .len(),
        Migrator::migrations().len()
    );
    Migrator::up(&db, None).await.expect("up again");
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("status")
            .is_empty()
    );
}

mod sea_orm_migration_check {
    pub use migration::{Migrator, MigratorTrait};
}

#[tokio::test]
async fn the_demo_street_routes_a_complaint_to_a_grid_worker() {
    let app = spawn_app().await;
    let seeded = qiaomen_api::services::seed::demo(&app.state.db, app.state.clock.now())
        .await
        .expect("seed");
    assert!(matches!(
        seeded,
        qiaomen_api::services::seed::Seeded::Created { grids: 12, .. }
    ));
    let again = qiaomen_api::services::seed::demo(&app.state.db, app.state.clock.now())
        .await
        .expect("seed again");
    assert!(matches!(
        again,
        qiaomen_api::services::seed::Seeded::AlreadyThere
    ));
    let resident = app.resident("demo").await;
    let t = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("fire_exit", (39.930, 116.404)),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    assert_eq!(t.body["status"], "assigned");
    assert_eq!(t.body["grid"]["name"], "南池子社区第1网格");
    let worker = app
        .staff_login("gw01", qiaomen_api::services::seed::DEMO_PASSWORD)
        .await;
    let inbox = app
        .get("/api/v1/work/tickets?status=assigned", &worker)
        .await;
    assert_eq!(inbox.body["items"][0]["id"], t.body["id"]);
}
