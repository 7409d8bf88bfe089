//! Extensions (延期) and suspensions (挂账) (issue 25 item 3), through the HTTP API with the
//! test clock: the rates count against the approved deadlines.
use chrono::{DateTime, Duration, Utc};
use qiaomen_api::{clock::Clock, scheduler::Scheduler};
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("a timestamp: {v}"))
}

async fn kinds(app: &TestApp, path: &str, token: &str) -> Vec<String> {
    let r = app.get(path, token).await;
    r.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["kind"].as_str().map(str::to_owned))
        .collect()
}

/// A ticket of A1's worker, accepted: its id and resolution deadline.
async fn accepted(app: &TestApp, w: &World, resident: &str) -> (String, DateTime<Utc>) {
    let id = app.new_ticket(resident, "noise", A1_POINT).await;
    let r = app.act(&id, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    (id, at(&r.body["resolution_due_at"]))
}

async fn ticket(app: &TestApp, id: &str, token: &str) -> Value {
    app.get(&format!("/api/v1/tickets/{id}"), token).await.body
}

#[tokio::test]
async fn an_approved_extension_moves_the_deadline_the_rates_count_against() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let start = app.clock.now();
    let (id, due) = accepted(&app, &w, &resident).await;
    let until = due + Duration::hours(48);
    let ask =
        |until: DateTime<Utc>| json!({"until": until.to_rfc3339(), "reason": "需物业采购配件"});

    // Only the assignee asks; the new deadline must be later and at most 30 days later.
    let r = app.act(&id, "extension", &w.ga_a1, ask(until)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    for bad in [due - Duration::hours(1), due + Duration::days(31)] {
        let r = app.act(&id, "extension", &w.gw_a1, ask(bad)).await;
        assert_eq!(r.code(), "invalid_field", "{}", r.body);
    }
    let r = app
        .act(&id, "extension", &w.gw_a1, json!({"reason": "没写期限"}))
        .await;
    assert_eq!(r.code(), "invalid_field");
    let r = app.act(&id, "extension", &w.gw_a1, ask(until)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["kind"], "extension");
    assert_eq!(r.body["can_decide"], false);
    let ext = r.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        app.act(&id, "extension", &w.gw_a1, ask(until)).await.code(),
        "extension_pending"
    );
    assert!(
        kinds(&app, "/api/v1/staff/me/notifications", &w.ca_admin.token)
            .await
            .contains(&"extension_requested".to_owned())
    );
    let queue = app
        .get("/api/v1/work/extensions?status=pending", &w.ca_admin.token)
        .await;
    assert_eq!(queue.body[0]["id"], ext.as_str(), "{}", queue.body);
    assert_eq!(queue.body[0]["can_decide"], true);
    let other = app
        .get("/api/v1/work/extensions?status=pending", &w.cb_admin.token)
        .await;
    assert_eq!(
        other.body.as_array().map(Vec::len),
        Some(0),
        "not in their sight"
    );

    // The asker does not decide; another community's admin cannot see it.
    let path = format!("/api/v1/extensions/{ext}/decision");
    let decide = async |by: &Person, body: Value| app.post(&path, &by.token, body).await;
    let r = decide(&w.gw_a1, json!({"decision": "approve"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = decide(&w.cb_admin, json!({"decision": "approve"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = decide(&w.ca_admin, json!({"decision": "maybe"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = decide(
        &w.ca_admin,
        json!({"decision": "approve", "note": "同意延期两天"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "approved");
    let again = decide(&w.ca_admin, json!({"decision": "refuse"})).await;
    assert_eq!(again.code(), "extension_decided");

    let t = ticket(&app, &id, &w.gw_a1.token).await;
    assert_eq!(at(&t["resolution_due_at"]), until, "{t}");
    let mine = ticket(&app, &id, &resident).await;
    assert!(
        mine.to_string().contains("经审批，办理期限延长至"),
        "{mine}"
    );
    assert!(
        !mine.to_string().contains("需物业采购配件"),
        "the reason is internal"
    );
    assert!(
        kinds(&app, "/api/v1/me/notifications", &resident)
            .await
            .contains(&"extended".to_owned())
    );

    // Past the first deadline it is not overdue; resolved before the new one, in time.
    let scheduler = Scheduler::new(app.state.clone());
    app.clock.set(due + Duration::hours(1));
    assert_eq!(tick(&scheduler).await.resolution_overdue, 0);
    let r = app
        .act(&id, "resolve", &w.gw_a1, json!({"note": "已更换"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["resolution_met"], true, "{}", r.body);
    let period = format!(
        "&from={}&to={}",
        query_time(start - Duration::days(1)),
        query_time(start + Duration::days(10))
    );
    let s = app
        .get(
            &format!("/api/v1/stats/summary?area_id={}{period}", w.ca),
            &w.ca_admin.token,
        )
        .await;
    assert_eq!(s.body["resolution_due"].as_u64(), Some(1), "{}", s.body);
    assert_eq!(s.body["resolved_in_time"].as_u64(), Some(1));
}

#[tokio::test]
async fn a_refused_or_late_request_leaves_the_deadline() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let (id, due) = accepted(&app, &w, &resident).await;
    let r = app
        .act(
            &id,
            "extension",
            &w.gw_a1,
            json!({"until": (due + Duration::days(2)).to_rfc3339(), "reason": "等配件"}),
        )
        .await;
    let ext = r.body["id"].as_str().unwrap_or_default().to_owned();
    let r = app
        .post(
            &format!("/api/v1/extensions/{ext}/decision"),
            &w.ca_admin.token,
            json!({"approved": false, "note": "三天足够"}),
        )
        .await;
    assert_eq!(r.body["status"], "refused", "{}", r.body);
    assert_eq!(
        at(&ticket(&app, &id, &w.gw_a1.token).await["resolution_due_at"]),
        due
    );
    assert!(
        kinds(&app, "/api/v1/staff/me/notifications", &w.gw_a1.token)
            .await
            .contains(&"extension_refused".to_owned())
    );
    // A request whose ticket leaves its assignee meanwhile is cancelled.
    let (other, other_due) = accepted(&app, &w, &resident).await;
    let r = app
        .act(
            &other,
            "extension",
            &w.gw_a1,
            json!({"until": (other_due + Duration::days(1)).to_rfc3339(), "reason": "等配件"}),
        )
        .await;
    let pending = r.body["id"].as_str().unwrap_or_default().to_owned();
    let r = app
        .act(
            &other,
            "return",
            &w.gw_a1,
            json!({"reason_code": "not_my_grid", "note": "属甲二"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post(
            &format!("/api/v1/extensions/{pending}/decision"),
            &w.ca_admin.token,
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.code(), "extension_decided", "{}", r.body);
    // After the deadline nobody asks any more.
    app.clock.set(due + Duration::minutes(1));
    let r = app
        .act(
            &id,
            "extension",
            &w.gw_a1,
            json!({"until": (due + Duration::days(2)).to_rfc3339(), "reason": "晚了"}),
        )
        .await;
    assert_eq!(r.code(), "extension_too_late", "{}", r.body);

    let mine = app.get("/api/v1/work/extensions", &w.gw_a1.token).await;
    let statuses: Vec<&str> = mine
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["status"].as_str())
        .collect();
    assert_eq!(statuses, vec!["cancelled", "refused"], "{}", mine.body);
}

#[tokio::test]
async fn a_suspension_stops_the_clock_until_it_resumes() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let pause = json!({"kind": "suspension", "reason": "等待燃气公司更换主管道"});

    // Only a ticket in progress is suspended.
    let waiting = app.new_ticket(&resident, "noise", A1_POINT).await;
    let r = app
        .act(&waiting, "extension", &w.gw_a1, pause.clone())
        .await;
    assert_eq!(r.code(), "invalid_transition", "{}", r.body);

    let (id, due) = accepted(&app, &w, &resident).await;
    let r = app.act(&id, "extension", &w.gw_a1, pause.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ext = r.body["id"].as_str().unwrap_or_default().to_owned();
    app.clock.advance(Duration::hours(2));
    let stopped = app.clock.now();
    let r = app
        .post(
            &format!("/api/v1/extensions/{ext}/decision"),
            &w.ca_admin.token,
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let t = ticket(&app, &id, &w.gw_a1.token).await;
    assert_eq!(t["status"], "suspended", "{t}");
    assert_eq!(t["resolution_due_at"], Value::Null);
    assert!(t["suspension"]["since"].is_string());
    let left = due - stopped;
    assert!(
        kinds(&app, "/api/v1/me/notifications", &resident)
            .await
            .contains(&"suspended".to_owned())
    );
    // While suspended nothing is accepted, returned or withdrawn.
    assert_eq!(
        app.act(
            &id,
            "return",
            &w.gw_a1,
            json!({"reason_code": "other", "note": "x"})
        )
        .await
        .code(),
        "invalid_transition"
    );

    // A week passes, far beyond the old deadline: not overdue, in no resolution count.
    let scheduler = Scheduler::new(app.state.clone());
    app.clock.advance(Duration::days(7));
    tick(&scheduler).await;
    let t = ticket(&app, &id, &w.gw_a1.token).await;
    assert_eq!(
        (t["overdue"].as_bool(), t["resolution_overdue"].as_bool()),
        (Some(false), Some(false))
    );

    // Resumed: the time that was left runs again from now.
    let r = app
        .act(&id, "resume", &w.gw_a1, json!({"note": "主管道已更换"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "in_progress");
    let resumed = app.clock.now();
    let new_due = at(&r.body["resolution_due_at"]);
    assert!(
        (new_due - (resumed + left)).num_seconds().abs() <= 60,
        "{new_due} vs {}",
        resumed + left
    );
    assert_eq!(r.body["suspension"], Value::Null);

    // A suspension with a resumption time resumes by itself; resolving a suspended ticket
    // gives its clock back too.
    let (auto, _) = accepted(&app, &w, &resident).await;
    let until = app.clock.now() + Duration::days(1);
    let r = app
        .act(
            &auto,
            "extension",
            &w.gw_a1,
            json!({"kind": "suspension", "until": until.to_rfc3339(), "reason": "等待供电局"}),
        )
        .await;
    let ext = r.body["id"].as_str().unwrap_or_default().to_owned();
    app.post(
        &format!("/api/v1/extensions/{ext}/decision"),
        &w.street_admin.token,
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(
        ticket(&app, &auto, &w.gw_a1.token).await["status"],
        "suspended"
    );
    app.clock.advance(Duration::days(1) + Duration::minutes(1));
    assert_eq!(tick(&scheduler).await.resumed, 1);
    assert_eq!(tick(&scheduler).await.resumed, 0, "once");
    let t = ticket(&app, &auto, &w.gw_a1.token).await;
    assert_eq!(t["status"], "in_progress", "{t}");
    assert!(t["resolution_due_at"].is_string());
    assert!(
        kinds(&app, "/api/v1/staff/me/notifications", &w.gw_a1.token)
            .await
            .contains(&"resumed".to_owned())
    );

    let (direct, _) = accepted(&app, &w, &resident).await;
    let r = app.act(&direct, "extension", &w.gw_a1, pause).await;
    let ext = r.body["id"].as_str().unwrap_or_default().to_owned();
    app.post(
        &format!("/api/v1/extensions/{ext}/decision"),
        &w.ca_admin.token,
        json!({"decision": "approve"}),
    )
    .await;
    let r = app
        .act(
            &direct,
            "resolve",
            &w.gw_a1,
            json!({"note": "第三方已处理"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["resolution_met"], true, "{}", r.body);
}
