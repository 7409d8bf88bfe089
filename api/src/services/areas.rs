//! Areas of the grid-management tree and their buildings: create, change, delete, import.
use super::audit::{self, Target};
use chrono::{DateTime, Utc};
use geo::{Contains, CoordsIter, Intersects, MultiPolygon, Point, Validation};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set, sea_query::ExprTrait,
};
use serde_json::Value;
use serde_json::json;
use uuid::Uuid;

use super::{ServiceError, ServiceResult, directory};
use crate::{
    domain::{
        AreaKind,
        inputs::{CoordSystem, GeoPoint, Text},
    },
    error::Code,
};

pub struct NewArea {
    pub kind: AreaKind,
    pub name: Text,
    pub parent_id: Option<Uuid>,
    pub code: Option<Text>,
    pub boundary: Option<Value>,
}

#[derive(Default)]
pub struct AreaChanges {
    pub name: Option<Text>,
    pub code: Option<Text>,
    pub parent_id: Option<Uuid>,
    pub boundary: Option<Value>,
}

/// A boundary as stored: GeoJSON text that passed [`parse_boundary`].
pub fn parse_stored_boundary(text: &str) -> Option<MultiPolygon<f64>> {
    let value: Value = serde_json::from_str(text).ok()?;
    parse_boundary(&value).ok()
}

/// The most positions a boundary may have.
pub const MAX_BOUNDARY_POINTS: usize = 5_000;

/// A GeoJSON Polygon or MultiPolygon (WGS-84, holes allowed) that is a valid area.
pub fn parse_boundary(value: &Value) -> ServiceResult<MultiPolygon<f64>> {
    let bad = |why: &str| ServiceError::rejected(Code::InvalidBoundary, "boundary", why);
    let geometry: geojson::Geometry = serde_json::from_value(value.clone()).map_err(|e| {
        bad(&crate::error::bi(
            format_args!("不是 GeoJSON 几何对象：{e}"),
            format_args!("not a GeoJSON geometry: {e}"),
        ))
    })?;
    let shape =
        match geo::Geometry::<f64>::try_from(&geometry.value).map_err(|e| bad(&e.to_string()))? {
            geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
            geo::Geometry::MultiPolygon(mp) => mp,
            _ => {
                return Err(bad(&crate::error::bi(
                    "须为 Polygon 或 MultiPolygon",
                    "must be a Polygon or MultiPolygon",
                )));
            }
        };
    if shape.0.is_empty() || shape.0.iter().any(|p| p.exterior().0.len() < 4) {
        return Err(bad(&crate::error::bi(
            "每个环至少需要四个坐标点",
            "every ring needs at least four positions",
        )));
    }
    // Validity checking grows with the square of the points: a street's grid needs hundreds,
    // never tens of thousands.
    if shape.coords_count() > MAX_BOUNDARY_POINTS {
        return Err(bad(&crate::error::bi(
            format_args!("边界最多 {MAX_BOUNDARY_POINTS} 个坐标点，请先简化"),
            format_args!("at most {MAX_BOUNDARY_POINTS} positions; simplify the boundary first"),
        )));
    }
    if shape
        .coords_iter()
        .any(|c| !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y))
    {
        return Err(bad(&crate::error::bi(
            "坐标须为 WGS-84 的 [经度, 纬度]",
            "coordinates must be [longitude, latitude] in WGS-84",
        )));
    }
    if let Err(e) = shape.check_validation() {
        return Err(bad(&crate::error::bi(
            format_args!("多边形无效：{e}"),
            format_args!("invalid polygon: {e}"),
        )));
    }
    Ok(shape)
}

async fn check_parent(
    db: &impl ConnectionTrait,
    kind: AreaKind,
    parent_id: Option<Uuid>,
) -> ServiceResult<()> {
    match parent_id {
        None if kind.may_be_root() => Ok(()),
        None => Err(ServiceError::rejected(
            Code::InvalidParent,
            "parent_id",
            crate::error::bi(
                format_args!("{kind} 需要上级区域"),
                format_args!("a {kind} needs a parent"),
            ),
        )),
        Some(pid) => {
            let parent = entity::area::Entity::find_by_id(pid)
                .one(db)
                .await?
                .ok_or_else(|| {
                    ServiceError::rejected(
                        Code::UnknownArea,
                        "parent_id",
                        crate::error::bi("没有这个区域", "no such area"),
                    )
                })?;
            if kind.parent_kinds().contains(&parent.kind) {
                Ok(())
            } else {
                Err(ServiceError::rejected(
                    Code::InvalidParent,
                    "parent_id",
                    crate::error::bi(
                        format_args!("{kind} 不能隶属于 {}", parent.kind),
                        format_args!("a {kind} cannot sit under a {}", parent.kind),
                    ),
                ))
            }
        }
    }
}

