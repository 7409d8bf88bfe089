//! Returns instead of ping-pong (退单, issue 25 item 1), through the HTTP API.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn give_back(reason: &str) -> Value {
    json!({"reason_code": "not_my_grid", "note": reason})
}

#[tokio::test]
async fn a_worker_returns_a_ticket_and_the_dispatcher_redirects_or_refuses_it() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;

    // Grid workers no longer pass tickets between grids: they return them.
    let r = app
        .act(
            &id,
            "transfer",
            &w.gw_a1,
            json!({"grid_id": w.a2, "reason": "属甲二"}),
        )
        .await;
    assert_eq!(r.code(), "transfer_outside_grid", "{}", r.body);
    let r = app
        .act(
            &id,
            "transfer",
            &w.gw_a1,
            json!({"staff_id": w.gw_b1.id, "reason": "给乙一"}),
        )
        .await;
    assert_eq!(r.code(), "transfer_outside_grid");
    // Only its assignee returns it; a bad reason writes nothing.
    let r = app
        .act(&id, "return", &w.ga_a1, give_back("不是我的"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = app
        .act(
            &id,
            "return",
            &w.gw_a1,
            json!({"reason_code": "bored", "note": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = app
        .act(&id, "return", &w.gw_a1, give_back("该楼栋属甲二网格"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "returned");
    assert_eq!(r.body["assignee"], Value::Null);
    assert_eq!(
        r.body["handling_area"]["id"],
        w.ca.as_str(),
        "the community's queue"
    );
    assert!(
        app.staff_inbox_kinds(&w.ca_admin.token)
            .await
            .contains(&"returned".to_owned())
    );
    let queue = app
        .get("/api/v1/work/tickets?status=returned", &w.ca_admin.token)
        .await;
    assert_eq!(queue.body["items"].as_array().map(Vec::len), Some(1));
    let mine = app.get(&format!("/api/v1/tickets/{id}"), &resident).await;
    let last = mine.body["events"]
        .as_array()
        .and_then(|e| e.last().cloned())
        .unwrap_or_default();
    assert!(
        !mine.body.to_string().contains("该楼栋属甲二网格"),
        "internal reason"
    );
    assert_eq!(last["note"], "工单正在重新派单", "{last}");
    // The worker no longer holds it; only an administrator decides, and nobody accepts it
    // while it waits.
    assert_eq!(
        app.act(&id, "accept", &w.gw_a1, json!({})).await.code(),
        "not_assignee"
    );
    assert_eq!(
        app.act(&id, "accept", &w.ca_admin, json!({})).await.code(),
        "invalid_transition"
    );
    let r = app
        .act(&id, "refuse-return", &w.gw_a1, json!({"note": "自己驳回"}))
        .await;
    assert!(matches!(
        r.status,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));

    // The dispatcher refuses: back to the worker, who may not return it again.
    let r = app
        .act(
            &id,
            "refuse-return",
            &w.ca_admin,
            json!({"note": "核实属甲一网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "assigned");
    assert_eq!(r.body["assignee"]["id"], w.gw_a1.id.as_str());
    assert_eq!(r.body["grid"]["id"], w.a1.as_str());
    let again = app
        .act(&id, "return", &w.gw_a1, give_back("还是不是我的"))
        .await;
    assert_eq!(again.code(), "return_refused", "{}", again.body);

    // Another ticket: returned, then redirected by assignment to the other grid's worker; its
    // grid and handling area agree.
    let other = app.new_ticket(&resident, "noise", A1_POINT).await;
    let r = app
        .act(&other, "return", &w.gw_a1, give_back("属甲二"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The community's dispatcher redirects within the community: another community's people
    // and grids answer as unknown.
    let r = app
        .act(
            &other,
            "assign",
            &w.ca_admin,
            json!({"staff_id": w.gw_b1.id}),
        )
        .await;
    assert_eq!(r.code(), "unknown_staff", "{}", r.body);
    let r = app
        .act(
            &other,
            "transfer",
            &w.ca_admin,
            json!({"grid_id": w.b1, "reason": "给乙一"}),
        )
        .await;
    assert_eq!(r.code(), "unknown_area", "{}", r.body);
    let r = app
        .act(
            &other,
            "assign",
            &w.ca_admin,
            json!({"staff_id": w.gw_a2.id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["status"].as_str(),
            r.body["grid"]["id"].as_str(),
            r.body["handling_area"]["id"].as_str(),
        ),
        (Some("assigned"), Some(w.a2.as_str()), Some(w.a2.as_str()))
    );
    assert!(
        app.staff_inbox_kinds(&w.gw_a2.token)
            .await
            .contains(&"assigned".to_owned())
    );

    // The statistics count returns per grid and worker (流转次数).
    app.clock.advance(chrono::Duration::minutes(1));
    let stats = app
        .get(
            &format!("/api/v1/stats/returns?area_id={}", w.ca),
            &w.ca_admin.token,
        )
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    let grid = &stats.body["by_grid"][0];
    assert_eq!(
        (
            grid["id"].as_str(),
            grid["returns"].as_u64(),
            grid["refused"].as_u64(),
            grid["redirected"].as_u64()
        ),
        (Some(w.a1.as_str()), Some(2), Some(1), Some(1)),
        "{}",
        stats.body
    );
    assert_eq!(stats.body["by_worker"][0]["id"], w.gw_a1.id.as_str());
    assert_eq!(stats.body["by_worker"][0]["name"], "gw_a1");
    let outside = app
        .get(
            &format!("/api/v1/stats/returns?area_id={}", w.cb),
            &w.ca_admin.token,
        )
        .await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_ticket_returned_too_often_is_flagged_to_the_street_and_races_resolve_once() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    // Three returns by three people (max_returns is 2): the street is told on the third.
    for (holder, next) in [
        (&w.gw_a1, &w.gw_a2),
        (&w.gw_a2, &w.gw_a1),
        (&w.gw_a1, &w.gw_a2),
    ] {
        let flagged = app
            .staff_inbox_kinds(&w.street_admin.token)
            .await
            .contains(&"return_flagged".to_owned());
        assert!(!flagged, "not before the third return");
        let r = app
            .act(&id, "return", holder, give_back("不属本网格"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app
            .act(&id, "assign", &w.ca_admin, json!({"staff_id": next.id}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    assert!(
        app.staff_inbox_kinds(&w.street_admin.token)
            .await
            .contains(&"return_flagged".to_owned())
    );

    // Two administrators decide one return at once: one wins, the other is told.
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    let r = app.act(&id, "return", &w.gw_a1, give_back("属甲二")).await;
    assert_eq!(r.status, StatusCode::OK);
    let (a, b) = tokio::join!(
        app.act(&id, "refuse-return", &w.ca_admin, json!({"note": "属甲一"})),
        app.act(
            &id,
            "refuse-return",
            &w.street_admin,
            json!({"note": "核实属甲一"})
        ),
    );
    let ok = [a.status, b.status]
        .iter()
        .filter(|s| **s == StatusCode::OK)
        .count();
    assert_eq!(ok, 1, "{} {} / {} {}", a.status, a.body, b.status, b.body);
    let stats = app
        .get(
            &format!("/api/v1/stats/returns?area_id={}", w.street),
            &w.street_admin.token,
        )
        .await;
    let workers = stats.body["by_worker"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let waiting: u64 = workers.iter().filter_map(|w| w["waiting"].as_u64()).sum();
    assert_eq!(waiting, 0, "every return settled once: {}", stats.body);
}

#[tokio::test]
async fn the_console_returns_a_ticket_and_the_dispatcher_sees_and_refuses_it() {
    use crate::console::{client, console_login, csrf_of, form, page};
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    let post = |cookie: String, action: &'static str, pairs: Vec<(&'static str, String)>| {
        let (app, id) = (&app, id.clone());
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client()
                .post(format!("{}/console/tickets/{id}/{action}", app.base))
                .header("cookie", cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&pairs))
                .send()
                .await
                .expect("post")
        }
    };
    let worker = console_login(&app, "gw_a1", PASSWORD).await;
    let (_, html) = page(&app, &format!("/console/tickets/{id}"), &worker).await;
    assert!(
        html.contains("退单") && html.contains("not_my_grid"),
        "{html}"
    );
    let csrf = csrf_of(&html);
    let resp = post(
        worker.clone(),
        "return",
        vec![
            ("csrf", csrf),
            ("reason_code", "not_my_grid".into()),
            ("note", "属甲二".into()),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let dispatcher = console_login(&app, "ca_admin", PASSWORD).await;
    let (_, queue) = page(&app, "/console/dispatch", &dispatcher).await;
    let number = app
        .get(&format!("/api/v1/tickets/{id}"), &resident)
        .await
        .body["number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        queue.contains(&number),
        "the returned ticket is in the queue: {queue}"
    );
    let (_, html) = page(&app, &format!("/console/tickets/{id}"), &dispatcher).await;
    assert!(
        html.contains("驳回退单") && html.contains("已退单待重派"),
        "{html}"
    );
    let resp = post(
        dispatcher,
        "refuse-return",
        vec![("csrf", csrf_of(&html)), ("note", "核实属甲一".into())],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    assert_eq!(
        (t.body["status"].as_str(), t.body["assignee"]["id"].as_str()),
        (Some("assigned"), Some(w.gw_a1.id.as_str()))
    );
}
