//! 三率驾驶舱 and 网格地图: the three rates of the caller's area for a period, against the
//! period before, with a daily trend, the grids, the top categories and exports; and the grids
//! drawn from their boundaries, coloured by a measure. The figures are the API's own
//! (`services::stats`), read within the caller's scope (`404` outside it).
use poem::{
    Request, Response, handler,
    http::{StatusCode, header},
    web::Query,
};
use uuid::Uuid;

use super::{Signed, charts, page, pages, session_of, words};
use crate::{
    domain::rates::{Bound, Figures, NamedPeriod, Period},
    services::{self, Ctx, stats::Grouping},
};

#[derive(Default, serde::Deserialize)]
pub struct DashQuery {
    area_id: Option<Uuid>,
    period: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    measure: Option<String>,
}

impl DashQuery {
    /// The period asked for: named (default this month), or custom dates.
    fn period(&self, now: chrono::DateTime<chrono::Utc>) -> Period {
        if let (Some(from), Some(to)) = (
            self.from.as_deref().and_then(Bound::parse),
            self.to.as_deref().and_then(Bound::parse),
        ) && let Ok(p) = Period::asked(Some(from), Some(to), None, now)
        {
            return p;
        }
        let named = self
            .period
            .as_deref()
            .and_then(NamedPeriod::parse)
            .unwrap_or(NamedPeriod::ThisMonth);
        named.around(now)
    }

    /// The query string of this view, with `extra` pairs replacing its own.
    fn link(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, String)> = vec![];
        if let Some(a) = self.area_id {
            pairs.push(("area_id", a.to_string()));
        }
        for (k, v) in [
            ("period", &self.period),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = v {
                pairs.push((k, v.clone()));
            }
        }
        pairs.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        pairs.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{path}?{query}")
    }
}

/// The area asked for, else the caller's broadest.
async fn area_of(ctx: &Ctx<'_>, me: &Signed, q: &DashQuery) -> Option<Uuid> {
    if let Some(a) = q.area_id {
        return Some(a);
    }
    let home = services::me::staff(ctx, me.session.staff_id)
        .await
        .ok()?
        .home_area_id;
    match home {
        Some(a) => Some(a),
        // A system administrator without an area: the first street (or district).
        None => {
            let dir = ctx.dir().await.ok()?;
            let mut roots: Vec<_> = dir.tree.roots().collect();
            roots.sort_by(|a, b| (&a.code, &a.name).cmp(&(&b.code, &b.name)));
            roots.first().map(|n| n.id)
        }
    }
}

/// The signed-in staff member of a figures page, the area (asked for, else their broadest) and
/// the period it shows; or the page that says why not.
async fn asked(
    req: &Request,
    q: &DashQuery,
) -> Result<(crate::state::SharedState, Signed, Uuid, Period), Response> {
    let (state, me) = session_of(req).await?;
    let ctx = state.ctx();
    let Some(area) = area_of(&ctx, &me, q).await else {
        return Err(page(
            StatusCode::NOT_FOUND,
            pages::problem(Some(&me.chrome()), "没有可查看的区域"),
        ));
    };
    let period = q.period(ctx.now());
    Ok((state, me, area, period))
}

/// All statistics permits are taken.
fn busy() -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        pages::problem(None, "系统繁忙"),
    )
}

fn before(p: Period) -> Period {
    Period {
        from: p.from - (p.to - p.from),
        to: p.from,
    }
}

