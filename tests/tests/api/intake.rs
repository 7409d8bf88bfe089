//! Intake on behalf of a resident (代登记, issue 25 item 5) and call-backs on a sample (回访,
//! item 6), through the HTTP API.
use chrono::Duration;
use qiaomen_api::scheduler::{Scheduler, Tick};
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn call(channel: &str) -> Value {
    json!({
        "channel": channel,
        "caller_name": "王建国",
        "caller_phone": "13912345678",
        "category": "noise",
        "description": "来电反映：小区门口夜间施工噪音",
        "location": {"lat": A1_POINT.0, "lng": A1_POINT.1},
    })
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_caller_claims_the_ticket_staff_entered_and_follows_and_rates_it() {
    let app = spawn_app().await;
    let w = World::build(&app).await;

    // Bad input writes nothing.
    let mut bad = call("email");
    let r = app
        .post("/api/v1/work/tickets", &w.gw_a1.token, bad.clone())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    bad["channel"] = json!("hotline");
    bad["kind"] = json!("praise");
    assert_eq!(
        app.post("/api/v1/work/tickets", &w.gw_a1.token, bad)
            .await
            .code(),
        "invalid_field"
    );
    let resident = app.resident("caller").await;
    let r = app
        .post("/api/v1/work/tickets", &resident, call("hotline"))
        .await;
    assert!(r.status == StatusCode::UNAUTHORIZED || r.status == StatusCode::FORBIDDEN);

    let r = app
        .post("/api/v1/work/tickets", &w.gw_a1.token, call("hotline"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = text(&r.body["id"]);
    let code = text(&r.body["claim_code"]);
    assert_eq!(code.len(), 8, "{}", r.body);
    assert_eq!(r.body["channel"], "hotline");
    assert_eq!(r.body["caller_name"], "王建国");
    assert_eq!(r.body["resident_id"], Value::Null);
    assert_eq!(
        r.body["assignee"]["id"],
        w.gw_a1.id.as_str(),
        "routed as any ticket"
    );
    assert_eq!(r.body["contact_phone"], "139****5678");
    // Its handlers read the code; the grid's assistant, who sees it but does not handle it,
    // reads the caller's name masked and no code.
    let seen = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ca_admin.token)
        .await;
    assert_eq!(
        seen.body["claim_code"],
        code.as_str(),
        "handled by the community admin"
    );
    let aside = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ga_a1.token)
        .await;
    assert_eq!(aside.body["caller_name"], "王*", "{}", aside.body);
    assert!(aside.body.get("claim_code").is_none_or(Value::is_null));
    let counter = app
        .post("/api/v1/work/tickets", &w.ca_admin.token, call("counter"))
        .await;
    assert_eq!(counter.body["channel"], "counter", "{}", counter.body);
    let other = app
        .get(&format!("/api/v1/tickets/{id}"), &w.cb_admin.token)
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);

    // A wrong code answers as an unknown one; the caller types theirs loosely.
    let r = app
        .post(
            "/api/v1/tickets/claim",
            &resident,
            json!({"code": "ACDE-FGHJ"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
    let r = app
        .post("/api/v1/tickets/claim", &resident, json!({"code": typed}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["id"], id.as_str());
    assert!(r.body.get("claim_code").is_none_or(Value::is_null));
    // Whoever holds a code read out over the phone reads the number masked and no name.
    assert_eq!(r.body["contact_phone"], "139****5678", "{}", r.body);
    assert!(r.body.get("caller_name").is_none_or(Value::is_null));
    let mine = app.get("/api/v1/tickets", &resident).await;
    assert!(mine.body.to_string().contains(&id), "{}", mine.body);
    // A code works once.
    let thief = app.resident("thief").await;
    let r = app
        .post("/api/v1/tickets/claim", &thief, json!({"code": code}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let staff = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    assert!(staff.body.get("claim_code").is_none_or(Value::is_null));
    assert!(staff.body["resident_id"].is_string());

    // The resident hears of it and rates it.
    for (action, body) in [
        ("accept", json!({})),
        ("resolve", json!({"note": "已协调停工"})),
    ] {
        assert_eq!(
            app.act(&id, action, &w.gw_a1, body).await.status,
            StatusCode::OK
        );
    }
    let inbox = app.get("/api/v1/me/notifications", &resident).await;
    assert!(
        inbox.body.to_string().contains("resolved"),
        "{}",
        inbox.body
    );
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/rating"),
            &resident,
            json!({"level": "satisfied"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Guessing is cut off.
    for _ in 0..10 {
        app.post("/api/v1/tickets/claim", &thief, json!({"code": "ACDEFGHJ"}))
            .await;
    }
    let r = app
        .post("/api/v1/tickets/claim", &thief, json!({"code": "ACDEFGHJ"}))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn door_knock_visit_tickets_carry_claim_codes() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let body = json!({"building_id": w.building_a2, "suggestions": [
        {"kind": "complaint", "category": "noise", "description": "夜里狗叫"},
        {"kind": "suggestion", "category": "lighting", "description": "楼前路灯不亮"},
    ]});
    let r = app.post("/api/v1/visits", &w.gw_a2.token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let codes: Vec<String> = r.body["tickets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| text(&t["claim_code"]))
        .collect();
    assert_eq!(codes.len(), 2);
    assert!(
        codes.iter().all(|c| c.len() == 8) && codes[0] != codes[1],
        "{codes:?}"
    );
    let household = app.resident("household").await;
    let r = app
        .post(
            "/api/v1/tickets/claim",
            &household,
            json!({"code": codes[1]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["channel"], "door_knock");
}

async fn closed_complaint(
    app: &TestApp,
    w: &World,
    resident: &str,
    rating: Option<&str>,
) -> String {
    let id = app.new_ticket(resident, "noise", A1_POINT).await;
    for (action, body) in [
        ("accept", json!({})),
        ("resolve", json!({"note": "已处理"})),
    ] {
        assert_eq!(
            app.act(&id, action, &w.gw_a1, body).await.status,
            StatusCode::OK
        );
    }
    if let Some(level) = rating {
        let r = app
            .post(
                &format!("/api/v1/tickets/{id}/rating"),
                resident,
                json!({"level": level}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    id
}

#[tokio::test]
async fn a_sample_of_rated_complaints_and_every_unrated_one_is_called_back() {
    // Every rated complaint in the sample, to see it happen; the share itself is a unit test.
    let app = spawn_app_with(|s| s.return_visits.sample_rate = 1.0).await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let rated = closed_complaint(&app, &w, &resident, Some("satisfied")).await;
    let unrated = closed_complaint(&app, &w, &resident, None).await;
    app.clock.advance(Duration::days(8));
    let scheduler = Scheduler::new(app.state.clone());
    match scheduler.tick().await.expect("tick") {
        Tick::Ran(report) => assert_eq!(report.auto_closed, 1),
        Tick::Skipped => panic!("lease"),
    }
    let list = app
        .get("/api/v1/work/return-visits", &w.ca_admin.token)
        .await;
    let listed: Vec<(String, String)> = list.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (text(&t["id"]), text(&t["return_visit"]["cause"])))
        .collect();
    assert!(
        listed.contains(&(rated.clone(), "sample".to_owned())),
        "{listed:?}"
    );
    assert!(
        listed.contains(&(unrated.clone(), "unrated".to_owned())),
        "{listed:?}"
    );

    // An administrator over the ticket calls back, not the worker whose work it judges; the
    // visit records the outcome with the rating's structured reasons.
    let own = app
        .act(
            &unrated,
            "return-visit",
            &w.gw_a1,
            json!({"outcome": "satisfied"}),
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.body);
    let r = app
        .act(
            &unrated,
            "return-visit",
            &w.ca_admin,
            json!({"outcome": "satisfied", "reasons": ["too_slow"]}),
        )
        .await;
    assert_eq!(r.code(), "invalid_field", "{}", r.body);
    let r = app
        .act(&unrated, "return-visit", &w.ca_admin, json!({"outcome": "basically_satisfied", "note": "电话回访，基本满意", "reasons": ["too_slow"]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["return_visit"]["reasons"], json!(["too_slow"]));
    assert_eq!(r.body["return_visit"]["outcome"], "basically_satisfied");
    let again = app
        .act(
            &unrated,
            "return-visit",
            &w.ca_admin,
            json!({"outcome": "satisfied"}),
        )
        .await;
    assert_eq!(again.code(), "return_visit_not_due");

    // With no sample, a rated complaint is not called back.
    let app = spawn_app_with(|s| s.return_visits.sample_rate = 0.0).await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let rated = closed_complaint(&app, &w, &resident, Some("satisfied")).await;
    let t = app
        .get(&format!("/api/v1/tickets/{rated}"), &w.gw_a1.token)
        .await;
    assert_eq!(t.body["return_visit_required"], false, "{}", t.body);
}
