//! Statistics for offices: the three rates, breakdowns, exports, a heatmap, and workers' load.
use chrono::{DateTime, Duration, Utc};
use poem_openapi::{
    ApiResponse, OpenApi,
    param::Query,
    payload::{Binary, Json},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{ApiResult, Tag, auth::BearerAuth};
use crate::{
    domain::rates::Figures,
    error::{ApiError, Code},
    schemas::stats::*,
    services::{
        self,
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

const SORTABLE: [&str; 8] = [
    "received",
    "resolved",
    "overdue_open",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "reopen_rate",
    "composite_score",
];

fn sort_value(f: &Figures, field: &str) -> Option<f64> {
    match field {
        "received" => Some(f.received as f64),
        "resolved" => Some(f.resolved as f64),
        "overdue_open" => Some(f.overdue_open as f64),
        "response_rate" => f.response_rate,
        "resolution_rate" => f.resolution_rate,
        "satisfaction_rate" => f.satisfaction_rate,
        "reopen_rate" => f.reopen_rate,
        "composite_score" => f.composite_score,
        _ => None,
    }
}

/// The period asked for; by default the 30 days up to now.
fn period(
    ctx: &services::Ctx<'_>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let to = to.unwrap_or_else(|| ctx.now());
    (to, from.unwrap_or(to - Duration::days(30)))
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
        auth: &BearerAuth,
        area_id: Uuid,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        by: &[Grouping],
        counts: bool,
    ) -> ApiResult<Data> {
        let ctx = self.state.ctx();
        let scope = auth.staff(&ctx).await?;
        let (to, from) = period(&ctx, from, to);
        let _turn = self.turn().await?;
        Ok(services::stats::load(&ctx, &scope, area_id, from, to, by, counts).await?)
    }

    /// The summary figures, with the area and the period they cover.
    async fn figures(
        &self,
        auth: &BearerAuth,
        area_id: Uuid,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> ApiResult<(services::stats::Asked, Figures)> {
        let ctx = self.state.ctx();
        let scope = auth.staff(&ctx).await?;
        let (to, from) = period(&ctx, from, to);
        let _turn = self.turn().await?;
        Ok(services::stats::summary(&ctx, &scope, area_id, from, to).await?)
    }
}

/// Figures are defined as in SPEC §7; see the API description and `domain::rates`.
#[OpenApi(prefix_path = "/stats", tag = "Tag::Stats")]
impl StatsApi {
    /// The three rates and their companions for an area (grid, community or street) over
    /// `[from, to)` (default: the last 30 days). Outside the caller's scope: 404.
    #[oai(path = "/summary", method = "get")]
    async fn summary(
        &self,
        auth: BearerAuth,
        area_id: Query<Uuid>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<Json<Summary>> {
        let (asked, figures) = self.figures(&auth, area_id.0, from.0, to.0).await?;
        Ok(Json(Summary {
            area_id: asked.area_id,
            area_name: asked.area_name,
            from: asked.from,
            to: asked.to,
            figures: figures.into(),
        }))
    }

    /// The same figures per grid, community, worker, category, day or week (Beijing date of
    /// submission), sorted by `sort` (a figure name, default the group key) in `order`
    /// (`asc` or `desc`).
    #[oai(path = "/breakdown", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn breakdown(
        &self,
        auth: BearerAuth,
        area_id: Query<Uuid>,
        by: Query<Grouping>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
        sort: Query<Option<String>>,
        order: Query<Option<String>>,
    ) -> ApiResult<Json<Breakdown>> {
        let data = self
            .data(&auth, area_id.0, from.0, to.0, &[by.0], false)
            .await?;
        let mut groups = data.breakdown(by.0);
        if let Some(field) = sort.0.as_deref() {
            if !SORTABLE.contains(&field) {
                return Err(ApiError::new(Code::InvalidField)
                    .field("sort")
                    .detail(format!("one of {}", SORTABLE.join(", "))));
            }
            groups.sort_by(|a, b| {
                let (x, y) = (sort_value(&a.figures, field), sort_value(&b.figures, field));
                x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
            });
        }
        if order.0.as_deref() == Some("desc") {
            groups.reverse();
        }
        Ok(Json(Breakdown {
            area_id: data.area_id,
            from: data.from,
            to: data.to,
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
        auth: BearerAuth,
        area_id: Query<Uuid>,
        by: Query<Option<Grouping>>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<FileDownload> {
        let body = match by.0 {
            None => {
                let (asked, figures) = self.figures(&auth, area_id.0, from.0, to.0).await?;
                let rows = vec![(asked.area_name.clone(), figures)];
                services::stats::csv(&asked.area_name, asked.from, asked.to, rows)
            }
            Some(by) => {
                let data = self
                    .data(&auth, area_id.0, from.0, to.0, &[by], false)
                    .await?;
                let rows = data
                    .breakdown(by)
                    .into_iter()
                    .map(|g| (g.name, g.figures))
                    .collect();
                services::stats::csv(&data.area_name, data.from, data.to, rows)
            }
        }
        .into_bytes();
        let name = format!(
            "attachment; filename=\"qiaomen-stats-{}.csv\"",
            by.0.map_or("summary", |b| b.as_str())
        );
        Ok(FileDownload::Ok(
            Binary(body),
            "text/csv; charset=utf-8".into(),
            name,
        ))
    }

    /// An XLSX workbook: a summary sheet and one sheet per breakdown, with area and period on top.
    #[oai(path = "/export.xlsx", method = "get")]
    async fn export_xlsx(
        &self,
        auth: BearerAuth,
        area_id: Query<Uuid>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<FileDownload> {
        // One period for every sheet, even when `to` defaults to now.
        let (to, from) = period(&self.state.ctx(), from.0, to.0);
        let (from, to) = (Some(from), Some(to));
        let data = self
            .data(&auth, area_id.0, from, to, Grouping::ALL, false)
            .await?;
        let (_, summary) = self.figures(&auth, area_id.0, from, to).await?;
        let body = services::stats::xlsx(&data, summary)?;
        Ok(FileDownload::Ok(
            Binary(body),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into(),
            "attachment; filename=\"qiaomen-stats.xlsx\"".into(),
        ))
    }

    /// A GeoJSON FeatureCollection of the area's grids with the tickets submitted in the period
    /// (`count`) and those still open (`open`), ready for a map layer.
    #[oai(path = "/heatmap", method = "get")]
    async fn heatmap(
        &self,
        auth: BearerAuth,
        area_id: Query<Uuid>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<Json<Value>> {
        let data = self.data(&auth, area_id.0, from.0, to.0, &[], true).await?;
        let counts = data.per_grid_counts();
        let dir = self.state.directory.get(&self.state.db).await?;
        let grids: Vec<Uuid> = dir.tree.subtree(area_id.0);
        let mut features = Vec::new();
        let rows = entity::area::Entity::find()
            .filter(entity::area::Column::Id.is_in(grids))
            .filter(entity::area::Column::Kind.eq(crate::domain::AreaKind::Grid.as_str()))
            .order_by_asc(entity::area::Column::Code)
            .all(&self.state.db)
            .await
            .map_err(services::ServiceError::from)?;
        for area in rows {
            let geometry: Value = area
                .boundary
                .as_deref()
                .and_then(|b| serde_json::from_str(b).ok())
                .unwrap_or(Value::Null);
            let (count, open) = counts.get(&area.id).copied().unwrap_or_default();
            features.push(json!({
                "type": "Feature",
                "id": area.id,
                "geometry": geometry,
                "properties": {"grid_id": area.id, "name": area.name, "code": area.code, "count": count, "open": open},
            }));
        }
        Ok(Json(
            json!({"type": "FeatureCollection", "features": features}),
        ))
    }

    /// Each worker's open load, overdue work, visits and rates: the morning view.
    #[oai(path = "/workers", method = "get")]
    async fn workers(
        &self,
        auth: BearerAuth,
        area_id: Query<Uuid>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<Json<Vec<WorkerFigures>>> {
        let data = self
            .data(&auth, area_id.0, from.0, to.0, &[Grouping::Worker], true)
            .await?;
        let load = data.worker_load();
        let by_worker: std::collections::HashMap<String, Figures> = data
            .breakdown(Grouping::Worker)
            .into_iter()
            .map(|g| (g.key, g.figures))
            .collect();
        let workers = services::stats::workers_of(&self.state.ctx(), area_id.0).await?;
        let visits =
            services::visits::per_worker(&self.state.ctx(), area_id.0, data.from, data.to).await?;
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
