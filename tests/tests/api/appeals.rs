//! Appeals (甄别, issue 20 part 5): staff who handle a ticket appeal it as unreasonable, the
//! level above decides, and an approved one leaves the rates of every period.
use chrono::Duration;
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A ticket at A1 that gw_a1 accepted late (a response miss), submitted at `at`.
async fn late_ticket(
    app: &TestApp,
    w: &World,
    resident: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> String {
    app.clock.set(at);
    let t = app
        .post("/api/v1/tickets", resident, complaint_at("noise", A1_POINT))
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let id = t.body["id"].as_str().unwrap_or_default().to_owned();
    app.clock.set(at + Duration::minutes(90));
    let r = app.act(&id, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    id
}

fn appeal_body() -> Value {
    json!({"reason_code": "repeated", "note": "同一诉求本月已办结三次，现场核实无新情况"})
}

async fn street_figures(app: &TestApp, w: &World, query: &str) -> Value {
    let r = app
        .get(
            &format!("/api/v1/stats/summary?area_id={}{query}", w.street),
            &w.street_admin.token,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

fn appeal_ids(list: &Value) -> Vec<(String, bool)> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|a| {
                    (
                        a["id"].as_str().unwrap_or_default().to_owned(),
                        a["can_decide"].as_bool().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_approved_appeal_takes_a_ticket_out_of_every_period() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let t0 = beijing("2026-11-16 09:00");
    let kept = late_ticket(&app, &w, &resident, t0).await;
    let appealed = late_ticket(&app, &w, &resident, t0).await;
    app.clock.set(t0 + Duration::hours(3));
    let before = street_figures(&app, &w, "").await;
    assert_eq!(
        (before["received"].as_u64(), before["response_due"].as_u64()),
        (Some(2), Some(2)),
        "{before}"
    );

    let r = app.act(&appealed, "appeal", &w.gw_a1, appeal_body()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let appeal = r.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        (
            r.body["status"].as_str(),
            r.body["reviewer_area_id"].as_str(),
            r.body["can_decide"].as_bool()
        ),
        (Some("pending"), Some(w.ca.as_str()), Some(false)),
        "a grid's ticket is reviewed by its community"
    );
    let again = app.act(&appealed, "appeal", &w.gw_a1, appeal_body()).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "appeal_pending")
    );
    let outsider = app.act(&appealed, "appeal", &w.gw_b1, appeal_body()).await;
    assert_eq!(
        outsider.status,
        StatusCode::NOT_FOUND,
        "not in gw_b1's sight"
    );

    // The reviewer's inbox; the filer sees theirs, undecidable; another community sees none.
    let inbox = app
        .get("/api/v1/work/appeals?status=pending", &w.ca_admin.token)
        .await;
    assert_eq!(
        appeal_ids(&inbox.body),
        [(appeal.clone(), true)],
        "{}",
        inbox.body
    );
    let filed = app.get("/api/v1/work/appeals", &w.gw_a1.token).await;
    assert_eq!(appeal_ids(&filed.body), [(appeal.clone(), false)]);
    let other = app.get("/api/v1/work/appeals", &w.cb_admin.token).await;
    assert_eq!(appeal_ids(&other.body), []);

    let decide = |by: &Person, decision: &str| {
        let app = &app;
        let (path, token) = (
            format!("/api/v1/appeals/{appeal}/decision"),
            by.token.clone(),
        );
        let body = json!({"decision": decision, "note": "经核实属重复诉求"});
        async move { app.post(&path, &token, body).await }
    };
    let r = decide(&w.gw_a1, "approve").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "forbidden"),
        "not one's own"
    );
    let r = decide(&w.cb_admin, "approve").await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another community's ticket"
    );
    let r = decide(&w.ca_admin, "approve").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "approved");
    assert_eq!(r.body["decided_by"], w.ca_admin.id.as_str());
    let r = decide(&w.street_admin, "deny").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "appeal_decided")
    );
    let r = app.act(&appealed, "appeal", &w.gw_a1, appeal_body()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "not_appealable")
    );

    // Out of every period's denominators, counted apart; the other ticket stays.
    for query in ["", "&from=2026-11-16&to=2026-11-16", "&period=this_month"] {
        let s = street_figures(&app, &w, query).await;
        assert_eq!(
            (
                s["received"].as_u64(),
                s["appealed_excluded"].as_u64(),
                s["response_due"].as_u64(),
                s["responded_in_time"].as_u64()
            ),
            (Some(1), Some(1), Some(1), Some(0)),
            "{query}: {s}"
        );
    }
    // Staff see both events on the timeline; the resident sees neither.
    let staff_view = app
        .get(&format!("/api/v1/tickets/{appealed}"), &w.ca_admin.token)
        .await;
    let actions = |v: &Value| -> Vec<String> {
        v["events"]
            .as_array()
            .map(|es| {
                es.iter()
                    .filter_map(|e| e["action"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let seen = actions(&staff_view.body);
    assert!(
        seen.contains(&"appeal".to_owned()) && seen.contains(&"appeal_approved".to_owned()),
        "{seen:?}"
    );
    let resident_view = app
        .get(&format!("/api/v1/tickets/{appealed}"), &resident)
        .await;
    assert!(
        !actions(&resident_view.body)
            .iter()
            .any(|a| a.starts_with("appeal"))
    );
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{kept}"), &resident)
            .await
            .status,
        StatusCode::OK
    );

    // The rollups rebuilt from scratch agree with those the decision kept.
    let kept_figures = street_figures(&app, &w, "&from=2026-11-16&to=2026-11-16").await;
    qiaomen_tests::qiaomen_api::services::rollups::rebuild(&app.state.db, &|_| {})
        .await
        .expect("rebuild");
    assert_eq!(
        street_figures(&app, &w, "&from=2026-11-16&to=2026-11-16").await,
        kept_figures
    );
}

#[tokio::test]
async fn a_denied_appeal_leaves_the_ticket_in_and_praise_cannot_be_appealed() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let t0 = beijing("2026-11-16 09:00");
    let id = late_ticket(&app, &w, &resident, t0).await;
    // A community admin appeals a ticket in their community: the street decides.
    let r = app
        .act(
            &id,
            "appeal",
            &w.ca_admin,
            json!({"reason_code": "outside_duties", "note": "属物业服务合同纠纷"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let appeal = r.body["id"].as_str().unwrap_or_default().to_owned();
    // Two reviewers at once: exactly one decides.
    let path = format!("/api/v1/appeals/{appeal}/decision");
    let second = app
        .staff_with_role("street2", Some(&w.street), "street_admin", json!({}))
        .await;
    let (a, b) = tokio::join!(
        app.post(
            &path,
            &w.street_admin.token,
            json!({"decision": "deny", "note": "物业问题亦应协调"})
        ),
        app.post(
            &path,
            &second.token,
            json!({"decision": "approve", "note": "同意"})
        )
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        a.body,
        b.body
    );
    let denied = [a, b]
        .into_iter()
        .find(|r| r.status == StatusCode::OK)
        .map(|r| r.body);
    let excluded = denied.as_ref().is_some_and(|d| d["status"] == "approved");
    app.clock.set(t0 + Duration::hours(3));
    let s = street_figures(&app, &w, "").await;
    assert_eq!(
        s["appealed_excluded"].as_u64(),
        Some(u64::from(excluded)),
        "{s}"
    );
    assert_eq!(s["received"].as_u64(), Some(u64::from(!excluded)));

    // A second try after a denial, then no more.
    let id2 = late_ticket(&app, &w, &resident, t0).await;
    let path = |r: &Reply| {
        format!(
            "/api/v1/appeals/{}/decision",
            r.body["id"].as_str().unwrap_or_default()
        )
    };
    for round in 0..2 {
        let r = app.act(&id2, "appeal", &w.gw_a1, appeal_body()).await;
        assert_eq!(r.status, StatusCode::CREATED, "round {round}: {}", r.body);
        let d = app
            .post(
                &path(&r),
                &w.ca_admin.token,
                json!({"decision": "deny", "note": "仍应办理"}),
            )
            .await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    }
    let r = app.act(&id2, "appeal", &w.gw_a1, appeal_body()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "not_appealable")
    );

    let thanks = app
        .post(
            "/api/v1/tickets",
            &resident,
            json!({"kind": "praise", "category": "noise", "description": "谢谢", "praised_staff_id": w.gw_a1.id}),
        )
        .await;
    assert_eq!(thanks.status, StatusCode::CREATED, "{}", thanks.body);
    let praise = thanks.body["id"].as_str().unwrap_or_default().to_owned();
    let r = app.act(&praise, "appeal", &w.gw_a1, appeal_body()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "not_appealable")
    );
}
