//! The three rates (issues 6 and 20) on a small fixed data set whose figures are worked out by
//! hand.
//!
//! Community CA, six noise complaints submitted at T0 (response SLA 60 min, resolution 48 h),
//! read at T0 + 200 min:
//!
//! | ticket | grid | what happens                                                        |
//! |--------|------|---------------------------------------------------------------------|
//! | t1     | A1   | accepted +30 min, resolved +2 h, rated satisfied                    |
//! | t2     | A1   | accepted +90 min (late), resolved +3 h, rated basically satisfied   |
//! | t3     | A2   | never accepted: overdue                                             |
//! | t4     | A2   | withdrawn +10 min                                                   |
//! | t5     | A1   | rejected +20 min                                                    |
//! | t6     | A1   | accepted +10 min, resolved +1 h, unsatisfied → reopened, resolved +2 h, satisfied |
//!
//! received 4 (t1 t2 t3 t6), withdrawn 1, rejected 1, accepted 3. Response: t1 (+30), t5 (its
//! rejection at +20 answers it) and t6 (+10) count when answered, in time; t2 (accepted late)
//! and t3 (never) count at their deadline +60, missed; t4, withdrawn unanswered before its
//! deadline, was never owed one: 3 / 5 = 0.6. Resolution: t1, t6 (+120) and t2 (+180) resolved
//! in time, count when resolved; t3's deadline (+48 h) has not come: 3 / 3 = 1.0; resolved 3.
//! Rated 4 (2 satisfied, 1 basically, 1 unsatisfied) → 0.75; reopened 1 → 0.25; overdue open 1;
//! composite 100 × (0.1 × 0.6 + 0.5 × 1.0 + 0.4 × 0.75) = 86; minutes to response 10, 30, 90
//! → median 30, p90 90; to resolution 120, 120, 180 → median 120, p90 180.
use chrono::Duration;
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn close(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 0.2)
}

pub(crate) struct Fixture {
    pub app: TestApp,
    pub w: World,
    pub query: String,
}

pub(crate) async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    let t0 = beijing("2026-11-16 09:00");
    app.clock.set(t0);
    let mut ids = Vec::new();
    for point in [A1_POINT, A1_POINT, A2_POINT, A2_POINT, A1_POINT, A1_POINT] {
        let r = app
            .post("/api/v1/tickets", &resident, complaint_at("noise", point))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        ids.push(r.body["id"].as_str().unwrap_or_default().to_owned());
    }
    let (t1, t2, _t3, t4, t5, t6) = (&ids[0], &ids[1], &ids[2], &ids[3], &ids[4], &ids[5]);
    let (a1, ok) = (&w.gw_a1.token, StatusCode::OK);
    let step = |minutes: i64| app.clock.set(t0 + Duration::minutes(minutes));
    let post = |path: String, token: String, body: Value| {
        let app = &app;
        async move {
            let r = app.post(&path, &token, body).await;
            assert_eq!(r.status, ok, "{path}: {}", r.body);
        }
    };
    step(10);
    post(
        format!("/api/v1/tickets/{t6}/accept"),
        a1.clone(),
        json!({}),
    )
    .await;
    post(
        format!("/api/v1/tickets/{t4}/withdraw"),
        resident.clone(),
        json!({}),
    )
    .await;
    step(20);
    post(
        format!("/api/v1/tickets/{t5}/reject"),
        a1.clone(),
        json!({"reason": "不属于受理范围"}),
    )
    .await;
    step(30);
    post(
        format!("/api/v1/tickets/{t1}/accept"),
        a1.clone(),
        json!({}),
    )
    .await;
    step(60);
    post(
        format!("/api/v1/tickets/{t6}/resolve"),
        a1.clone(),
        json!({"note": "已处理"}),
    )
    .await;
    post(
        format!("/api/v1/tickets/{t6}/rating"),
        resident.clone(),
        json!({"level": "unsatisfied"}),
    )
    .await;
    step(70);
    post(
        format!("/api/v1/tickets/{t6}/accept"),
        a1.clone(),
        json!({}),
    )
    .await;
    step(90);
    post(
        format!("/api/v1/tickets/{t2}/accept"),
        a1.clone(),
        json!({}),
    )
    .await;
    step(120);
    post(
        format!("/api/v1/tickets/{t1}/resolve"),
        a1.clone(),
        json!({"note": "已处理"}),
    )
    .await;
    post(
        format!("/api/v1/tickets/{t6}/resolve"),
        a1.clone(),
        json!({"note": "已处理"}),
    )
    .await;
    step(180);
    post(
        format!("/api/v1/tickets/{t2}/resolve"),
        a1.clone(),
        json!({"note": "已处理"}),
    )
    .await;
    step(200);
    post(
        format!("/api/v1/tickets/{t1}/rating"),
        resident.clone(),
        json!({"level": "satisfied"}),
    )
    .await;
    post(
        format!("/api/v1/tickets/{t2}/rating"),
        resident.clone(),
        json!({"level": "basically_satisfied"}),
    )
    .await;
    post(
        format!("/api/v1/tickets/{t6}/rating"),
        resident.clone(),
        json!({"level": "satisfied"}),
    )
    .await;
    let from = (t0 - Duration::hours(1)).to_rfc3339().replace('+', "%2B");
    let to = (t0 + Duration::days(1)).to_rfc3339().replace('+', "%2B");
    let query = format!("from={from}&to={to}");
    Fixture { app, w, query }
}