pub async fn create(
    db: &DatabaseConnection,
    new: NewArea,
    at: DateTime<Utc>,
) -> ServiceResult<entity::area::Model> {
    let txn = super::write_txn(db).await?;
    check_parent(&txn, new.kind, new.parent_id).await?;
    let boundary = match &new.boundary {
        Some(v) => {
            parse_boundary(v)?;
            Some(v.to_string())
        }
        None => None,
    };
    let model = entity::area::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(new.kind),
        name: Set(new.name.into_inner()),
        parent_id: Set(new.parent_id),
        code: Set(new.code.map(Text::into_inner)),
        boundary: Set(boundary),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        "area.create",
        Target::new("area", model.id),
        json!({"name": model.name, "kind": model.kind.as_str(), "parent_id": model.parent_id, "code": model.code}),
        at,
    )
    .await?;
    directory::bump(&txn).await?;
    txn.commit().await?;
    Ok(model)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> ServiceResult<entity::area::Model> {
    entity::area::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)
}

pub async fn list(
    db: &impl ConnectionTrait,
    parent_id: Option<Uuid>,
) -> ServiceResult<Vec<entity::area::Model>> {
    let mut q = entity::area::Entity::find()
        .order_by_asc(entity::area::Column::Code)
        .order_by_asc(entity::area::Column::Name);
    q = match parent_id {
        Some(p) => q.filter(entity::area::Column::ParentId.eq(p)),
        None => q.filter(entity::area::Column::ParentId.is_null()),
    };
    Ok(q.all(db).await?)
}

pub async fn update(
    db: &DatabaseConnection,
    id: Uuid,
    changes: AreaChanges,
    at: DateTime<Utc>,
) -> ServiceResult<entity::area::Model> {
    let txn = super::write_txn(db).await?;
    let current = get(&txn, id).await?;
    let kind = current.kind;
    let mut am = current.into_active_model();
    if let Some(name) = changes.name {
        am.name = Set(name.into_inner());
    }
    if let Some(code) = changes.code {
        am.code = Set(Some(code.into_inner()));
    }
    if let Some(parent) = changes.parent_id {
        if parent == id {
            return Err(ServiceError::rejected(
                Code::InvalidParent,
                "parent_id",
                crate::error::bi("区域不能以自己为上级", "an area cannot be its own parent"),
            ));
        }
        check_parent(&txn, kind, Some(parent)).await?;
        am.parent_id = Set(Some(parent));
    }
    let boundary_changed = changes.boundary.is_some();
    if let Some(boundary) = changes.boundary {
        parse_boundary(&boundary)?;
        am.boundary = Set(Some(boundary.to_string()));
    }
    am.updated_at = Set(at);
    let model = am.update(&txn).await?;
    audit::record(
        &txn,
        "area.update",
        Target::new("area", model.id),
        json!({"name": model.name, "parent_id": model.parent_id, "code": model.code, "boundary_changed": boundary_changed}),
        at,
    )
    .await?;
    directory::bump(&txn).await?;
    txn.commit().await?;
    Ok(model)
}

/// Deletes an area nothing refers to; anything with children, buildings, staff or tickets stays.
pub async fn delete(db: &DatabaseConnection, id: Uuid) -> ServiceResult<()> {
    use entity::{area, building, staff_assignment, ticket};
    let txn = super::write_txn(db).await?;
    get(&txn, id).await?;
    let in_use = area::Entity::find()
        .filter(area::Column::ParentId.eq(id))
        .count(&txn)
        .await?
        > 0
        || building::Entity::find()
            .filter(building::Column::GridId.eq(id))
            .count(&txn)
            .await?
            > 0
        || staff_assignment::Entity::find()
            .filter(staff_assignment::Column::AreaId.eq(id))
            .count(&txn)
            .await?
            > 0
        || ticket::Entity::find()
            .filter(
                ticket::Column::GridId
                    .eq(id)
                    .or(ticket::Column::HandlingAreaId.eq(id)),
            )
            .count(&txn)
            .await?
            > 0;
    if in_use {
        return Err(ServiceError::Rejected {
            code: Code::AreaInUse,
            field: None,
            detail: Some(crate::error::bi(
                "该区域下仍有下级区域、楼栋、工作人员或工单",
                "it still has child areas, buildings, staff or tickets",
            )),
        });
    }
    area::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        "area.delete",
        Target::new("area", id),
        json!({}),
        chrono::Utc::now(),
    )
    .await?;
    directory::bump(&txn).await?;
    txn.commit().await?;
    Ok(())
}

