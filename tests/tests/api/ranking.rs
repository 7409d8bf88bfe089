//! Rankings a small grid cannot win by luck (issue 20, part 7).
//!
//! Response SLA 60 min; at T0 A1 gets 12 tickets (11 accepted in time, 1 late), B1 10 (8 in
//! time, 2 late), A2 3 (all in time). Wilson 95 % lower bounds: A1 11/12 → 0.646, B1 8/10 →
//! 0.490, A2 3/3 → 0.438. With the minimum sample of 10, A2 is unranked; with 3, it ranks last
//! for all its perfect rate.
use chrono::Duration;
use qiaomen_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn responses(
    app: &TestApp,
    resident: &str,
    point: (f64, f64),
    worker: &Person,
    on_time: usize,
    late: usize,
) {
    let t0 = beijing("2026-11-16 09:00");
    let mut ids = Vec::new();
    app.clock.set(t0);
    for _ in 0..on_time + late {
        let r = app
            .post("/api/v1/tickets", resident, complaint_at("noise", point))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap_or_default().to_owned());
    }
    for (i, id) in ids.iter().enumerate() {
        let minutes = if i < on_time { 20 } else { 90 };
        app.clock.set(t0 + Duration::minutes(minutes));
        let r = app.act(id, "accept", worker, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
}

fn order(ranking: &Value) -> Vec<(String, Option<u64>, bool, Option<u64>)> {
    ranking["groups"]
        .as_array()
        .map(|gs| {
            gs.iter()
                .map(|g| {
                    (
                        g["name"].as_str().unwrap_or_default().to_owned(),
                        g["rank"].as_u64(),
                        g["insufficient"].as_bool().unwrap_or_default(),
                        g["n"].as_u64(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn rankings_order_by_the_lower_wilson_bound_and_leave_small_samples_unranked() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let resident = app.resident("r1").await;
    responses(&app, &resident, A1_POINT, &w.gw_a1, 11, 1).await;
    responses(&app, &resident, B1_POINT, &w.gw_b1, 8, 2).await;
    responses(&app, &resident, A2_POINT, &w.gw_a2, 3, 0).await;
    app.clock.set(beijing("2026-11-16 12:00"));
    let path = |by: &str| {
        format!(
            "/api/v1/stats/ranking?area_id={}&by={by}&measure=response&from=2026-11-16&to=2026-11-16",
            w.street
        )
    };
    let r = app.get(&path("grid"), &w.street_admin.token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        order(&r.body),
        [
            ("甲一网格".to_owned(), Some(1), false, Some(12)),
            ("乙一网格".to_owned(), Some(2), false, Some(10)),
            ("甲二网格".to_owned(), None, true, Some(3)),
        ],
        "{}",
        r.body
    );
    let a1 = &r.body["groups"][0];
    assert!(
        a1["rate"]
            .as_f64()
            .is_some_and(|v| (v - 11.0 / 12.0).abs() < 1e-9)
    );
    assert!(
        a1["bound"]
            .as_f64()
            .is_some_and(|v| (v - 0.646).abs() < 1e-3),
        "{a1}"
    );
    assert_eq!(r.body["min_sample"].as_u64(), Some(10));
    let workers = app.get(&path("worker"), &w.street_admin.token).await;
    assert_eq!(
        workers.body["groups"][0]["key"],
        w.gw_a1.id.as_str(),
        "{}",
        workers.body
    );

    // With a minimum sample of 3, the perfect small grid is ranked, and last.
    let mut settings = app.settings.clone();
    settings.stats.ranking_min_sample = 3;
    let node = TestApp { settings, ..app }.peer().await;
    let r = node.get(&path("grid"), &w.street_admin.token).await;
    let ranks: Vec<(String, Option<u64>)> =
        order(&r.body).into_iter().map(|g| (g.0, g.1)).collect();
    assert_eq!(
        ranks,
        [
            ("甲一网格".to_owned(), Some(1)),
            ("乙一网格".to_owned(), Some(2)),
            ("甲二网格".to_owned(), Some(3)),
        ]
    );
    let bad = node
        .get(
            &format!("/api/v1/stats/ranking?area_id={}&by=community", w.street),
            &w.street_admin.token,
        )
        .await;
    assert!(bad.status.is_client_error());

    // The XLSX export carries the grids' ranking by every measure.
    let (status, bytes) = node
        .fetch_bytes(
            &format!(
                "/api/v1/stats/export.xlsx?area_id={}&from=2026-11-16&to=2026-11-16",
                w.street
            ),
            &w.street_admin.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX workbook");
    let sheet = book.worksheet_range("网格排名").expect("a ranking sheet");
    let response_rows: Vec<(String, Option<f64>)> = sheet
        .rows()
        .filter(|row| matches!(row.first(), Some(Data::String(m)) if m == "响应率"))
        .map(|row| {
            let name = row.get(2).map(|c| c.to_string()).unwrap_or_default();
            let rank = match row.get(1) {
                Some(Data::Float(f)) => Some(*f),
                _ => None,
            };
            (name, rank)
        })
        .collect();
    assert_eq!(
        response_rows,
        [
            ("甲一网格".to_owned(), Some(1.0)),
            ("乙一网格".to_owned(), Some(2.0)),
            ("甲二网格".to_owned(), Some(3.0)),
        ]
    );
}
