//! Reading residents' words (issue 26 items 3 and 4), through the HTTP API: the category a text
//! suggests and the model behind it, 类别可能有误 for staff, and duplicates a resident would
//! recognise.
use chrono::Duration;
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::hotspots::{north_of_a1, submit, told};

async fn suggest(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post("/api/v1/categories/suggest", token, body).await
}

fn first(r: &Reply) -> String {
    r.body["suggestions"][0]["category"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_text_suggests_its_category_and_the_model_learns_the_deployments_own() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("s1").await;

    // From the first day: the bundled examples of the categories the deployment has.
    let r = suggest(
        &app,
        &resident,
        json!({"text": "3号楼门口路灯不亮了，黑灯瞎火的"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(first(&r), "lighting", "{}", r.body);
    let list = r.body["suggestions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!list.is_empty() && list.len() <= 3);
    let total: f64 = list.iter().filter_map(|s| s["score"].as_f64()).sum();
    assert!(total <= 1.0001 && list[0]["name"] == "路灯照明", "{list:?}");
    let r = suggest(
        &app,
        &resident,
        json!({"text": "楼下广场舞太吵了", "lat": A1_POINT.0, "lng": A1_POINT.1}),
    )
    .await;
    assert_eq!(first(&r), "noise");
    // Staff entering a call may ask too; bad input is a 422 and nobody else may ask.
    let r = suggest(&app, &w.gw_a1.token, json!({"text": "楼道里贴满了小广告"})).await;
    assert_eq!(first(&r), "sanitation");
    for bad in [
        json!({"text": ""}),
        json!({"text": "路灯", "lat": 39.9}),
        json!({"text": "路灯", "lat": 95.0, "lng": 116.4}),
        json!({"text": "灯".repeat(2001)}),
    ] {
        let r = suggest(&app, &resident, bad.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.body
        );
    }
    let r = app
        .send(
            reqwest::Method::POST,
            "/api/v1/categories/suggest",
            None,
            Some(json!({"text": "路灯"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // A category of this deployment's own, learnt from its closed tickets once trained: their
    // final category counts, after a worker corrected one.
    app.create(
        "/api/v1/admin/categories",
        json!({"code": "elevator", "name": "电梯故障", "group": "物业管理", "handling_level": "grid",
               "response_minutes": 60, "resolution_hours": 48}),
    )
    .await;
    let texts = [
        ("elevator", "电梯又停在半截了，里面有人"),
        ("elevator", "单元电梯坏了三天没人修"),
        ("elevator", "电梯按钮失灵，门也关不严"),
        ("noise", "电梯井里咣当咣当响，电梯坏了吧"),
    ];
    for (k, (category, text)) in texts.iter().enumerate() {
        let t = submit(
            &app,
            &resident,
            told(category, north_of_a1(k as f64 * 3.0), text),
        )
        .await;
        let id = t["id"].as_str().unwrap_or_default().to_owned();
        if *category == "noise" {
            let r = app
                .patch(
                    &format!("/api/v1/tickets/{id}"),
                    &w.gw_a1.token,
                    json!({"category": "elevator", "reason": "是电梯故障"}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        let r = app.act(&id, "accept", &w.ca_admin, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app
            .act(&id, "resolve", &w.ca_admin, json!({"note": "已修好"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = app
        .post(
            "/api/v1/admin/category-model/train",
            &w.gw_a1.token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            "/api/v1/admin/category-model/train",
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["tickets"], 4, "{}", r.body);
    assert!(r.body["texts"].as_u64().unwrap_or_default() > 200);
    let r = suggest(&app, &resident, json!({"text": "电梯坏了，老人下不了楼"})).await;
    assert_eq!(first(&r), "elevator", "{}", r.body);

    // Staff see 类别可能有误 where the text says another category; the resident does not.
    let odd = submit(
        &app,
        &resident,
        told("noise", A2_POINT, "路灯不亮，晚上黑乎乎的，路灯坏了"),
    )
    .await;
    let id = odd["id"].as_str().unwrap_or_default().to_owned();
    let staff = app
        .get(&format!("/api/v1/tickets/{id}"), &w.street_admin.token)
        .await;
    assert_eq!(
        staff.body["category_doubt"]["message"], "类别可能有误",
        "{}",
        staff.body
    );
    assert_eq!(
        staff.body["category_doubt"]["suggestions"][0]["category"],
        "lighting"
    );
    let own = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
    assert!(own.body.get("category_doubt").is_none());
    let fine = app.new_ticket(&resident, "noise", A2_POINT).await;
    let staff = app
        .get(&format!("/api/v1/tickets/{fine}"), &w.street_admin.token)
        .await;
    assert!(staff.body.get("category_doubt").is_none(), "{}", staff.body);

    // The scheduler trains nightly: after 03:00 Beijing the next day, a new model.
    let before = app
        .get("/api/v1/admin/category-model", &app.admin_token)
        .await;
    let scheduler = qiaomen_api::scheduler::Scheduler::new(app.state.clone());
    tick(&scheduler).await;
    let same = app
        .get("/api/v1/admin/category-model", &app.admin_token)
        .await;
    assert_eq!(same.body["id"], before.body["id"]);
    app.clock.advance(Duration::days(1));
    tick(&scheduler).await;
    let after = app
        .get("/api/v1/admin/category-model", &app.admin_token)
        .await;
    assert_ne!(after.body["id"], before.body["id"]);
    assert_eq!(after.body["tickets"], 4);
}

#[tokio::test]
async fn residents_are_offered_the_same_problem_told_in_other_words_not_their_neighbours() {
    let app = spawn_app().await;
    let _w = World::build(&app).await;
    let (r1, r2, r3) = (
        app.resident("d1").await,
        app.resident("d2").await,
        app.resident("d3").await,
    );
    let public = |mut b: Value| {
        b["public"] = json!(true);
        b
    };
    let ads = submit(
        &app,
        &r1,
        public(told(
            "sanitation",
            north_of_a1(0.0),
            "3号楼楼道里贴满了牛皮癣，墙上全是",
        )),
    )
    .await;
    let bins = submit(
        &app,
        &r2,
        public(told(
            "sanitation",
            north_of_a1(10.0),
            "3号楼门口垃圾桶满了没人清运",
        )),
    )
    .await;
    // The same problem in other words, with a phone number: offered, the bins are not.
    let mine = submit(
        &app,
        &r3,
        told(
            "sanitation",
            north_of_a1(20.0),
            "3号楼楼道全是小广告，电话13912345678",
        ),
    )
    .await;
    let offered: Vec<String> = mine["possible_duplicates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        offered.first().map(String::as_str),
        ads["id"].as_str(),
        "{mine}"
    );
    assert!(
        !offered
            .iter()
            .any(|id| Some(id.as_str()) == bins["id"].as_str()),
        "{mine}"
    );
}
