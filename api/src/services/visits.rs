//! Door-knock visits (敲门走访): a grid worker records a visit to a building with the suggestions
//! heard there, each becoming a ticket (channel `door_knock`), all in one transaction; and the
//! coverage of a grid's buildings over a period.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::{
    Ctx, ServiceError, ServiceResult,
    tickets::{NewTicket, Reporter},
    write_txn,
};
use crate::{
    domain::{StaffRole, access::StaffScope, inputs::Text},
    error::Code,
};
use entity::{building, visit};

pub struct NewVisit {
    pub building_id: Uuid,
    pub household: Option<Text>,
    pub notes: Option<Text>,
    pub visited_at: Option<DateTime<Utc>>,
    pub suggestions: Vec<NewTicket>,
}

/// Records a visit and its tickets; only a grid worker or assistant of the building's grid may.
pub async fn record(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    new: NewVisit,
) -> ServiceResult<(visit::Model, Vec<entity::ticket::Model>)> {
    let txn = write_txn(ctx.db).await?;
    let b = super::areas::building(&txn, new.building_id).await?;
    let own_grid = scope.assignments.iter().any(|a| {
        matches!(a.role, StaffRole::GridWorker | StaffRole::GridAssistant)
            && a.area_id == Some(b.grid_id)
    });
    if !own_grid {
        return Err(ServiceError::Rejected {
            code: Code::Forbidden,
            field: Some("building_id".into()),
            detail: Some(crate::error::bi(
                "走访由本网格的网格员和网格辅助员记录",
                "visits are recorded by the grid's own workers and assistants",
            )),
        });
    }
    let now = ctx.now();
    let visited_at = new.visited_at.unwrap_or(now);
    if visited_at > now {
        return Err(ServiceError::rejected(
            Code::InvalidField,
            "visited_at",
            crate::error::bi("走访时间不能晚于现在", "a visit cannot be in the future"),
        ));
    }
    let v = visit::ActiveModel {
        id: Set(Uuid::new_v4()),
        worker_id: Set(scope.staff_id),
        building_id: Set(b.id),
        grid_id: Set(b.grid_id),
        household: Set(new.household.map(Text::into_inner)),
        notes: Set(new.notes.map(Text::into_inner)),
        visited_at: Set(visited_at),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let mut tickets = Vec::new();
    for mut suggestion in new.suggestions {
        suggestion.building_id = Some(b.id);
        suggestion.visit_id = Some(v.id);
        suggestion.prefer_assignee = Some(scope.staff_id);
        tickets.push(
            super::tickets::create_in(
                &txn,
                ctx,
                Reporter::Staff(scope.staff_id),
                suggestion,
                None,
                None,
            )
            .await?,
        );
    }
    txn.commit().await?;
    Ok((v, tickets))
}

/// Visits to buildings under `area_id` in `[from, to)`, newest first.
pub async fn list(
    ctx: &Ctx<'_>,
    area_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ServiceResult<Vec<visit::Model>> {
    let dir = ctx.dir().await?;
    Ok(visit::Entity::find()
        .filter(visit::Column::GridId.is_in(dir.tree.subtree(area_id)))
        .filter(visit::Column::VisitedAt.gte(from))
        .filter(visit::Column::VisitedAt.lt(to))
        .order_by_desc(visit::Column::VisitedAt)
        .all(ctx.db)
        .await?)
}

pub struct GridCoverage {
    pub grid_id: Uuid,
    pub grid_name: String,
    pub buildings: Vec<(building::Model, u64)>,
}

/// For each grid under `area_id`: every building with its number of visits in the period.
pub async fn coverage(
    ctx: &Ctx<'_>,
    area_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ServiceResult<Vec<GridCoverage>> {
    let dir = ctx.dir().await?;
    let grids: Vec<Uuid> = dir
        .tree
        .subtree(area_id)
        .into_iter()
        .filter(|id| {
            dir.tree
                .get(*id)
                .is_some_and(|a| a.kind == crate::domain::AreaKind::Grid)
        })
        .collect();
    let buildings = building::Entity::find()
        .filter(building::Column::GridId.is_in(grids.clone()))
        .order_by_asc(building::Column::Name)
        .all(ctx.db)
        .await?;
    let visits = list(ctx, area_id, from, to).await?;
    let mut counts: HashMap<Uuid, u64> = HashMap::new();
    for v in &visits {
        *counts.entry(v.building_id).or_default() += 1;
    }
    let with_buildings: HashSet<Uuid> = buildings.iter().map(|b| b.grid_id).collect();
    let mut out: Vec<GridCoverage> = grids
        .into_iter()
        .filter(|g| with_buildings.contains(g))
        .map(|g| GridCoverage {
            grid_id: g,
            grid_name: dir.tree.get(g).map(|a| a.name.clone()).unwrap_or_default(),
            buildings: buildings
                .iter()
                .filter(|b| b.grid_id == g)
                .map(|b| (b.clone(), counts.get(&b.id).copied().unwrap_or(0)))
                .collect(),
        })
        .collect();
    out.sort_by(|a, b| a.grid_name.cmp(&b.grid_name));
    Ok(out)
}

/// Visits per worker in the period (for the morning view).
pub async fn per_worker(
    ctx: &Ctx<'_>,
    area_id: Uuid,
    period: crate::domain::rates::Period,
) -> ServiceResult<HashMap<Uuid, u64>> {
    let mut out = HashMap::new();
    for v in list(ctx, area_id, period.from, period.to).await? {
        *out.entry(v.worker_id).or_default() += 1;
    }
    Ok(out)
}
