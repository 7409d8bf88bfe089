//! The office's other views of the same data: the morning view's list of workers and the
//! heatmap's grids.
use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::Data;
use crate::{
    domain::{AreaKind, StaffRole},
    services::{Ctx, ServiceResult},
};

/// The ids of grid workers and assistants under an area, for the morning view.
pub async fn workers_of(
    ctx: &Ctx<'_>,
    area_id: Uuid,
) -> ServiceResult<Vec<(Uuid, String, StaffRole)>> {
    let dir = ctx.dir().await?;
    let subtree = dir.tree.subtree(area_id);
    let assignments = entity::staff_assignment::Entity::find()
        .filter(entity::staff_assignment::Column::AreaId.is_in(subtree))
        .filter(entity::staff_assignment::Column::Role.is_in([
            StaffRole::GridWorker,
            StaffRole::GridAssistant,
            StaffRole::CommunityAdmin,
        ]))
        .all(ctx.db)
        .await?;
    let ids: Vec<Uuid> = assignments.iter().map(|a| a.staff_id).collect();
    let staff: HashMap<Uuid, entity::staff::Model> = entity::staff::Entity::find()
        .filter(entity::staff::Column::Id.is_in(ids))
        .all(ctx.db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut out: Vec<(Uuid, String, StaffRole)> = assignments
        .into_iter()
        .filter_map(|a| {
            staff
                .get(&a.staff_id)
                .map(|s| (s.id, s.name.clone(), a.role))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    out.dedup_by_key(|w| w.0);
    Ok(out)
}

/// A GeoJSON FeatureCollection of the grids under the area `data` was loaded for (with
/// `counts`), each with the tickets submitted in the period (`count`) and those still open
/// (`open`), for a map layer.
pub async fn heatmap(ctx: &Ctx<'_>, data: &Data) -> ServiceResult<serde_json::Value> {
    use serde_json::{Value, json};
    let dir = ctx.dir().await?;
    let grids = dir.tree.subtree(data.area_id);
    let rows = entity::area::Entity::find()
        .filter(entity::area::Column::Id.is_in(grids))
        .filter(entity::area::Column::Kind.eq(AreaKind::Grid.as_str()))
        .order_by_asc(entity::area::Column::Code)
        .all(ctx.db)
        .await?;
    let features: Vec<Value> = rows
        .into_iter()
        .map(|area| {
            let geometry: Value = area
                .boundary
                .as_deref()
                .and_then(|b| serde_json::from_str(b).ok())
                .unwrap_or(Value::Null);
            let (count, open) = data.per_grid.get(&area.id).copied().unwrap_or_default();
            json!({
                "type": "Feature",
                "id": area.id,
                "geometry": geometry,
                "properties": {"grid_id": area.id, "name": area.name, "code": area.code, "count": count, "open": open},
            })
        })
        .collect();
    Ok(json!({"type": "FeatureCollection", "features": features}))
}

/// The XLSX workbook of an area and period: a summary sheet, one sheet per breakdown and the
/// grids ranked by each measure (`网格排名`), with area and period on top. Served by the API
/// and the console alike.
pub async fn workbook(
    ctx: &Ctx<'_>,
    scope: &crate::domain::access::StaffScope,
    area_id: Uuid,
    period: crate::domain::rates::Period,
) -> ServiceResult<Vec<u8>> {
    use super::Grouping;
    use crate::domain::rates::ranking::{Measure, RankBy};
    let data = super::load(ctx, scope, area_id, period, Grouping::ALL, false).await?;
    let (_, summary) = super::summary(ctx, scope, area_id, period).await?;
    let sheets = std::iter::once(("汇总".to_owned(), vec![(data.area_name.clone(), summary)]))
        .chain(
            Grouping::ALL
                .iter()
                .map(|by| (by.title_zh().to_owned(), data.rows(*by))),
        )
        .collect();
    let (weights, min) = (super::weights(ctx), ctx.settings.stats.ranking_min_sample);
    let rankings: Vec<_> = Measure::ALL
        .iter()
        .map(|m| (*m, super::ranking(&data, RankBy::Grid, *m, weights, min)))
        .collect();
    crate::exports::xlsx(&data.area_name, data.period, sheets, &rankings)
        .map_err(|e| crate::services::ServiceError::Internal(format!("xlsx: {e}")))
}
