//! Routing against the database: finds the grid, the handling area and the person for a ticket
//! (SPEC §4 items 1–3), using the pure rules in `domain::routing`.
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{ServiceError, ServiceResult, directory::Directory};
use crate::domain::{
    AreaKind, HandlingLevel,
    inputs::GeoPoint,
    lifecycle::Status,
    routing::{Candidate, choose_at_level, choose_in_grid},
};
use crate::error::Code;

/// Where routing sent a ticket. `assignee_id: None` means the queue (`pending_dispatch`) of
/// `handling_area_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Destination {
    pub grid_id: Option<Uuid>,
    pub handling_area_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
}

/// Step 1: the grid, from the building, else the point, else the resident's home.
pub fn find_grid(
    dir: &Directory,
    building_grid: Option<Uuid>,
    point: Option<GeoPoint>,
    home_grid: Option<Uuid>,
) -> Option<Uuid> {
    building_grid
        .or_else(|| point.and_then(|p| dir.grids.locate(p.lat, p.lng)))
        .or(home_grid)
}

/// The people holding roles in `area` (from the directory), with their open-ticket counts.
pub async fn candidates(
    db: &impl ConnectionTrait,
    dir: &Directory,
    area_id: Uuid,
) -> ServiceResult<Vec<Candidate>> {
    use entity::ticket;
    let holders: Vec<_> = dir.holders(area_id).collect();
    if holders.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<Uuid> = holders.iter().map(|(id, _, _)| *id).collect();
    let open: HashMap<Uuid, i64> = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::AssigneeId)
        .column_as(Expr::col(ticket::Column::Id).count(), "n")
        .filter(ticket::Column::AssigneeId.is_in(ids))
        .filter(super::ticket_status_in(&[
            Status::Assigned,
            Status::InProgress,
        ]))
        .group_by(ticket::Column::AssigneeId)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(holders
        .into_iter()
        .map(|(staff_id, person, role)| Candidate {
            staff_id,
            role: role.assignment.role,
            status: person.status,
            skills: role.skills.clone(),
            department: role.assignment.department.clone(),
            open_tickets: u64::try_from(open.get(&staff_id).copied().unwrap_or(0)).unwrap_or(0),
        })
        .collect())
}

/// Who in `area` (of any level) takes a ticket of this category.
pub async fn person_in(
    db: &impl ConnectionTrait,
    dir: &Directory,
    area_id: Uuid,
    category: &entity::category::Model,
) -> ServiceResult<Option<Uuid>> {
    let cands = candidates(db, dir, area_id).await?;
    Ok(match dir.tree.get(area_id).map(|a| a.kind) {
        Some(AreaKind::Grid) => choose_in_grid(&cands, &category.code),
        Some(AreaKind::Community) => {
            choose_at_level(HandlingLevel::Community, &cands, &category.group_name)
        }
        Some(AreaKind::Street) => {
            choose_at_level(HandlingLevel::Street, &cands, &category.group_name)
        }
        _ => None,
    })
}

/// Where a point is served (SPEC §4): inside a grid, or outside every grid but within
/// `routing.nearest_grid_max_meters` of one (queued at that grid's community).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Served {
    InGrid(Uuid),
    Near { grid: Uuid },
}

/// Where `point` is served, or `422 outside_service_area` naming the nearest grid when it lies
/// farther than `max_meters` from every grid of the deployment.
pub fn served(dir: &Directory, point: GeoPoint, max_meters: f64) -> ServiceResult<Served> {
    if let Some(grid) = dir.grids.locate(point.lat, point.lng) {
        return Ok(Served::InGrid(grid));
    }
    match dir.grids.nearest_with_distance(point.lat, point.lng) {
        Some((grid, meters)) if meters <= max_meters => Ok(Served::Near { grid }),
        nearest => Err(outside_service_area(dir, nearest, max_meters)),
    }
}

fn outside_service_area(
    dir: &Directory,
    nearest: Option<(Uuid, f64)>,
    max_meters: f64,
) -> ServiceError {
    let limit = max_meters / 1000.0;
    let detail = match nearest.and_then(|(grid, m)| Some((dir.tree.get(grid)?, m))) {
        Some((area, meters)) => {
            let served = dir
                .tree
                .enclosing(area.id, AreaKind::Street)
                .map(|s| format!("{}{}", s.name, area.name))
                .unwrap_or_else(|| area.name.clone());
            format!(
                "此位置距最近的受理网格「{served}」约 {:.1} 公里，超出 {limit:.1} 公里的受理范围",
                meters / 1000.0
            )
        }
        None => "本系统尚未划分受理网格".to_owned(),
    };
    ServiceError::rejected(Code::OutsideServiceArea, "location", detail)
}

/// Steps 2–3: the level from the category, then the person at that level.
pub async fn route(
    db: &impl ConnectionTrait,
    dir: &Directory,
    category: &entity::category::Model,
    grid_id: Option<Uuid>,
    point: Option<GeoPoint>,
    nearest_max_meters: f64,
) -> ServiceResult<Destination> {
    let level = category.handling_level;
    let wanted = match level {
        HandlingLevel::Grid => AreaKind::Grid,
        HandlingLevel::Community => AreaKind::Community,
        HandlingLevel::Street => AreaKind::Street,
    };
    let area = match grid_id {
        Some(grid) => dir
            .tree
            .enclosing(grid, wanted)
            .map(|a| a.id)
            .or(Some(grid)),
        None => fallback_area(dir, point, nearest_max_meters, wanted),
    };
    let assignee = match area {
        // Without a grid nobody at grid level can be chosen; a dispatcher must look.
        Some(a) if grid_id.is_some() || wanted != AreaKind::Grid => {
            person_in(db, dir, a, category).await?
        }
        _ => None,
    };
    Ok(Destination {
        grid_id,
        handling_area_id: area,
        assignee_id: assignee,
    })
}

/// A ticket outside every grid waits in the queue of the community of the nearest grid (within
/// the configured distance), else of the street when the deployment has exactly one.
fn fallback_area(
    dir: &Directory,
    point: Option<GeoPoint>,
    max_meters: f64,
    wanted: AreaKind,
) -> Option<Uuid> {
    let near = point.and_then(|p| dir.grids.nearest(p.lat, p.lng, max_meters));
    let queue_kind = if wanted == AreaKind::Street {
        AreaKind::Street
    } else {
        AreaKind::Community
    };
    near.and_then(|g| dir.tree.enclosing(g, queue_kind).map(|a| a.id))
        .or_else(|| {
            let mut streets = dir.tree.streets();
            match (streets.next(), streets.next()) {
                (Some(only), None) => Some(only.id),
                _ => None,
            }
        })
}

/// One level up for an escalation: grid → community → street; `None` at the top.
pub fn level_above(
    dir: &Directory,
    handling_area: Option<Uuid>,
    grid: Option<Uuid>,
) -> Option<Uuid> {
    let current = handling_area.or(grid)?;
    let node = dir.tree.get(current)?;
    let target = match node.kind {
        AreaKind::Grid => AreaKind::Community,
        AreaKind::Community => AreaKind::Street,
        AreaKind::Street | AreaKind::District => return None,
    };
    dir.tree.enclosing(current, target).map(|a| a.id)
}
