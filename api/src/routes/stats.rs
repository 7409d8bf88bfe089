//! Statistics for offices: the three rates, breakdowns, exports, a heatmap, and workers' load.
use poem_openapi::{
    ApiResponse, OpenApi,
    param::Query,
    payload::{Binary, Json},
};
use serde_json::Value;
use uuid::Uuid;

use super::{ApiResult, Tag, auth::StaffAuth};
use crate::{
    domain::{
        columns::{COLUMNS, column},
        rates::{
            Figures, NamedPeriod, Period, PeriodError,
            ranking::{Measure, RankBy},
        },
    },
    error::{ApiError, Code},
    exports,
    schemas::{
        hotspots::{HotspotCollection, HotspotFeature},
        stats::*,
    },
    services::{
        self, Ctx,
        stats::{Data, Grouping},
    },
    state::SharedState,
};

pub struct StatsApi {
    pub state: SharedState,
}

#[derive(ApiResponse)]
pub enum FileDownload {
    #[oai(status = 200)]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Type")] String,
        #[oai(header = "Content-Disposition")] String,
    ),
}

impl StatsApi {
    /// Waits for a statistics permit.
    async fn turn(&self) -> ApiResult<tokio::sync::SemaphorePermit<'_>> {
        self.state
            .stats_permits
            .acquire()
            .await
            .map_err(|_| ApiError::new(Code::Internal))
    }

    async fn data(
        &self,
        ctx: &Ctx<'_>,
        auth: &StaffAuth,
        area_id: Uuid,
        period: Period,
        by: &[Grouping],
        counts: bool,
    ) -> ApiResult<Data> {
        let scope = auth.scope(ctx).await?;
        let _turn = self.turn().await?;
        Ok(services::stats::load(ctx, &scope, area_id, period, by, counts).await?)
    }

    /// The summary figures, with the area and the period they cover.
    async fn figures(
        &self,
        ctx: &Ctx<'_>,
        auth: &StaffAuth,
        area_id: Uuid,
        period: Period,
    ) -> ApiResult<(services::stats::Asked, Figures)> {
        let scope = auth.scope(ctx).await?;
        let _turn = self.turn().await?;
        Ok(services::stats::summary(ctx, &scope, area_id, period).await?)
    }
}

/// The period asked for: named, or from `from` and `to`; by default the 30 days up to now.
pub(super) fn period(
    ctx: &Ctx<'_>,
    from: Query<Option<PeriodBound>>,
    to: Query<Option<PeriodBound>>,
    named: Query<Option<NamedPeriod>>,
) -> ApiResult<Period> {
    Period::asked(from.0.map(|b| b.0), to.0.map(|b| b.0), named.0, ctx.now()).map_err(|e| {
        let (field, detail) = match e {
            PeriodError::Both => (
                "period",
                crate::error::bi(
                    "period 与 from/to 只能给出其一",
                    "give `period` or `from`/`to`, not both",
                ),
            ),
            PeriodError::Backwards => (
                "to",
                crate::error::bi("to 须晚于 from", "`to` must follow `from`"),
            ),
        };
        ApiError::new(Code::InvalidField)
            .field(field)
            .detail(detail)
    })
}

fn download(body: Vec<u8>, content_type: &str, filename: &str) -> FileDownload {
    FileDownload::Ok(
        Binary(body),
        content_type.into(),
        format!("attachment; filename=\"{filename}\""),
    )
}