#[tokio::test]
async fn the_summary_matches_the_hand_computed_figures() {
    let Fixture { app, w, query } = fixture().await;
    let r = app
        .get(
            &format!("/api/v1/stats/summary?area_id={}&{query}", w.ca),
            &w.ca_admin.token,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_hand_computed(&r.body);

    // An empty period: rates are null, not 0.
    let r = app.get(&format!("/api/v1/stats/summary?area_id={}&from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z", w.ca), &w.ca_admin.token).await;
    assert!(
        r.body["response_rate"].is_null()
            && r.body["satisfaction_rate"].is_null()
            && r.body["composite_score"].is_null(),
        "{}",
        r.body
    );
}

/// Whole Beijing days come from the daily rollups kept with every ticket change, ragged ends
/// from the tickets: every way of cutting a period around the fixture gives the same figures.
#[tokio::test]
async fn rollups_and_tickets_agree_however_the_period_is_cut() {
    let Fixture { app, w, .. } = fixture().await;
    let at = |s: &str| beijing(s).to_rfc3339().replace('+', "%2B");
    let mut grids_compared = 0;
    for (from, to) in [
        ("2026-11-16 00:00", "2026-11-17 00:00"),
        ("2026-11-10 00:00", "2026-11-20 00:00"),
        ("2026-11-15 12:00", "2026-11-17 10:00"),
        ("2026-11-16 08:30", "2026-11-18 00:00"),
    ] {
        let path = format!(
            "/api/v1/stats/summary?area_id={}&from={}&to={}",
            w.ca,
            at(from),
            at(to)
        );
        let r = app.get(&path, &w.ca_admin.token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_hand_computed(&r.body);
        // Each grid of the breakdown (read per place, all at once) has its own summary's figures.
        let breakdown = app
            .get(
                &format!(
                    "/api/v1/stats/breakdown?area_id={}&by=grid&from={}&to={}",
                    w.ca,
                    at(from),
                    at(to)
                ),
                &w.ca_admin.token,
            )
            .await;
        assert_eq!(breakdown.status, StatusCode::OK, "{}", breakdown.body);
        for grid in [&w.a1, &w.a2] {
            let summary = app
                .get(
                    &format!(
                        "/api/v1/stats/summary?area_id={grid}&from={}&to={}",
                        at(from),
                        at(to)
                    ),
                    &w.ca_admin.token,
                )
                .await;
            let group = breakdown.body["groups"]
                .as_array()
                .and_then(|gs| gs.iter().find(|g| g["key"] == grid.as_str()))
                .cloned()
                .unwrap_or_default();
            let figures = summary.body.as_object().cloned().unwrap_or_default();
            let mut compared = 0;
            for (key, value) in figures.iter().filter(|(_, v)| v.is_number() || v.is_null()) {
                if let Some(in_group) = group.get(key) {
                    assert_eq!(in_group, value, "{from}–{to}, grid {grid}, {key}");
                    compared += 1;
                }
            }
            // A grid with nothing in the period is left out of the breakdown.
            if group.is_null() {
                assert_eq!(figures.get("received").and_then(Value::as_u64), Some(0));
            } else {
                assert!(compared >= 10, "{from}–{to}: {group} against {figures:?}");
                grids_compared += 1;
            }
        }
    }
    assert!(grids_compared >= 4, "{grids_compared}");
    // The street sees the same tickets; a grid only its own (A2: t3 received, t4 withdrawn).
    let path = |area: &str| {
        format!(
            "/api/v1/stats/summary?area_id={area}&from={}&to={}",
            at("2026-11-16 00:00"),
            at("2026-11-17 00:00")
        )
    };
    let r = app.get(&path(&w.street), &w.street_admin.token).await;
    assert_hand_computed(&r.body);
    let r = app.get(&path(&w.a2), &w.ca_admin.token).await;
    assert_eq!(
        (r.body["received"].as_u64(), r.body["withdrawn"].as_u64()),
        (Some(1), Some(1)),
        "{}",
        r.body
    );
}

fn assert_hand_computed(s: &Value) {
    let counts = [
        ("received", 4),
        ("withdrawn", 1),
        ("rejected", 1),
        ("accepted", 3),
        ("response_due", 5),
        ("responded_in_time", 3),
        ("resolved", 3),
        ("resolution_due", 3),
        ("resolved_in_time", 3),
        ("rated", 4),
        ("satisfied", 2),
        ("basically_satisfied", 1),
        ("unsatisfied", 1),
        ("reopened", 1),
        ("overdue_open", 1),
    ];
    for (field, expected) in counts {
        assert_eq!(s[field].as_u64(), Some(expected), "{field}: {s}");
    }
    for (field, expected) in [
        ("response_rate", 0.6),
        ("resolution_rate", 1.0),
        ("satisfaction_rate", 0.75),
        ("reopen_rate", 0.25),
    ] {
        assert_eq!(s[field].as_f64(), Some(expected), "{field}");
    }
    assert!(
        close(&s["composite_score"], 86.0),
        "{}",
        s["composite_score"]
    );
    assert!(
        close(&s["median_response_minutes"], 30.0) && close(&s["p90_response_minutes"], 90.0),
        "{s}"
    );
    assert!(
        close(&s["median_resolution_minutes"], 120.0) && close(&s["p90_resolution_minutes"], 180.0),
        "{s}"
    );
}

#[tokio::test]
async fn basically_satisfied_can_weigh_less() {
    let Fixture { app, w, query } = fixture().await;
    let mut settings = app.settings.clone();
    settings.stats.basically_satisfied_weight = 0.9;
    let app2 = TestApp { settings, ..app };
    let node = app2.peer().await;
    let r = node
        .get(
            &format!("/api/v1/stats/summary?area_id={}&{query}", w.ca),
            &w.ca_admin.token,
        )
        .await;
    assert!(
        close(&r.body["satisfaction_rate"], 0.725),
        "(2 + 0.9) / 4: {}",
        r.body
    );
}

#[tokio::test]
async fn every_grouping_gives_the_same_figures_per_group() {
    let Fixture { app, w, query } = fixture().await;
    let get = |by: &str| {
        let app = &app;
        let path = format!("/api/v1/stats/breakdown?area_id={}&by={by}&{query}", w.ca);
        let token = w.ca_admin.token.clone();
        async move {
            let r = app.get(&path, &token).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.body["groups"].as_array().cloned().unwrap_or_default()
        }
    };
    let grids = get("grid").await;
    let a1 = grids
        .iter()
        .find(|g| g["key"] == w.a1.as_str())
        .cloned()
        .unwrap_or_default();
    let a2 = grids
        .iter()
        .find(|g| g["key"] == w.a2.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (
            a1["received"].as_u64(),
            a1["rejected"].as_u64(),
            a1["response_rate"].as_f64()
        ),
        (Some(3), Some(1), Some(0.75))
    );
    assert_eq!(
        (
            a2["received"].as_u64(),
            a2["withdrawn"].as_u64(),
            a2["response_rate"].as_f64()
        ),
        (Some(1), Some(1), Some(0.0))
    );
    assert_eq!(a1["name"], "甲一网格");
    // Grids and communities come from the rollups, workers from the tickets: the same ratings.
    assert_eq!(a1["rated"].as_u64(), Some(4), "{a1}");
    assert_eq!(a2["satisfaction_rate"], Value::Null);
    let workers = get("worker").await;
    let gw_a1 = workers
        .iter()
        .find(|g| g["key"] == w.gw_a1.id.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (gw_a1["resolved"].as_u64(), gw_a1["rated"].as_u64()),
        (Some(3), Some(4))
    );
    for by in ["community", "category", "day", "week"] {
        let groups = get(by).await;
        assert_eq!(groups.len(), 1, "{by}: {groups:?}");
        assert_eq!(groups[0]["received"].as_u64(), Some(4), "{by}");
        assert_eq!(groups[0]["response_rate"].as_f64(), Some(0.6), "{by}");
    }
    assert_eq!(get("day").await[0]["key"], "2026-11-16");
    assert_eq!(get("week").await[0]["key"], "2026-W47");
    let sorted = app
        .get(
            &format!(
                "/api/v1/stats/breakdown?area_id={}&by=grid&sort=received&order=desc&{query}",
                w.ca
            ),
            &w.ca_admin.token,
        )
        .await;
    assert_eq!(sorted.body["groups"][0]["key"], w.a1.as_str());
}

#[tokio::test]
async fn csv_and_xlsx_exports_read_back() {
    let Fixture { app, w, query } = fixture().await;
    let resp = app
        .http
        .get(format!(
            "{}/api/v1/stats/export.csv?area_id={}&by=grid&{query}",
            app.base, w.ca
        ))
        .bearer_auth(&w.ca_admin.token)
        .send()
        .await
        .expect("csv");
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let bytes = resp.bytes().await.expect("bytes");
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF], "UTF-8 byte-order mark");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].starts_with("分组,受理量"), "{text}");
    let a1 = lines
        .iter()
        .find(|l| l.starts_with("甲一网格"))
        .expect("A1 row");
    assert!(a1.contains(",3,") && a1.contains("75.0%"), "{a1}");

    let resp = app
        .http
        .get(format!(
            "{}/api/v1/stats/export.xlsx?area_id={}&{query}",
            app.base, w.ca
        ))
        .bearer_auth(&w.ca_admin.token)
        .send()
        .await
        .expect("xlsx");
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.expect("bytes").to_vec();
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX workbook");
    let names = book.sheet_names();
    for sheet in [
        "汇总",
        "按网格",
        "按社区",
        "按人员",
        "按类别",
        "按日",
        "按周",
    ] {
        assert!(names.iter().any(|n| n == sheet), "{sheet} in {names:?}");
    }
    let summary = book.worksheet_range("汇总").expect("summary sheet");
    assert!(
        matches!(summary.get((0, 0)), Some(Data::String(s)) if s.contains("甲社区")),
        "area and period on top"
    );
    assert_eq!(summary.get((1, 1)), Some(&Data::String("受理量".into())));
    assert_eq!(summary.get((2, 1)), Some(&Data::Float(4.0)));
    assert_eq!(
        summary.get((2, 8)),
        Some(&Data::Float(0.6)),
        "response rate, formatted as a percentage"
    );
}

