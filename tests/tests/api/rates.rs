//! The rates read on the day (issue 20, part 1): a ticket counts in the response (resolution)
//! rate at its moment, when it was answered (resolved) or fell due, whichever came first, and
//! only once that moment has passed.
use chrono::Duration;
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::stats::{Fixture, fixture};

async fn summary(app: &TestApp, token: &str, area: &str, extra: &str) -> Value {
    let r = app
        .get(
            &format!("/api/v1/stats/summary?area_id={area}{extra}"),
            token,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

fn rates(s: &Value) -> (Option<u64>, Option<u64>, Option<f64>) {
    (
        s["response_due"].as_u64(),
        s["responded_in_time"].as_u64(),
        s["response_rate"].as_f64(),
    )
}

/// The street office's morning: three tickets filed, two accepted within their SLA, one still
/// inside its window. The rate is 2 / 2 however the period ends, and 2 / 3 once the third's
/// deadline has passed unanswered.
#[tokio::test]
async fn the_response_rate_is_right_on_the_day_it_is_read() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let t0 = beijing("2026-11-20 08:00");
    app.clock.set(t0);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let t = app
            .post(
                "/api/v1/tickets",
                &resident,
                complaint_at("noise", A1_POINT),
            )
            .await;
        assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
        ids.push(t.body["id"].as_str().unwrap_or_default().to_owned());
    }
    app.clock.set(t0 + Duration::minutes(20));
    for id in &ids[..2] {
        let r = app
            .post(
                &format!("/api/v1/tickets/{id}/accept"),
                &w.gw_a1.token,
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    app.clock.set(t0 + Duration::minutes(30));
    let (token, area) = (&w.street_admin.token, &w.street);
    let default = summary(&app, token, area, "").await;
    assert_eq!(rates(&default), (Some(2), Some(2), Some(1.0)), "{default}");
    let tomorrow = query_time(t0 + Duration::days(1));
    let to_tomorrow = summary(&app, token, area, &format!("&to={tomorrow}")).await;
    assert_eq!(
        rates(&to_tomorrow),
        (Some(2), Some(2), Some(1.0)),
        "{to_tomorrow}"
    );
    assert_eq!(to_tomorrow["received"].as_u64(), Some(3));

    // The third's deadline (60 minutes) passes unanswered: now it is a miss.
    app.clock.set(t0 + Duration::minutes(61));
    let later = summary(&app, token, area, &format!("&to={tomorrow}")).await;
    assert_eq!(rates(&later).0, Some(3), "{later}");
    assert_eq!(rates(&later).1, Some(2));
    assert!(
        later["response_rate"]
            .as_f64()
            .is_some_and(|r| (r - 2.0 / 3.0).abs() < 1e-9)
    );
}

/// The stats fixture (see `stats.rs`), cut at its moments: responses at +10, +20 and +30 min
/// in time, misses at +60; resolutions at +120, +120 and +180 in time; t3's resolution falls
/// due at +48 h. Whole days come from the rollups, the rest from the tickets: the same counts.
#[tokio::test]
async fn each_ticket_counts_at_its_moment_however_the_period_is_cut() {
    let Fixture { app, w, .. } = fixture().await;
    let t0 = beijing("2026-11-16 09:00");
    let (token, area) = (&w.ca_admin.token, &w.ca);
    let cut = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
        format!("&from={}&to={}", query_time(from), query_time(to))
    };
    let resolution = |s: &Value| (s["resolution_due"].as_u64(), s["resolved_in_time"].as_u64());
    let early = summary(&app, token, area, &cut(t0, t0 + Duration::minutes(45))).await;
    assert_eq!(rates(&early), (Some(3), Some(3), Some(1.0)), "{early}");
    assert_eq!(resolution(&early), (Some(0), Some(0)));
    assert!(early["resolution_rate"].is_null());
    let rest = summary(
        &app,
        token,
        area,
        &cut(t0 + Duration::minutes(45), t0 + Duration::days(1)),
    )
    .await;
    assert_eq!(rates(&rest), (Some(2), Some(0), Some(0.0)), "{rest}");
    assert_eq!(resolution(&rest), (Some(3), Some(3)));
    // Nothing falls due in days still to come.
    let ahead = summary(
        &app,
        token,
        area,
        &cut(t0 + Duration::days(1), t0 + Duration::days(3)),
    )
    .await;
    assert_eq!((rates(&ahead).0, resolution(&ahead).0), (Some(0), Some(0)));

    // Two days on, t3's resolution deadline has passed: a miss on 11-18, read from the tickets
    // for today and from the rollups once the day is whole.
    app.clock.set(t0 + Duration::hours(49));
    let days = [
        (beijing("2026-11-16 00:00"), beijing("2026-11-19 00:00")),
        (beijing("2026-11-18 00:00"), beijing("2026-11-19 00:00")),
        (t0 + Duration::days(1), t0 + Duration::days(3)),
    ];
    for (from, to) in days {
        let s = summary(&app, token, area, &cut(from, to)).await;
        let expected = if from < t0 {
            (Some(4), Some(3))
        } else {
            (Some(1), Some(0))
        };
        assert_eq!(resolution(&s), expected, "{from}–{to}: {s}");
    }
    app.clock.set(t0 + Duration::days(5));
    let whole = summary(
        &app,
        token,
        area,
        &cut(beijing("2026-11-16 00:00"), beijing("2026-11-19 00:00")),
    )
    .await;
    assert_eq!(resolution(&whole), (Some(4), Some(3)), "{whole}");
    assert_eq!(whole["resolution_rate"].as_f64(), Some(0.75));
    assert_eq!(rates(&whole), (Some(5), Some(3), Some(0.6)));
}
