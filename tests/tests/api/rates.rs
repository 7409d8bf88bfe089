//! The rates read on the day (issue 20, part 1): a ticket counts in the response (resolution)
//! rate at its moment, when it was answered (resolved) or fell due, whichever came first, and
//! only once that moment has passed.
use chrono::Duration;
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::stats::{Fixture, fixture};

async fn summary(app: &TestApp, token: &str, area: &str, extra: &str) -> Value {
    let r = app
        .get(
            &format!("/api/v1/stats/summary?area_id={area}{extra}"),
            token,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

fn rates(s: &Value) -> (Option<u64>, Option<u64>, Option<f64>) {
    (
        s["response_due"].as_u64(),
        s["responded_in_time"].as_u64(),
        s["response_rate"].as_f64(),
    )
}

/// The street office's morning: three tickets filed, two accepted within their SLA, one still
/// inside its window. The rate is 2 / 2 however the period ends, and 2 / 3 once the third's
/// deadline has passed unanswered.
#[tokio::test]
async fn the_response_rate_is_right_on_the_day_it_is_read() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let t0 = beijing("2026-11-20 08:00");
    app.clock.set(t0);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let t = app
            .post(
                "/api/v1/tickets",
                &resident,
                complaint_at("noise", A1_POINT),
            )
            .await;
        assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
        ids.push(t.body["id"].as_str().unwrap_or_default().to_owned());
    }
    app.clock.set(t0 + Duration::minutes(20));
    for id in &ids[..2] {
        let r = app
            .post(
                &format!("/api/v1/tickets/{id}/accept"),
                &w.gw_a1.token,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    app.clock.set(t0 + Duration::minutes(30));
    let (token, area) = (&w.street_admin.token, &w.street);
    let default = summary(&app, token, area, "").await;
    assert_eq!(rates(&default), (Some(2), Some(2), Some(1.0)), "{default}");
    let tomorrow = query_time(t0 + Duration::days(1));
    let to_tomorrow = summary(&app, token, area, &format!("&to={tomorrow}")).await;
    assert_eq!(
        rates(&to_tomorrow),
        (Some(2), Some(2), Some(1.0)),
        "{to_tomorrow}"
    );
    assert_eq!(to_tomorrow["received"].as_u64(), Some(3));

    // The third's deadline (60 minutes) passes unanswered: now it is a miss.
    app.clock.set(t0 + Duration::minutes(61));
    let later = summary(&app, token, area, &format!("&to={tomorrow}")).await;
    assert_eq!(rates(&later).0, Some(3), "{later}");
    assert_eq!(rates(&later).1, Some(2));
    assert!(
        later["response_rate"]
            .as_f64()
            .is_some_and(|r| (r - 2.0 / 3.0).abs() < 1e-9)
    );
}

/// The stats fixture (see `stats.rs`), cut at its moments: responses at +10, +20 and +30 min
/// in time, misses at +60; resolutions at +120, +120 and +180 in time; t3's resolution falls
/// due at +48 h. Whole days come from the rollups, the rest from the tickets: the same counts.
#[tokio::test]
async fn each_ticket_counts_at_its_moment_however_the_period_is_cut() {
    let Fixture { app, w, .. } = fixture().await;
    let t0 = beijing("2026-11-16 09:00");
    let (token, area) = (&w.ca_admin.token, &w.ca);
    let cut = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
        format!("&from={}&to={}", query_time(from), query_time(to))
    };
    let resolution = |s: &Value| (s["resolution_due"].as_u64(), s["resolved_in_time"].as_u64());
    let early = summary(&app, token, area, &cut(t0, t0 + Duration::minutes(45))).await;
    assert_eq!(rates(&early), (Some(3), Some(3), Some(1.0)), "{early}");
    assert_eq!(resolution(&early), (Some(0), Some(0)));
    assert!(early["resolution_rate"].is_null());
    let rest = summary(
        &app,
        token,
        area,
        &cut(t0 + Duration::minutes(45), t0 + Duration::days(1)),
    )
    .await;
    assert_eq!(rates(&rest), (Some(2), Some(0), Some(0.0)), "{rest}");
    assert_eq!(resolution(&rest), (Some(3), Some(3)));
    // Nothing falls due in days still to come.
    let ahead = summary(
        &app,
        token,
        area,
        &cut(t0 + Duration::days(1), t0 + Duration::days(3)),
    )
    .await;
    assert_eq!((rates(&ahead).0, resolution(&ahead).0), (Some(0), Some(0)));

    // Two days on, t3's resolution deadline has passed: a miss on 11-18, read from the tickets
    // for today and from the rollups once the day is whole.
    app.clock.set(t0 + Duration::hours(49));
    let days = [
        (beijing("2026-11-16 00:00"), beijing("2026-11-19 00:00")),
        (beijing("2026-11-18 00:00"), beijing("2026-11-19 00:00")),
        (t0 + Duration::days(1), t0 + Duration::days(3)),
    ];
    for (from, to) in days {
        let s = summary(&app, token, area, &cut(from, to)).await;
        let expected = if from < t0 {
            (Some(4), Some(3))
        } else {
            (Some(1), Some(0))
        };
        assert_eq!(resolution(&s), expected, "{from}–{to}: {s}");
    }
    app.clock.set(t0 + Duration::days(5));
    let whole = summary(
        &app,
        token,
        area,
        &cut(beijing("2026-11-16 00:00"), beijing("2026-11-19 00:00")),
    )
    .await;
    assert_eq!(resolution(&whole), (Some(4), Some(3)), "{whole}");
    assert_eq!(whole["resolution_rate"].as_f64(), Some(0.75));
    assert_eq!(rates(&whole), (Some(5), Some(3), Some(0.6)));
}

/// A resident's ticket at A1, accepted and resolved by A1's worker: `(resident, ticket id)`.
async fn resolved_ticket(app: &TestApp, w: &World, resident: &str) -> String {
    let t = app
        .post("/api/v1/tickets", resident, complaint_at("noise", A1_POINT))
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let id = t.body["id"].as_str().unwrap_or_default().to_owned();
    for (action, body) in [
        ("accept", json!({})),
        ("resolve", json!({"note": "已处理"})),
    ] {
        let r = app.act(&id, action, &w.gw_a1, body).await;
        assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.body);
    }
    id
}

