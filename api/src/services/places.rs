//! What is where, for a front end: the area tree, boundaries for a map, what is at a point, and
//! buildings. Areas and boundaries come from the in-memory directory; buildings from the
//! database. Area names and boundaries are the deployment's public reference data: every
//! signed-in caller reads them.
use geo::{Distance, Haversine, MapCoords, MultiPolygon, Point};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{
    ServiceError, ServiceResult,
    directory::Directory,
    routing::{Served, served},
};
use crate::{
    domain::{AreaKind, areas::AreaNode, inputs::GeoPoint},
    schemas::{places::*, tickets::AreaRef},
};

/// How deep `GET /areas` may nest.
pub const MAX_DEPTH: u8 = 5;

pub fn area_ref(node: &AreaNode) -> AreaRef {
    AreaRef {
        id: node.id,
        name: node.name.clone(),
        kind: node.kind,
    }
}

fn by_name<'a>(dir: &'a Directory, ids: impl Iterator<Item = &'a Uuid>) -> Vec<&'a AreaNode> {
    let mut nodes: Vec<_> = ids.filter_map(|id| dir.tree.get(*id)).collect();
    nodes.sort_by(|a, b| (&a.code, &a.name).cmp(&(&b.code, &b.name)));
    nodes
}

fn item(dir: &Directory, node: &AreaNode, depth: u8) -> AreaItem {
    let kids = dir.tree.children(node.id);
    AreaItem {
        id: node.id,
        kind: node.kind,
        name: node.name.clone(),
        code: node.code.clone(),
        parent_id: node.parent_id,
        children_count: u32::try_from(kids.len()).unwrap_or(u32::MAX),
        children: if depth > 1 {
            by_name(dir, kids.iter())
                .into_iter()
                .map(|k| item(dir, k, depth - 1))
                .collect()
        } else {
            vec![]
        },
    }
}

/// The areas below `parent` (the tree's roots without one), `depth` levels deep (1–5).
pub fn list_areas(dir: &Directory, parent: Option<Uuid>, depth: u8) -> ServiceResult<AreaList> {
    let depth = depth.clamp(1, MAX_DEPTH);
    let level: Vec<&AreaNode> = match parent {
        Some(id) => {
            dir.tree.get(id).ok_or(ServiceError::NotFound)?;
            by_name(dir, dir.tree.children(id).iter())
        }
        None => {
            let mut roots: Vec<_> = dir.tree.roots().collect();
            roots.sort_by(|a, b| (&a.code, &a.name).cmp(&(&b.code, &b.name)));
            roots
        }
    };
    Ok(AreaList {
        items: level.into_iter().map(|n| item(dir, n, depth)).collect(),
    })
}

fn geometry(shape: &MultiPolygon<f64>, coords: CoordSystem) -> Option<Geometry> {
    let shape = shape.map_coords(|c| {
        let (lat, lng) = coords.convert(c.y, c.x);
        geo::coord! { x: lng, y: lat }
    });
    let value = geojson::GeometryValue::from(&shape);
    let json = serde_json::to_value(geojson::Geometry::new(value)).ok()?;
    Some(Geometry {
        kind: json["type"].as_str().unwrap_or("MultiPolygon").to_owned(),
        coordinates: json["coordinates"].clone(),
    })
}

fn feature(dir: &Directory, node: &AreaNode, coords: CoordSystem) -> AreaFeature {
    let shape = match node.kind {
        AreaKind::Grid => dir.grids.shape(node.id).cloned(),
        _ => {
            let polygons: Vec<_> = grids_below(dir, node.id)
                .filter_map(|g| dir.grids.shape(g.id))
                .flat_map(|mp| mp.0.iter().cloned())
                .collect();
            (!polygons.is_empty()).then(|| MultiPolygon::new(polygons))
        }
    };
    AreaFeature {
        kind: "Feature".into(),
        geometry: shape.as_ref().and_then(|s| geometry(s, coords)),
        properties: AreaProperties {
            id: node.id,
            kind: node.kind,
            name: node.name.clone(),
            code: node.code.clone(),
            community: (node.kind == AreaKind::Grid)
                .then(|| dir.tree.enclosing(node.id, AreaKind::Community))
                .flatten()
                .map(area_ref),
            coord_system: coords,
        },
    }
}

fn grids_below(dir: &Directory, area: Uuid) -> impl Iterator<Item = &AreaNode> {
    by_name(
        dir,
        dir.tree
            .subtree(area)
            .iter()
            .filter_map(|id| dir.tree.get(*id))
            .filter(|n| n.kind == AreaKind::Grid)
            .map(|n| &n.id)
            .collect::<Vec<_>>()
            .into_iter(),
    )
    .into_iter()
}

/// The boundary of one area as a GeoJSON Feature.
pub fn boundary(dir: &Directory, id: Uuid, coords: CoordSystem) -> ServiceResult<AreaFeature> {
    let node = dir.tree.get(id).ok_or(ServiceError::NotFound)?;
    Ok(feature(dir, node, coords))
}