/// Figures are defined as in SPEC §7; see the API description and `domain::rates`.
#[OpenApi(prefix_path = "/stats", tag = "Tag::Stats")]
impl StatsApi {
    /// The three rates and their companions for an area (grid, community or street) over
    /// `[from, to)` (default: the last 30 days). Outside the caller's scope: 404.
    #[oai(path = "/summary", method = "get")]
    async fn summary(
        &self,
        auth: StaffAuth,
        area_id: Query<Uuid>,
        from: Query<Option<PeriodBound>>,
        to: Query<Option<PeriodBound>>,
        period: Query<Option<NamedPeriod>>,
    ) -> ApiResult<Json<Summary>> {
        let ctx = self.state.ctx();
        let asked = self::period(&ctx, from, to, period)?;
        let (asked, figures) = self.figures(&ctx, &auth, area_id.0, asked).await?;
        Ok(Json(Summary {
            area_id: asked.area_id,
            area_name: asked.area_name,
            from: asked.period.from.into(),
            to: asked.period.to.into(),
            figures: figures.into(),
        }))
    }

    /// The same figures per grid, community, worker, category, day or week (Beijing date of
    /// submission), sorted by `sort` (any figure's name, default the group key) in `order`
    /// (`asc` or `desc`).
    #[oai(path = "/breakdown", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn breakdown(
        &self,
        auth: StaffAuth,
        area_id: Query<Uuid>,
        by: Query<Grouping>,
        from: Query<Option<PeriodBound>>,
        to: Query<Option<PeriodBound>>,
        period: Query<Option<NamedPeriod>>,
        sort: Query<Option<String>>,
        order: Query<Option<String>>,
    ) -> ApiResult<Json<Breakdown>> {
        let ctx = self.state.ctx();
        let sort = match sort.0.as_deref() {
            None => None,
            Some(name) => Some(column(name).ok_or_else(|| {
                let names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
                ApiError::new(Code::InvalidField)
                    .field("sort")
                    .detail(crate::error::bi(
                        format_args!("须为以下之一：{}", names.join("、")),
                        format_args!("one of {}", names.join(", ")),
                    ))
            })?),
        };
        let asked = self::period(&ctx, from, to, period)?;
        let data = self
            .data(&ctx, &auth, area_id.0, asked, &[by.0], false)
            .await?;
        let mut groups = data.breakdown(by.0);
        if let Some(c) = sort {
            groups.sort_by(|a, b| {
                let (x, y) = (c.value(&a.figures), c.value(&b.figures));
                x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
            });
        }
        if order.0.as_deref() == Some("desc") {
            groups.reverse();
        }
        Ok(Json(Breakdown {
            area_id: data.area_id,
            from: data.period.from.into(),
            to: data.period.to.into(),
            by: by.0.as_str().to_owned(),
            groups: groups
                .into_iter()
                .map(|g| GroupFigures {
                    key: g.key,
                    name: g.name,
                    figures: g.figures.into(),
                })
                .collect(),
        }))
    }

    /// The summary (or, with `by`, a breakdown) as CSV: UTF-8 with a byte-order mark for Excel.
    #[oai(path = "/export.csv", method = "get")]
    async fn export_csv(
        &self,
        auth: StaffAuth,
        area_id: Query<Uuid>,
        by: Query<Option<Grouping>>,
        from: Query<Option<PeriodBound>>,
        to: Query<Option<PeriodBound>>,
        period: Query<Option<NamedPeriod>>,
    ) -> ApiResult<FileDownload> {
        let ctx = self.state.ctx();
        let asked = self::period(&ctx, from, to, period)?;
        let body = match by.0 {
            None => {
                let (asked, figures) = self.figures(&ctx, &auth, area_id.0, asked).await?;
                let rows = vec![(asked.area_name.clone(), figures)];
                exports::csv(&asked.area_name, asked.period, rows)
            }
            Some(by) => {
                let data = self
                    .data(&ctx, &auth, area_id.0, asked, &[by], false)
                    .await?;
                let rows = data.rows(by);
                exports::csv(&data.area_name, data.period, rows)
            }
        };
        let name = format!(
            "qiaomen-stats-{}.csv",
            by.0.map_or("summary", |b| b.as_str())
        );
        Ok(download(
            body.into_bytes(),
            "text/csv; charset=utf-8",
            &name,
        ))
    }

    /// An XLSX workbook: a summary sheet, one sheet per breakdown and the grids ranked by each
    /// measure (`网格排名`), with area and period on top.
    #[oai(path = "/export.xlsx", method = "get")]
    async fn export_xlsx(
        &self,
        auth: StaffAuth,
        area_id: Query<Uuid>,
        from: Query<Option<PeriodBound>>,
        to: Query<Option<PeriodBound>>,
        period: Query<Option<NamedPeriod>>,
    ) -> ApiResult<FileDownload> {
        let ctx = self.state.ctx();
        // One period for every sheet, even when `to` defaults to now.
        let asked = self::period(&ctx, from, to, period)?;
        let scope = auth.scope(&ctx).await?;
        let _turn = self.turn().await?;
        let body = services::stats::workbook(&ctx, &scope, area_id.0, asked).await?;
        Ok(download(
            body,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "qiaomen-stats.xlsx",
        ))
    }

    /// Grids or workers of the area ranked by `measure` (`response`, `resolution`,
    /// `satisfaction` or `composite`), ordered by the lower bound of the rate's Wilson 95 %
    /// interval so a small group cannot win by luck; groups with fewer than
    /// `stats.ranking_min_sample` in the denominator follow unranked (`insufficient`).
    #[oai(path = "/ranking", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn ranking(
        &self,
        auth: StaffAuth,
        area_id: Query<Uuid>,
        by: Query<RankBy>,
        measure: Query<Option<Measure>>,
        from: Query<Option<PeriodBound>>,
        to: Query<Option<PeriodBound>>,
        period: Query<Option<NamedPeriod>>,
    ) -> ApiResult<Json<Ranking>> {
        let ctx = self.state.ctx();
        let asked = self::period(&ctx, from, to, period)?;
        let grouping = match by.0 {
            RankBy::Grid => Grouping::Grid,
            RankBy::Worker => Grouping::Worker,
        };
        let data = self
            .data(&ctx, &auth, area_id.0, asked, &[grouping], false)
            .await?;
        let measure = measure.0.unwrap_or(Measure::Composite);
        let min_sample = ctx.settings.stats.ranking_min_sample;
        let groups = services::stats::ranking(
            &data,
            by.0,
            measure,
            services::stats::weights(&ctx),
            min_sample,
        );
        Ok(Json(Ranking {
            area_id: data.area_id,
            from: data.period.from.into(),
            to: data.period.to.into(),
            by: by.0,
            measure,
            min_sample,
            groups: groups.into_iter().map(RankedGroupBody::from).collect(),
        }))
    }

    /// A GeoJSON FeatureCollection of the area's grids with the tickets submitted in the period
    /// (`count`) and those still open (`open`), ready for a map layer; `coord_system=gcj02` for
    /// WeChat's `<map>`.
    #[oai(path = "/heatmap", method = "get")]
    async fn heatmap(
        &self,
        auth: StaffAuth,
        area_id: Query<Uuid>,
        from: Query<Option<PeriodBound>>,
        to: Query<Option<PeriodBound>>,
        period: Query<Option<NamedPeriod>>,
        coord_system: Query<Option<crate::schemas::places::CoordSystem>>,
    ) -> ApiResult<Json<Value>> {
        let ctx = self.state.ctx();
        let asked = self::period(&ctx, from, to, period)?;
        let data = self.data(&ctx, &auth, area_id.0, asked, &[], true).await?;
        let mut map = services::stats::heatmap(&ctx, &data).await?;
        crate::schemas::places::CoordSystem::or_default(coord_system.0).convert_geojson(&mut map);
        Ok(Json(map))
    }

    /// Hot spots (热点): where the area's tickets of one category gathered over the period (by
    /// default the last 30 days), as a GeoJSON FeatureCollection, the most tickets first.
    /// Density-based clustering (DBSCAN) per category: tickets within `hotspots.radius_meters`
    /// (50) of each other chain into one hot spot, which needs a point with at least
    /// `hotspots.min_tickets` (5) within that distance. Each has its outline, counts, the trend
    /// against the period of the same length before, its most typical text and up to five
    /// ticket numbers. `category` (a code) narrows to one category; `limit` (1–100, 20).
    #[oai(path = "/hotspots", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn hotspots(
        &self,
        auth: StaffAuth,
        area_id: Query<Uuid>,
        from: Query<Option<PeriodBound>>,
        to: Query<Option<PeriodBound>>,
        period: Query<Option<NamedPeriod>>,
        category: Query<Option<String>>,
        limit: Query<Option<u32>>,
        coord_system: Query<Option<crate::schemas::places::CoordSystem>>,
    ) -> ApiResult<Json<HotspotCollection>> {
        let ctx = self.state.ctx();
        let asked = self::period(&ctx, from, to, period)?;
        let scope = auth.scope(&ctx).await?;
        let dir = ctx.dir().await?;
        let category = match category.0.as_deref() {
            None | Some("") => None,
            Some(code) => Some(
                dir.category_by_code(code)
                    .ok_or_else(|| {
                        ApiError::new(Code::InvalidField)
                            .field("category")
                            .detail(crate::error::bi("没有这个类别", "no such category"))
                    })?
                    .id,
            ),
        };
        let limit = match limit.0 {
            None => 20,
            Some(n @ 1..=100) => n as usize,
            Some(_) => {
                return Err(ApiError::new(Code::InvalidField).field("limit").detail(
                    crate::error::bi("limit 须在 1 到 100 之间", "limit is 1 to 100"),
                ));
            }
        };
        let search = services::stats::hotspots::Search {
            area_id: area_id.0,
            period: asked,
            category,
            limit,
        };
        let _turn = self.turn().await?;
        let (asked, spots) = services::stats::hotspots::hotspots(&ctx, &scope, &search).await?;
        let coords = crate::schemas::places::CoordSystem::or_default(coord_system.0);
        let cfg = &ctx.settings.hotspots;
        Ok(Json(HotspotCollection {
            kind: "FeatureCollection".into(),
            area_id: asked.area_id,
            from: asked.counted.from,
            to: asked.counted.to,
            radius_meters: cfg.radius_meters,
            min_tickets: cfg.min_tickets as u64,
            coord_system: coords,
            features: spots
                .into_iter()
                .map(|h| HotspotFeature::new(h, &dir, coords))
                .collect(),
        }))
    }

    /// Each worker's open load, overdue work, visits and rates: the morning view.
    #[oai(path = "/workers", method = "get")]
    async fn workers(
        &self,
        auth: StaffAuth,
        area_id: Query<Uuid>,
        from: Query<Option<PeriodBound>>,
        to: Query<Option<PeriodBound>>,
        period: Query<Option<NamedPeriod>>,
    ) -> ApiResult<Json<Vec<WorkerFigures>>> {
        let ctx = self.state.ctx();
        let asked = self::period(&ctx, from, to, period)?;
        let data = self
            .data(&ctx, &auth, area_id.0, asked, &[Grouping::Worker], true)
            .await?;
        let load = data.worker_load();
        let by_worker: std::collections::HashMap<String, Figures> = data
            .breakdown(Grouping::Worker)
            .into_iter()
            .map(|g| (g.key, g.figures))
            .collect();
        let workers = services::stats::workers_of(&ctx, area_id.0).await?;
        let visits = services::visits::per_worker(&ctx, area_id.0, data.period).await?;
        Ok(Json(
            workers
                .into_iter()
                .map(|(id, name, role)| {
                    let (open, overdue) = load.get(&id).copied().unwrap_or_default();
                    WorkerFigures {
                        staff_id: id,
                        name: if name.is_empty() {
                            data.name_of(id)
                        } else {
                            name
                        },
                        role,
                        open,
                        overdue,
                        visits: visits.get(&id).copied().unwrap_or(0),
                        figures: by_worker
                            .get(&id.to_string())
                            .cloned()
                            .unwrap_or_default()
                            .into(),
                    }
                })
                .collect(),
        ))
    }
}
