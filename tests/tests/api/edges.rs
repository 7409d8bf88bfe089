//! The hardened edges (issue 3): idempotent submission, rate limits, body limits, request ids,
//! metrics, readiness, and Redis going away and coming back.
use std::collections::HashSet;

use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn submit_with_key(app: &TestApp, token: &str, key: &str, body: &Value) -> Reply {
    let resp = app
        .http
        .post(format!("{}/api/v1/tickets", app.base))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request");
    reply(resp).await
}

async fn own_ticket_count(app: &TestApp, token: &str) -> usize {
    app.count("/api/v1/tickets?limit=100", token).await
}

#[tokio::test]
async fn a_retried_submission_returns_the_first_ticket() {
    let app = spawn_app().await;
    World::build(&app).await;
    let resident = app.resident("r1").await;
    let body = complaint_at("noise", A1_POINT);
    let first = submit_with_key(&app, &resident, "tap-1", &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    for _ in 0..3 {
        let again = submit_with_key(&app, &resident, "tap-1", &body).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(again.body["id"], first.body["id"]);
        assert_eq!(again.body["number"], first.body["number"]);
    }
    let mut other = body.clone();
    other["description"] = json!("完全不同的内容");
    let reused = submit_with_key(&app, &resident, "tap-1", &other).await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
    // Keys belong to a resident: another resident's same key is a new ticket.
    let bob = app.resident("bob").await;
    let bobs = submit_with_key(&app, &bob, "tap-1", &body).await;
    assert_eq!(bobs.status, StatusCode::CREATED);
    assert_ne!(bobs.body["id"], first.body["id"]);
    let bad = submit_with_key(&app, &resident, "has space", &body).await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid_idempotency_key")
    );
    assert_eq!(own_ticket_count(&app, &resident).await, 1);
}

#[tokio::test]
async fn concurrent_retries_on_two_nodes_make_one_ticket() {
    let app = spawn_app().await;
    World::build(&app).await;
    let peer = app.peer().await;
    let resident = app.resident("r1").await;
    let body = complaint_at("noise", A1_POINT);
    let sends = (0..8).map(|i| {
        let node = if i % 2 == 0 { &app } else { &peer };
        submit_with_key(node, &resident, "double-tap", &body)
    });
    let replies = all_at_once(sends).await;
    let ids: HashSet<String> = replies
        .iter()
        .map(|r| r.body["id"].as_str().unwrap_or("none").to_owned())
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.body.clone()).collect::<Vec<_>>()
    );
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let replayed = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!((created, replayed), (1, 7));
    assert_eq!(own_ticket_count(&app, &resident).await, 1);
}

