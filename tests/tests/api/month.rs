//! A month of a street replayed through the HTTP API from `tests/fixtures/november.json`, read
//! back on 5 December, with the figures worked out by hand below (issue 20, "Checked").
//!
//! Moments (Beijing time): a ticket counts in the response rate when answered or due (+60 min),
//! in the resolution rate when resolved or due (+48 h), whichever came first.
//!
//! | ticket | grid | response | resolution | ratings (reasons) |
//! |---|---|---|---|---|
//! | n01 | A1 | 11-02 09:30 in time | 11-02 19:00 in time | satisfied |
//! | n02 | A1 | 11-03 11:00 miss (accepted +90) | 11-04 10:00 in time | basically (too_slow) |
//! | n03 | A1 | 11-05 14:10 in time | 11-07 14:00 miss (reopened, resolved again +3300) | unsatisfied (too_slow, not_solved), satisfied |
//! | n04 | A2 | 11-06 09:00 miss (never) | 11-08 08:00 miss | — |
//! | n05 | A2 | withdrawn +20: never owed | — | — |
//! | n06 | B1 | 11-09 09:15 in time (rejected) | rejected: never owed | — |
//! | n07 | B1 | 11-10 09:45 in time | 11-10 11:00 in time | satisfied |
//! | n08 | B1 | 11-11 10:00 miss (accepted +120) | 11-12 21:40 in time (resolved again +2200) | unsatisfied (attitude), basically (no_contact) |
//! | n09 | A1 | 11-16 00:20 in time (submitted 11-15 23:30) | 11-16 01:10 in time | — |
//! | n10 | A1 | appeal approved: in no rate | — | — |
//! | n11 | B1 | 11-18 09:05 in time (appeal denied) | 11-18 10:00 in time | satisfied |
//! | n12 | A2 | 11-20 09:30 in time | 11-20 12:20 in time | satisfied |
//! | n13 | A2 | 11-25 10:59 in time | 11-27 09:59 in time | satisfied |
//! | n14 | A1 | 11-29 20:30 in time | 12-01 20:00 (December) | — |
//! | n15 | A1 | 12-01 00:20 (December) | 12-01 00:50 (December) | — |
//!
//! November (11-01 to 11-30): submitted 15 tickets and 2 praise; withdrawn 1 (n05), rejected 1
//! (n06), appealed_excluded 1 (n10), praise_received 2, received 12; accepted 11 (all received
//! but n04); resolved 10 (all received but n04, n14); reopened 2 → 2/12.
//! Response: 12 counted (n01–n04, n06–n09, n11–n14), 9 in time → 0.75.
//! Resolution: 10 counted (n01–n04, n07–n09, n11–n13), 8 in time → 0.8.
//! Ratings: 10 — satisfied 6, basically 2, unsatisfied 2 → 0.8; reasons too_slow 2,
//! not_solved 1, attitude 1, no_contact 1.
//! Composite 100 × (0.1 × 0.75 + 0.5 × 0.8 + 0.4 × 0.8) = 79.5. Overdue open now: n04, n14 and
//! n10 (out of the rates, still work left undone).
//! Minutes to response 5 10 30 30 30 30 45 50 59 90 120 → median 30, p90 90; to resolution
//! 60 60 100 120 200 600 1440 2200 2879 3300 → median 200, p90 2879.
//!
//! Halves: 11-01–11-15 (n09 submitted, its moments fall on 11-16): response 7 counted, 4 in time;
//! resolution 6, 4; ratings 7. 11-16–11-30: response 5, 5; resolution 4, 4; ratings 3.
//!
//! Grids: A1 received 6, response 4/5, resolution 3/4, excluded 1; A2 received 3, withdrawn 1,
//! praise 1, response 2/3, resolution 2/3; B1 received 3, rejected 1, praise 1, response 3/4,
//! resolution 3/3.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const FIXTURE: &str = include_str!("../../fixtures/november.json");

/// One thing that happens, at its time.
enum Happening<'f> {
    Submit(&'f Value),
    Step(&'f Value, &'f Value),
}

