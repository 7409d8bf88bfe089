//! The public board as a front end pages through it (issue 21, part 11): the whole deployment
//! or an area, newest or most supported, a detail with a rounded point, photos of the fix and
//! `supported_by_me`; and a resident whose ticket was a duplicate follows the original.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn public_at(app: &TestApp, resident: &str, point: (f64, f64), text: &str) -> String {
    let mut body = complaint_at("noise", point);
    body["kind"] = json!("suggestion");
    body["description"] = json!(text);
    body["public"] = json!(true);
    let r = app.post("/api/v1/tickets", resident, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_board_pages_through_the_deployment_and_shows_one_in_detail() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("board-1").await;
    let neighbour = app.resident("board-2").await;
    let a = public_at(
        &app,
        &resident,
        (39.90212, 116.40843),
        "小区门口路灯不亮，电话13812345678",
    )
    .await;
    let b = public_at(&app, &resident, A2_POINT, "建议增设快递柜").await;
    let c = public_at(&app, &neighbour, B1_POINT, "广场舞音响太吵").await;
    let private = app.new_ticket(&resident, "noise", A1_POINT).await;
    app.post(
        &format!("/api/v1/tickets/{b}/support"),
        &neighbour,
        json!({}),
    )
    .await;

    // The whole deployment, a page at a time, newest first; no login needed.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get_anonymous(&format!("/api/v1/public/tickets?limit=2{cursor}"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(item_ids(&page.body));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![c.clone(), b.clone(), a.clone()]);
    let by_support = app
        .get_anonymous("/api/v1/public/tickets?sort=support")
        .await;
    assert_eq!(item_ids(&by_support.body)[0], b);
    let in_ca = app
        .get_anonymous(&format!(
            "/api/v1/public/tickets?area_id={}&sort=newest",
            w.ca
        ))
        .await;
    assert_eq!(item_ids(&in_ca.body), vec![b.clone(), a.clone()]);

    // One in detail: redacted, its point rounded, support; supported_by_me with a token.
    let d = app
        .get_anonymous(&format!("/api/v1/public/tickets/{a}"))
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    assert_eq!(d.body["description"], "小区门口路灯不亮，电话138****5678");
    assert_eq!(d.body["location"], json!({"lat": 39.902, "lng": 116.408}));
    assert_eq!(d.body["supported_by_me"], Value::Null);
    let mine = app
        .get(&format!("/api/v1/public/tickets/{b}"), &neighbour)
        .await;
    assert_eq!(mine.body["supported_by_me"], true);
    assert_eq!(mine.body["support_count"], 1);
    let not_mine = app
        .get(&format!("/api/v1/public/tickets/{b}"), &resident)
        .await;
    assert_eq!(not_mine.body["supported_by_me"], false);
    for hidden in [private.as_str(), "QM-20990101-000001"] {
        let r = app
            .get_anonymous(&format!("/api/v1/public/tickets/{hidden}"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{hidden}");
    }

    // The fix's photo, shown to anyone by its signed URL; the report's own photos are not.
    app.act(&a, "accept", &w.gw_a1, json!({})).await;
    let png = samples::png_with_metadata();
    let up = app
        .upload(&w.gw_a1.token, "fix.png", "image/png", &png)
        .await;
    let photo = up.body["id"].as_str().unwrap_or_default().to_owned();
    let r = app
        .act(
            &a,
            "resolve",
            &w.gw_a1,
            json!({"note": "已更换灯泡", "attachment_ids": [photo]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = app
        .get_anonymous(&format!("/api/v1/public/tickets/{a}"))
        .await;
    let url = d.body["resolution_photos"][0]["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let resp = app
        .http
        .get(format!("{}{url}", app.base))
        .send()
        .await
        .expect("photo");
    assert_eq!(resp.status(), StatusCode::OK);
    let bad = app
        .get_anonymous("/api/v1/public/tickets?sort=oldest")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_resident_whose_ticket_was_a_duplicate_follows_the_original() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let first = app.resident("orig").await;
    let second = app.resident("dup").await;
    let original = public_at(&app, &first, A1_POINT, "楼下垃圾桶满了没人清").await;
    let dup = app.new_ticket(&second, "noise", A1_POINT).await;
    let private = app.new_ticket(&first, "noise", A1_POINT).await;
    let r = app
        .act(
            &dup,
            "reject",
            &w.gw_a1,
            json!({"reason": "重复诉求", "duplicate_of": original}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let mine = app.get(&format!("/api/v1/tickets/{dup}"), &second).await;
    let o = &mine.body["duplicate_original"];
    assert_eq!(o["id"], original.as_str(), "{}", mine.body);
    assert_eq!(o["status"], "assigned");
    assert_eq!(o["public"], true);
    assert_eq!(o["description"], "楼下垃圾桶满了没人清");

    // The original's progress reaches the duplicate's reporter.
    let before = app.state.db.clone();
    let count = |resident: String| {
        let db = before.clone();
        async move {
            use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
            entity::notification_outbox::Entity::find()
                .filter(
                    entity::notification_outbox::Column::RecipientId
                        .eq(uuid::Uuid::parse_str(&resident).expect("id")),
                )
                .count(&db)
                .await
                .expect("count")
        }
    };
    let second_id = app.get("/api/v1/me", &second).await.body["resident_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let heard = count(second_id.clone()).await;
    let r = app.act(&original, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(count(second_id).await, heard + 1);

    // A private original shows its number and status only.
    let third = app.resident("dup-2").await;
    let dup2 = app.new_ticket(&third, "noise", A1_POINT).await;
    app.act(
        &dup2,
        "reject",
        &w.gw_a1,
        json!({"reason": "重复", "duplicate_of": private}),
    )
    .await;
    let seen = app.get(&format!("/api/v1/tickets/{dup2}"), &third).await;
    let o = &seen.body["duplicate_original"];
    assert_eq!(o["public"], false);
    assert_eq!(o["description"], Value::Null);
    assert_eq!(
        o["number"].as_str().map(|n| n.starts_with("QM-")),
        Some(true)
    );
}