pub struct NewBuilding {
    pub name: Text,
    pub grid_id: Uuid,
    pub address: Option<Text>,
    pub location: Option<GeoPoint>,
}

pub async fn create_building(
    db: &DatabaseConnection,
    new: NewBuilding,
    at: DateTime<Utc>,
) -> ServiceResult<entity::building::Model> {
    let txn = super::write_txn(db).await?;
    let grid = entity::area::Entity::find_by_id(new.grid_id)
        .one(&txn)
        .await?
        .ok_or_else(|| {
            ServiceError::rejected(
                Code::UnknownArea,
                "grid_id",
                crate::error::bi("没有这个区域", "no such area"),
            )
        })?;
    if grid.kind != AreaKind::Grid {
        return Err(ServiceError::rejected(
            Code::NotAGrid,
            "grid_id",
            format!("{} is a {}", grid.name, grid.kind),
        ));
    }
    if let (Some(point), Some(shape)) = (
        new.location,
        grid.boundary.as_deref().and_then(parse_stored_boundary),
    ) {
        let p = Point::new(point.lng, point.lat);
        if !shape.contains(&p) && !shape.intersects(&p) {
            return Err(ServiceError::rejected(
                Code::BuildingOutsideGrid,
                "location",
                crate::error::bi(
                    format_args!("该点不在网格「{}」内", grid.name),
                    format_args!("the point lies outside grid {}", grid.name),
                ),
            ));
        }
    }
    let model = entity::building::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(new.name.into_inner()),
        grid_id: Set(new.grid_id),
        address: Set(new.address.map(Text::into_inner)),
        lat: Set(new.location.map(|p| p.lat)),
        lng: Set(new.location.map(|p| p.lng)),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        "building.create",
        Target::new("building", model.id),
        json!({"name": model.name, "grid_id": model.grid_id}),
        at,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// One feature of an import, read and checked: what it will create or update.
pub struct ImportFeature {
    pub kind: AreaKind,
    pub name: Text,
    /// The key for updates.
    pub code: String,
    pub parent_code: Option<String>,
    /// The boundary as GeoJSON text and as a shape, when the feature has a geometry.
    pub boundary: Option<(String, MultiPolygon<f64>)>,
}

/// Reads a GeoJSON FeatureCollection of areas without touching the database: each feature's
/// properties give `kind`, `name`, `code` (required) and `parent_code`, its geometry the
/// boundary. The administrator's preview and the import itself read it the same way.
pub fn read_import(text: &str) -> ServiceResult<Vec<ImportFeature>> {
    let bad = |why: String| ServiceError::rejected(Code::InvalidBody, "features", why);
    let fc: geojson::FeatureCollection = serde_json::from_str(text).map_err(|e| {
        bad(crate::error::bi(
            format_args!("不是 FeatureCollection：{e}"),
            format_args!("not a FeatureCollection: {e}"),
        ))
    })?;
    let mut features = Vec::with_capacity(fc.features.len());
    for (i, feature) in fc.features.iter().enumerate() {
        let props = feature.properties.clone().unwrap_or_default();
        let prop = |k: &str| props.get(k).and_then(Value::as_str).map(str::to_owned);
        let code = prop("code").ok_or_else(|| {
            bad(crate::error::bi(
                format_args!("第 {i} 个要素缺少 properties.code"),
                format_args!("feature {i}: properties.code is required"),
            ))
        })?;
        let code = Text::parse("code", &code, 64)?.into_inner();
        let kind = prop("kind")
            .and_then(|k| AreaKind::parse(&k))
            .ok_or_else(|| {
                bad(crate::error::bi(
                    format_args!(
                        "第 {i} 个要素：properties.kind 须为 district、street、community 或 grid"
                    ),
                    format_args!(
                        "feature {i}: properties.kind must be district, street, community or grid"
                    ),
                ))
            })?;
        let name = Text::parse("name", &prop("name").unwrap_or_default(), 100)?;
        let boundary = match &feature.geometry {
            Some(g) => {
                let v =
                    serde_json::to_value(g).map_err(|e| ServiceError::Internal(e.to_string()))?;
                let shape = parse_boundary(&v)?;
                Some((v.to_string(), shape))
            }
            None => None,
        };
        features.push(ImportFeature {
            kind,
            name,
            code,
            parent_code: prop("parent_code"),
            boundary,
        });
    }
    Ok(features)
}

/// Imports a GeoJSON FeatureCollection of areas (see [`read_import`]). Features are applied in
/// order, so parents come first; an existing code is updated. Returns (created, updated).
pub async fn import_feature_collection(
    db: &DatabaseConnection,
    text: &str,
    at: DateTime<Utc>,
) -> ServiceResult<(usize, usize)> {
    let bad = |why: String| ServiceError::rejected(Code::InvalidBody, "features", why);
    let features = read_import(text)?;
    let txn = super::write_txn(db).await?;
    let (mut created, mut updated) = (0, 0);
    let codes: Vec<String> = features.iter().map(|f| f.code.clone()).collect();
    for (i, feature) in features.into_iter().enumerate() {
        let parent_id = match &feature.parent_code {
            Some(pc) => Some(
                entity::area::Entity::find()
                    .filter(entity::area::Column::Code.eq(pc.clone()))
                    .one(&txn)
                    .await?
                    .ok_or_else(|| {
                        bad(crate::error::bi(
                            format_args!("第 {i} 个要素：没有编码为 {pc} 的区域"),
                            format_args!("feature {i}: no area with code {pc}"),
                        ))
                    })?
                    .id,
            ),
            None => None,
        };
        if feature.parent_code.as_deref() == Some(feature.code.as_str()) {
            return Err(bad(crate::error::bi(
                format_args!("第 {i} 个要素：区域不能是自己的上级"),
                format_args!("feature {i}: an area cannot be its own parent"),
            )));
        }
        check_parent(&txn, feature.kind, parent_id).await?;
        let boundary = feature.boundary.map(|(text, _)| text);
        match entity::area::Entity::find()
            .filter(entity::area::Column::Code.eq(feature.code.clone()))
            .one(&txn)
            .await?
        {
            // An area keeps its level: a grid turned street would leave its tickets and
            // workers hanging in the tree.
            Some(existing) if existing.kind != feature.kind => {
                return Err(bad(crate::error::bi(
                    format_args!(
                        "第 {i} 个要素：编码 {} 已是{}，不能改为其他层级",
                        feature.code,
                        existing.kind.as_str()
                    ),
                    format_args!(
                        "feature {i}: {} is a {} and keeps its level",
                        feature.code,
                        existing.kind.as_str()
                    ),
                )));
            }
            Some(existing) => {
                let mut am = existing.into_active_model();
                am.name = Set(feature.name.into_inner());
                am.parent_id = Set(parent_id);
                am.boundary = Set(boundary);
                am.updated_at = Set(at);
                am.update(&txn).await?;
                updated += 1;
            }
            None => {
                entity::area::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    kind: Set(feature.kind),
                    name: Set(feature.name.into_inner()),
                    parent_id: Set(parent_id),
                    code: Set(Some(feature.code)),
                    boundary: Set(boundary),
                    created_at: Set(at),
                    updated_at: Set(at),
                }
                .insert(&txn)
                .await?;
                created += 1;
            }
        }
    }
    audit::record(
        &txn,
        "area.import",
        Target {
            kind: "area",
            id: None,
        },
        json!({"created": created, "updated": updated, "codes": codes}),
        at,
    )
    .await?;
    directory::bump(&txn).await?;
    txn.commit().await?;
    Ok((created, updated))
}

/// The codes of the areas that exist, of those asked: which features of an import update.
pub async fn existing_codes(
    db: &impl ConnectionTrait,
    codes: Vec<String>,
) -> ServiceResult<std::collections::HashSet<String>> {
    let mut found = std::collections::HashSet::new();
    for chunk in codes.chunks(500) {
        let rows = entity::area::Entity::find()
            .filter(entity::area::Column::Code.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        found.extend(rows.into_iter().filter_map(|a| a.code));
    }
    Ok(found)
}

/// Parses a client location into WGS-84.
pub fn location(lat: f64, lng: f64, coord_system: Option<&str>) -> ServiceResult<GeoPoint> {
    Ok(GeoPoint::parse(
        lat,
        lng,
        CoordSystem::parse(coord_system)?,
    )?)
}

/// A building by id; `422 unknown_building` (naming `building_id`) when there is none.
pub async fn building(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> ServiceResult<entity::building::Model> {
    entity::building::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| {
            ServiceError::rejected(
                Code::UnknownBuilding,
                "building_id",
                crate::error::bi("没有这个楼栋", "no such building"),
            )
        })
}
