//! What a front end shows (issue 21, parts 8–9): who acted in a timeline, internal reasons kept
//! from residents without gaps, and coordinates in the datum WeChat's map draws in.
use qiaomen_api::domain::coords::wgs84_to_gcj02;
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn events(ticket: &Value) -> Vec<Value> {
    ticket["events"].as_array().cloned().unwrap_or_default()
}

fn event<'a>(events: &'a [Value], action: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in {events:?}"))
}

fn near(value: &Value, (lat, lng): (f64, f64)) -> bool {
    let (a, b) = (
        value["lat"].as_f64().unwrap_or(0.0),
        value["lng"].as_f64().unwrap_or(0.0),
    );
    (a - lat).abs() < 1e-9 && (b - lng).abs() < 1e-9
}

/// A ticket moved from A1 to A2 with a reason for staff and a note for the resident, an
/// internal comment, then accepted.
async fn moved_ticket(app: &TestApp, w: &World, resident: &str) -> String {
    let id = app.new_ticket(resident, "noise", A1_POINT).await;
    let r = app
        .act(
            &id,
            "transfer",
            &w.ca_admin,
            json!({"grid_id": w.a2, "reason": "住户反映的楼栋实际属甲二网格", "public_note": "已转交甲二网格处理"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            &w.gw_a2.token,
            json!({"text": "先联系物业核实", "internal": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app.act(&id, "accept", &w.gw_a2, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    id
}

#[tokio::test]
async fn timelines_say_who_acted_and_keep_internal_reasons_from_residents() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("timeline").await;
    let id = moved_ticket(&app, &w, &resident).await;

    let mine = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
    let seen = events(&mine.body);
    let seqs: Vec<i64> = seen.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert_eq!(seqs, (1..=seen.len() as i64).collect::<Vec<_>>(), "no gaps");
    assert!(seen.iter().all(|e| e["visibility"] == "public"));
    let transfer = event(&seen, "transfer");
    assert_eq!(transfer["note"], "已转交甲二网格处理");
    assert_eq!(
        transfer["actor"],
        json!({"kind": "staff", "name": "ca_admin", "role": "community_admin"})
    );
    assert_eq!(event(&seen, "accept")["actor"]["name"], "gw_a2");
    assert_eq!(event(&seen, "submit")["actor"], json!({"kind": "resident"}));
    assert!(
        !mine.body.to_string().contains("甲二网格处理实际")
            && !mine.body.to_string().contains("住户反映")
    );

    // Staff read the reason and the internal comment, numbered as stored.
    let staff = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a2.token)
        .await;
    let all = events(&staff.body);
    assert_eq!(all.len(), seen.len() + 1);
    let transfer = event(&all, "transfer");
    assert_eq!(transfer["note"], "住户反映的楼栋实际属甲二网格");
    assert_eq!(event(&all, "comment")["visibility"], "internal");

    // A street that does not show staff names: residents read the role only.
    let quiet = spawn_app_with(|s| s.privacy.show_staff_names = false).await;
    let w = World::build(&quiet).await;
    let resident = quiet.resident("quiet").await;
    let id = moved_ticket(&quiet, &w, &resident).await;
    let mine = quiet.get(&format!("/api/v1/tickets/{id}"), &resident).await;
    assert_eq!(
        event(&events(&mine.body), "accept")["actor"],
        json!({"kind": "staff", "role": "grid_worker"})
    );
    let staff = quiet
        .get(&format!("/api/v1/tickets/{id}"), &w.ca_admin.token)
        .await;
    assert_eq!(
        event(&events(&staff.body), "accept")["actor"]["name"],
        "gw_a2"
    );
}

#[tokio::test]
async fn reads_give_gcj02_coordinates_when_asked() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("datum").await;
    let id = app.new_ticket(&resident, "noise", A2_POINT).await;
    let gcj = wgs84_to_gcj02(A2_POINT.0, A2_POINT.1);

    let plain = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
    assert!(near(&plain.body["location"], A2_POINT), "{}", plain.body);
    let shifted = app
        .get(
            &format!("/api/v1/tickets/{id}?coord_system=gcj02"),
            &resident,
        )
        .await;
    assert!(
        near(&shifted.body["location"], gcj),
        "{}",
        shifted.body["location"]
    );
    let own = app
        .get("/api/v1/tickets?coord_system=gcj02", &resident)
        .await;
    assert!(near(&own.body["items"][0]["location"], gcj));

    // The work list: kept pages stay in WGS-84, a GCJ-02 read converts a copy.
    let token = &w.gw_a2.token;
    for _ in 0..2 {
        let wgs = app.get("/api/v1/work/tickets", token).await;
        assert!(near(&wgs.body["items"][0]["location"], A2_POINT));
        let g = app
            .get("/api/v1/work/tickets?coord_system=gcj02", token)
            .await;
        assert!(near(&g.body["items"][0]["location"], gcj), "{}", g.body);
    }

    // The heatmap's polygons.
    let path = format!("/api/v1/stats/heatmap?area_id={}&period=this_year", w.ca);
    let wgs = app.get(&path, &w.ca_admin.token).await;
    assert_eq!(wgs.status, StatusCode::OK, "{}", wgs.body);
    let g = app
        .get(&format!("{path}&coord_system=gcj02"), &w.ca_admin.token)
        .await;
    let corner = |v: &Value| {
        let feature = v["features"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f.to_string().contains("甲二网格")))
            .cloned()
            .unwrap_or_default();
        let c = feature["geometry"]["coordinates"][0][0].clone();
        (c[1].as_f64().unwrap_or(0.0), c[0].as_f64().unwrap_or(0.0))
    };
    let (lat, lng) = corner(&wgs.body);
    let expected = wgs84_to_gcj02(lat, lng);
    let got = corner(&g.body);
    assert!(
        (got.0 - expected.0).abs() < 1e-9 && (got.1 - expected.1).abs() < 1e-9,
        "{got:?}"
    );
    assert!((got.1 - lng).abs() > 1e-3, "shifted");
}

/// Messages a person can read (part 12): details in Chinese unless English is asked for, a
/// malformed body named by its field, times in Beijing time.
#[tokio::test]
async fn problems_and_times_read_as_people_read_them() {
    let app = spawn_app().await;
    let _w = World::build(&app).await;
    let resident = app.resident("reader").await;
    let send = |body: &'static str, lang: Option<&'static str>| {
        let mut req = app
            .http
            .post(format!("{}/api/v1/tickets", app.base))
            .bearer_auth(&resident)
            .header("content-type", "application/json")
            .body(body);
        if let Some(lang) = lang {
            req = req.header("accept-language", lang);
        }
        async move { reply(req.send().await.expect("send")).await }
    };

    let wrong_type = send(
        r#"{"kind": "complaint", "category": 5, "description": "路灯坏了"}"#,
        None,
    )
    .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_type.code(), "invalid_body");
    assert_eq!(wrong_type.body["field"], "category");
    assert_eq!(wrong_type.body["title"], "请求格式错误");
    let detail = wrong_type.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("类型不正确"), "{detail}");
    let missing = send(r#"{"kind": "complaint", "category": "noise"}"#, None).await;
    assert_eq!(missing.body["field"], "description", "{}", missing.body);
    assert_eq!(missing.body["detail"], "缺少必填字段「description」");
    let english = send(r#"{"kind": "complaint", "category": "noise"}"#, Some("en")).await;
    assert_eq!(english.body["detail"], "`description` is required");
    assert_eq!(
        english.body["title"],
        "The request body or parameters are malformed"
    );
    // Which of several equal values was at fault cannot be told: no field rather than a wrong one.
    let ambiguous = send(
        r#"{"kind": "complaint", "category": "true", "description": "true", "public": "true"}"#,
        None,
    )
    .await;
    assert_eq!(ambiguous.code(), "invalid_body");
    assert_eq!(ambiguous.body["field"], Value::Null, "{}", ambiguous.body);
    let unknown = send(
        r#"{"kind": "complaint", "category": "noise", "description": "吵", "colour": 1}"#,
        None,
    )
    .await;
    assert_eq!(unknown.body["field"], "colour");
    let broken = send(r#"{"kind": "compl"#, None).await;
    assert_eq!(broken.body["detail"], "请求体不是有效的 JSON");
    assert!(!broken.body.to_string().contains("EOF"));

    // A service's detail in both languages.
    let home = |lang: &'static str| {
        let req = app
            .http
            .put(format!("{}/api/v1/me/home", app.base))
            .bearer_auth(&resident)
            .header("accept-language", lang)
            .json(&json!({"building_id": uuid::Uuid::new_v4()}));
        async move { reply(req.send().await.expect("send")).await }
    };
    assert_eq!(home("zh-CN").await.body["detail"], "没有这个楼栋");
    assert_eq!(
        home("en-US,en;q=0.9").await.body["detail"],
        "no such building"
    );

    // Times in Beijing time.
    app.clock.set(beijing("2026-11-20 09:30"));
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    let t = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
    // (The test clock moves on by microseconds as it is read.)
    let beijing_time = |v: &Value, minute: &str| {
        let s = v.as_str().unwrap_or_default();
        assert!(s.starts_with(minute) && s.ends_with("+08:00"), "{s}");
    };
    beijing_time(&t.body["submitted_at"], "2026-11-20T09:30:00");
    beijing_time(&t.body["response_due_at"], "2026-11-20T10:30:00");
    beijing_time(&t.body["events"][0]["at"], "2026-11-20T09:30:00");
}
