//! The command centre's tools on the console (issue 25): supervise, ask for and decide more
//! time, correct the category, and enter a caller's ticket, as staff do in a browser session.
use chrono::Duration;
use qiaomen_api::clock::Clock;
use qiaomen_tests::*;
use reqwest::StatusCode;

use crate::console::{client, console_login, csrf_of, form, page};

/// Posts a console form as the browser does; the status and the page.
pub(crate) async fn post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    pairs: &[(&str, &str)],
) -> (StatusCode, String) {
    let resp = client()
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .expect("post");
    let status = resp.status();
    (status, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn the_console_supervises_extends_corrects_and_enters_calls() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    let ticket = format!("/console/tickets/{id}");
    let worker = console_login(&app, "gw_a1", PASSWORD).await;
    let admin = console_login(&app, "ca_admin", PASSWORD).await;

    // The administrator supervises, in Beijing wall time.
    let (_, html) = page(&app, &ticket, &admin).await;
    assert!(html.contains("督办"), "{html}");
    let deadline = (app.clock.now() + Duration::days(2))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let csrf = csrf_of(&html);
    let (status, _) = post(
        &app,
        &admin,
        &format!("{ticket}/supervise"),
        &[
            ("csrf", &csrf),
            ("deadline", &deadline),
            ("note", "请两日内办结"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, work) = page(&app, "/console/work", &worker).await;
    assert!(work.contains("督办"), "the worker's list flags it: {work}");

    // The worker accepts and asks for more time; the administrator approves.
    app.act(&id, "accept", &w.gw_a1, serde_json::json!({}))
        .await;
    let (_, html) = page(&app, &ticket, &worker).await;
    assert!(
        html.contains("期限") && html.contains("请两日内办结"),
        "{html}"
    );
    let until = (app.clock.now() + Duration::days(5))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let (status, _) = post(
        &app,
        &worker,
        &format!("{ticket}/extension"),
        &[
            ("csrf", &csrf_of(&html)),
            ("kind", "extension"),
            ("until", &until),
            ("reason", "等配件"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &ticket, &admin).await;
    assert!(
        html.contains("审批延期/挂账申请") && html.contains("等配件"),
        "{html}"
    );
    let ext = html
        .split("name=\"extension_id\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let (status, _) = post(
        &app,
        &admin,
        &format!("{ticket}/extension-decision"),
        &[
            ("csrf", &csrf_of(&html)),
            ("extension_id", &ext),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    assert!(
        t.body["resolution_due_at"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&until[..10]),
        "{}",
        t.body
    );

    // The category is corrected.
    let (_, html) = page(&app, &ticket, &worker).await;
    let (status, _) = post(
        &app,
        &worker,
        &format!("{ticket}/correct"),
        &[
            ("csrf", &csrf_of(&html)),
            ("category", "sanitation"),
            ("reason", "实为垃圾清运"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &ticket, &worker).await;
    assert!(
        html.contains("更正类别") && html.contains("环境卫生"),
        "{html}"
    );

    // A hotline call entered at the console shows the code to read out.
    let (_, html) = page(&app, "/console/intake", &worker).await;
    let (status, done) = post(
        &app,
        &worker,
        "/console/intake",
        &[
            ("csrf", &csrf_of(&html)),
            ("channel", "hotline"),
            ("kind", "complaint"),
            ("category", "noise"),
            ("description", "来电：夜间施工扰民"),
            ("lat", "39.902"),
            ("lng", "116.408"),
            ("caller_name", "李阿姨"),
            ("caller_phone", "13700001111"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    let code = done
        .split("<strong class=\"claim\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(code.len(), 8, "{done}");
    let caller = app.resident("caller").await;
    let r = app
        .post(
            "/api/v1/tickets/claim",
            &caller,
            serde_json::json!({"code": code}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["channel"], "hotline");
}

#[tokio::test]
async fn the_console_records_a_call_back_with_its_reasons() {
    let app = spawn_app_with(|s| s.return_visits.sample_rate = 1.0).await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    for (action, body) in [
        ("accept", serde_json::json!({})),
        ("resolve", serde_json::json!({"note": "已处理"})),
    ] {
        assert_eq!(
            app.act(&id, action, &w.gw_a1, body).await.status,
            StatusCode::OK
        );
    }
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/rating"),
            &resident,
            serde_json::json!({"level": "satisfied"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let admin = console_login(&app, "ca_admin", PASSWORD).await;
    let ticket = format!("/console/tickets/{id}");
    let (_, html) = page(&app, &ticket, &admin).await;
    assert!(
        html.contains("记录回访") && html.contains("reason_too_slow"),
        "{html}"
    );
    let (status, _) = post(
        &app,
        &admin,
        &format!("{ticket}/return-visit"),
        &[
            ("csrf", &csrf_of(&html)),
            ("outcome", "basically_satisfied"),
            ("reason_too_slow", "1"),
            ("note", "电话回访"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ca_admin.token)
        .await;
    assert_eq!(
        t.body["return_visit"]["reasons"],
        serde_json::json!(["too_slow"]),
        "{}",
        t.body
    );
    assert_eq!(t.body["return_visit"]["cause"], "sample");
}
