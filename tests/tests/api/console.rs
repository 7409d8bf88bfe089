//! The staff console (issue 22): its sessions, CSRF and scope checks over HTTP, and a real
//! browser (Debian's chromium, driven by playwright-core from tests/browser) as a grid worker
//! on a phone and a dispatcher on a PC use it. Screenshots go to target/console-shots/.
use std::path::Path;

use qiaomen_tests::*;
use reqwest::{StatusCode, redirect::Policy};
use serde_json::{Value, json};

/// An `application/x-www-form-urlencoded` body.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A client that does not follow redirects, so a test sees where the console sends it.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// Logs in through the console's form; the session cookie (`name=value`).
pub(crate) async fn console_login(app: &TestApp, login: &str, password: &str) -> String {
    let resp = client()
        .post(format!("{}/console/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("login", login), ("password", password)]))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    cookie.split(';').next().unwrap_or_default().to_owned()
}

pub(crate) async fn page(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, String) {
    let resp = client()
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .expect("page");
    (resp.status(), resp.text().await.unwrap_or_default())
}

pub(crate) fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_console_checks_sessions_forms_and_scope_as_the_api_does() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("console").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;

    // Without a session, and with a resident's or a worker's API token: the login page.
    for auth in [None, Some(resident.as_str()), Some(w.gw_a1.token.as_str())] {
        let mut req = client().get(format!("{}/console/work", app.base));
        if let Some(token) = auth {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("work");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(resp.headers()["location"], "/console/login");
    }
    let wrong = client()
        .post(format!("{}/console/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("login", "gw_a1"), ("password", "nope-nope-nope")]))
        .send()
        .await
        .expect("login");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .unwrap_or_default()
            .contains("账号或密码错误")
    );

    let cookie = console_login(&app, "gw_a1", "password-123").await;
    let (status, html) = page(&app, "/console/work", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("我的工单") && html.contains("QM-"), "{html}");
    let (_, html) = page(&app, &format!("/console/tickets/{id}"), &cookie).await;
    assert!(html.contains("受理"), "the worker may accept");
    let csrf = csrf_of(&html);
    assert_eq!(csrf.len(), 64);

    // A form without the session's token is refused and changes nothing.
    let base = app.base.clone();
    let post = |path: String, pairs: Vec<(&'static str, String)>| {
        let (cookie, base) = (cookie.clone(), base.clone());
        let body = form(
            &pairs
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        );
        async move {
            client()
                .post(format!("{base}{path}"))
                .header("cookie", cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("post")
        }
    };
    let forged = post(
        format!("/console/tickets/{id}/accept"),
        vec![("csrf", "0".repeat(64))],
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let bare = post(format!("/console/tickets/{id}/accept"), vec![]).await;
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    assert_eq!(t.body["status"], "assigned");
    // With it, the same service as the API: accepted.
    let ok = post(
        format!("/console/tickets/{id}/accept"),
        vec![("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let t = app
        .get(&format!("/api/v1/tickets/{id}"), &w.gw_a1.token)
        .await;
    assert_eq!(t.body["status"], "in_progress");
    // Twice: the machine refuses, shown as handled by someone else, the page refreshed.
    let again = post(
        format!("/console/tickets/{id}/accept"),
        vec![("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(
        again.headers()["location"],
        format!("/console/tickets/{id}?notice=conflict").as_str()
    );
    let (_, html) = page(
        &app,
        &format!("/console/tickets/{id}?notice=conflict"),
        &cookie,
    )
    .await;
    assert!(html.contains("已被他人处理，已刷新"));

    // Another grid's worker: the ticket does not exist for them.
    let other = console_login(&app, "gw_b1", "password-123").await;
    let (status, _) = page(&app, &format!("/console/tickets/{id}"), &other).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An administrator's password reset ends the sessions begun before it.
    let r = app
        .post(
            &format!("/api/v1/admin/staff/{}/password", w.gw_b1.id),
            &app.admin_token,
            json!({"new": "A-fresh-password-1"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let (status, _) = page(&app, "/console/work", &other).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // A login posted from another site is refused (login CSRF).
    let foreign = client()
        .post(format!("{}/console/login", app.base))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("login", "gw_a2"), ("password", "password-123")]))
        .send()
        .await
        .expect("login");
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(foreign.headers().get("set-cookie").is_none());
    let cross = client()
        .post(format!("{}/console/login", app.base))
        .header("origin", "null")
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("login", "gw_a2"), ("password", "password-123")]))
        .send()
        .await
        .expect("login");
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);

    // The dashboard of another community is not there for its neighbour's admin; an export
    // answers a workbook.
    let ca = console_login(&app, "ca_admin", "password-123").await;
    let (status, html) = page(&app, "/console/dashboard", &ca).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("甲社区") && html.contains("甲一网格"),
        "{html}"
    );
    let (status, _) = page(&app, &format!("/console/dashboard?area_id={}", w.cb), &ca).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let xlsx = client()
        .get(format!(
            "{}/console/export.xlsx?period=this_month",
            app.base
        ))
        .header("cookie", &ca)
        .send()
        .await
        .expect("xlsx");
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert!(xlsx.bytes().await.unwrap_or_default().starts_with(b"PK"));
    let (status, html) = page(&app, "/console/map?measure=response", &ca).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<svg") && html.contains("甲二网格"));

    // The community admin transfers a new ticket to the next grid from its page, which shows
    // the point within its grid; the reason stays with staff.
    let moved = app.new_ticket(&resident, "noise", A1_POINT).await;
    let (_, html) = page(&app, &format!("/console/tickets/{moved}"), &ca).await;
    assert!(html.contains("转派") && html.contains("<circle"), "{html}");
    let ca_csrf = csrf_of(&html);
    let body = form(&[
        ("csrf", ca_csrf.as_str()),
        ("grid_id", w.a2.as_str()),
        ("staff_id", ""),
        ("reason", "楼栋属甲二网格"),
        ("public_note", "已转甲二网格"),
    ]);
    let r = client()
        .post(format!("{}/console/tickets/{moved}/transfer", app.base))
        .header("cookie", &ca)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("transfer");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let t = app
        .get(&format!("/api/v1/tickets/{moved}"), &resident)
        .await;
    assert_eq!(t.body["grid"]["id"], w.a2.as_str());
    assert!(!t.body.to_string().contains("楼栋属甲二网格"));

    // Logging out ends the session on the server.
    let out = post("/console/logout".into(), vec![("csrf", csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let (status, _) = page(&app, "/console/work", &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_worker_and_a_dispatcher_use_the_console_in_a_browser() {
    let chromium = "/usr/bin/chromium";
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("tests/browser/console.mjs");
    let modules = root.join("tests/browser/node_modules/playwright-core");
    if !have("chromium", Path::new(chromium).exists())
        || !have(
            "node",
            std::process::Command::new("node")
                .arg("--version")
                .output()
                .is_ok(),
        )
        || !have(
            "playwright-core (npm ci in tests/browser)",
            modules.exists(),
        )
    {
        return;
    }
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("browser").await;
    let r = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("sanitation", A1_POINT),
        )
        .await;
    let ticket = r.body["id"].as_str().unwrap_or_default().to_owned();
    let number = r.body["number"].as_str().unwrap_or_default().to_owned();
    // A complaint just outside the grids waits in the nearest community's queue.
    let q = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", NEAR_OUTSIDE_POINT),
        )
        .await;
    assert_eq!(q.body["status"], "pending_dispatch", "{}", q.body);
    let photo = root.join("target/console-shots/fix.png");
    std::fs::create_dir_all(root.join("target/console-shots")).expect("dir");
    image::RgbImage::from_pixel(640, 480, image::Rgb([40, 120, 60]))
        .save(&photo)
        .expect("photo");
    let geojson = root.join("target/console-shots/areas.geojson");
    let square = |lng: f64| {
        json!({"type": "Polygon", "coordinates": [[
            [lng, 39.95], [lng + 0.002, 39.95], [lng + 0.002, 39.952], [lng, 39.952], [lng, 39.95]
        ]]})
    };
    let features: Vec<Value> = [
        ("浏览器一网格", "br-1", 116.5),
        ("浏览器二网格", "br-2", 116.503),
    ]
    .into_iter()
    .map(|(name, code, lng)| {
        json!({"type": "Feature", "geometry": square(lng),
                   "properties": {"kind": "grid", "name": name, "code": code, "parent_code": "CA"}})
    })
    .collect();
    std::fs::write(
        &geojson,
        json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .expect("geojson");
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
        .date_naive();
    let args = json!({
        "geojson": geojson,
        "admin": "root",
        "admin_password": "Root-password-1",
        "from": (today - chrono::Duration::days(7)).to_string(),
        "to": today.to_string(),
        "photo": photo,
        "base": app.base,
        "chromium": chromium,
        "shots": root.join("target/console-shots"),
        "password": "password-123",
        "worker": "gw_a1",
        "dispatcher": "ca_admin",
        "outsider": "gw_b1",
        "street": "street_admin",
        "ticket": ticket,
        "number": number,
        "queued": q.body["number"],
        "queued_id": q.body["id"],
        "assignee": w.gw_a2.id,
    });
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(&script)
            .arg(args.to_string())
            .output()
    })
    .await
    .expect("join")
    .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    assert_eq!(
        result["ok"],
        true,
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = app
        .get(&format!("/api/v1/tickets/{ticket}"), &w.gw_a1.token)
        .await;
    assert_eq!(t.body["status"], "resolved");
    assert_eq!(
        t.body["attachments"][0]["purpose"], "resolution",
        "{}",
        t.body
    );
    let queued = app
        .get(
            &format!(
                "/api/v1/tickets/{}",
                q.body["id"].as_str().unwrap_or_default()
            ),
            &w.ca_admin.token,
        )
        .await;
    assert_eq!(queued.body["assignee"]["id"], w.gw_a2.id.as_str());
    let grids = app
        .get(
            &format!("/api/v1/admin/areas?parent_id={}", w.ca),
            &app.admin_token,
        )
        .await;
    for code in ["br-1", "br-2"] {
        assert!(
            grids.body.to_string().contains(&format!("\"{code}\"")),
            "{code} imported: {}",
            grids.body
        );
    }
    for shot in [
        "work-phone.png",
        "ticket-phone.png",
        "dispatch-pc.png",
        "dashboard-wall.png",
        "map-pc.png",
        "admin-import-pc.png",
    ] {
        assert!(
            root.join("target/console-shots").join(shot).exists(),
            "{shot}"
        );
    }
}