#[tokio::test]
async fn staff_read_only_their_scope_and_the_map_and_morning_view_work() {
    let Fixture { app, w, query } = fixture().await;
    let path = |area: &str| format!("/api/v1/stats/summary?area_id={area}&{query}");
    assert_eq!(
        app.get(&path(&w.ca), &w.gw_a2.token).await.status,
        StatusCode::NOT_FOUND,
        "a grid worker cannot read the community"
    );
    assert_eq!(
        app.get(&path(&w.a2), &w.gw_a2.token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&path(&w.ca), &w.cb_admin.token).await.status,
        StatusCode::NOT_FOUND,
        "another community"
    );
    assert_eq!(
        app.get(&path(&w.ca), &w.street_admin.token).await.status,
        StatusCode::OK
    );
    let resident = app.resident("r1").await;
    assert_eq!(
        app.get(&path(&w.ca), &resident).await.status,
        StatusCode::FORBIDDEN
    );

    let map = app
        .get(
            &format!("/api/v1/stats/heatmap?area_id={}&{query}", w.ca),
            &w.ca_admin.token,
        )
        .await
        .body;
    assert_eq!(map["type"], "FeatureCollection");
    let features = map["features"].as_array().cloned().unwrap_or_default();
    assert_eq!(features.len(), 2);
    let a1 = features
        .iter()
        .find(|f| f["properties"]["grid_id"] == w.a1.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (
            a1["properties"]["count"].as_u64(),
            a1["geometry"]["type"].as_str()
        ),
        (Some(4), Some("Polygon"))
    );

    let workers = app
        .get(
            &format!("/api/v1/stats/workers?area_id={}&{query}", w.ca),
            &w.ca_admin.token,
        )
        .await
        .body;
    let list = workers.as_array().cloned().unwrap_or_default();
    let gw_a2 = list
        .iter()
        .find(|x| x["staff_id"] == w.gw_a2.id.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (gw_a2["open"].as_u64(), gw_a2["overdue"].as_u64()),
        (Some(1), Some(1)),
        "{workers}"
    );
    let gw_a1 = list
        .iter()
        .find(|x| x["staff_id"] == w.gw_a1.id.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (gw_a1["open"].as_u64(), gw_a1["resolved"].as_u64()),
        (Some(0), Some(3))
    );
}

