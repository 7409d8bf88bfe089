//! 每月一题 topics (issue 26 item 2), through the HTTP API.
use chrono::Duration;
use qiaomen_api::clock::Clock;
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::hotspots::{north_of_a1, submit, told};

fn due_in(app: &TestApp, days: i64) -> String {
    (app.clock.now() + Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn a_hot_spot_becomes_a_topic_that_gathers_reports_and_closes_them() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let residents = [
        app.resident("t1").await,
        app.resident("t2").await,
        app.resident("t3").await,
    ];
    let mut first = vec![];
    for k in 0..6 {
        let t = submit(
            &app,
            &residents[k % 3],
            told("noise", north_of_a1(k as f64 * 5.0), "楼下烧烤店半夜太吵"),
        )
        .await;
        first.push(t["id"].as_str().unwrap_or_default().to_owned());
    }
    let spots = app
        .get(
            &format!("/api/v1/stats/hotspots?area_id={}", w.street),
            &w.street_admin.token,
        )
        .await;
    let hotspot = spots.body["features"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!hotspot.is_empty(), "{}", spots.body);

    // Who may make one: an administrator over the owner area (a grid worker does not even see
    // the community: 404); bad input writes nothing.
    let body = |owner: &str, source: Value| {
        let mut b = json!({"title": "烧烤店夜间噪音", "description": "联合执法，加装隔音",
                           "owner_area_id": owner, "due": due_in(&app, 30)});
        if let (Some(b), Some(s)) = (b.as_object_mut(), source.as_object()) {
            b.extend(s.clone());
        }
        b
    };
    let r = app
        .post(
            "/api/v1/topics",
            &w.gw_a1.token,
            body(&w.ca, json!({"hotspot": hotspot})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app
        .post(
            "/api/v1/topics",
            &w.cb_admin.token,
            body(&w.ca, json!({"hotspot": hotspot})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    for bad in [
        json!({}),
        json!({"hotspot": hotspot, "ticket_ids": [first[0]]}),
        json!({"hotspot": "nope"}),
        json!({"ticket_ids": []}),
    ] {
        let r = app
            .post(
                "/api/v1/topics",
                &w.street_admin.token,
                body(&w.ca, bad.clone()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.body
        );
    }
    let mut past = body(&w.ca, json!({"hotspot": hotspot}));
    past["due"] = json!("2020-01-01");
    let r = app
        .post("/api/v1/topics", &w.street_admin.token, past)
        .await;
    assert_eq!(r.code(), "invalid_field");
    let none = app.get("/api/v1/topics", &w.street_admin.token).await;
    assert_eq!(none.body.as_array().map(Vec::len), Some(0));

    // The street makes the hot spot the community's topic: its six tickets, residents told.
    let r = app
        .post(
            "/api/v1/topics",
            &w.street_admin.token,
            body(&w.ca, json!({"hotspot": hotspot})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let topic = r.body["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(r.body["status"], "open");
    assert_eq!(r.body["ticket_count"], 6);
    assert_eq!(r.body["category"]["code"], "noise");
    assert_eq!(r.body["owner_area"]["id"], w.ca);
    assert!(
        app.resident_inbox_kinds(&residents[1])
            .await
            .contains(&"topic_linked".to_owned())
    );
    let t = app
        .get(&format!("/api/v1/tickets/{}", first[0]), &residents[0])
        .await;
    assert_eq!(t.body["topic"]["id"], topic.as_str());

    // A new report at the corner joins it and its resident is told; another category or
    // another place does not.
    let late = app.resident("t4").await;
    let joined = submit(
        &app,
        &late,
        told("noise", north_of_a1(20.0), "烧烤店又在吵"),
    )
    .await;
    assert_eq!(joined["topic"]["id"], topic.as_str(), "{joined}");
    assert!(
        app.resident_inbox_kinds(&late)
            .await
            .contains(&"topic_linked".to_owned())
    );
    let other = submit(
        &app,
        &late,
        told("sanitation", north_of_a1(20.0), "垃圾满了"),
    )
    .await;
    assert!(other.get("topic").is_none(), "{other}");
    let far = submit(&app, &late, told("noise", north_of_a1(400.0), "装修噪音")).await;
    assert!(far.get("topic").is_none(), "{far}");

    // A hand-picked ticket already in the open topic cannot join another; one outside the
    // owner area is refused like one that does not exist.
    let r = app
        .post(
            "/api/v1/topics",
            &w.ca_admin.token,
            body(&w.ca, json!({"ticket_ids": [first[1]]})),
        )
        .await;
    assert_eq!(r.code(), "ticket_in_topic");
    let there = app.new_ticket(&late, "noise", B1_POINT).await;
    let r = app
        .post(
            "/api/v1/topics",
            &w.street_admin.token,
            body(&w.ca, json!({"ticket_ids": [there]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    // Progress notes reach every resident; the worker may not write one.
    let path = format!("/api/v1/topics/{topic}");
    let r = app
        .post(
            &format!("{path}/updates"),
            &w.gw_a1.token,
            json!({"note": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(
            &format!("{path}/updates"),
            &w.ca_admin.token,
            json!({"note": "已约谈店主，限期整改"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["updates"][0]["note"], "已约谈店主，限期整改");
    for r in residents.iter().chain([&late]) {
        assert!(
            app.resident_inbox_kinds(r)
                .await
                .contains(&"topic_update".to_owned())
        );
    }

    // Residents read the topic with their own tickets only; others get 404.
    let mine = app.get(&path, &residents[0]).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.body["tickets"].as_array().map(Vec::len), Some(2));
    let stranger = app.resident("t5").await;
    assert_eq!(
        app.get(&path, &stranger).await.status,
        StatusCode::NOT_FOUND
    );
    let listed = app.get("/api/v1/topics?status=open", &late).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    assert_eq!(
        app.get(&path, &w.cb_admin.token).await.status,
        StatusCode::NOT_FOUND
    );

    // Closing resolves every open ticket with the note; residents rate; the mean is the topic's.
    // Two offices close it at once: one wins, the other is told it is closed.
    let close = |token: String| {
        let (app, path) = (&app, &path);
        async move {
            let note = json!({"note": "店铺已加装隔音并调整营业时间"});
            app.post(&format!("{path}/close"), &token, note).await
        }
    };
    let (a, b) = tokio::join!(
        close(w.ca_admin.token.clone()),
        close(w.street_admin.token.clone())
    );
    let (r, other) = if a.status == StatusCode::OK {
        (a, b)
    } else {
        (b, a)
    };
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The other either finished what was left or found nothing left.
    assert!(other.status == StatusCode::OK || other.code() == "topic_closed");
    assert_eq!(r.body["status"], "closed");
    assert_eq!(r.body["open_count"], 0);
    assert_eq!(r.body["ticket_count"], 7);
    let t = app
        .get(&format!("/api/v1/tickets/{}", first[0]), &residents[0])
        .await;
    assert_eq!(t.body["status"], "resolved");
    let resolutions = t.body["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "resolve")
        .count();
    assert_eq!(resolutions, 1, "{}", t.body);
    let last = t.body["events"]
        .as_array()
        .and_then(|e| e.last().cloned())
        .unwrap_or_default();
    assert!(
        last["note"]
            .as_str()
            .unwrap_or_default()
            .contains("店铺已加装隔音"),
        "{last}"
    );
    assert!(
        app.resident_inbox_kinds(&late)
            .await
            .contains(&"resolved".to_owned())
    );
    let rate = |id: String, token: String, level: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post(
                    &format!("/api/v1/tickets/{id}/rating"),
                    &token,
                    json!({"level": level}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    };
    rate(first[0].clone(), residents[0].clone(), "satisfied").await;
    rate(
        joined["id"].as_str().map(str::to_owned).unwrap_or_default(),
        late.clone(),
        "unsatisfied",
    )
    .await;
    let t = app.get(&path, &w.street_admin.token).await;
    assert_eq!(t.body["satisfaction"]["rated"], 2, "{}", t.body);
    assert_eq!(t.body["satisfaction"]["mean"], 0.5);

    // Once.
    let again = app
        .post(
            &format!("{path}/close"),
            &w.ca_admin.token,
            json!({"note": "x"}),
        )
        .await;
    assert_eq!(again.code(), "topic_closed");
    let note = app
        .post(
            &format!("{path}/updates"),
            &w.ca_admin.token,
            json!({"note": "x"}),
        )
        .await;
    assert_eq!(note.code(), "topic_closed");
    // A closed topic keeps its record: its hot spot cannot be made a topic again from the
    // same tickets.
    let spots = app
        .get(
            &format!("/api/v1/stats/hotspots?area_id={}", w.street),
            &w.street_admin.token,
        )
        .await;
    let again_from = spots.body["features"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let r = app
        .post(
            "/api/v1/topics",
            &w.street_admin.token,
            body(&w.ca, json!({"hotspot": again_from})),
        )
        .await;
    assert_eq!(r.code(), "ticket_in_topic", "{}", r.body);
    let kept = app.get(&path, &w.street_admin.token).await;
    assert_eq!(kept.body["ticket_count"], 7);
    // A closed topic takes no new reports.
    let after = submit(
        &app,
        &stranger,
        told("noise", north_of_a1(10.0), "烧烤店吵"),
    )
    .await;
    assert!(after.get("topic").is_none());
}

#[tokio::test]
async fn the_street_office_makes_a_topic_from_the_map_and_runs_it_on_the_console() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let residents = [app.resident("c1").await, app.resident("c2").await];
    for k in 0..6 {
        submit(
            &app,
            &residents[k % 2],
            told("noise", north_of_a1(k as f64 * 4.0), "广场舞音响太吵"),
        )
        .await;
    }
    let now = app.clock.now();
    let map = format!(
        "/console/map?from={}&to={}",
        (now - Duration::days(30)).format("%Y-%m-%d"),
        (now + Duration::days(1)).format("%Y-%m-%d")
    );
    let street = crate::console::console_login(&app, "street_admin", PASSWORD).await;
    let (_, html) = crate::console::page(&app, &map, &street).await;
    assert!(html.contains("设为每月一题"), "{html}");
    let hotspot = html
        .split("name=\"hotspot\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let csrf = crate::console::csrf_of(&html);
    let due = due_in(&app, 20);
    let (status, _) = crate::command_console::post(
        &app,
        &street,
        "/console/topics",
        &[
            ("csrf", csrf.as_str()),
            ("hotspot", hotspot.as_str()),
            ("owner_area_id", w.street.as_str()),
            ("title", "广场舞噪音整治"),
            ("description", "与广场舞队商定时段和音量"),
            ("due", due.as_str()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let listed = app.get("/api/v1/topics", &w.street_admin.token).await;
    assert_eq!(listed.body[0]["ticket_count"], 6, "{}", listed.body);
    let id = listed.body[0]["id"].as_str().unwrap_or_default().to_owned();
    let (_, html) = crate::console::page(&app, "/console/topics", &street).await;
    assert!(
        html.contains("广场舞噪音整治") && html.contains("6 在办 / 6"),
        "{html}"
    );

    // A note, then the end, from the topic's page; the worker may not open it.
    let page = format!("/console/topics/{id}");
    let (_, html) = crate::console::page(&app, &page, &street).await;
    assert!(
        html.contains("发布进展") && html.contains("结束并办结全部工单"),
        "{html}"
    );
    for (action, note) in [
        ("updates", "已约定晚八点后降低音量"),
        ("close", "已签订文明公约"),
    ] {
        let (status, _) = crate::command_console::post(
            &app,
            &street,
            &format!("{page}/{action}"),
            &[("csrf", csrf.as_str()), ("note", note)],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{action}");
    }
    let t = app
        .get(&format!("/api/v1/topics/{id}"), &w.street_admin.token)
        .await;
    assert_eq!(t.body["status"], "closed");
    assert_eq!(t.body["open_count"], 0);
    assert_eq!(t.body["updates"][0]["note"], "已约定晚八点后降低音量");
    let worker = crate::console::console_login(&app, "gw_a1", PASSWORD).await;
    let (status, _) = crate::console::page(&app, &page, &worker).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
