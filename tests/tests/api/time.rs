//! Time (issue 5): due times in calendar and working time, the scheduler's escalations,
//! overdue marks and auto-closing, return visits, and two schedulers on one database. The tests
//! move the clock; nothing waits for a deadline.
use chrono::{DateTime, Duration, Utc};
use qiaomen_api::{
    scheduler::{Scheduler, Tick},
    services::sla::ScanReport,
};
use qiaomen_tests::*;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .expect("a timestamp")
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

async fn outbox_events(app: &TestApp, ticket_id: &str) -> Vec<(String, String)> {
    let id = uuid::Uuid::parse_str(ticket_id).expect("uuid");
    let mut rows: Vec<(String, String)> = entity_outbox::Entity::find()
        .filter(entity_outbox::Column::TicketId.eq(id))
        .all(&app.state.db)
        .await
        .expect("outbox")
        .into_iter()
        .map(|r| (r.recipient_kind, r.event))
        .collect();
    rows.sort();
    rows
}

use entity::notification_outbox as entity_outbox;

#[tokio::test]
async fn due_times_follow_the_category_in_calendar_or_working_time() {
    let app = spawn_app().await;
    World::build(&app).await;
    app.create(
        "/api/v1/admin/categories",
        json!({"code": "office", "name": "办事咨询", "handling_level": "grid", "response_minutes": 60, "resolution_hours": 2, "sla_mode": "working"}),
    )
    .await;
    let resident = app.resident("r1").await;
    // Friday 30 October 2026, 17:00 in Beijing.
    app.clock.set(beijing("2026-10-30 17:00"));
    let calendar = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await
        .body;
    let submitted = at(&calendar["submitted_at"]);
    assert_eq!(
        at(&calendar["response_due_at"]) - submitted,
        Duration::minutes(60),
        "calendar time"
    );
    assert_eq!(
        at(&calendar["resolution_due_at"]) - submitted,
        Duration::hours(48)
    );
    let working = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("office", A1_POINT),
        )
        .await
        .body;
    // Half an hour on Friday, the weekend off, the rest on Monday morning.
    let due = at(&working["response_due_at"]);
    assert!(
        due >= beijing("2026-11-02 09:00") && due < beijing("2026-11-02 09:01"),
        "{due}"
    );
    // Two working hours: Friday's half hour, then Monday 08:30–10:00.
    let due = at(&working["resolution_due_at"]);
    assert!(
        due >= beijing("2026-11-02 10:00") && due < beijing("2026-11-02 10:01"),
        "{due}"
    );
    assert!(working["response_met"].is_null() && working["overdue"] == false);
}