fn sort_rows(rows: &mut [(String, Figures)], by: &str) {
    let key = |f: &Figures| match by {
        "response" => f.response_rate,
        "resolution" => f.resolution_rate,
        "satisfaction" => f.satisfaction_rate,
        "received" => Some(f.received as f64),
        _ => f.composite_score,
    };
    rows.sort_by(|a, b| {
        key(&b.1)
            .partial_cmp(&key(&a.1))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

#[handler]
pub async fn dashboard(req: &Request, Query(q): Query<DashQuery>) -> Response {
    let (state, me, area, period) = match asked(req, &q).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let Ok(_turn) = state.stats_permits.acquire().await else {
        return busy();
    };
    // Grids from the rollups, the trend from the rollups by day, the categories from one grouped
    // count: no ticket is streamed; the five reads run at once (docs/performance.md).
    let read = futures_util::future::try_join5(
        services::stats::summary(&ctx, &me.scope, area, period),
        services::stats::summary(&ctx, &me.scope, area, before(period)),
        services::stats::load(&ctx, &me.scope, area, period, &[Grouping::Grid], false),
        services::stats::daily(&ctx, &me.scope, area, period),
        services::stats::top_categories(&ctx, &me.scope, area, period, 5),
    )
    .await;
    let ((asked, now), (_, then), data, days, categories) = match read {
        Ok(r) => r,
        Err(e) => {
            return page(
                StatusCode::NOT_FOUND,
                pages::problem(Some(&me.chrome()), &words(e)),
            );
        }
    };
    let mut grids = data.rows(Grouping::Grid);
    sort_rows(&mut grids, q.sort.as_deref().unwrap_or("composite"));
    let labels: Vec<String> = days.iter().map(|(day, _)| day.to_string()).collect();
    let line = |rate: fn(&Figures) -> Option<f64>| days.iter().map(|(_, f)| rate(f)).collect();
    let trend = charts::trend(
        &labels,
        &[
            charts::Series {
                name: "响应率",
                colour: "#1f6feb",
                values: line(|f| f.response_rate),
            },
            charts::Series {
                name: "解决率",
                colour: "#2e7d32",
                values: line(|f| f.resolution_rate),
            },
            charts::Series {
                name: "满意率",
                colour: "#b3261e",
                values: line(|f| f.satisfaction_rate),
            },
        ],
    );
    let ranking = services::stats::ranking(
        &data,
        crate::domain::rates::ranking::RankBy::Grid,
        crate::domain::rates::ranking::Measure::Composite,
        services::stats::weights(&ctx),
        ctx.settings.stats.ranking_min_sample,
    );
    let view = pages::Dashboard {
        area_name: &asked.area_name,
        area_id: q.area_id,
        period_name: q.period.as_deref().filter(|_| q.from.is_none()).unwrap_or(
            if q.from.is_some() {
                "custom"
            } else {
                "this_month"
            },
        ),
        ranking: &ranking,
        period,
        now: &now,
        then: &then,
        grids: &grids,
        categories: &categories,
        trend,
        link: &|path, extra| q.link(path, extra),
    };
    page(StatusCode::OK, pages::dashboard(&me.chrome(), &view))
}

/// The XLSX or CSV of the dashboard's area and period (the API's workbook).
#[handler]
pub async fn export(req: &Request, Query(q): Query<DashQuery>) -> Response {
    let (state, me, area, period) = match asked(req, &q).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let Ok(_turn) = state.stats_permits.acquire().await else {
        return busy();
    };
    let csv = req.uri().path().ends_with(".csv");
    let made = if csv {
        services::stats::load(&ctx, &me.scope, area, period, &[Grouping::Grid], false)
            .await
            .map(|d| {
                crate::exports::csv(&d.area_name, d.period, d.rows(Grouping::Grid)).into_bytes()
            })
    } else {
        services::stats::workbook(&ctx, &me.scope, area, period).await
    };
    match made {
        Ok(body) => Response::builder()
            .content_type(if csv {
                "text/csv; charset=utf-8"
            } else {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            })
            .header(
                header::CONTENT_DISPOSITION,
                if csv {
                    "attachment; filename=\"qiaomen-grids.csv\""
                } else {
                    "attachment; filename=\"qiaomen-stats.xlsx\""
                },
            )
            .header(header::CACHE_CONTROL, "no-store")
            .body(body),
        Err(e) => page(
            StatusCode::NOT_FOUND,
            pages::problem(Some(&me.chrome()), &words(e)),
        ),
    }
}

/// The measures the map colours grids by: what each shows and whether more is worse.
const MEASURES: [(&str, &str); 4] = [
    ("open", "在办工单"),
    ("overdue", "超时工单"),
    ("response", "响应率"),
    ("satisfaction", "满意率"),
];

#[handler]
pub async fn map(req: &Request, Query(q): Query<DashQuery>) -> Response {
    let (state, me, area, period) = match asked(req, &q).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let measure = q.measure.as_deref().unwrap_or("open");
    let Ok(_turn) = state.stats_permits.acquire().await else {
        return busy();
    };
    let read = async {
        let data =
            services::stats::load(&ctx, &me.scope, area, period, &[Grouping::Grid], true).await?;
        let dir = ctx.dir().await?;
        Ok::<_, services::ServiceError>((data, dir))
    }
    .await;
    let (data, dir) = match read {
        Ok(r) => r,
        Err(e) => {
            return page(
                StatusCode::NOT_FOUND,
                pages::problem(Some(&me.chrome()), &words(e)),
            );
        }
    };
    let figures: std::collections::HashMap<String, Figures> = data
        .breakdown(Grouping::Grid)
        .into_iter()
        .map(|g| (g.key, g.figures))
        .collect();
    let counts = data.per_grid_counts();
    let max_open = counts.values().map(|c| c.1).max().unwrap_or(0).max(1) as f64;
    let max_overdue = figures
        .values()
        .map(|f| f.overdue_open)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut rows = Vec::new();
    let grids: Vec<charts::MapGrid> = dir
        .tree
        .subtree(area)
        .into_iter()
        .filter_map(|id| {
            let node = dir.tree.get(id)?;
            let shape = dir.grids.shape(id)?;
            let f = figures.get(&id.to_string());
            let open = counts.get(&id).map_or(0, |c| c.1);
            let share = match measure {
                "overdue" => f.map(|f| f.overdue_open as f64 / max_overdue),
                "response" => f.and_then(|f| f.response_rate).map(|r| 1.0 - r),
                "satisfaction" => f.and_then(|f| f.satisfaction_rate).map(|r| 1.0 - r),
                _ => Some(open as f64 / max_open),
            };
            let worker = dir
                .holders(id)
                .find(|(_, p, r)| {
                    r.assignment.role == crate::domain::StaffRole::GridWorker
                        && p.status == crate::domain::StaffStatus::Active
                })
                .map(|(_, p, _)| p.name.clone())
                .unwrap_or_else(|| "—".into());
            let label = format!(
                "{}：在办 {open}，响应率 {}，满意率 {}，网格员 {worker}",
                node.name,
                pages::percent(f.and_then(|f| f.response_rate)),
                pages::percent(f.and_then(|f| f.satisfaction_rate)),
            );
            rows.push((id.to_string(), label.clone()));
            Some(charts::MapGrid {
                shape,
                share,
                label,
                href: format!("#grid-{id}"),
            })
        })
        .collect();
    // The open tickets of the caller's work list (at most 200, newest) as points on top.
    let open = services::listing::WorkFilter {
        statuses: crate::domain::lifecycle::Status::OPEN.to_vec(),
        ..Default::default()
    };
    let points: Vec<(f64, f64)> = services::listing::list_work(&ctx, &me.scope, &open, None, 200)
        .await
        .map(|p| p.items)
        .unwrap_or_default()
        .iter()
        .filter(|v| {
            v.ticket
                .grid_id
                .is_some_and(|g| dir.tree.is_within(g, area))
        })
        .filter_map(|v| v.ticket.lat.zip(v.ticket.lng))
        .collect();
    // Hot spots of the period on top (the ten with the most tickets).
    let search = services::stats::hotspots::Search {
        area_id: area,
        period,
        category: None,
        limit: 10,
    };
    let spots = services::stats::hotspots::hotspots(&ctx, &me.scope, &search)
        .await
        .map(|(_, s)| s)
        .unwrap_or_default();
    let spot_labels: Vec<String> = spots.iter().map(|h| hotspot_label(&dir, h)).collect();
    let overlay: Vec<charts::MapSpot> = spots
        .iter()
        .zip(&spot_labels)
        .map(|(h, label)| charts::MapSpot {
            ring: &h.ring,
            label: label.clone(),
        })
        .collect();
    let svg = charts::map_with(&grids, &points, &overlay);
    // Each listed with what 设为每月一题 needs: its id, and a title and due date to start from.
    let listed: Vec<(String, String, String)> = spots
        .iter()
        .zip(&spot_labels)
        .map(|(h, label)| {
            let category = dir.category(h.category_id).map_or("", |c| c.name.as_str());
            (h.id.clone(), label.clone(), format!("{category}热点整治"))
        })
        .collect();
    let due = (ctx.now() + chrono::Duration::days(30))
        .with_timezone(&crate::domain::calendar::beijing())
        .format("%Y-%m-%d")
        .to_string();
    let measures: Vec<(String, &str, bool)> = MEASURES
        .iter()
        .map(|(key, name)| {
            (
                q.link("/console/map", &[("measure", key)]),
                *name,
                *key == measure,
            )
        })
        .collect();
    page(
        StatusCode::OK,
        pages::map(
            &me.chrome(),
            &data.area_name,
            svg,
            &measures,
            &rows,
            super::topics::hotspot_list(&me.chrome(), area, &listed, &due),
        ),
    )
}

/// How the map names a hot spot: its category, its counts, how it moved and what it is about.
fn hotspot_label(
    dir: &services::directory::Directory,
    h: &services::stats::hotspots::Hotspot,
) -> String {
    use crate::domain::hotspots::Trend;
    let category = dir.category(h.category_id).map_or("", |c| c.name.as_str());
    let trend = match h.trend {
        Trend::New => "新出现".to_owned(),
        Trend::Rising => format!("上期 {} 件，上升", h.previous_count),
        Trend::Falling => format!("上期 {} 件，下降", h.previous_count),
        Trend::Steady => format!("上期 {} 件，持平", h.previous_count),
    };
    let typical = h
        .typical
        .as_ref()
        .map(|(number, text)| {
            format!(
                "；典型：{number}「{}」",
                text.chars().take(40).collect::<String>()
            )
        })
        .unwrap_or_default();
    format!(
        "热点 · {category}：{} 件，{} 位居民，{} 次附议，{trend}{typical}",
        h.ticket_count, h.resident_count, h.support_count
    )
}
