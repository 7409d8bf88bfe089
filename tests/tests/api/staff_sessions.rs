//! Staff sessions fit 等保 2.0 (issue 24, item 6): strong passwords, a first password chosen by
//! its holder, tokens that end with a password change or after `jwt.staff_ttl_hours`, and an
//! append-only audit log of every administrator's action.
use base64::Engine;
use qiaomen_tests::*;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("claims")
}

async fn login(app: &TestApp, login: &str, password: &str) -> Reply {
    app.post_anonymous(
        "/api/v1/auth/staff",
        json!({"login": login, "password": password}),
    )
    .await
}

#[tokio::test]
async fn an_account_an_administrator_made_chooses_its_own_strong_password_first() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let create = |password: &'static str| {
        app.post(
            "/api/v1/admin/staff",
            &app.admin_token,
            json!({"name": "新网格员", "login": "newcomer", "password": password}),
        )
    };
    for weak in [
        "short-1A",
        "alllowercaseletters",
        "only-lower-and-symbols",
        "1234567890",
    ] {
        let r = create(weak).await;
        assert_eq!(r.code(), "weak_password", "{weak}: {}", r.body);
    }
    let r = create("Given-by-admin-1").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let first = login(&app, "newcomer", "Given-by-admin-1").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["must_change_password"], true);
    let token = first.body["token"].as_str().expect("token").to_owned();
    let r = app.get("/api/v1/work/tickets", &token).await;
    assert_eq!(r.code(), "password_change_required", "{}", r.body);
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let me = app.get("/api/v1/staff/me", &token).await;
    assert_eq!(me.body["must_change_password"], true, "{}", me.body);

    let change = |old: &'static str, new: &'static str| {
        app.post(
            "/api/v1/staff/me/password",
            &token,
            json!({"old": old, "new": new}),
        )
    };
    assert_eq!(
        change("Given-by-admin-1", "Given-by-admin-1").await.code(),
        "weak_password",
        "not the same password again"
    );
    assert_eq!(
        change("Given-by-admin-1", "weakpassword").await.code(),
        "weak_password"
    );
    let changed = change("Given-by-admin-1", "My-own-choice-7").await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["must_change_password"], false);
    let fresh = changed.body["token"].as_str().expect("token").to_owned();
    assert_eq!(
        app.get("/api/v1/staff/me", &token).await.status,
        StatusCode::UNAUTHORIZED,
        "the token from before the change ends"
    );
    assert_eq!(
        app.get("/api/v1/work/tickets", &fresh).await.status,
        StatusCode::OK
    );

    // A WeChat binding is a credential too: a reset drops it.
    let r = app
        .post(
            "/api/v1/staff/me/wechat",
            &w.gw_a1.token,
            json!({"code": "wx-gw-a1"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let by_wechat = app
        .post_anonymous("/api/v1/auth/staff/wechat", json!({"code": "wx-gw-a1"}))
        .await;
    assert_eq!(by_wechat.status, StatusCode::OK, "{}", by_wechat.body);

    // An administrator's reset: every session ends and the holder chooses again.
    let worker = w.gw_a1.token.clone();
    let r = app
        .post(
            &format!("/api/v1/admin/staff/{}/password", w.gw_a1.id),
            &app.admin_token,
            json!({"new": "Reset-by-admin-2"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(
        app.get("/api/v1/staff/me", &worker).await.status,
        StatusCode::UNAUTHORIZED
    );
    let again = login(&app, "gw_a1", "Reset-by-admin-2").await;
    assert_eq!(again.body["must_change_password"], true);
    let by_wechat = app
        .post_anonymous("/api/v1/auth/staff/wechat", json!({"code": "wx-gw-a1"}))
        .await;
    assert_eq!(by_wechat.code(), "wechat_not_bound", "{}", by_wechat.body);
    let weak_reset = app
        .post(
            &format!("/api/v1/admin/staff/{}/password", w.gw_a1.id),
            &app.admin_token,
            json!({"new": "reset"}),
        )
        .await;
    assert_eq!(weak_reset.code(), "weak_password");
}

#[tokio::test]
async fn staff_tokens_last_a_working_day_and_residents_longer() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let staff = claims(&w.gw_a1.token);
    let lifetime = |c: &Value| c["exp"].as_i64().unwrap_or(0) - c["iat"].as_i64().unwrap_or(0);
    assert_eq!(lifetime(&staff), 12 * 3600, "jwt.staff_ttl_hours: {staff}");
    let resident = claims(&app.resident("r1").await);
    assert_eq!(lifetime(&resident), 72 * 3600, "jwt.ttl_hours");

    let short = spawn_app_with(|s| s.jwt.staff_ttl_hours = 2).await;
    let token = short.staff_login("root", ROOT_PASSWORD).await;
    assert_eq!(lifetime(&claims(&token)), 2 * 3600);
}

#[tokio::test]
async fn every_administrators_action_is_in_an_append_only_audit_log() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let admin = app.admin_token.clone();
    let key = app
        .post(
            "/api/v1/admin/open311-keys",
            &admin,
            json!({"name": "城市大屏", "area_ids": [w.a1]}),
        )
        .await;
    let key_id = key.body["id"].as_str().expect("key id").to_owned();
    let secret = key.body["api_key"].as_str().expect("api_key").to_owned();
    let r = app
        .delete(&format!("/api/v1/admin/open311-keys/{key_id}"), &admin)
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = app
        .patch(
            "/api/v1/admin/categories/noise",
            &admin,
            json!({"display_order": 3}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = app
        .post(
            &format!("/api/v1/admin/staff/{}/password", w.gw_b1.id),
            &admin,
            json!({"new": "Secret-reset-99"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let resident = app.resident("audited").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/reveal-contact"),
            &w.gw_a1.token,
            json!({"reason": "上门前电话确认"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        login(&app, "gw_a2", "Wrong-password-1").await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .post(
            "/api/v1/staff/me/password",
            &w.gw_a1.token,
            json!({"old": "Not-my-password-1", "new": "Whatever-new-1"}),
        )
        .await;
    assert_eq!(r.code(), "wrong_password");

    let log = app.get("/api/v1/admin/audit-log?limit=100", &admin).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let items = log.body["items"].as_array().cloned().unwrap_or_default();
    let actions: Vec<&str> = items.iter().filter_map(|i| i["action"].as_str()).collect();
    for expected in [
        "area.create",
        "staff.create",
        "staff.assign",
        "open311_key.create",
        "open311_key.revoke",
        "category.update",
        "password.reset",
        "password.change",
        "contact.reveal",
        "login",
        "login.failed",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let revoke = items
        .iter()
        .find(|i| i["action"] == "open311_key.revoke")
        .expect("revoke");
    assert_eq!(revoke["actor_login"], "root");
    assert_eq!(revoke["target_id"], key_id.as_str());
    assert!(revoke["request_id"].is_string());
    let reveal = items
        .iter()
        .find(|i| i["action"] == "contact.reveal")
        .expect("reveal");
    assert_eq!(reveal["actor_staff_id"], w.gw_a1.id.as_str());
    assert_eq!(reveal["detail"]["reason"], "上门前电话确认");
    let failed: Vec<(&str, &str)> = items
        .iter()
        .filter(|i| i["action"] == "login.failed")
        .map(|i| {
            (
                i["actor_login"].as_str().unwrap_or_default(),
                i["detail"]["via"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        vec![("gw_a1", "password_change"), ("gw_a2", "password")]
    );
    let text = log.body.to_string();
    assert!(
        !text.contains(&secret)
            && !text.contains("Secret-reset-99")
            && !text.contains("Wrong-password-1"),
        "no key or password in the log"
    );

    // Newest first, a page at a time, filtered.
    let mut seen = 0;
    let mut cursor = String::new();
    loop {
        let page = app
            .get(&format!("/api/v1/admin/audit-log?limit=7{cursor}"), &admin)
            .await;
        seen += page.body["items"].as_array().map(Vec::len).unwrap_or(0);
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, items.len());
    let resets = app
        .get("/api/v1/admin/audit-log?action=password.reset", &admin)
        .await;
    assert_eq!(resets.body["items"].as_array().map(Vec::len), Some(1));
    let long = "x".repeat(65);
    let r = app
        .get(&format!("/api/v1/admin/audit-log?action={long}"), &admin)
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not the whole log"
    );
    let r = app
        .get("/api/v1/admin/audit-log", &w.street_admin.token)
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "system administrators only"
    );

    // Appended only: the database itself refuses to rewrite or drop a row.
    let db = &app.state.db;
    for sql in [
        "UPDATE audit_log SET actor_login = 'someone-else'",
        "DELETE FROM audit_log",
    ] {
        let r = db.execute_unprepared(sql).await;
        assert!(r.is_err(), "{sql} must fail");
    }
    let after = app.get("/api/v1/admin/audit-log?limit=100", &admin).await;
    assert_eq!(
        after.body["items"].as_array().map(Vec::len),
        Some(items.len())
    );
}

/// A POST of a console form; the answer's status, `Location` and new cookie.
async fn console_post(
    app: &TestApp,
    path: &str,
    cookie: &str,
    pairs: &[(&str, &str)],
) -> (StatusCode, String, Option<String>, String) {
    let resp = crate::console::client()
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::console::form(pairs))
        .send()
        .await
        .expect("post");
    let status = resp.status();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header("location").unwrap_or_default();
    let set = header("set-cookie").map(|c| c.split(';').next().unwrap_or_default().to_owned());
    (status, location, set, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn the_console_asks_for_a_new_password_first_and_reveals_a_phone_with_a_reason() {
    use crate::console::{console_login, csrf_of, page};
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let r = app
        .post(
            "/api/v1/admin/staff",
            &app.admin_token,
            json!({"name": "新人", "login": "console-newcomer", "password": "Given-by-admin-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let cookie = console_login(&app, "console-newcomer", "Given-by-admin-1").await;
    let resp = crate::console::client()
        .get(format!("{}/console/work", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("work");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/console/password");
    let (status, html) = page(&app, "/console/password", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("初始密码"), "{html}");
    let csrf = csrf_of(&html);
    let (status, _, _, html) = console_post(
        &app,
        "/console/password",
        &cookie,
        &[
            ("csrf", &csrf),
            ("old", "Given-by-admin-1"),
            ("new", "My-own-choice-7"),
            ("again", "My-own-choice-8"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("不一致"), "{html}");
    let (status, location, fresh, _) = console_post(
        &app,
        "/console/password",
        &cookie,
        &[
            ("csrf", &csrf),
            ("old", "Given-by-admin-1"),
            ("new", "My-own-choice-7"),
            ("again", "My-own-choice-7"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/console/work")
    );
    let fresh = fresh.expect("a new session");
    assert_eq!(page(&app, "/console/work", &fresh).await.0, StatusCode::OK);
    assert_ne!(
        page(&app, "/console/work", &cookie).await.0,
        StatusCode::OK,
        "the session from before the change ends"
    );

    // 查看完整号码: the assignee sees the number for a reason, and it is logged.
    let resident = app.resident("console-reveal").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    let worker = console_login(&app, "gw_a1", PASSWORD).await;
    let (_, html) = page(&app, &format!("/console/tickets/{id}"), &worker).await;
    assert!(
        html.contains("138****1234") && html.contains("查看完整号码"),
        "{html}"
    );
    let csrf = csrf_of(&html);
    let path = format!("/console/tickets/{id}/reveal-contact");
    let (status, _, _, _) =
        console_post(&app, &path, &worker, &[("csrf", &csrf), ("reason", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _, html) = console_post(
        &app,
        &path,
        &worker,
        &[("csrf", &csrf), ("reason", "上门前电话确认")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("tel:13812341234"), "{html}");
    let other = console_login(&app, "gw_b1", PASSWORD).await;
    let (_, other_html) = page(&app, "/console/work", &other).await;
    let (status, _, _, _) = console_post(
        &app,
        &path,
        &other,
        &[("csrf", &csrf_of(&other_html)), ("reason", "好奇")],
    )
    .await;
    assert_ne!(status, StatusCode::OK, "another grid's worker sees nothing");
    let log = app.get("/api/v1/admin/access-log", &app.admin_token).await;
    assert_eq!(log.body.as_array().map(Vec::len), Some(1), "{}", log.body);
    assert_eq!(log.body[0]["staff_id"], w.gw_a1.id.as_str());

    // 管理 · 审计日志: the system administrator reads both in the console.
    let root = console_login(&app, "root", ROOT_PASSWORD).await;
    let (status, html) = page(&app, "/console/admin/audit?action=contact.reveal", &root).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("查看居民电话") && html.contains("gw_a1") && html.contains("上门前电话确认"),
        "{html}"
    );
    assert!(!html.contains("修改密码</td>"), "filtered to reveals");
    let (status, _) = page(&app, "/console/admin/audit", &worker).await;
    assert_ne!(status, StatusCode::OK, "system administrators only");
}
