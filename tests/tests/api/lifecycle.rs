//! The lifecycle end to end: every transition, refused ones with 409, races, reopening.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn new_ticket(app: &TestApp, resident: &str) -> String {
    app.new_ticket(resident, "noise", A1_POINT).await
}

fn actions(ticket: &Value) -> Vec<String> {
    ticket["events"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| e["action"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_complaint_goes_from_submission_to_a_satisfied_close() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let worker = &w.gw_a1.token;
    let id = new_ticket(&app, &resident).await;

    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            &resident,
            json!({"text": "晚上十点以后最吵"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .post(&format!("/api/v1/tickets/{id}/accept"), worker, json!({}))
        .await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (StatusCode::OK, Some("in_progress")),
        "{}",
        r.body
    );
    assert!(r.body["accepted_at"].is_string());
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            worker,
            json!({"text": "已联系施工方", "internal": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/resolve"),
            worker,
            json!({"note": "已协调施工方夜间停工"}),
        )
        .await;
    assert_eq!(r.body["status"], "resolved", "{}", r.body);
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/rating"),
            &resident,
            json!({"level": "satisfied", "score": 5, "comment": "处理及时"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "closed");
    assert_eq!(r.body["ratings"][0]["level"], "satisfied");

    // The resident's timeline hides the internal note; staff see it.
    let mine = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
    assert_eq!(
        actions(&mine.body),
        ["submit", "route", "comment", "accept", "resolve", "rate"]
    );
    let events = mine.body["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events[1]["from_status"], "submitted");
    assert_eq!(events[1]["to_status"], "assigned");
    assert_eq!(events[1]["actor_kind"], "system");
    assert_eq!(events[3]["actor_kind"], "staff");
    assert_eq!(events[4]["note"], "已协调施工方夜间停工");
    let staff_view = app.get(&format!("/api/v1/tickets/{id}"), worker).await;
    assert_eq!(
        actions(&staff_view.body),
        [
            "submit", "route", "comment", "accept", "comment", "resolve", "rate"
        ]
    );

    // By number too.
    let number = mine.body["number"].as_str().unwrap_or_default();
    let by_number = app
        .get(&format!("/api/v1/tickets/{number}"), &resident)
        .await;
    assert_eq!(by_number.body["id"], id.as_str());
}

#[tokio::test]
async fn transitions_out_of_order_are_refused_with_the_current_status() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let worker = &w.gw_a1.token;
    let id = new_ticket(&app, &resident).await;

    let cases: Vec<(&str, &str, Value, &str)> = vec![
        ("resolve", worker, json!({"note": "done"}), "assigned"),
        (
            "rating",
            &resident,
            json!({"level": "satisfied"}),
            "assigned",
        ),
    ];
    for (action, token, body, current) in cases {
        let r = app
            .post(&format!("/api/v1/tickets/{id}/{action}"), token, body)
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{action}: {}", r.body);
        assert_eq!(r.code(), "invalid_transition");
        assert_eq!(r.body["current_status"], current);
    }
    app.post(&format!("/api/v1/tickets/{id}/accept"), worker, json!({}))
        .await;
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/withdraw"),
            &resident,
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "invalid_transition"),
        "no withdrawal after acceptance"
    );
    let r = app
        .post(&format!("/api/v1/tickets/{id}/accept"), worker, json!({}))
        .await;
    assert_eq!(r.body["current_status"], "in_progress");
    let r = app
        .act(&id, "assign", &w.ca_admin, json!({"staff_id": w.gw_a2.id}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "an admin may reassign open work: {}",
        r.body
    );
    assert_eq!(r.body["status"], "assigned");
    // Nothing refused left a trace.
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ca_admin.token)
        .await;
    let list = t.body["events"]
        .as_array()
        .map(|e| e.len())
        .unwrap_or_default();
    assert_eq!(
        list, 4,
        "submit, route, accept, assign: {}",
        t.body["events"]
    );
}

#[tokio::test]
async fn a_resident_may_withdraw_before_acceptance_and_then_nothing_moves() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let id = new_ticket(&app, &resident).await;
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/withdraw"),
            &resident,
            json!({}),
        )
        .await;
    assert_eq!(r.body["status"], "withdrawn", "{}", r.body);
    let r = app.act(&id, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            &resident,
            json!({"text": "补充"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn two_concurrent_accepts_never_both_succeed() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    for _ in 0..3 {
        let id = new_ticket(&app, &resident).await;
        let path = format!("/api/v1/tickets/{id}/accept");
        let (a, b) = tokio::join!(
            app.post(&path, &w.gw_a1.token, json!({})),
            app.post(&path, &w.ca_admin.token, json!({}))
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", a.body, b.body);
        let loser = if a.status == StatusCode::CONFLICT {
            a
        } else {
            b
        };
        assert!(["invalid_transition", "concurrent_update"].contains(&loser.code()));
        let t = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
        let accepts = t.body["events"]
            .as_array()
            .map(|es| es.iter().filter(|e| e["action"] == "accept").count());
        assert_eq!(accepts, Some(1));
    }
}

async fn resolve(app: &TestApp, worker: &str, id: &str) {
    let r = app
        .post(&format!("/api/v1/tickets/{id}/accept"), worker, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/resolve"),
            worker,
            json!({"note": "已处理"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn an_unsatisfied_rating_reopens_until_the_limit_then_escalates_for_a_return_visit() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let worker = &w.gw_a1.token;
    let id = new_ticket(&app, &resident).await;
    for round in 1..=2 {
        resolve(&app, worker, &id).await;
        let r = app
            .post(
                &format!("/api/v1/tickets/{id}/rating"),
                &resident,
                json!({"level": "unsatisfied", "comment": "还是很吵"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "assigned");
        assert_eq!(r.body["reopen_count"], round);
        assert_eq!(
            r.body["assignee"]["id"],
            w.gw_a1.id.as_str(),
            "back to the same worker"
        );
        assert_eq!(r.body["return_visit_required"], false);
    }
    resolve(&app, worker, &id).await;
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/rating"),
            &resident,
            json!({"level": "unsatisfied"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["handling_area"]["id"],
        w.ca.as_str(),
        "past the limit it goes to the community"
    );
    assert_eq!(r.body["assignee"]["id"], w.ca_admin.id.as_str());
    assert_eq!(r.body["return_visit_required"], true);
    assert_eq!(r.body["ratings"].as_array().map(Vec::len), Some(3));
    // Rating twice in one round is refused.
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/rating"),
            &resident,
            json!({"level": "satisfied"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn transfer_escalate_reject_and_dispatch_from_the_queue() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;

    // The community's transfer to another grid routes to that grid's worker (a grid worker
    // returns a ticket that is not theirs instead: see returns.rs).
    let id = new_ticket(&app, &resident).await;
    let r = app
        .act(
            &id,
            "transfer",
            &w.ca_admin,
            json!({"grid_id": w.a2, "reason": "属于甲二网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["grid"]["id"].as_str(),
            r.body["assignee"]["id"].as_str()
        ),
        (Some(w.a2.as_str()), Some(w.gw_a2.id.as_str()))
    );
    // The first worker no longer sees it.
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Escalation climbs grid → community → street, and no further.
    let r = app
        .act(&id, "escalate", &w.gw_a2, json!({"reason": "需社区协调"}))
        .await;
    assert_eq!(
        (
            r.body["handling_area"]["id"].as_str(),
            r.body["assignee"]["id"].as_str()
        ),
        (Some(w.ca.as_str()), Some(w.ca_admin.id.as_str())),
        "{}",
        r.body
    );
    let r = app
        .act(
            &id,
            "escalate",
            &w.ca_admin,
            json!({"reason": "需街道协调"}),
        )
        .await;
    assert_eq!(
        r.body["handling_area"]["id"],
        w.street.as_str(),
        "{}",
        r.body
    );
    assert_eq!(
        r.body["status"], "pending_dispatch",
        "no department for this group: the street's queue"
    );
    let r = app
        .act(&id, "escalate", &w.street_admin, json!({"reason": "?"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "cannot_escalate")
    );
    // The street dispatches it.
    let r = app
        .act(
            &id,
            "assign",
            &w.street_admin,
            json!({"staff_id": w.gw_a2.id}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (StatusCode::OK, Some("assigned")),
        "{}",
        r.body
    );

    // A queued ticket: only an admin above may assign it, not a grid worker.
    let queued = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", HOLE_POINT),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let r = app
        .act(&queued, "assign", &w.gw_b1, json!({"staff_id": w.gw_b1.id}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "B2's queue is not B1's worker's business"
    );
    let r = app
        .act(
            &queued,
            "assign",
            &w.cb_admin,
            json!({"staff_id": w.gw_b1.id}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["assignee"]["id"].as_str()),
        (StatusCode::OK, Some(w.gw_b1.id.as_str())),
        "{}",
        r.body
    );

    // Reject as a duplicate of the first, by the community admin who sees both (the first is no
    // longer the grid worker's business, so to them it is as if it did not exist).
    let dup = new_ticket(&app, &resident).await;
    let r = app
        .act(
            &dup,
            "reject",
            &w.ca_admin,
            json!({"reason": "重复反映", "duplicate_of": id}),
        )
        .await;
    assert_eq!(r.body["status"], "rejected", "{}", r.body);
    assert_eq!(r.body["duplicate_of"], id.as_str());
    assert_eq!(r.body["reject_reason"], "重复反映");
}

#[tokio::test]
async fn own_tickets_are_paged_newest_first_with_a_cursor() {
    let app = spawn_app().await;
    World::build(&app).await;
    let resident = app.resident("r1").await;
    let mut ids = vec![];
    for _ in 0..5 {
        ids.push(new_ticket(&app, &resident).await);
    }
    ids.reverse();
    let first = app.get("/api/v1/tickets?limit=2", &resident).await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let second = app
        .get(
            &format!("/api/v1/tickets?limit=2&cursor={cursor}"),
            &resident,
        )
        .await;
    let cursor2 = second.body["next_cursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let third = app
        .get(
            &format!("/api/v1/tickets?limit=2&cursor={cursor2}"),
            &resident,
        )
        .await;
    assert!(third.body["next_cursor"].is_null());
    let seen: Vec<String> = [first, second, third]
        .iter()
        .flat_map(|p| p.body["items"].as_array().cloned().unwrap_or_default())
        .map(|t| t["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(seen, ids);
    let bad = app
        .get("/api/v1/tickets?cursor=not-a-cursor", &resident)
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid_cursor")
    );
}

/// Timelines are kept in each node's memory by ticket version: a change made through one node
/// shows on another at once, to staff and to the resident (internal notes still hidden).
#[tokio::test]
async fn a_timeline_shown_on_one_node_shows_changes_made_on_another() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let peer = app.peer().await;
    let resident = app.resident("r1").await;
    let worker = &w.gw_a1.token;
    let id = new_ticket(&app, &resident).await;
    let path = format!("/api/v1/tickets/{id}");

    // Both nodes have read (and kept) the new ticket's timeline.
    for node in [&app, &peer] {
        let r = node.get(&path, worker).await;
        assert_eq!(actions(&r.body), ["submit", "route"], "{}", r.body);
    }
    let r = peer.get(&path, &resident).await;
    assert_eq!(actions(&r.body), ["submit", "route"], "{}", r.body);

    let r = app
        .post(
            &format!("{path}/comments"),
            worker,
            json!({"text": "已联系物业", "internal": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    resolve(&app, worker, &id).await;
    let r = app
        .post(
            &format!("{path}/rating"),
            &resident,
            json!({"level": "satisfied", "score": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let staff = peer.get(&path, worker).await;
    assert_eq!(staff.body["status"], "closed", "{}", staff.body);
    assert_eq!(
        actions(&staff.body),
        ["submit", "route", "comment", "accept", "resolve", "rate"]
    );
    assert_eq!(staff.body["ratings"][0]["level"], "satisfied");
    let mine = peer.get(&path, &resident).await;
    assert_eq!(
        actions(&mine.body),
        ["submit", "route", "accept", "resolve", "rate"]
    );
    assert_eq!(mine.body["ratings"][0]["score"], 5);
}