/// Rebuilding the rollups from scratch (after a bulk load, or to repair) gives exactly the rows
/// that the ticket changes kept up to date one by one.
#[tokio::test]
async fn a_rebuild_gives_the_rollups_the_changes_kept() {
    use sea_orm::{EntityTrait, QueryOrder};
    let Fixture { app, .. } = fixture().await;
    let db = &app.state.db;
    let rows = || async {
        entity::stat_day::Entity::find()
            .order_by_asc(entity::stat_day::Column::Day)
            .order_by_asc(entity::stat_day::Column::PlaceId)
            .all(db)
            .await
            .expect("rollups")
            .into_iter()
            .map(|mut r| {
                // The order of seconds within a day is not part of its meaning.
                let secs = |b: &Vec<u8>| {
                    let mut v: Vec<[u8; 4]> = b
                        .chunks_exact(4)
                        .map(|c| [c[0], c[1], c[2], c[3]])
                        .collect();
                    v.sort();
                    v.concat()
                };
                r.response_secs = secs(&r.response_secs);
                r.resolution_secs = secs(&r.resolution_secs);
                r
            })
            .filter(|r| {
                r.received
                    + r.withdrawn
                    + r.rejected
                    + r.praise_received
                    + r.appealed_excluded
                    + r.response_due
                    + r.resolution_due
                    + r.rated
                    > 0
            })
            .collect::<Vec<_>>()
    };
    let kept = rows().await;
    assert!(
        kept.len() >= 2,
        "submissions and ratings on their days: {kept:?}"
    );
    // A ticket row whose moments went stale (written by an older build, or by hand) is
    // corrected by the rebuild, which counts what its columns say.
    use sea_orm::sea_query::Expr;
    entity::ticket::Entity::update_many()
        .col_expr(
            entity::ticket::Column::ResponseCountedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .exec(db)
        .await
        .expect("stale moments");
    let days = qiaomen_api::services::rollups::rebuild(db, &|_| {})
        .await
        .expect("rebuild");
    assert_eq!(days, kept.len());
    assert_eq!(rows().await, kept);
    let stale = entity::ticket::Entity::find()
        .all(db)
        .await
        .expect("tickets")
        .into_iter()
        .filter(|t| t.response_counted_at.is_none() && t.response_due_at.is_some())
        .count();
    assert_eq!(stale, 1, "only t4, withdrawn before it was owed an answer");
}