#[tokio::test]
async fn an_unanswered_ticket_climbs_to_the_street_one_level_per_missed_deadline() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let scheduler = Scheduler::new(app.state.clone());
    let id = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        tick(&scheduler).await,
        ScanReport::default(),
        "nothing is due yet"
    );

    app.clock.advance(Duration::minutes(61));
    assert_eq!(tick(&scheduler).await.escalated, 1);
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ca_admin.token)
        .await
        .body;
    assert_eq!(
        (
            t["handling_area"]["id"].as_str(),
            t["assignee"]["id"].as_str()
        ),
        (Some(w.ca.as_str()), Some(w.ca_admin.id.as_str()))
    );
    assert_eq!(t["status"], "assigned");
    let escalation = t["events"]
        .as_array()
        .and_then(|es| es.last().cloned())
        .unwrap_or_default();
    assert_eq!(
        (
            escalation["action"].as_str(),
            escalation["actor_kind"].as_str()
        ),
        (Some("escalate"), Some("system"))
    );
    assert_eq!(t["response_met"], false);
    assert_eq!(t["overdue"], true);
    let overdue = app
        .get("/api/v1/work/tickets?overdue=true", &w.ca_admin.token)
        .await
        .body;
    assert_eq!(overdue["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        Some(
            app.count("/api/v1/work/tickets?overdue=false", &w.ca_admin.token)
                .await
        ),
        Some(0)
    );
    // The community admin was told, and so was the resident.
    let notes = outbox_events(&app, &id).await;
    assert!(
        notes.contains(&("staff".into(), "assigned".into())),
        "{notes:?}"
    );
    assert!(
        notes.contains(&("resident".into(), "escalated".into())),
        "{notes:?}"
    );
    // A second scan within the community's own window changes nothing.
    assert_eq!(tick(&scheduler).await, ScanReport::default());

    app.clock.advance(Duration::minutes(61));
    assert_eq!(tick(&scheduler).await.escalated, 1);
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.street_admin.token)
        .await
        .body;
    assert_eq!(t["handling_area"]["id"], w.street.as_str());
    assert_eq!(
        t["status"], "pending_dispatch",
        "no department for this group: the street's queue"
    );

    app.clock.advance(Duration::minutes(61));
    let report = tick(&scheduler).await;
    assert_eq!(
        (report.escalated, report.response_overdue),
        (0, 1),
        "nothing above the street: marked once"
    );
    app.clock.advance(Duration::minutes(61));
    assert_eq!(tick(&scheduler).await.response_overdue, 0);
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.street_admin.token)
        .await
        .body;
    assert_eq!(
        actions(&t),
        [
            "submit",
            "route",
            "escalate",
            "escalate",
            "response_overdue"
        ]
    );

    // Accepting stops the clock for good.
    let r = app
        .act(
            &id,
            "assign",
            &w.street_admin,
            json!({"staff_id": w.gw_a1.id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.act(&id, "accept", &w.gw_a1, json!({})).await;
    app.clock.advance(Duration::hours(5));
    assert_eq!(tick(&scheduler).await.escalated, 0);
}

#[tokio::test]
async fn late_resolution_is_marked_once_and_unrated_tickets_close_by_themselves() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let scheduler = Scheduler::new(app.state.clone());
    let worker = &w.gw_a1.token;
    let late = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let done = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for id in [&late, &done] {
        app.post(&format!("/api/v1/tickets/{id}/accept"), worker, json!({}))
            .await;
    }
    let r = app
        .post(
            &format!("/api/v1/tickets/{done}/resolve"),
            worker,
            json!({"note": "已处理"}),
        )
        .await;
    assert_eq!(r.body["resolution_met"], true);

    app.clock.advance(Duration::hours(49));
    let report = tick(&scheduler).await;
    assert_eq!((report.resolution_overdue, report.auto_closed), (1, 0));
    assert_eq!(tick(&scheduler).await.resolution_overdue, 0, "marked once");
    let t = app
        .get(&format!("/api/v1/tickets/{late}"), worker)
        .await
        .body;
    assert_eq!(
        (
            t["resolution_overdue"].as_bool(),
            t["resolution_met"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert!(
        outbox_events(&app, &late)
            .await
            .contains(&("staff".into(), "overdue".into()))
    );

    // Seven days after resolution without a rating: closed, unrated.
    app.clock.advance(Duration::days(6));
    assert_eq!(tick(&scheduler).await.auto_closed, 1);
    let t = app
        .get(&format!("/api/v1/tickets/{done}"), &resident)
        .await
        .body;
    assert_eq!(t["status"], "closed");
    assert!(t["closed_at"].is_string() && t["ratings"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(actions(&t).last().map(String::as_str), Some("auto_close"));
    assert!(
        outbox_events(&app, &done)
            .await
            .contains(&("resident".into(), "auto_closed".into()))
    );
    let r = app
        .post(
            &format!("/api/v1/tickets/{done}/rating"),
            &resident,
            json!({"level": "satisfied"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "too late to rate");
}

#[tokio::test]
async fn past_the_reopen_limit_a_return_visit_is_listed_and_recorded() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let id = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for _ in 0..3 {
        let t = app
            .get(&format!("/api/v1/tickets/{id}"), &resident)
            .await
            .body;
        let assignee = t["assignee"]["id"].as_str().unwrap_or_default().to_owned();
        let token = if assignee == w.ca_admin.id {
            &w.ca_admin.token
        } else {
            &w.gw_a1.token
        };
        app.post(&format!("/api/v1/tickets/{id}/accept"), token, json!({}))
            .await;
        app.post(
            &format!("/api/v1/tickets/{id}/resolve"),
            token,
            json!({"note": "已处理"}),
        )
        .await;
        app.post(
            &format!("/api/v1/tickets/{id}/rating"),
            &resident,
            json!({"level": "unsatisfied"}),
        )
        .await;
    }
    let list = app
        .get("/api/v1/work/return-visits", &w.ca_admin.token)
        .await
        .body;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["return_visit"]["at"], Value::Null);
    assert_eq!(
        Some(
            app.count("/api/v1/work/return-visits", &w.cb_admin.token)
                .await
        ),
        Some(0)
    );

    let r = app
        .act(
            &id,
            "return-visit",
            &w.ca_admin,
            json!({"outcome": "basically_satisfied", "note": "已上门沟通"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["return_visit"]["outcome"], "basically_satisfied");
    assert!(r.body["return_visit"]["at"].is_string());
    assert_eq!(
        Some(
            app.count("/api/v1/work/return-visits", &w.ca_admin.token)
                .await
        ),
        Some(0)
    );
    let again = app
        .act(
            &id,
            "return-visit",
            &w.ca_admin,
            json!({"outcome": "satisfied"}),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "return_visit_not_due")
    );
    let other = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let r = app
        .act(
            &other,
            "return-visit",
            &w.ca_admin,
            json!({"outcome": "satisfied"}),
        )
        .await;
    assert_eq!(r.code(), "return_visit_not_due");
}

#[tokio::test]
async fn two_schedulers_on_one_database_act_once() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let peer = app.peer().await;
    let resident = app.resident("r1").await;
    let mut ids = vec![];
    for _ in 0..3 {
        ids.push(
            app.post(
                "/api/v1/tickets",
                &resident,
                complaint_at("noise", A1_POINT),
            )
            .await
            .body["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    app.clock.advance(Duration::minutes(61));

    // With the lease: one node scans, the other skips.
    let (a, b) = (
        Scheduler::new(app.state.clone()),
        Scheduler::new(peer.state.clone()),
    );
    let (ra, rb) = tokio::join!(a.tick(), b.tick());
    let ran: Vec<ScanReport> = [ra.expect("a"), rb.expect("b")]
        .into_iter()
        .filter_map(|t| match t {
            Tick::Ran(r) => Some(r),
            Tick::Skipped => None,
        })
        .collect();
    assert_eq!(ran.len(), 1, "one lease holder");
    assert_eq!(ran[0].escalated, 3);

    // Without it (two scans racing directly), the database still lets each action happen once.
    app.clock.advance(Duration::minutes(61));
    let (ctx_a, ctx_b) = (app.state.ctx(), peer.state.ctx());
    let now = ctx_a.now();
    let (sa, sb) = tokio::join!(
        qiaomen_api::services::sla::escalate_overdue_responses(&ctx_a, now, 100),
        qiaomen_api::services::sla::escalate_overdue_responses(&ctx_b, now, 100)
    );
    let total = sa.expect("a").escalated + sb.expect("b").escalated;
    assert_eq!(total, 3, "each ticket climbed exactly one level");
    for id in &ids {
        let t = app
            .get(&format!("/api/v1/tickets/{id}"), &w.street_admin.token)
            .await
            .body;
        assert_eq!(t["handling_area"]["id"], w.street.as_str());
        assert_eq!(actions(&t).iter().filter(|a| *a == "escalate").count(), 2);
    }
}
