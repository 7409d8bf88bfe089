//! Personal data stays with those entitled to it (issue 18, items 1–5): Open311 reads, likely
//! duplicates, free text below the assignee, internal photos, and references to tickets outside
//! the caller's scope.
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A point inside A1's lower arm, given to more decimals than the public may see.
const EXACT_A1: (f64, f64) = (39.90213, 116.40787);

async fn submit(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/api/v1/tickets", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

fn complaint(text: &str, (lat, lng): (f64, f64), public: bool) -> Value {
    json!({
        "kind": "complaint",
        "category": "noise",
        "description": text,
        "location": {"lat": lat, "lng": lng, "coord_system": "wgs84"},
        "address_text": "3号楼2单元501室",
        "contact_phone": "13812341234",
        "public": public,
    })
}

async fn open311(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let resp = app
        .http
        .get(format!("{}/open311/v2/{path}", app.base))
        .send()
        .await
        .expect("open311");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn numbers(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["service_request_id"].as_str().map(str::to_owned))
        .collect()
}

async fn open311_key(app: &TestApp, area: &str) -> String {
    let r = app
        .post(
            "/api/v1/admin/open311-keys",
            &app.admin_token,
            json!({"name": "city dashboard", "area_ids": [area]}),
        )
        .await;
    r.body["api_key"].as_str().expect("api_key").to_owned()
}

#[tokio::test]
async fn open311_shows_anyone_public_tickets_and_a_key_its_areas_never_a_room_or_an_exact_point() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let r1 = app.resident("r1").await;
    let private = submit(&app, &r1, complaint("夜里施工很吵", EXACT_A1, false)).await;
    let anonymous = submit(
        &app,
        &r1,
        json!({"kind": "complaint", "category": "noise", "description": "匿名反映噪音",
               "location": {"lat": B1_POINT.0, "lng": B1_POINT.1}, "anonymous": true}),
    )
    .await;
    let public = submit(
        &app,
        &r1,
        complaint("楼下烧烤很吵，电话13912345678", EXACT_A1, true),
    )
    .await;
    let in_building = submit(
        &app,
        &r1,
        json!({"kind": "complaint", "category": "noise", "description": "楼道噪音",
               "building_id": w.building_a2, "address_text": "3号楼1单元1203室", "public": true}),
    )
    .await;
    let num = |t: &Value| t["number"].as_str().unwrap_or_default().to_owned();

    // Anyone: the public ones only, by list and by id.
    let (status, all) = open311(&app, "requests.json").await;
    assert_eq!(status, StatusCode::OK);
    let mut listed = numbers(&all);
    listed.sort();
    let mut expected = vec![num(&public), num(&in_building)];
    expected.sort();
    assert_eq!(listed, expected);
    for hidden in [&private, &anonymous] {
        let (status, _) = open311(&app, &format!("requests/{}.json", num(hidden))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (_, bogus_key) = open311(&app, "requests.json?api_key=not-a-key").await;
    assert_eq!(numbers(&bogus_key).len(), 2, "an invalid key reads as none");

    // What a public request shows: no room, no phone, a point rounded to about 100 m. (Only
    // these fields are searched: ids and times are random digits.)
    let published = |v: &Value| -> String {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                ["address", "description", "status_notes", "lat", "long"]
                    .map(|f| r[f].to_string())
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let text = published(&all);
    for secret in [
        "501",
        "1203",
        "13912345678",
        "13812341234",
        "40213",
        "40787",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let shown = |n: &str| {
        all.as_array()
            .into_iter()
            .flatten()
            .find(|r| r["service_request_id"] == n)
            .cloned()
            .unwrap_or_default()
    };
    let p = shown(&num(&public));
    assert_eq!(
        (p["lat"].as_f64(), p["long"].as_f64()),
        (Some(39.902), Some(116.408))
    );
    assert!(
        p["address"].as_str().is_some_and(|a| a.contains("***室")),
        "{p}"
    );
    assert!(
        p["description"]
            .as_str()
            .is_some_and(|d| d.contains("139****5678"))
    );
    assert_eq!(
        shown(&num(&in_building))["address"],
        "测试路3号",
        "the building's address"
    );

    // A key reads its areas' tickets, private and anonymous ones included, redacted the same.
    let ca_key = open311_key(&app, &w.ca).await;
    let (_, by_ca) = open311(&app, &format!("requests.json?api_key={ca_key}")).await;
    let mut listed = numbers(&by_ca);
    listed.sort();
    let mut expected = vec![num(&private), num(&public), num(&in_building)];
    expected.sort();
    assert_eq!(listed, expected, "CA's tickets, not B1's");
    assert!(!published(&by_ca).contains("501"));
    let (status, one) = open311(
        &app,
        &format!("requests/{}.json?api_key={ca_key}", num(&private)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one[0]["lat"].as_f64(), Some(39.902));
    let cb_key = open311_key(&app, &w.cb).await;
    let (status, _) = open311(
        &app,
        &format!("requests/{}.json?api_key={cb_key}", num(&private)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another area's key");
}

#[tokio::test]
async fn residents_are_offered_public_duplicates_only_staff_see_all_they_may() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let (r1, r2, r3) = (
        app.resident("r1").await,
        app.resident("r2").await,
        app.resident("r3").await,
    );
    let text = "小区门口夜里施工噪音很大，影响休息";
    let private = submit(&app, &r1, complaint(text, A1_POINT, false)).await;
    let public = submit(
        &app,
        &r2,
        complaint(text, (A1_POINT.0 + 0.0002, A1_POINT.1), true),
    )
    .await;
    let withdrawn = submit(&app, &r2, complaint(text, A1_POINT, false)).await;
    let withdrawn_id = withdrawn["id"].as_str().unwrap_or_default();
    let r = app
        .post(
            &format!("/api/v1/tickets/{withdrawn_id}/withdraw"),
            &r2,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let mine = submit(&app, &r3, complaint(text, A1_POINT, false)).await;
    let offered = mine["possible_duplicates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(offered.len(), 1, "{offered:?}");
    assert_eq!(offered[0]["id"], public["id"]);
    let d = offered[0]["distance_meters"].as_f64().unwrap_or(-1.0);
    assert!(
        d > 0.0 && (d / 10.0).fract() == 0.0,
        "to the nearest 10 m: {d}"
    );

    // Staff reading the ticket: every likely duplicate in their sight, whatever its status or
    // visibility.
    let mine_id = mine["id"].as_str().unwrap_or_default();
    let staff_view = app
        .get(&format!("/api/v1/tickets/{mine_id}"), &w.gw_a1.token)
        .await;
    let mut ids: Vec<String> = staff_view.body["possible_duplicates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    let mut expected: Vec<String> = [&private, &public, &withdrawn]
        .iter()
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect();
    expected.sort();
    assert_eq!(ids, expected, "{}", staff_view.body);
    // Residents reading their own ticket get no hints about others.
    let own = app.get(&format!("/api/v1/tickets/{mine_id}"), &r3).await;
    assert!(own.body.get("possible_duplicates").is_none());
}

#[tokio::test]
async fn staff_who_do_not_handle_a_ticket_read_its_free_text_masked() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let r1 = app.resident("r1").await;
    let t = submit(
        &app,
        &r1,
        json!({
            "kind": "complaint", "category": "sanitation",
            "title": "京A12345占道",
            "description": "车主电话13912345678，身份证11010519491231002X，车牌京A12345",
            "location": {"lat": A1_POINT.0, "lng": A1_POINT.1},
            "address_text": "3号楼2单元501室，物业电话010-62345678",
        }),
    )
    .await;
    let id = t["id"].as_str().unwrap_or_default();
    assert_eq!(t["assignee"]["id"], w.gw_a1.id.as_str());
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            &r1,
            json!({"text": "补充：我的手机 13700001111"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);

    // The assistant of the grid may see it but does not handle it.
    let seen = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ga_a1.token)
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    let text = seen.body.to_string();
    for secret in [
        "13912345678",
        "11010519491231002X",
        "京A12345",
        "62345678",
        "13700001111",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} shown to the assistant: {text}"
        );
    }
    assert!(
        seen.body["description"]
            .as_str()
            .is_some_and(|d| d.contains("139****5678"))
    );
    assert!(
        seen.body["address_text"]
            .as_str()
            .is_some_and(|a| a.starts_with("3号楼2单元501室")),
        "the address itself stays: they may have to go there"
    );
    let listed = app.get("/api/v1/work/tickets", &w.ga_a1.token).await;
    assert!(!listed.body.to_string().contains("13912345678"));

    // The assignee and the community admin read it whole but for the numbers the resident
    // typed: those are behind the logged reveal, like the contact phone.
    for token in [&w.gw_a1.token, &w.ca_admin.token] {
        let whole = app.get(&format!("/api/v1/tickets/{id}"), token).await;
        let text = whole.body.to_string();
        assert!(
            text.contains("京A12345") && text.contains("3号楼2单元501室"),
            "{text}"
        );
        for number in [
            "13912345678",
            "13700001111",
            "11010519491231002X",
            "62345678",
        ] {
            assert!(!text.contains(number), "{number}: {text}");
        }
        assert!(text.contains("139****5678") && text.contains("137****1111"));
        // Searching four digits in a row looks at ticket numbers only: no oracle for a number.
        let probe = app.get("/api/v1/work/tickets?q=1391", token).await;
        assert_eq!(probe.body["items"], json!([]), "{}", probe.body);
        let words = app.get("/api/v1/work/tickets?q=占道", token).await;
        assert_eq!(words.body["items"].as_array().map(Vec::len), Some(1));
    }
    let revealed = app
        .post(
            &format!("/api/v1/tickets/{id}/reveal-contact"),
            &w.gw_a1.token,
            json!({"reason": "联系车主挪车"}),
        )
        .await;
    assert_eq!(revealed.status, StatusCode::OK, "{}", revealed.body);
    assert_eq!(
        revealed.body["phones_in_text"],
        json!(["13912345678", "010-62345678"])
    );
}

#[tokio::test]
async fn photos_of_internal_comments_are_for_staff_only() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let r1 = app.resident("r1").await;
    let id = app.new_ticket(&r1, "noise", A1_POINT).await;
    let photo = app
        .upload(
            &w.gw_a1.token,
            "site.png",
            "image/png",
            &samples::png_with_metadata(),
        )
        .await;
    let photo_id = photo.body["id"].as_str().unwrap_or_default().to_owned();
    let r = app
        .act(
            &id,
            "comments",
            &w.gw_a1,
            json!({"text": "现场情况，勿外传", "internal": true, "attachment_ids": [photo_id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let resident_view = app.get(&format!("/api/v1/tickets/{id}"), &r1).await;
    assert_eq!(resident_view.body["attachments"], json!([]));
    let (status, _) = app
        .fetch_bytes(&format!("/api/v1/attachments/{photo_id}"), &r1)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let staff_view = app
        .get(&format!("/api/v1/tickets/{id}"), &w.ga_a1.token)
        .await;
    assert_eq!(staff_view.body["attachments"][0]["id"], photo_id.as_str());
    let (status, _) = app
        .fetch_bytes(&format!("/api/v1/attachments/{photo_id}"), &w.ga_a1.token)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_reference_outside_the_callers_scope_answers_as_one_that_does_not_exist() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let r1 = app.resident("r1").await;
    let mine = app.new_ticket(&r1, "noise", A1_POINT).await;
    let elsewhere = app.new_ticket(&r1, "noise", B1_POINT).await;
    let elsewhere_number = app
        .get(&format!("/api/v1/tickets/{elsewhere}"), &r1)
        .await
        .body["number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ghost = "QM-19990101-999999";

    for (action, field) in [("reject", "duplicate_of"), ("merge", "into")] {
        let body = |target: &str| match action {
            "reject" => json!({"reason": "重复", "duplicate_of": target}),
            _ => json!({"into": target}),
        };
        let mut answers = Vec::new();
        for target in [elsewhere.as_str(), elsewhere_number.as_str(), ghost] {
            let r = app
                .post(
                    &format!("/api/v1/tickets/{mine}/{action}"),
                    &w.gw_a1.token,
                    body(target),
                )
                .await;
            answers.push((r.status, r.body));
        }
        assert_eq!(answers[0].0, StatusCode::NOT_FOUND, "{:?}", answers[0]);
        assert_eq!(answers[0].1["field"], field);
        assert!(
            answers.iter().all(|a| *a == answers[2]),
            "{action}: out of scope and non-existent answer alike: {answers:?}"
        );
    }
    let still = app
        .get(&format!("/api/v1/tickets/{mine}"), &w.gw_a1.token)
        .await;
    assert_eq!(still.body["status"], "assigned", "nothing was written");
}

/// The privacy notice (issue 24, part 1): served to anyone; a resident who has not agreed to the
/// current version may read but not submit (409 `privacy_notice_pending` naming the version);
/// agreeing records the version, time and client; another version is refused.
#[tokio::test]
async fn a_resident_agrees_to_the_notice_before_submitting() {
    let app = spawn_app().await;
    World::build(&app).await;
    let notice = app.get_anonymous("/api/v1/privacy/notice").await;
    assert_eq!(notice.status, StatusCode::OK, "{}", notice.body);
    let version = notice.body["version"].as_str().expect("version").to_owned();
    assert!(
        notice.body["text"]
            .as_str()
            .is_some_and(|t| t.contains("个人信息"))
    );

    let newcomer = app.resident_without_consent("privacy-new").await;
    let me = app.get("/api/v1/me", &newcomer).await;
    assert_eq!(me.body["privacy_notice_pending"], true, "{}", me.body);
    assert_eq!(me.body["privacy_version"], Value::Null);
    assert_eq!(
        app.get("/api/v1/tickets", &newcomer).await.status,
        StatusCode::OK,
        "reading needs no agreement"
    );
    let r = app
        .post(
            "/api/v1/tickets",
            &newcomer,
            complaint_at("noise", A1_POINT),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "privacy_notice_pending"),
        "{}",
        r.body
    );
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&version))
    );
    assert_eq!(
        app.count("/api/v1/tickets", &newcomer).await,
        0,
        "nothing written"
    );

    let r = app
        .post(
            "/api/v1/me/privacy",
            &newcomer,
            json!({"version": "1999-01-01"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field")
    );
    let r = app
        .post("/api/v1/me/privacy", &newcomer, json!({"version": version}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["version"], version.as_str());
    let me = app.get("/api/v1/me", &newcomer).await;
    assert_eq!(
        (
            me.body["privacy_notice_pending"].clone(),
            me.body["privacy_version"].clone()
        ),
        (json!(false), json!(version))
    );
    let r = app
        .post(
            "/api/v1/tickets",
            &newcomer,
            complaint_at("noise", A1_POINT),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Staff tokens do not agree for residents.
    let staff = app.staff_login("root", "Root-password-1").await;
    let r = app
        .post("/api/v1/me/privacy", &staff, json!({"version": version}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Contact data behind a reveal, with a log (issue 24, part 5): every staff view masks the
/// phone; the assignee or an administrator over the ticket reveals it with a reason, which is
/// logged (who, whose, field, reason, request id, when) and listed for system administrators;
/// anyone else, a resident, or no reason is refused and logs nothing.
#[tokio::test]
async fn a_contact_phone_is_revealed_for_a_reason_and_logged() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("reveal-r1").await;
    let id = app.new_ticket(&resident, "noise", A1_POINT).await;
    let path = format!("/api/v1/tickets/{id}/reveal-contact");
    let reason = json!({"reason": "上门前电话确认具体楼栋"});

    for (who, token) in [
        ("another grid's worker", &w.gw_b1.token),
        ("the resident", &resident),
    ] {
        let r = app.post(&path, token, reason.clone()).await;
        assert!(
            matches!(r.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{who}: {} {}",
            r.status,
            r.body
        );
    }
    let r = app
        .post(&path, &w.gw_a1.token, json!({"reason": " "}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let log = app.get("/api/v1/admin/access-log", &app.admin_token).await;
    assert_eq!(log.body, json!([]), "refusals log nothing");

    let r = app.post(&path, &w.gw_a1.token, reason.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["contact_phone"], "13812341234");
    let r = app.post(&path, &w.ca_admin.token, reason.clone()).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "an administrator over it: {}",
        r.body
    );

    let log = app.get("/api/v1/admin/access-log", &app.admin_token).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let rows = log.body.as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 2);
    let first = &rows[1];
    assert_eq!(first["staff_id"], w.gw_a1.id.as_str());
    assert_eq!(first["ticket_id"], id.as_str());
    assert_eq!(first["field"], "contact_phone");
    assert_eq!(first["reason"], "上门前电话确认具体楼栋");
    assert!(first["resident_id"].is_string() && first["request_id"].is_string());
    let theirs = app
        .get(
            &format!("/api/v1/admin/access-log?staff_id={}", w.ca_admin.id),
            &app.admin_token,
        )
        .await;
    assert_eq!(theirs.body.as_array().map(Vec::len), Some(1));
    // The log is the system administrators'.
    let r = app
        .get("/api/v1/admin/access-log", &w.street_admin.token)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