/// The grids below `area` (every grid without one) as a GeoJSON FeatureCollection.
pub fn grids_geojson(
    dir: &Directory,
    area: Option<Uuid>,
    coords: CoordSystem,
) -> ServiceResult<AreaFeatureCollection> {
    let grids: Vec<&AreaNode> = match area {
        Some(id) => {
            dir.tree.get(id).ok_or(ServiceError::NotFound)?;
            grids_below(dir, id).collect()
        }
        None => {
            let mut all: Vec<_> = dir
                .tree
                .all()
                .filter(|n| n.kind == AreaKind::Grid)
                .collect();
            all.sort_by(|a, b| (&a.code, &a.name).cmp(&(&b.code, &b.name)));
            all
        }
    };
    Ok(AreaFeatureCollection {
        kind: "FeatureCollection".into(),
        features: grids.into_iter().map(|g| feature(dir, g, coords)).collect(),
    })
}

pub fn category_item(c: &entity::category::Model, day_minutes: i64) -> CategoryItem {
    CategoryItem {
        code: c.code.clone(),
        name: c.name.clone(),
        group: c.group_name.clone(),
        description: c.description.clone(),
        sla_text: crate::domain::promise::sla_text(
            c.response_minutes,
            c.resolution_hours,
            c.sla_mode,
            day_minutes,
        ),
    }
}

/// What is at `point`: its grid, community and street, the categories a resident may choose,
/// and the nearest buildings; outside the service area, the nearest served grid.
pub async fn at(
    db: &impl ConnectionTrait,
    dir: &Directory,
    point: GeoPoint,
    max_meters: f64,
    day_minutes: i64,
    coords: CoordSystem,
) -> ServiceResult<PlaceAt> {
    let (grid, nearest) = match served(dir, point, max_meters) {
        Ok(Served::InGrid(g) | Served::Near { grid: g }) => (Some(g), None),
        Err(ServiceError::Rejected { .. }) => {
            (None, dir.grids.nearest_with_distance(point.lat, point.lng))
        }
        Err(other) => return Err(other),
    };
    let enclosing = |kind| grid.and_then(|g| dir.tree.enclosing(g, kind)).map(area_ref);
    let categories = if grid.is_some() {
        dir.categories_listed()
            .into_iter()
            .map(|c| category_item(c, day_minutes))
            .collect()
    } else {
        vec![]
    };
    let nearest_buildings = if grid.is_some() {
        nearest_buildings(db, dir, point, coords).await?
    } else {
        vec![]
    };
    Ok(PlaceAt {
        served: grid.is_some(),
        grid: enclosing(AreaKind::Grid),
        community: enclosing(AreaKind::Community),
        street: enclosing(AreaKind::Street),
        nearest: nearest.and_then(|(g, meters)| {
            let node = dir.tree.get(g)?;
            Some(NearestArea {
                grid: area_ref(node),
                street: dir.tree.enclosing(g, AreaKind::Street).map(area_ref),
                distance_meters: meters.round(),
            })
        }),
        categories,
        nearest_buildings,
    })
}

/// About 600 m in latitude and (at Chinese latitudes) in longitude: where nearby buildings are
/// looked for.
const NEAR_DEGREES: f64 = 0.006;

async fn nearest_buildings(
    db: &impl ConnectionTrait,
    dir: &Directory,
    point: GeoPoint,
    coords: CoordSystem,
) -> ServiceResult<Vec<BuildingItem>> {
    use entity::building::Column as B;
    let rows = entity::building::Entity::find()
        .filter(B::Lat.between(point.lat - NEAR_DEGREES, point.lat + NEAR_DEGREES))
        .filter(B::Lng.between(point.lng - NEAR_DEGREES, point.lng + NEAR_DEGREES))
        .limit(500)
        .all(db)
        .await?;
    let here = Point::new(point.lng, point.lat);
    let mut near: Vec<(f64, entity::building::Model)> = rows
        .into_iter()
        .filter_map(|b| {
            let there = Point::new(b.lng?, b.lat?);
            Some((Haversine.distance(here, there), b))
        })
        .collect();
    near.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(near
        .into_iter()
        .take(5)
        .filter_map(|(d, b)| {
            let mut item = building_item(dir, b, coords)?;
            item.distance_meters = Some(d.round());
            Some(item)
        })
        .collect())
}

fn building_item(
    dir: &Directory,
    b: entity::building::Model,
    coords: CoordSystem,
) -> Option<BuildingItem> {
    Some(BuildingItem {
        grid: area_ref(dir.tree.get(b.grid_id)?),
        location: b.lat.zip(b.lng).map(|(lat, lng)| coords.point(lat, lng)),
        id: b.id,
        name: b.name,
        address: b.address,
        distance_meters: None,
    })
}

/// Buildings of a grid, or whose name or address contains `q` (both: within the grid), by
/// name; at most `limit`.
pub async fn buildings(
    db: &impl ConnectionTrait,
    dir: &Directory,
    grid: Option<Uuid>,
    q: Option<&str>,
    limit: u64,
    coords: CoordSystem,
) -> ServiceResult<BuildingList> {
    use entity::building::Column as B;
    use sea_orm::Condition;
    let mut find = entity::building::Entity::find();
    if let Some(g) = grid {
        if dir.tree.get(g).is_none() {
            return Err(ServiceError::NotFound);
        }
        find = find.filter(B::GridId.eq(g));
    }
    if let Some(q) = q {
        find = find.filter(
            Condition::any()
                .add(B::Name.like(super::contains_pattern(q)))
                .add(B::Address.like(super::contains_pattern(q))),
        );
    }
    let rows = find
        .order_by_asc(B::Name)
        .order_by_asc(B::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(BuildingList {
        items: rows
            .into_iter()
            .filter_map(|b| building_item(dir, b, coords))
            .collect(),
    })
}
