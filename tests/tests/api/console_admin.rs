//! The console's 管理 pages (issue 22): a system administrator keeps the area tree (a GeoJSON
//! import previewed before it is saved), staff and assignments, categories and their SLAs and
//! the Open311 keys through forms; anyone else is refused and nothing is written.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::console::{client, console_login, csrf_of, form, page};

/// Posts a form as the console does; the status, the redirect target and the body.
async fn submit(
    app: &TestApp,
    path: &str,
    cookie: &str,
    pairs: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let resp = client()
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .expect("form");
    let to = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (resp.status(), to, resp.text().await.unwrap_or_default())
}

/// Uploads a file as the import form does (multipart, with the CSRF token).
async fn upload_geojson(
    app: &TestApp,
    cookie: &str,
    csrf: &str,
    text: String,
) -> (StatusCode, String) {
    let boundary = "qm-console-import";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"areas.geojson\"\r\n\
         Content-Type: application/geo+json\r\n\r\n{text}\r\n--{boundary}--\r\n"
    );
    let resp = client()
        .post(format!("{}/console/admin/areas/import", app.base))
        .header("cookie", cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload");
    (resp.status(), resp.text().await.unwrap_or_default())
}

fn square(lng: f64, lat: f64) -> Value {
    let d = 0.002;
    json!({"type": "Polygon", "coordinates": [[
        [lng, lat], [lng + d, lat], [lng + d, lat + d], [lng, lat + d], [lng, lat]
    ]]})
}

async fn children(app: &TestApp, parent: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/api/v1/admin/areas?parent_id={parent}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn only_a_system_administrator_keeps_areas_through_the_console() {
    let app = spawn_app().await;
    let world = World::build(&app).await;

    // A street admin is no system administrator: refused, and their form writes nothing.
    let street = console_login(&app, "street_admin", "password-123").await;
    let (status, html) = page(&app, "/console/admin/areas", &street).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("仅系统管理员可用"), "{html}");
    let (_, work) = page(&app, "/console/work", &street).await;
    assert!(!work.contains("/console/admin"), "no 管理 link for them");
    let csrf = csrf_of(&work);
    let (status, _, _) = submit(
        &app,
        "/console/admin/areas",
        &street,
        &[
            ("csrf", &csrf),
            ("kind", "community"),
            ("name", "越权社区"),
            ("parent_id", &world.street),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(children(&app, &world.street).await.len(), 2);

    let root = console_login(&app, "root", "Root-password-1").await;
    let (status, html) = page(
        &app,
        &format!("/console/admin/areas?parent={}", world.street),
        &root,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("/console/admin\""), "the 管理 link");
    let csrf = csrf_of(&html);

    // Without the token: refused.
    let (status, _, _) = submit(
        &app,
        "/console/admin/areas",
        &root,
        &[
            ("kind", "community"),
            ("name", "无令牌社区"),
            ("parent_id", &world.street),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, to, _) = submit(
        &app,
        "/console/admin/areas",
        &root,
        &[
            ("csrf", &csrf),
            ("kind", "community"),
            ("name", "新风社区"),
            ("code", "xinfeng"),
            ("parent_id", &world.street),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        to.starts_with(&format!(
            "/console/admin/areas?parent={}&notice=",
            world.street
        )),
        "{to}"
    );
    let communities = children(&app, &world.street).await;
    let xinfeng = communities
        .iter()
        .find(|a| a["name"] == "新风社区")
        .expect("created")["id"]
        .as_str()
        .expect("present")
        .to_owned();

    // A grid under a street is refused with the service's words, nothing written.
    let (status, _, html) = submit(
        &app,
        "/console/admin/areas",
        &root,
        &[
            ("csrf", &csrf),
            ("kind", "grid"),
            ("name", "错层网格"),
            ("parent_id", &world.street),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("role=\"alert\""), "{html}");
    assert_eq!(children(&app, &world.street).await.len(), 3);

    // Import: previewed (shapes drawn, nothing saved), then confirmed once.
    let fc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": square(116.50, 39.95),
         "properties": {"kind": "grid", "name": "新风一网格", "code": "xinfeng-1", "parent_code": "xinfeng"}},
        {"type": "Feature", "geometry": square(116.503, 39.95),
         "properties": {"kind": "grid", "name": "新风二网格", "code": "xinfeng-2", "parent_code": "xinfeng"}},
    ]});
    let (status, preview) = upload_geojson(&app, &root, &csrf, fc.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert!(
        preview.contains("导入预览") && preview.contains("新建 2，更新 0"),
        "{preview}"
    );
    assert!(
        preview.contains("<svg") && preview.contains("新风二网格（xinfeng-2）"),
        "{preview}"
    );
    assert!(
        children(&app, &xinfeng).await.is_empty(),
        "a preview saves nothing"
    );

    let (status, to, _) = submit(
        &app,
        "/console/admin/areas/import/confirm",
        &root,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let notice: String =
        form_urlencoded::parse(to.split('?').nth(1).unwrap_or_default().as_bytes())
            .find(|(k, _)| k == "notice")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
    assert_eq!(notice, "导入完成：新建 2，更新 0");
    assert_eq!(children(&app, &xinfeng).await.len(), 2);
    let (status, _, html) = submit(
        &app,
        "/console/admin/areas/import/confirm",
        &root,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "confirmed once only"
    );
    assert!(html.contains("预览已过期"), "{html}");

    // A file that is no FeatureCollection, or a feature without a code: the reason, nothing kept.
    let (status, html) = upload_geojson(&app, &root, &csrf, "{\"type\":\"Point\"".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("FeatureCollection"), "{html}");
    let nameless = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": null, "properties": {"kind": "grid", "name": "无编码"}}]});
    let (status, html) = upload_geojson(&app, &root, &csrf, nameless.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("properties.code"), "{html}");
    let (status, _, _) = submit(
        &app,
        "/console/admin/areas/import/confirm",
        &root,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a refused file leaves nothing to confirm"
    );

    // An import cannot move an area to another level or make it its own parent (the tree
    // would lose its grids); a boundary of more points than a grid needs is refused.
    let demote = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": null,
         "properties": {"kind": "street", "name": "甲一网格", "code": "A1"}}]});
    let (status, html) = upload_geojson(&app, &root, &csrf, demote.to_string()).await;
    assert_eq!(status, StatusCode::OK, "the preview reads it: {html}");
    let (status, _, html) = submit(
        &app,
        "/console/admin/areas/import/confirm",
        &root,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("不能改为其他层级"), "{html}");
    let own = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": null,
         "properties": {"kind": "community", "name": "环", "code": "CA", "parent_code": "CA"}}]});
    let r = app
        .post("/api/v1/admin/areas/import", &app.admin_token, own)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("自己的上级"))
    );
    let ring: Vec<[f64; 2]> = (0..6000)
        .map(|i| {
            let a = f64::from(i) / 6000.0 * std::f64::consts::TAU;
            [116.6 + 0.01 * a.cos(), 39.9 + 0.01 * a.sin()]
        })
        .chain(std::iter::once([116.61, 39.9]))
        .collect();
    let huge = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": {"kind": "grid", "name": "大网格", "code": "huge", "parent_code": "xinfeng"}}]});
    let (status, html) = upload_geojson(&app, &root, &csrf, huge.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("5000"), "{html}");
    let world_a1 = children(&app, &world.ca).await;
    assert!(
        world_a1
            .iter()
            .any(|a| a["code"] == "A1" && a["kind"] == "grid")
    );
}