fn praise(extra: Value) -> Value {
    let mut body =
        json!({"kind": "praise", "category": "noise", "description": "感谢网格员及时处理"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

/// Praise (part 3): no deadlines, no queue, in no rate; counted per grid and worker, and the
/// worker it thanks is told.
#[tokio::test]
async fn praise_is_closed_on_arrival_counted_apart_and_passed_on() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    app.clock.set(beijing("2026-11-20 08:00"));
    let followed = resolved_ticket(&app, &w, &resident).await;

    let thanks = app
        .post(
            "/api/v1/tickets",
            &resident,
            praise(json!({"follows_ticket_id": followed})),
        )
        .await;
    assert_eq!(thanks.status, StatusCode::CREATED, "{}", thanks.body);
    let t = &thanks.body;
    assert_eq!(t["status"], "closed");
    assert!(
        t["response_due_at"].is_null() && t["resolution_due_at"].is_null(),
        "{t}"
    );
    assert_eq!(t["assignee"]["id"], w.gw_a1.id.as_str());
    assert_eq!(t["grid"]["id"], w.a1.as_str());
    let shown = app
        .get(
            &format!("/api/v1/tickets/{}", t["id"].as_str().unwrap_or_default()),
            &resident,
        )
        .await;
    let actions: Vec<&str> = shown.body["events"]
        .as_array()
        .map(|es| es.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["submit", "acknowledge"], "{}", shown.body);

    // Naming a worker: it counts at their grid, without any place given.
    let named = app
        .post(
            "/api/v1/tickets",
            &resident,
            praise(json!({"praised_staff_id": w.gw_a2.id})),
        )
        .await;
    assert_eq!(named.status, StatusCode::CREATED, "{}", named.body);
    assert_eq!(named.body["grid"]["id"], w.a2.as_str());

    let outbox = app.get("/api/v1/admin/outbox", &app.admin_token).await;
    let praised: Vec<&str> = outbox
        .body
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|m| m["event"] == "praised")
                .filter_map(|m| m["recipient_id"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(praised.len(), 2, "{}", outbox.body);
    assert!(praised.contains(&w.gw_a1.id.as_str()) && praised.contains(&w.gw_a2.id.as_str()));

    // Neither queue nor rate: the street's figures count the complaint only.
    app.clock.set(beijing("2026-11-20 12:00"));
    let s = summary(&app, &w.street_admin.token, &w.street, "").await;
    assert_eq!(
        (
            s["received"].as_u64(),
            s["praise_received"].as_u64(),
            s["response_due"].as_u64(),
            s["resolution_due"].as_u64()
        ),
        (Some(1), Some(2), Some(1), Some(1)),
        "{s}"
    );
    for (by, a, b) in [("grid", &w.a1, &w.a2), ("worker", &w.gw_a1.id, &w.gw_a2.id)] {
        let r = app
            .get(
                &format!("/api/v1/stats/breakdown?area_id={}&by={by}", w.street),
                &w.street_admin.token,
            )
            .await;
        let praise_of = |key: &str| {
            r.body["groups"]
                .as_array()
                .and_then(|gs| gs.iter().find(|g| g["key"] == key))
                .and_then(|g| g["praise_received"].as_u64())
        };
        assert_eq!(
            (praise_of(a), praise_of(b)),
            (Some(1), Some(1)),
            "{by}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn praise_targets_are_checked() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let (alice, bob) = (app.resident("alice").await, app.resident("bob").await);
    let alices = resolved_ticket(&app, &w, &alice).await;
    let r = app
        .post(
            "/api/v1/tickets",
            &bob,
            praise(json!({"follows_ticket_id": alices})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "not_found"),
        "another's ticket"
    );
    let r = app
        .post(
            "/api/v1/tickets",
            &bob,
            praise(json!({"praised_staff_id": uuid::Uuid::new_v4()})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_staff")
    );
    let mut complaint = complaint_at("noise", A1_POINT);
    complaint["praised_staff_id"] = json!(w.gw_a1.id);
    let r = app.post("/api/v1/tickets", &bob, complaint).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field")
    );
    let mine = app.get("/api/v1/tickets", &bob).await;
    assert_eq!(
        mine.body["items"].as_array().map(Vec::len),
        Some(0),
        "nothing written"
    );
}

/// Structured dissatisfaction (part 6): reasons from a fixed list with 不满意 and 基本满意,
/// shown with the rating and counted per grid and worker.
#[tokio::test]
async fn dissatisfaction_reasons_are_kept_and_counted() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    app.clock.set(beijing("2026-11-20 08:00"));
    let id = resolved_ticket(&app, &w, &resident).await;
    let rate = |body: Value| {
        let app = &app;
        let (path, token) = (format!("/api/v1/tickets/{id}/rating"), resident.clone());
        async move { app.post(&path, &token, body).await }
    };
    let r = rate(json!({"level": "satisfied", "reasons": ["too_slow"]})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        "{}",
        r.body
    );
    let r = rate(json!({"level": "unsatisfied", "reasons": ["not_solved", "rude"]})).await;
    assert!(r.status.is_client_error(), "not in the list: {}", r.body);
    let r =
        rate(json!({"level": "unsatisfied", "reasons": ["too_slow", "not_solved", "too_slow"]}))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["ratings"][0]["reasons"],
        json!(["not_solved", "too_slow"])
    );
    // Reopened to the worker, resolved again, rated 基本满意 for want of contact.
    for (action, body) in [
        ("accept", json!({})),
        ("resolve", json!({"note": "已再次处理"})),
    ] {
        let r = app.act(&id, action, &w.gw_a1, body).await;
        assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.body);
    }
    let r = rate(json!({"level": "basically_satisfied", "reasons": ["no_contact"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    for (by, key) in [("grid", &w.a1), ("worker", &w.gw_a1.id)] {
        let r = app
            .get(
                &format!("/api/v1/stats/breakdown?area_id={}&by={by}", w.street),
                &w.street_admin.token,
            )
            .await;
        let g = r.body["groups"]
            .as_array()
            .and_then(|gs| gs.iter().find(|g| g["key"] == key.as_str()))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            (
                g["reason_not_solved"].as_u64(),
                g["reason_too_slow"].as_u64(),
                g["reason_no_contact"].as_u64(),
                g["reason_attitude"].as_u64(),
                g["rated"].as_u64()
            ),
            (Some(1), Some(1), Some(1), Some(0), Some(2)),
            "{by}: {g}"
        );
    }
}

/// Periods as people say them (part 4): plain dates are Beijing days, named periods follow the
/// Beijing calendar, and the CSV says which period it holds in Beijing time.
#[tokio::test]
async fn periods_can_be_plain_dates_or_named() {
    let Fixture { app, w, .. } = fixture().await;
    let (token, area) = (&w.ca_admin.token, &w.ca);
    let day = summary(&app, token, area, "&from=2026-11-16&to=2026-11-16").await;
    assert_eq!(
        (day["from"].as_str(), day["to"].as_str()),
        (
            Some("2026-11-16T00:00:00+08:00"),
            Some("2026-11-17T00:00:00+08:00")
        ),
        "{day}"
    );
    assert_eq!(
        (day["received"].as_u64(), rates(&day).0),
        (Some(4), Some(5))
    );
    let month = summary(&app, token, area, "&period=this_month").await;
    assert_eq!(
        (month["from"].as_str(), month["to"].as_str()),
        (
            Some("2026-11-01T00:00:00+08:00"),
            Some("2026-12-01T00:00:00+08:00")
        ),
        "{month}"
    );
    assert_eq!(month["received"].as_u64(), Some(4));
    let last = summary(&app, token, area, "&period=last_month").await;
    assert_eq!(last["received"].as_u64(), Some(0));
    for (query, code) in [
        ("&period=this_month&from=2026-11-01", "invalid_field"),
        ("&from=2026-11-20&to=2026-11-19", "invalid_field"),
        ("&from=yesterday", "invalid_body"),
        ("&period=next_week", "invalid_body"),
        ("&to=%2B262142-12-31", "invalid_body"),
        ("&from=-262143-01-01", "invalid_body"),
    ] {
        let r = app
            .get(
                &format!("/api/v1/stats/summary?area_id={area}{query}"),
                token,
            )
            .await;
        assert_eq!(r.code(), code, "{query}: {}", r.body);
        assert!(r.status.is_client_error());
    }
    let (status, csv) = app
        .fetch_bytes(
            &format!("/api/v1/stats/export.csv?area_id={area}&from=2026-11-16&to=2026-11-16"),
            token,
        )
        .await;
    let csv = String::from_utf8_lossy(&csv);
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.contains("甲社区　2026-11-16 00:00 至 2026-11-17 00:00（北京时间）"),
        "{csv}"
    );
}

/// A worker answers for the moments that came while they held a ticket: one who lets a
/// deadline pass and escalates keeps the miss; the community admin who then accepts gets none.
/// A merge answers a ticket only when it is made, never as of the main ticket's answer.
#[tokio::test]
async fn a_miss_stays_with_the_worker_who_let_it_pass() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let t0 = beijing("2026-11-20 08:00");
    app.clock.set(t0);
    let submit = || {
        let app = &app;
        let resident = resident.clone();
        async move {
            let r = app
                .post(
                    "/api/v1/tickets",
                    &resident,
                    complaint_at("noise", A1_POINT),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body["id"].as_str().unwrap_or_default().to_owned()
        }
    };
    let (ignored, main, merged) = (submit().await, submit().await, submit().await);
    app.clock.set(t0 + Duration::minutes(10));
    let r = app.act(&main, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.clock.set(t0 + Duration::minutes(70));
    let r = app
        .act(
            &ignored,
            "escalate",
            &w.gw_a1,
            json!({"reason": "需社区协调"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .act(&merged, "merge", &w.gw_a1, json!({"into": main}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.clock.set(t0 + Duration::minutes(80));
    let r = app.act(&ignored, "accept", &w.ca_admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    app.clock.set(t0 + Duration::hours(2));
    let s = summary(&app, &w.street_admin.token, &w.street, "").await;
    assert_eq!(
        rates(&s),
        (Some(3), Some(1), Some(1.0 / 3.0)),
        "the merge came late: {s}"
    );
    let workers = app
        .get(
            &format!("/api/v1/stats/breakdown?area_id={}&by=worker", w.street),
            &w.street_admin.token,
        )
        .await;
    let of = |id: &str| {
        workers.body["groups"]
            .as_array()
            .and_then(|gs| gs.iter().find(|g| g["key"] == id))
            .map(|g| (g["response_due"].as_u64(), g["responded_in_time"].as_u64()))
            .unwrap_or((Some(0), Some(0)))
    };
    assert_eq!(of(&w.gw_a1.id), (Some(3), Some(1)), "{}", workers.body);
    assert_eq!(of(&w.ca_admin.id), (Some(0), Some(0)));
}

/// Praise is the resident's own: not recorded on a visit, once a day per worker.
#[tokio::test]
async fn praise_is_not_inflated() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let once = praise(json!({"praised_staff_id": w.gw_a1.id}));
    let r = app.post("/api/v1/tickets", &resident, once.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app.post("/api/v1/tickets", &resident, once.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_exists"),
        "{}",
        r.body
    );
    app.clock.set(app.state.clock.now() + Duration::hours(25));
    let r = app.post("/api/v1/tickets", &resident, once).await;
    assert_eq!(r.status, StatusCode::CREATED, "the next day: {}", r.body);
    let visit = json!({"building_id": w.building_a2, "suggestions": [
        {"kind": "praise", "category": "noise", "description": "居民表扬网格员"}]});
    let r = app.post("/api/v1/visits", &w.gw_a2.token, visit).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        "{}",
        r.body
    );
}