fn grid_staff<'w>(w: &'w World, grid: &str) -> (&'w str, (f64, f64), &'w Person, &'w Person) {
    match grid {
        "A1" => (w.a1.as_str(), A1_POINT, &w.gw_a1, &w.ca_admin),
        "A2" => (w.a2.as_str(), A2_POINT, &w.gw_a2, &w.ca_admin),
        _ => (w.b1.as_str(), B1_POINT, &w.gw_b1, &w.cb_admin),
    }
}

/// Replays the fixture in time order; the tickets' ids by name.
async fn replay(app: &TestApp, w: &World, resident: &str) -> HashMap<String, String> {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("fixture JSON");
    let tickets = fixture["tickets"].as_array().cloned().unwrap_or_default();
    let mut timeline: Vec<(DateTime<Utc>, usize, Happening)> = Vec::new();
    for (i, t) in tickets.iter().enumerate() {
        let at = beijing(t["at"].as_str().unwrap_or_default());
        timeline.push((at, i, Happening::Submit(t)));
        for step in t["steps"].as_array().into_iter().flatten() {
            let after = Duration::minutes(step["after"].as_i64().unwrap_or_default());
            timeline.push((at + after, i, Happening::Step(t, step)));
        }
    }
    timeline.sort_by_key(|(at, i, _)| (*at, *i));
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut appeals: HashMap<String, String> = HashMap::new();
    for (at, _, happening) in &timeline {
        app.clock.set(*at);
        match happening {
            Happening::Submit(t) => {
                let name = t["name"].as_str().unwrap_or_default();
                let body = match t["kind"].as_str() {
                    Some("praise") => {
                        let mut b =
                            json!({"kind": "praise", "category": "noise", "description": "感谢"});
                        if let Some(grid) = t["praised"].as_str() {
                            b["praised_staff_id"] = json!(grid_staff(w, grid).2.id);
                        }
                        if let Some(followed) = t["follows"].as_str() {
                            b["follows_ticket_id"] = json!(ids[followed]);
                        }
                        b
                    }
                    _ => complaint_at(
                        "noise",
                        grid_staff(w, t["grid"].as_str().unwrap_or_default()).1,
                    ),
                };
                let r = app.post("/api/v1/tickets", resident, body).await;
                assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
                ids.insert(
                    name.to_owned(),
                    r.body["id"].as_str().unwrap_or_default().to_owned(),
                );
            }
            Happening::Step(t, step) => {
                let name = t["name"].as_str().unwrap_or_default();
                let id = ids[name].clone();
                let (_, _, worker, admin) = grid_staff(w, t["grid"].as_str().unwrap_or_default());
                let action = step["do"].as_str().unwrap_or_default();
                let r = match action {
                    "accept" => app.act(&id, "accept", worker, json!({})).await,
                    "resolve" => {
                        app.act(&id, "resolve", worker, json!({"note": "已处理"}))
                            .await
                    }
                    "reject" => {
                        app.act(&id, "reject", worker, json!({"reason": "不属于受理范围"}))
                            .await
                    }
                    "appeal" => {
                        let body = json!({"reason_code": "repeated", "note": "重复诉求"});
                        let r = app.act(&id, "appeal", worker, body).await;
                        appeals.insert(
                            name.to_owned(),
                            r.body["id"].as_str().unwrap_or_default().to_owned(),
                        );
                        r
                    }
                    "approve" | "deny" => {
                        let path = format!("/api/v1/appeals/{}/decision", appeals[name]);
                        app.post(
                            &path,
                            &admin.token,
                            json!({"decision": action, "note": "已核实"}),
                        )
                        .await
                    }
                    "withdraw" => {
                        app.post(
                            &format!("/api/v1/tickets/{id}/withdraw"),
                            resident,
                            json!({}),
                        )
                        .await
                    }
                    _ => {
                        let body = json!({"level": step["level"], "reasons": step.get("reasons").cloned().unwrap_or(json!([]))});
                        app.post(&format!("/api/v1/tickets/{id}/rating"), resident, body)
                            .await
                    }
                };
                assert!(r.status.is_success(), "{name} {action}: {}", r.body);
            }
        }
    }
    ids
}