/// Runs futures concurrently on this task (no extra crate needed).

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_staff_have_more_room() {
    let app = spawn_app_with(|s| {
        s.rate_limits.resident_tickets_per_hour = 2;
        s.rate_limits.staff_requests_per_minute = 50;
        s.rate_limits.resident_requests_per_minute = 6;
    })
    .await;
    let w = World::build(&app).await;
    // Six requests a minute: the privacy agreement at login is the first.
    let resident = app.resident("r1").await;
    for _ in 0..2 {
        let r = app
            .post(
                "/api/v1/tickets",
                &resident,
                complaint_at("noise", A1_POINT),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    let wait: u64 = r
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((1..=3600).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        own_ticket_count(&app, &resident).await,
        2,
        "the refused one was not written"
    );
    // Five requests a minute for this resident: three above, one count, then refused.
    let r = app.get("/api/v1/tickets", &resident).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/tickets", &resident).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Staff are counted on their own, with a higher limit.
    for _ in 0..10 {
        assert_eq!(
            app.get("/api/v1/work/tickets", &w.gw_a1.token).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn anonymous_calls_are_limited_per_client_ip() {
    let app = spawn_app_with(|s| {
        s.rate_limits.ip_requests_per_minute = 3;
        s.rate_limits.trusted_proxies = vec![
            "127.0.0.1/32".parse().expect("cidr"),
            "10.0.0.0/8".parse().expect("cidr"),
        ];
    })
    .await;
    let login = |ip: &'static str| {
        app.http
            .post(format!("{}/api/v1/auth/wechat", app.base))
            .header("x-forwarded-for", format!("{ip}, 10.0.0.1"))
            .json(&json!({"code": "c1"}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            login("203.0.113.7").await.expect("login").status(),
            StatusCode::OK
        );
    }
    let refused = reply(login("203.0.113.7").await.expect("login")).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(
        login("198.51.100.9").await.expect("login").status(),
        StatusCode::OK,
        "another client"
    );
}

#[tokio::test]
async fn rate_limits_are_shared_by_nodes_through_redis() {
    let Some(redis) = OwnRedis::start() else {
        return;
    };
    let app = spawn_app_with(|s| {
        s.redis.url = redis.url().into();
        s.rate_limits.resident_requests_per_minute = 4;
    })
    .await;
    let peer = app.peer().await;
    // Reads only: a resident who has not agreed to the notice yet may read.
    let resident = app.resident_without_consent("r1").await;
    for node in [&app, &peer, &app, &peer] {
        assert_eq!(
            node.get("/api/v1/tickets", &resident).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(
        peer.get("/api/v1/tickets", &resident).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        app.get("/api/v1/tickets", &resident).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn oversize_and_deeply_nested_bodies_are_refused_and_write_nothing() {
    let app = spawn_app_with(|s| s.limits.json_body_bytes = 4096).await;
    World::build(&app).await;
    let resident = app.resident("r1").await;
    let mut big = complaint_at("noise", A1_POINT);
    big["description"] = json!("噪".repeat(1900)); // under the text limit, over 4 KiB of UTF-8
    let r = app.post("/api/v1/tickets", &resident, big).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let mut deep = json!(1);
    for _ in 0..40 {
        deep = json!([deep]);
    }
    let mut nested = complaint_at("noise", A1_POINT);
    nested["title"] = deep;
    let r = app.post("/api/v1/tickets", &resident, nested).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "json_too_deep")
    );
    let r = app
        .http
        .post(format!("{}/api/v1/tickets", app.base))
        .bearer_auth(&resident)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("request");
    let r = reply(r).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    assert_eq!(own_ticket_count(&app, &resident).await, 0);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_metrics_count_them() {
    let app = spawn_app().await;
    World::build(&app).await;
    let resident = app.resident("r1").await;
    let r = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await;
    let id = r
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
    let echoed = app
        .http
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .expect("healthz");
    assert_eq!(
        echoed
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-abc-123")
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(
            r#"qiaomen_http_requests_total{method="POST",route="/api/v1/tickets",status="201"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"qiaomen_tickets{status="assigned"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("qiaomen_http_request_duration_seconds_bucket"));
}

async fn ready(app: &TestApp) -> Reply {
    app.get_anonymous("/readyz").await
}

#[tokio::test]
async fn losing_redis_costs_speed_not_service_and_it_comes_back_by_itself() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let app = spawn_app_with(|s| s.redis.url = redis.url().into()).await;
    World::build(&app).await;
    let resident = app.resident("r1").await;
    let r = ready(&app).await;
    assert_eq!(
        (r.status, r.body["cache"].as_str()),
        (StatusCode::OK, Some("up")),
        "{}",
        r.body
    );

    redis.stop();
    let r = ready(&app).await;
    assert_eq!(
        (r.status, r.body["cache"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("down"))
    );
    let body = complaint_at("noise", A1_POINT);
    let first = submit_with_key(&app, &resident, "k-while-down", &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = submit_with_key(&app, &resident, "k-while-down", &body).await;
    assert_eq!(
        (again.status, &again.body["id"]),
        (StatusCode::OK, &first.body["id"]),
        "the database keeps the guarantee"
    );
    assert_eq!(
        app.get("/api/v1/tickets", &resident).await.status,
        StatusCode::OK
    );

    redis.restart();
    let mut back = false;
    for _ in 0..100 {
        if ready(&app).await.status == StatusCode::OK {
            back = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(back, "the cache reconnected by itself");
    let r = submit_with_key(&app, &resident, "k-after", &body).await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn with_redis_down_requests_take_milliseconds_not_the_cache_timeout() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let app = spawn_app_with(|s| s.redis.url = redis.url().into()).await;
    World::build(&app).await;
    let resident = app.resident("r1").await;
    redis.stop();
    let mut took = Vec::new();
    for i in 0..21 {
        let started = std::time::Instant::now();
        let r = if i % 3 == 0 {
            let body = complaint_at("noise", A1_POINT);
            submit_with_key(&app, &resident, &format!("k-{i}"), &body).await
        } else {
            app.get("/api/v1/tickets", &resident).await
        };
        took.push(started.elapsed());
        assert!(r.status.is_success(), "{}", r.body);
    }
    took.sort();
    let median = took[took.len() / 2];
    assert!(
        median < std::time::Duration::from_millis(50),
        "median {median:?} of {took:?}"
    );
}
