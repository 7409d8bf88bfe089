//! Supervision (督办, issue 25 item 2), through the HTTP API with the test clock.
use chrono::{DateTime, Duration, Utc};
use qiaomen_api::{clock::Clock, scheduler::Scheduler};
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect()
}

fn actions(ticket: &Value) -> Vec<String> {
    ticket["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_supervised_ticket_comes_first_and_a_missed_deadline_sends_it_up() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    app.clock.advance(Duration::minutes(5));
    let newer = app.new_ticket(&resident, "noise", A1_POINT).await;
    let deadline = app.clock.now() + Duration::hours(24);
    let flag = |note: &str, at: DateTime<Utc>| json!({"deadline": time(at), "note": note});

    // Only an administrator over the ticket supervises; another community's does not see it;
    // a deadline in the past or beyond 90 days is refused and writes nothing.
    let r = app
        .act(&id, "supervise", &w.gw_a1, flag("快办", deadline))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = app
        .act(&id, "supervise", &w.cb_admin, flag("快办", deadline))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    for at in [
        app.clock.now() - Duration::minutes(1),
        app.clock.now() + Duration::days(91),
    ] {
        let r = app
            .act(&id, "supervise", &w.ca_admin, flag("快办", at))
            .await;
        assert_eq!(r.code(), "invalid_field", "{}", r.body);
    }
    let r = app
        .act(
            &id,
            "supervise",
            &w.ca_admin,
            json!({"deadline": "明天", "note": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        app.get("/api/v1/work/supervised", &w.gw_a1.token)
            .await
            .body["items"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );

    let r = app
        .act(
            &id,
            "supervise",
            &w.ca_admin,
            flag("居民反映多次，请周五前办结", deadline),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["supervision"]["supervisor"]["id"],
        w.ca_admin.id.as_str()
    );
    assert_eq!(r.body["supervision"]["note"], "居民反映多次，请周五前办结");
    assert!(
        app.staff_inbox_kinds(&w.gw_a1.token)
            .await
            .contains(&"supervised".to_owned())
    );

    // The worker's list shows it first although it is older; the supervised list has it.
    let list = app.get("/api/v1/work/tickets", &w.gw_a1.token).await;
    assert_eq!(ids(&list.body).first(), Some(&id), "{}", list.body);
    assert_eq!(ids(&list.body).iter().filter(|i| **i == id).count(), 1);
    assert!(ids(&list.body).contains(&newer));
    let due = app
        .get("/api/v1/work/tickets?sort=due", &w.gw_a1.token)
        .await;
    assert_eq!(ids(&due.body).first(), Some(&id));
    let supervised = app.get("/api/v1/work/supervised", &w.gw_a1.token).await;
    assert_eq!(ids(&supervised.body), vec![id.clone()]);
    assert!(supervised.body["items"][0]["supervision"]["deadline"].is_string());
    // The resident sees neither the flag nor its event.
    let mine = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
    assert_eq!(mine.body["supervision"], Value::Null);
    assert!(!actions(&mine.body).contains(&"supervise".to_owned()));
    let staff_view = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    assert!(actions(&staff_view.body).contains(&"supervise".to_owned()));

    // The worker accepts but does not resolve in time: the scheduler sends it up a level.
    assert_eq!(
        app.act(&id, "accept", &w.gw_a1, json!({})).await.status,
        StatusCode::OK
    );
    let scheduler = Scheduler::new(app.state.clone());
    app.clock.advance(Duration::hours(23));
    assert_eq!(tick(&scheduler).await.supervision_missed, 0);
    app.clock.advance(Duration::hours(2));
    assert_eq!(tick(&scheduler).await.supervision_missed, 1);
    assert_eq!(tick(&scheduler).await.supervision_missed, 0, "once");
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ca_admin.token)
        .await;
    assert_eq!(t.body["handling_area"]["id"], w.ca.as_str(), "{}", t.body);
    assert_eq!(t.body["supervision"], Value::Null);
    assert!(actions(&t.body).contains(&"escalate".to_owned()));
    assert!(
        app.staff_inbox_kinds(&w.ca_admin.token)
            .await
            .contains(&"supervision_missed".to_owned())
    );
    let mine = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
    assert!(!mine.body.to_string().contains("督办"), "{}", mine.body);
    assert!(
        app.get("/api/v1/work/supervised", &w.ca_admin.token)
            .await
            .body["items"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
}

#[tokio::test]
async fn a_ticket_resolved_by_the_deadline_meets_its_supervision() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    let at = |hours| time(app.clock.now() + Duration::hours(hours));

    // Two supervisors at once: one supervision stands, the later replacing the earlier.
    let tries = all_at_once([
        app.act(
            &id,
            "supervise",
            &w.ca_admin,
            json!({"deadline": at(48), "note": "社区督办"}),
        ),
        app.act(
            &id,
            "supervise",
            &w.street_admin,
            json!({"deadline": at(24), "note": "街道督办"}),
        ),
    ])
    .await;
    let ok = tries.iter().filter(|r| r.status == StatusCode::OK).count();
    assert!(
        ok >= 1,
        "{:?}",
        tries.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    for r in &tries {
        assert!(
            r.status == StatusCode::OK || r.code() == "concurrent_update",
            "{}",
            r.body
        );
    }
    let listed = app
        .get("/api/v1/work/supervised", &w.street_admin.token)
        .await;
    assert_eq!(ids(&listed.body), vec![id.clone()]);

    for (action, body) in [
        ("accept", json!({})),
        ("resolve", json!({"note": "已协调施工方停工"})),
    ] {
        let r = app.act(&id, action, &w.gw_a1, body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    assert_eq!(t.body["supervision"], Value::Null, "met: lifted");
    // A resolved ticket is not supervised again, and nothing escalates later.
    let r = app
        .act(
            &id,
            "supervise",
            &w.ca_admin,
            json!({"deadline": at(24), "note": "再督办"}),
        )
        .await;
    assert_eq!(r.code(), "invalid_transition", "{}", r.body);
    app.clock.advance(Duration::hours(72));
    let scheduler = Scheduler::new(app.state.clone());
    assert_eq!(tick(&scheduler).await.supervision_missed, 0);
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    assert_eq!(t.body["status"], "resolved");
}

#[tokio::test]
async fn supervising_an_unanswered_ticket_does_not_put_off_its_escalation() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    // Noise must be answered within 120 minutes; a supervision at 100 leaves that clock alone.
    app.clock.advance(Duration::minutes(100));
    let deadline = time(app.clock.now() + Duration::days(1));
    let r = app
        .act(
            &id,
            "supervise",
            &w.ca_admin,
            json!({"deadline": deadline, "note": "尽快"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.clock.advance(Duration::minutes(30));
    let scheduler = Scheduler::new(app.state.clone());
    assert_eq!(tick(&scheduler).await.escalated, 1);
}
