//! Recategorising and moving the pin (issue 25 item 4), through the HTTP API.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn last_event(ticket: &Value) -> Value {
    ticket["events"]
        .as_array()
        .and_then(|e| e.last().cloned())
        .unwrap_or_default()
}

#[tokio::test]
async fn staff_correct_the_category_and_the_point_and_the_ticket_follows() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    let path = format!("/api/v1/tickets/{id}");
    let fix = |body: Value| app.patch(&path, &w.gw_a1.token, body);

    // Who may: its handlers. Bad input writes nothing.
    let r = app
        .patch(
            &path,
            &w.ga_a1.token,
            json!({"category": "sanitation", "reason": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = app
        .patch(
            &path,
            &w.cb_admin.token,
            json!({"category": "sanitation", "reason": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .patch(
            &path,
            &resident,
            json!({"category": "sanitation", "reason": "x"}),
        )
        .await;
    assert!(r.status.is_client_error() && r.status != StatusCode::OK);
    assert_eq!(fix(json!({"reason": "没改"})).await.code(), "invalid_field");
    assert_eq!(
        fix(json!({"category": "no_such", "reason": "x"}))
            .await
            .code(),
        "unknown_category"
    );
    let far = json!({"location": {"lat": FAR_POINT.0, "lng": FAR_POINT.1}, "reason": "x"});
    assert_eq!(fix(far).await.code(), "outside_service_area");
    let t = app.get(&path, &w.gw_a1.token).await;
    assert_eq!(t.body["category"]["code"], "noise");
    assert_eq!(
        t.body["events"].as_array().map(Vec::len),
        Some(2),
        "nothing written"
    );

    // Another category of the same level: it stays with its worker, in progress.
    let accepted = app.act(&id, "accept", &w.gw_a1, json!({})).await;
    let promised = accepted.body["resolution_due_at"].clone();
    let r = fix(json!({"category": "sanitation", "reason": "实为垃圾清运噪音"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["category"]["code"], "sanitation");
    assert_eq!(r.body["status"], "in_progress");
    assert_eq!(r.body["assignee"]["id"], w.gw_a1.id.as_str());
    assert_eq!(last_event(&r.body)["action"], "recategorise");
    assert_eq!(
        r.body["resolution_due_at"], promised,
        "a correction buys no time"
    );
    let mine = app.get(&path, &resident).await;
    assert_eq!(last_event(&mine.body)["note"], "工单类别调整为「环境卫生」");
    assert!(!mine.body.to_string().contains("实为垃圾清运噪音"));
    let inbox = app.get("/api/v1/me/notifications", &resident).await;
    assert!(
        inbox.body.to_string().contains("corrected"),
        "{}",
        inbox.body
    );

    // The pin moves to A2: routed again, to A2's worker.
    let moved = json!({"location": {"lat": A2_POINT.0, "lng": A2_POINT.1}, "address_text": "甲二网格5号楼", "reason": "定位偏差"});
    let r = fix(moved).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["grid"]["id"], w.a2.as_str());
    assert_eq!(r.body["assignee"]["id"], w.gw_a2.id.as_str());
    assert_eq!(r.body["status"], "assigned");
    assert_eq!(last_event(&r.body)["action"], "relocate");
    assert_eq!(r.body["address_text"], "甲二网格5号楼");

    // A community-level category: its community's queue or admin takes it.
    let r = app
        .patch(
            &path,
            &w.gw_a2.token,
            json!({"category": "lighting", "reason": "路灯问题"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["handling_area"]["id"], w.ca.as_str());
    assert_ne!(r.body["assignee"]["id"], w.gw_a2.id.as_str());

    // The statistics count the final category.
    let s = app
        .get(
            &format!("/api/v1/stats/breakdown?by=category&area_id={}", w.street),
            &w.street_admin.token,
        )
        .await;
    let groups = s.body["groups"].to_string();
    assert!(groups.contains("路灯照明"), "{}", s.body);
    assert!(!groups.contains("噪音扰民"), "{}", s.body);
}
