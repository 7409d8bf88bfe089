//! No request, and no burst, takes a node down (issue 18, items 8–16, 18, 19): what a hostile
//! or careless client sends is refused with a clear 4xx, writes nothing, and costs the server
//! little.
use qiaomen_tests::{hostile::post_chunked, *};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn login(app: &TestApp, login: &str, password: &str, forwarded: &str) -> Reply {
    let resp = app
        .http
        .post(format!("{}/api/v1/auth/staff", app.base))
        .header("x-forwarded-for", forwarded)
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .expect("login");
    reply(resp).await
}

#[tokio::test]
async fn full_width_and_hidden_phone_numbers_are_masked_and_nothing_panics() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let r1 = app.resident("r1").await;
    let tricky = [
        "请联系0１０６２３４５６７８",
        "电话１３８１２３４５６７８",
        "电话138\u{200B}1234\u{200B}5678",
    ];
    for text in tricky {
        let r = app
            .post(
                "/api/v1/tickets",
                &r1,
                json!({"kind": "suggestion", "category": "noise", "description": text,
                       "location": {"lat": A1_POINT.0, "lng": A1_POINT.1}, "public": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{text}: {}", r.body);
    }
    let board = app
        .get_anonymous(&format!("/api/v1/public/tickets?area_id={}", w.ca))
        .await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    // The descriptions only: ids and times are random digits.
    let text: String = board.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["description"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(board.body["items"].as_array().map(Vec::len), Some(3));
    for secret in ["62345678", "12345678", "1234"] {
        assert!(!text.contains(secret), "{secret}: {text}");
    }
    let open311 = app
        .http
        .get(format!("{}/open311/v2/requests.json", app.base))
        .send()
        .await
        .expect("open311");
    assert_eq!(open311.status(), StatusCode::OK);
    // A nearby submission computes its likely duplicates over all of them: a text that is
    // nothing but a phone number is like none of them (numbers say nothing of the problem).
    let r = app
        .post(
            "/api/v1/tickets",
            &r1,
            json!({"kind": "suggestion", "category": "noise", "description": "请联系0１０６２３４５６７８",
                   "location": {"lat": A1_POINT.0, "lng": A1_POINT.1}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(
        r.body["possible_duplicates"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn bodies_are_cut_off_at_the_limit_while_they_are_read() {
    let app = spawn_app().await;
    World::build(&app).await;
    let r1 = app.resident("r1").await;
    let auth = format!("Bearer {r1}");
    // 200 MB of "JSON" in chunks, no Content-Length, the content type in capitals.
    let json = post_chunked(
        &app.base,
        "/api/v1/tickets",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/JSON"),
        ],
        b"{\"description\": \"",
        200 << 20,
    )
    .await;
    assert_eq!(json.status, 413, "{}", json.head);
    assert!(
        json.sent_before_answer < 50 << 20,
        "answered after {} bytes",
        json.sent_before_answer
    );
    // A form, and a body without any content type.
    for content_type in ["application/x-www-form-urlencoded", "text/plain"] {
        let r = post_chunked(
            &app.base,
            "/open311/v2/requests.json",
            &[("Content-Type", content_type)],
            b"description=",
            100 << 20,
        )
        .await;
        assert_eq!(r.status, 413, "{content_type}: {}", r.head);
        assert!(r.sent_before_answer < 50 << 20);
    }
    // 400 MB of photo.
    let boundary = "qmboundary";
    let mut prefix = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    prefix.extend_from_slice(&samples::jpeg_with_exif());
    let photo = post_chunked(
        &app.base,
        "/api/v1/attachments",
        &[
            ("Authorization", &auth),
            (
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            ),
        ],
        &prefix,
        400 << 20,
    )
    .await;
    assert_eq!(photo.status, 413, "{}", photo.head);
    assert!(photo.sent_before_answer < 50 << 20);
    assert_eq!(
        app.count("/api/v1/tickets", &r1).await,
        0,
        "nothing written"
    );
}

#[tokio::test]
async fn a_burst_of_logins_is_queued_or_turned_away_never_piled_up() {
    let app = spawn_app_with(|s| {
        s.passwords.hashes_at_once = 1;
        s.passwords.queue = 2;
    })
    .await;
    // 24 people at once (unknown logins are hashed too, so timing tells nothing).
    let accounts: Vec<String> = (0..24).map(|i| format!("worker-{i}")).collect();
    let logins = accounts
        .iter()
        .map(|a| login(&app, a, "some-password", "203.0.113.1"));
    let answers = all_at_once(logins).await;
    let judged = answers
        .iter()
        .filter(|r| r.code() == "invalid_credentials")
        .count();
    let turned_away: Vec<&Reply> = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(
        judged + turned_away.len(),
        answers.len(),
        "checked or turned away"
    );
    // How many are turned away depends on how fast hashes finish; that some are, beyond a full
    // queue, `passwords::tests` shows without timing.
    assert!(judged >= 1, "{judged} checked");
    for r in turned_away {
        assert_eq!(r.code(), "rate_limited");
        assert!(r.headers.contains_key("retry-after"));
    }
    assert_eq!(
        login(&app, "root", "Root-password-1", "203.0.113.1")
            .await
            .status,
        StatusCode::OK,
        "and the queue empties"
    );
}

#[tokio::test]
async fn ten_failed_logins_lock_the_account_whatever_the_address() {
    let app = spawn_app_with(|s| {
        s.rate_limits.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
    })
    .await;
    let w = World::build(&app).await;
    for i in 0..10 {
        let r = login(&app, "gw_a1", "wrong-password", &format!("198.51.100.{i}")).await;
        assert_eq!(r.code(), "invalid_credentials");
    }
    let locked = login(&app, "gw_a1", "password-123", "203.0.113.99").await;
    assert_eq!(
        (locked.status, locked.code()),
        (StatusCode::TOO_MANY_REQUESTS, "login_locked"),
        "{}",
        locked.body
    );
    let wait: u64 = locked.headers["retry-after"]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((800..=900).contains(&wait), "{wait}");
    // Guesses fired all at once are counted before any is checked: at most the limit get a
    // verdict on their password.
    let addresses: Vec<String> = (0..30).map(|i| format!("198.51.100.{i}")).collect();
    let burst = all_at_once(
        addresses
            .iter()
            .map(|a| login(&app, "gw_a2", "wrong-password", a)),
    )
    .await;
    let judged = burst
        .iter()
        .filter(|r| r.code() == "invalid_credentials")
        .count();
    assert!(judged <= 10, "{judged} guesses were checked");
    assert!(burst.iter().any(|r| r.code() == "login_locked"));
    // Other accounts are untouched; the locked one still works with its token.
    assert_eq!(
        login(&app, "gw_b1", "password-123", "198.51.100.1")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/work/tickets", &w.gw_a1.token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_client_cannot_choose_its_address_behind_the_load_balancer() {
    let app = spawn_app_with(|s| {
        s.rate_limits.ip_requests_per_minute = 3;
        s.rate_limits.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
    })
    .await;
    let send = |forwarded: String| {
        app.http
            .post(format!("{}/api/v1/auth/wechat", app.base))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"code": "c1"}))
            .send()
    };
    // A new made-up first hop each time, the same real address appended by the balancer.
    for i in 0..3 {
        let r = send(format!("10.9.9.{i}, 203.0.113.7"))
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = send("10.9.9.200, 203.0.113.7".into()).await.expect("send");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = send("203.0.113.7, 198.51.100.2".into())
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK, "another client");
}

async fn metrics(app: &TestApp, token: Option<&str>) -> (StatusCode, String) {
    let mut req = app.http.get(format!("{}/metrics", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("metrics");
    (resp.status(), resp.text().await.unwrap_or_default())
}

fn series(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("qiaomen_http_request"))
        .count()
}

#[tokio::test]
async fn metrics_are_by_route_template_and_only_for_the_scraper() {
    let app = spawn_app().await;
    World::build(&app).await;
    let r1 = app.resident("r1").await;
    let id = app.new_ticket(&r1, "noise", A1_POINT).await;
    app.get(&format!("/api/v1/tickets/{id}"), &r1).await;
    app.get_anonymous("/no/such/path-0").await;
    app.get_anonymous(&format!("/api/v1/tickets/{id}/nothing"))
        .await;
    // The scrape itself is a route too: the second one shows it.
    metrics(&app, Some(METRICS_TOKEN)).await;
    let (status, before) = metrics(&app, Some(METRICS_TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        before.contains(r#"route="/api/v1/tickets/{id}",status="200""#),
        "{before}"
    );
    for i in 0..300 {
        let path = format!("/api/v1/tickets/{}/x{i}?q={i}", uuid::Uuid::new_v4());
        app.get_anonymous(&path).await;
        app.get_anonymous(&format!("/random-{i}")).await;
    }
    let (_, after) = metrics(&app, Some(METRICS_TOKEN)).await;
    let new: Vec<&str> = after
        .lines()
        .filter(|l| l.starts_with("qiaomen_http_request"))
        .filter(|l| {
            let name = l.rsplit_once(' ').map_or(*l, |(n, _)| n);
            !before.contains(name)
        })
        .collect();
    assert_eq!(
        series(&after),
        series(&before),
        "no new series for made-up paths: {new:?}"
    );
    assert!(after.contains(r#"route="unmatched""#));

    assert_eq!(metrics(&app, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        metrics(&app, Some("guess")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let closed = spawn_app_with(|s| s.ops.metrics_token = Default::default()).await;
    assert_eq!(metrics(&closed, Some("")).await.0, StatusCode::NOT_FOUND);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let internal = spawn_app_with(|s| s.ops.metrics_listen = format!("127.0.0.1:{port}")).await;
    assert_eq!(
        metrics(&internal, Some(METRICS_TOKEN)).await.0,
        StatusCode::NOT_FOUND,
        "not on the API's address"
    );
    let mut scraped = None;
    for _ in 0..50 {
        if let Ok(r) = internal
            .http
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
        {
            scraped = Some(r.status());
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(scraped, Some(StatusCode::OK));
}

#[tokio::test]
async fn control_characters_and_bidi_overrides_are_refused_everywhere() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let r1 = app.resident("r1").await;
    let with = |description: &str| {
        json!({"kind": "complaint", "category": "noise", "description": description,
               "location": {"lat": A1_POINT.0, "lng": A1_POINT.1}})
    };
    for bad in [
        "夜里\u{0}很吵",
        "夜里\u{7}很吵",
        "夜里\u{1b}[31m很吵",
        "看\u{202E}反过来",
        "\u{2066}隔离\u{2069}",
        "\u{200B}\u{200C}\u{FEFF}",
    ] {
        let r = app.post("/api/v1/tickets", &r1, with(bad)).await;
        assert_eq!(
            (r.status, r.code(), r.body["field"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_text",
                Some("description")
            ),
            "{bad:?}: {}",
            r.body
        );
    }
    let r = app
        .post(
            "/api/v1/tickets",
            &r1,
            json!({"kind": "complaint", "category": "noise", "description": "ok",
                   "title": "\u{200D}", "location": {"lat": A1_POINT.0, "lng": A1_POINT.1}}),
        )
        .await;
    assert_eq!(
        (r.code(), r.body["field"].as_str()),
        ("invalid_text", Some("title"))
    );
    assert_eq!(
        app.count("/api/v1/tickets", &r1).await,
        0,
        "nothing written"
    );
    // Line breaks and tabs are text.
    let r = app
        .post("/api/v1/tickets", &r1, with("第一行\r\n第二行\t完"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap_or_default();
    assert_eq!(r.body["description"], "第一行\n第二行\t完");

    let r = app
        .act(id, "comments", &w.gw_a1, json!({"text": "a\u{202D}b"}))
        .await;
    assert_eq!(r.code(), "invalid_text");
    let r = app
        .post_anonymous(
            "/api/v1/auth/staff",
            json!({"login": "root\u{0}", "password": "Root-password-1"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_text")
    );
    let r = app
        .get("/api/v1/work/tickets?category=noise%00", &w.gw_a1.token)
        .await;
    assert_eq!(r.code(), "invalid_text");
    // In a path too: an id with a NUL never reaches the database (PostgreSQL errs on it).
    for path in ["/api/v1/tickets/%00", "/api/v1/tickets/QM-%00"] {
        let r = app.get(path, &w.gw_a1.token).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_text")
        );
    }
    let r = app.get_anonymous("/open311/v2/requests/%00.json").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let form = app
        .http
        .post(format!("{}/open311/v2/requests.json", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("service_code=noise&description=a%00b&lat=39.902&long=116.408")
        .send()
        .await
        .expect("open311");
    assert_eq!(form.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn ten_parallel_me_toos_by_one_resident_all_succeed_and_count_once() {
    let app = spawn_app().await;
    World::build(&app).await;
    let (r1, r2) = (app.resident("r1").await, app.resident("r2").await);
    let r = app
        .post(
            "/api/v1/tickets",
            &r1,
            json!({"kind": "suggestion", "category": "noise", "description": "加装减速带",
                   "location": {"lat": A1_POINT.0, "lng": A1_POINT.1}, "public": true}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/api/v1/tickets/{id}/support");
    let answers = all_at_once((0..10).map(|_| app.post(&path, &r2, json!({})))).await;
    for a in &answers {
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    assert!(answers.iter().all(|a| a.body["support_count"] == 1));
    let seen = app.get(&format!("/api/v1/tickets/{id}"), &r1).await;
    assert_eq!(seen.body["support_count"], 1);

    // A unique violation from a race says what happened, and nothing of the database.
    let staff = json!({"name": "同名", "login": "same-login", "password": "password-123"});
    let answers = all_at_once(
        (0..5).map(|_| app.post("/api/v1/admin/staff", &app.admin_token, staff.clone())),
    )
    .await;
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.status == StatusCode::CREATED)
            .count(),
        1
    );
    for a in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::CONFLICT, "already_exists")
        );
        let text = a.body.to_string().to_lowercase();
        for word in [
            "unique",
            "constraint",
            "duplicate key",
            "sqlite",
            "staff.login",
        ] {
            assert!(!text.contains(word), "{text}");
        }
    }
}

#[tokio::test]
async fn the_last_active_system_admin_cannot_be_disabled_or_demoted() {
    let app = spawn_app().await;
    let root = app
        .post_anonymous(
            "/api/v1/auth/staff",
            json!({"login": "root", "password": "Root-password-1"}),
        )
        .await;
    let root_id = root.body["staff_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let me = app
        .get(&format!("/api/v1/admin/staff/{root_id}"), &app.admin_token)
        .await;
    let assignment = me.body["assignments"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for status in ["left", "on_leave"] {
        let r = app
            .patch(
                &format!("/api/v1/admin/staff/{root_id}"),
                &app.admin_token,
                json!({"status": status}),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "last_admin"),
            "{status}"
        );
    }
    let demote = format!("/api/v1/admin/staff/{root_id}/assignments/{assignment}");
    let r = app.delete(&demote, &app.admin_token).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "last_admin"));
    assert_eq!(
        app.get("/api/v1/admin/outbox", &app.admin_token)
            .await
            .status,
        StatusCode::OK,
        "still an admin"
    );

    // With a second admin, the first may go.
    let second = app
        .staff_with_role("admin2", None, "system_admin", json!({}))
        .await
        .token;
    let r = app.delete(&demote, &second).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .patch(
            &format!("/api/v1/admin/staff/{root_id}"),
            &second,
            json!({"status": "left"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn every_response_carries_security_headers_and_docs_can_be_switched_off() {
    let app = spawn_app().await;
    for path in [
        "/healthz",
        "/api/v1/categories",
        "/api/v1/tickets",
        "/nowhere",
    ] {
        let r = app.get_anonymous(path).await;
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(r.headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(r.headers["x-frame-options"], "DENY", "{path}");
    }
    let docs = app.get_anonymous("/docs/").await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(!docs.headers.contains_key("x-frame-options"));

    let quiet = spawn_app_with(|s| s.ops.docs = false).await;
    for path in ["/docs/", "/openapi.json"] {
        assert_eq!(
            quiet.get_anonymous(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_field_declared_a_string_takes_only_a_string() {
    let app = spawn_app().await;
    for code in [json!(false), json!(123), json!(null), json!(["a"])] {
        let r = app
            .post_anonymous("/api/v1/auth/wechat", json!({"code": code}))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_body"),
            "{code}"
        );
    }
    assert_eq!(
        app.wechat.calls("jscode2session"),
        0,
        "nothing went upstream"
    );
    let body: Value = json!({"login": 12345678, "password": true});
    let r = app.post_anonymous("/api/v1/auth/staff", body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
