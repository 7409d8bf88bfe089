//! Public suggestions (issue 7): "me too" support, once per resident, raising priority past a
//! threshold; a public board that shows nothing personal.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn support_is_counted_once_per_resident_and_raises_priority() {
    let app = spawn_app_with(|s| s.public.support_priority_threshold = 3).await;
    let w = World::build(&app).await;
    let author = app.resident("author").await;
    let mut body = complaint_at("noise", A1_POINT);
    body["public"] = json!(true);
    let t = app.post("/api/v1/tickets", &author, body).await.body;
    let id = t["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        (t["public"].as_bool(), t["support_count"].as_i64()),
        (Some(true), Some(0))
    );

    let alice = app.resident("alice").await;
    let path = format!("/api/v1/tickets/{id}/support");
    for _ in 0..3 {
        let r = app.post(&path, &alice, json!({})).await;
        assert_eq!(
            (r.status, r.body["support_count"].as_i64()),
            (StatusCode::OK, Some(1)),
            "idempotent: {}",
            r.body
        );
    }
    let r = app.delete(&path, &alice).await;
    assert_eq!(r.body["support_count"], 0);
    let r = app.delete(&path, &alice).await;
    assert_eq!(
        r.body["support_count"], 0,
        "withdrawing twice changes nothing"
    );
    for name in ["alice", "bob", "carol"] {
        let token = app.resident(name).await;
        app.post(&path, &token, json!({})).await;
    }
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await
        .body;
    assert_eq!(
        (t["support_count"].as_i64(), t["priority"].as_str()),
        (Some(3), Some("high"))
    );
    let raised = t["events"].as_array().map(|es| {
        es.iter()
            .filter(|e| e["action"] == "priority_raised")
            .count()
    });
    assert_eq!(raised, Some(1));
    // A private ticket cannot be supported (nor found).
    let private = app
        .post("/api/v1/tickets", &author, complaint_at("noise", A1_POINT))
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        app.post(
            &format!("/api/v1/tickets/{private}/support"),
            &alice,
            json!({})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_public_board_lists_supported_suggestions_without_personal_data() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let author = app.resident("author").await;
    let submit = |text: &str, public: bool| {
        let mut body = complaint_at("noise", A1_POINT);
        body["description"] = json!(text);
        body["public"] = json!(public);
        body["contact_phone"] = json!("13812345678");
        let app = &app;
        let author = author.clone();
        async move {
            app.post("/api/v1/tickets", &author, body).await.body["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    let quiet = submit(
        "3号楼2单元501室楼上噪音，电话13812345678，车牌京A12345",
        true,
    )
    .await;
    let loud = submit("广场舞音响太大", true).await;
    submit("私下反映的问题", false).await;
    for name in ["a", "b"] {
        let token = app.resident(name).await;
        app.post(
            &format!("/api/v1/tickets/{loud}/support"),
            &token,
            json!({}),
        )
        .await;
    }
    let r = app
        .get_anonymous(&format!(
            "/api/v1/public/tickets?area_id={}&sort=support",
            w.ca
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "only public suggestions");
    assert_eq!(
        (items[0]["id"].as_str(), items[0]["support_count"].as_i64()),
        (Some(loud.as_str()), Some(2))
    );
    let redacted = items
        .iter()
        .find(|i| i["id"] == quiet.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        redacted["description"],
        "3号楼*单元***室楼上噪音，电话138****5678，车牌京A****5"
    );
    // The room number (501) is checked in the description above: a random id may hold "501".
    let text = r.body.to_string();
    for secret in [
        "13812345678",
        "京A12345",
        "resident_id",
        "contact_phone",
        "openid",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let newest = app
        .get_anonymous(&format!(
            "/api/v1/public/tickets?area_id={}&sort=new&kind=complaint&status=assigned",
            w.ca
        ))
        .await;
    assert_eq!(newest.body["items"][0]["id"], loud.as_str());
    let other = app
        .get_anonymous(&format!("/api/v1/public/tickets?area_id={}", w.cb))
        .await;
    assert_eq!(other.body["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn likely_duplicates_come_back_with_a_new_ticket() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let first = app.resident("first").await;
    let second = app.resident("second").await;
    let at = |category: &str, text: &str, point: (f64, f64)| {
        let mut body = complaint_at(category, point);
        body["description"] = json!(text);
        body["public"] = json!(true);
        body
    };
    // An old one, then a recent one just across the A1/A2 border (about 20 m away).
    let old = app
        .post(
            "/api/v1/tickets",
            &first,
            at(
                "noise",
                "工地夜间施工噪音很大，影响休息",
                (39.9021, 116.4099),
            ),
        )
        .await
        .body;
    app.clock.advance(chrono::Duration::days(15));
    let recent = app
        .post(
            "/api/v1/tickets",
            &first,
            at(
                "noise",
                "工地夜间施工噪音很大，影响休息",
                (39.9021, 116.4099),
            ),
        )
        .await
        .body;
    assert_eq!(recent["grid"]["id"], w.a1.as_str());
    let r = app
        .post(
            "/api/v1/tickets",
            &second,
            at(
                "noise",
                "夜间施工噪音太大了，工地影响休息",
                (39.9021, 116.4101),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        r.body["grid"]["id"],
        w.a2.as_str(),
        "the other side of the border"
    );
    let dups = r.body["possible_duplicates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        dups.len(),
        1,
        "the recent one only, not the 15-day-old one: {dups:?}"
    );
    assert_eq!(dups[0]["id"], recent["id"]);
    assert_ne!(dups[0]["id"], old["id"]);
    assert!(
        dups[0]["distance_meters"]
            .as_f64()
            .is_some_and(|d| d < 40.0)
    );
    assert!(dups[0]["similarity"].as_f64().is_some_and(|s| s >= 0.3));
    // Same place and words, another category: not a duplicate; nor a different complaint.
    let r = app
        .post(
            "/api/v1/tickets",
            &second,
            at(
                "sanitation",
                "工地夜间施工噪音很大，影响休息",
                (39.9021, 116.4101),
            ),
        )
        .await;
    assert_eq!(
        r.body["possible_duplicates"].as_array().map(Vec::len),
        Some(0)
    );
    let r = app
        .post(
            "/api/v1/tickets",
            &second,
            at("noise", "楼下小狗整夜叫个不停", (39.9021, 116.4101)),
        )
        .await;
    assert_eq!(
        r.body["possible_duplicates"].as_array().map(Vec::len),
        Some(0)
    );
    // Far away: not a duplicate.
    let r = app
        .post(
            "/api/v1/tickets",
            &second,
            at("noise", "工地夜间施工噪音很大，影响休息", B1_POINT),
        )
        .await;
    assert_eq!(
        r.body["possible_duplicates"].as_array().map(Vec::len),
        Some(0)
    );
}

#[tokio::test]
async fn a_merged_ticket_follows_its_main_one_and_its_supporters_carry_over() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let (first, second, fan, both) = (
        app.resident("first").await,
        app.resident("second").await,
        app.resident("fan").await,
        app.resident("both").await,
    );
    let public = |text: &str| {
        let mut body = complaint_at("noise", A1_POINT);
        body["description"] = json!(text);
        body["public"] = json!(true);
        body
    };
    let main = app
        .post("/api/v1/tickets", &first, public("工地夜间施工噪音"))
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let dup = app
        .post("/api/v1/tickets", &second, public("夜里工地施工太吵"))
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.post(&format!("/api/v1/tickets/{main}/support"), &both, json!({}))
        .await;
    app.post(&format!("/api/v1/tickets/{dup}/support"), &both, json!({}))
        .await;
    app.post(&format!("/api/v1/tickets/{dup}/support"), &fan, json!({}))
        .await;

    let r = app
        .act(&dup, "merge", &w.gw_a1, json!({"into": main}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["duplicate_of"], main.as_str());
    let m = app
        .get(&format!("/api/v1/tickets/{main}"), &first)
        .await
        .body;
    assert_eq!(
        m["support_count"], 3,
        "both (once), fan, and the merged ticket's reporter"
    );
    let r = app.act(&dup, "merge", &w.gw_a1, json!({"into": dup})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    app.act(&main, "accept", &w.gw_a1, json!({})).await;
    let d = app
        .get(&format!("/api/v1/tickets/{dup}"), &second)
        .await
        .body;
    assert_eq!(d["status"], "in_progress", "follows the main ticket");
    app.act(&main, "resolve", &w.gw_a1, json!({"note": "已协调停工"}))
        .await;
    let d = app
        .get(&format!("/api/v1/tickets/{dup}"), &second)
        .await
        .body;
    assert_eq!(d["status"], "resolved");
    let follows = d["events"]
        .as_array()
        .map(|es| es.iter().filter(|e| e["action"] == "follow").count());
    assert_eq!(follows, Some(2));
    let r = app
        .post(
            &format!("/api/v1/tickets/{dup}/rating"),
            &second,
            json!({"level": "satisfied"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (StatusCode::OK, Some("closed")),
        "its reporter may rate: {}",
        r.body
    );
}
