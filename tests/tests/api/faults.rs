//! Faults: the database going away answers 503 quickly, leaves nothing half-written, and the
//! server recovers by itself when it returns.
use qiaomen_tests::*;
use reqwest::StatusCode;

#[tokio::test]
async fn postgres_down_answers_503_and_the_server_recovers_by_itself() {
    let Some(pg) = OwnPostgres::start() else {
        return;
    };
    let app = spawn_app_with(|s| s.database.url = pg.url().into()).await;
    World::build(&app).await;
    let resident = app.resident("r1").await;
    let r = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);

    pg.stop();
    let started = std::time::Instant::now();
    let r = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
        "{}",
        r.body
    );
    let r = app.get("/api/v1/tickets", &resident).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let ready = app.get_anonymous("/readyz").await;
    assert_eq!(
        (ready.status, ready.body["database"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("down"))
    );
    // Not a hang: the pool's connect and acquire timeouts (5 s) bound every answer.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    pg.restart();
    let mut recovered = false;
    for _ in 0..100 {
        if app.get_anonymous("/readyz").await.status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "the pool reconnected by itself");
    // Pooled connections from before the restart are tested before use and replaced.
    let listed = app.get("/api/v1/tickets", &resident).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(1),
        "the failed submission left nothing"
    );
    let r = app
        .post(
            "/api/v1/tickets",
            &resident,
            complaint_at("noise", A1_POINT),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}