#[tokio::test]
async fn staff_categories_and_open311_keys_are_kept_through_the_console() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let root = console_login(&app, "root", "Root-password-1").await;
    let (_, html) = page(&app, "/console/admin/staff", &root).await;
    assert!(html.contains("gw_a1"), "the accounts are listed");
    let csrf = csrf_of(&html);

    // A new worker: account, a grid role, on leave, a new password.
    let (status, to, _) = submit(
        &app,
        "/console/admin/staff",
        &root,
        &[
            ("csrf", &csrf),
            ("name", "新网格员"),
            ("login", "gw_new"),
            ("password", "first-password-1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id = to
        .trim_start_matches("/console/admin/staff/")
        .split('?')
        .next()
        .expect("present")
        .to_owned();
    let base = format!("/console/admin/staff/{id}");
    let (status, _, _) = submit(
        &app,
        &format!("{base}/assignments"),
        &root,
        &[
            ("csrf", &csrf),
            ("role", "grid_worker"),
            ("area_id", &world.a1),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, html) = submit(
        &app,
        &format!("{base}/assignments"),
        &root,
        &[
            ("csrf", &csrf),
            ("role", "grid_worker"),
            ("area_id", &world.street),
        ],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a grid role needs a grid"
    );
    assert!(html.contains("role=\"alert\""));
    let (status, _, _) = submit(
        &app,
        &base,
        &root,
        &[("csrf", &csrf), ("status", "on_leave")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = submit(
        &app,
        &format!("{base}/wecom"),
        &root,
        &[("csrf", &csrf), ("wecom_userid", "xin-wang")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let r = app
        .get(&format!("/api/v1/admin/staff/{id}"), &app.admin_token)
        .await;
    assert_eq!(r.body["status"], "on_leave", "{}", r.body);
    assert_eq!(r.body["wecom_userid"], "xin-wang", "{}", r.body);
    let roles = r.body["assignments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(roles.len(), 1, "{}", r.body);
    assert_eq!(roles[0]["role"], "grid_worker");
    let (status, _, _) = submit(
        &app,
        &format!("{base}/password"),
        &root,
        &[("csrf", &csrf), ("password", "second-password-2")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.staff_login("gw_new", "second-password-2").await;
    let (status, _, _) = submit(
        &app,
        &format!(
            "{base}/assignments/{}/delete",
            roles[0]["id"].as_str().expect("present")
        ),
        &root,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let r = app
        .get(&format!("/api/v1/admin/staff/{id}"), &app.admin_token)
        .await;
    assert_eq!(r.body["assignments"], json!([]));

    // A category's SLA, changed for tickets from now on; a bad number changes nothing.
    let (_, html) = page(&app, "/console/admin/categories", &root).await;
    assert!(html.contains("/console/admin/categories/noise"), "{html}");
    let (status, _, _) = submit(
        &app,
        "/console/admin/categories/noise",
        &root,
        &[
            ("csrf", &csrf),
            ("response_minutes", "45"),
            ("resolution_hours", "48"),
            ("active", "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = submit(
        &app,
        "/console/admin/categories/noise",
        &root,
        &[
            ("csrf", &csrf),
            ("response_minutes", "many"),
            ("resolution_hours", "48"),
            ("active", "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let cats = app.get("/api/v1/categories", &world.gw_a1.token).await;
    let road = cats.body["items"]
        .as_array()
        .or(cats.body.as_array())
        .and_then(|l| l.iter().find(|c| c["code"] == "noise").cloned())
        .expect("noise");
    assert_eq!(road["response_minutes"], 45, "{road}");

    // An Open311 key: shown once on the answer, listed without it, revoked.
    let (status, _, html) = submit(
        &app,
        "/console/admin/open311",
        &root,
        &[
            ("csrf", &csrf),
            ("name", "12345 热线"),
            ("area_id", &world.street),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let key = html
        .split("qm311_")
        .nth(1)
        .map(|rest| format!("qm311_{}", rest.split('<').next().unwrap_or_default()))
        .expect("the key, once");
    let (_, listed) = page(&app, "/console/admin/open311", &root).await;
    assert!(
        listed.contains("12345 热线") && !listed.contains(&key),
        "never shown again"
    );
    let keys = app
        .get("/api/v1/admin/open311-keys", &app.admin_token)
        .await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.body);
    let key_id = keys.body[0]["id"].as_str().expect("present").to_owned();
    assert_eq!(keys.body[0]["active"], true);
    assert!(!keys.body.to_string().contains(&key));
    let (status, _, _) = submit(
        &app,
        &format!("/console/admin/open311/{key_id}/revoke"),
        &root,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let keys = app
        .get("/api/v1/admin/open311-keys", &app.admin_token)
        .await;
    assert_eq!(keys.body[0]["active"], false);
}

/// The dashboard's trend and top categories come from the rollups and one grouped count (no
/// ticket streamed), and say what the API's rates say: each day's rates, the categories asked.
#[tokio::test]
async fn the_dashboard_shows_each_days_rates_and_the_categories_asked() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("dash").await;
    // 2 Nov: a noise complaint answered within its hour; 3 Nov: two sanitation complaints, one
    // answered late, one never; nothing filed on 4 Nov.
    app.clock.set(beijing("2026-11-02 09:00"));
    let first = app.new_ticket(&resident, "noise", A1_POINT).await;
    app.clock.set(beijing("2026-11-02 09:20"));
    let r = app.act(&first, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.clock.set(beijing("2026-11-03 09:00"));
    let late = app.new_ticket(&resident, "sanitation", A1_POINT).await;
    app.new_ticket(&resident, "sanitation", A1_POINT).await;
    app.clock.set(beijing("2026-11-03 23:00"));
    let r = app.act(&late, "accept", &w.gw_a1, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.clock.set(beijing("2026-11-05 10:00"));

    let ca = console_login(&app, "ca_admin", "password-123").await;
    let (status, html) = page(
        &app,
        "/console/dashboard?from=2026-11-01&to=2026-11-04",
        &ca,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("2026-11-02 响应率：100.0%"), "{html}");
    assert!(html.contains("2026-11-03 响应率：0.0%"), "{html}");
    assert!(
        !html.contains("2026-11-04 响应率"),
        "nothing due on the 4th"
    );
    assert!(
        html.contains("环境卫生：2 件") && html.contains("噪音扰民：1 件"),
        "{html}"
    );
    // The custom period is the chosen tab, its dates and area kept in the form.
    assert!(html.contains("value=\"2026-11-01\"") && html.contains("value=\"2026-11-04\""));
    assert!(html.contains("网格排名"));
    let api = app
        .get(
            &format!(
                "/api/v1/stats/summary?area_id={}&from=2026-11-01&to=2026-11-04",
                w.ca
            ),
            &w.ca_admin.token,
        )
        .await;
    assert_eq!(api.body["response_due"], 3, "{}", api.body);
    assert_eq!(api.body["responded_in_time"], 1, "{}", api.body);
    assert!(html.contains("33.3%"), "the headline is the API's: {html}");
}