fn counts(s: &Value, fields: &[&str]) -> Vec<Option<u64>> {
    fields.iter().map(|f| s[*f].as_u64()).collect()
}

fn near(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 0.02)
}

#[tokio::test]
async fn a_month_replayed_gives_the_hand_computed_figures() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    replay(&app, &w, &resident).await;
    app.clock.set(beijing("2026-12-05 10:00"));
    let get = |query: String| {
        let app = &app;
        let token = w.street_admin.token.clone();
        async move {
            let r = app.get(&query, &token).await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
            r.body
        }
    };
    let summary = |extra: &str| get(format!("/api/v1/stats/summary?area_id={}{extra}", w.street));

    let month = summary("&period=last_month").await;
    assert_eq!(month, summary("&from=2026-11-01&to=2026-11-30").await);
    let fields = [
        "received",
        "withdrawn",
        "rejected",
        "appealed_excluded",
        "praise_received",
        "accepted",
        "resolved",
        "reopened",
        "response_due",
        "responded_in_time",
        "resolution_due",
        "resolved_in_time",
        "rated",
        "satisfied",
        "basically_satisfied",
        "unsatisfied",
        "reason_too_slow",
        "reason_not_solved",
        "reason_attitude",
        "reason_no_contact",
        "reason_disagree_result",
        "overdue_open",
    ];
    let expected = [
        12, 1, 1, 1, 2, 11, 10, 2, 12, 9, 10, 8, 10, 6, 2, 2, 2, 1, 1, 1, 0, 3,
    ];
    assert_eq!(
        counts(&month, &fields),
        expected.iter().map(|v| Some(*v)).collect::<Vec<_>>(),
        "{month}"
    );
    for (field, value) in [
        ("response_rate", 0.75),
        ("resolution_rate", 0.8),
        ("satisfaction_rate", 0.8),
        ("reopen_rate", 2.0 / 12.0),
        ("composite_score", 79.5),
        ("median_response_minutes", 30.0),
        ("p90_response_minutes", 90.0),
        ("median_resolution_minutes", 200.0),
        ("p90_resolution_minutes", 2879.0),
    ] {
        assert!(near(&month[field], value), "{field}: {}", month[field]);
    }

    // The halves add up to the month.
    let halves = [
        "response_due",
        "responded_in_time",
        "resolution_due",
        "resolved_in_time",
        "rated",
    ];
    let first = summary("&from=2026-11-01&to=2026-11-15").await;
    assert_eq!(
        counts(&first, &halves),
        [Some(7), Some(4), Some(6), Some(4), Some(7)],
        "{first}"
    );
    let second = summary("&from=2026-11-16&to=2026-11-30").await;
    assert_eq!(
        counts(&second, &halves),
        [Some(5), Some(5), Some(4), Some(4), Some(3)],
        "{second}"
    );

    // Per grid, from the rollups of each place.
    let grids = get(format!(
        "/api/v1/stats/breakdown?area_id={}&by=grid&period=last_month",
        w.street
    ))
    .await;
    let grid_fields = [
        "received",
        "withdrawn",
        "rejected",
        "appealed_excluded",
        "praise_received",
        "response_due",
        "responded_in_time",
        "resolution_due",
        "resolved_in_time",
    ];
    for (grid, expected) in [
        (&w.a1, [6, 0, 0, 1, 0, 5, 4, 4, 3]),
        (&w.a2, [3, 1, 0, 0, 1, 3, 2, 3, 2]),
        (&w.b1, [3, 0, 1, 0, 1, 4, 3, 3, 3]),
    ] {
        let g = grids["groups"]
            .as_array()
            .and_then(|gs| gs.iter().find(|g| g["key"] == grid.as_str()))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            counts(&g, &grid_fields),
            expected.iter().map(|v| Some(*v)).collect::<Vec<_>>(),
            "{grid}: {g}"
        );
    }
}
