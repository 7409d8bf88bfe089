//! What is where, for a front end: the area tree, boundaries, what is at a point, buildings,
//! and the people in a staff member's scope. Any signed-in caller reads areas and buildings
//! (the deployment's public reference data); people only staff, within their scope.
use poem_openapi::{OpenApi, param::Path, param::Query, payload::Json};
use uuid::Uuid;

use super::{
    ApiResult, Tag,
    auth::{CallerAuth, StaffAuth},
};
use crate::{
    domain::{StaffRole, inputs::GeoPoint},
    schemas::places::*,
    services::{self, ServiceError},
    state::SharedState,
};

pub struct PlacesApi {
    pub state: SharedState,
}

/// Up to 64 characters of search text; blank means none.
fn search(q: Option<String>) -> Result<Option<String>, ServiceError> {
    Ok(super::text_opt("q", q.as_deref(), 64)?.map(|t| t.into_inner()))
}

#[OpenApi(tag = "Tag::Places")]
impl PlacesApi {
    /// The area tree of the deployment (district, street, community, grid): the areas below
    /// `parent_id` (the tree's roots without it), `depth` levels deep (1–5, default 1), each
    /// with its code and how many areas it has below. `404` for an unknown `parent_id`.
    #[oai(path = "/areas", method = "get")]
    async fn areas(
        &self,
        _auth: CallerAuth,
        parent_id: Query<Option<Uuid>>,
        depth: Query<Option<u8>>,
    ) -> ApiResult<Json<AreaList>> {
        let depth = depth.0.unwrap_or(1);
        if !(1..=services::places::MAX_DEPTH).contains(&depth) {
            return Err(ServiceError::rejected(
                crate::error::Code::InvalidField,
                "depth",
                crate::error::bi("depth 须为 1 至 5", "depth must be 1 to 5"),
            )
            .into());
        }
        let dir = self.state.ctx().dir().await?;
        Ok(Json(services::places::list_areas(
            &dir,
            parent_id.0,
            depth,
        )?))
    }

    /// One area's boundary as a GeoJSON Feature (a community's or street's: its grids'
    /// polygons), in WGS-84 or GCJ-02 (`coord_system=gcj02`, for WeChat's `<map>`).
    #[oai(path = "/areas/:id/boundary", method = "get")]
    async fn boundary(
        &self,
        _auth: CallerAuth,
        id: Path<Uuid>,
        coord_system: Query<Option<CoordSystem>>,
    ) -> ApiResult<Json<AreaFeature>> {
        let dir = self.state.ctx().dir().await?;
        Ok(Json(services::places::boundary(
            &dir,
            id.0,
            CoordSystem::or_default(coord_system.0),
        )?))
    }

    /// The grids below `area_id` (every grid of the deployment without it) as a GeoJSON
    /// FeatureCollection, for a map.
    #[oai(path = "/areas/geojson", method = "get")]
    async fn geojson(
        &self,
        _auth: CallerAuth,
        area_id: Query<Option<Uuid>>,
        coord_system: Query<Option<CoordSystem>>,
    ) -> ApiResult<Json<AreaFeatureCollection>> {
        let dir = self.state.ctx().dir().await?;
        Ok(Json(services::places::grids_geojson(
            &dir,
            area_id.0,
            CoordSystem::or_default(coord_system.0),
        )?))
    }

    /// What is at a point (`coord_system` says its datum; WGS-84 by default): its grid,
    /// community and street, the categories a resident may choose there in display order, and
    /// up to 5 nearest buildings. Outside the service area: `served: false` and the nearest
    /// served grid with its distance.
    #[oai(path = "/areas/at", method = "get")]
    async fn at(
        &self,
        _auth: CallerAuth,
        lat: Query<f64>,
        lng: Query<f64>,
        coord_system: Query<Option<CoordSystem>>,
    ) -> ApiResult<Json<PlaceAt>> {
        let coords = CoordSystem::or_default(coord_system.0);
        let given = match coords {
            CoordSystem::Wgs84 => crate::domain::inputs::CoordSystem::Wgs84,
            CoordSystem::Gcj02 => crate::domain::inputs::CoordSystem::Gcj02,
        };
        let point = GeoPoint::parse(lat.0, lng.0, given).map_err(ServiceError::from)?;
        let ctx = self.state.ctx();
        let dir = ctx.dir().await?;
        Ok(Json(
            services::places::at(
                ctx.db,
                &dir,
                point,
                ctx.settings.routing.nearest_grid_max_meters,
                ctx.calendar.minutes_per_day(),
                coords,
            )
            .await?,
        ))
    }

    /// Buildings of a grid (`grid_id`) or whose name or address contains `q` (both: within
    /// the grid), by name, at most `limit` (default 50, at most 200): residents pick their home
    /// here, staff the building of a visit. One of `grid_id` and `q` is required.
    #[oai(path = "/buildings", method = "get")]
    async fn buildings(
        &self,
        _auth: CallerAuth,
        grid_id: Query<Option<Uuid>>,
        q: Query<Option<String>>,
        limit: Query<Option<u64>>,
        coord_system: Query<Option<CoordSystem>>,
    ) -> ApiResult<Json<BuildingList>> {
        let q = search(q.0)?;
        if grid_id.0.is_none() && q.is_none() {
            return Err(ServiceError::rejected(
                crate::error::Code::InvalidField,
                "grid_id",
                crate::error::bi("请给出 grid_id 或 q", "give grid_id or q"),
            )
            .into());
        }
        let ctx = self.state.ctx();
        let dir = ctx.dir().await?;
        Ok(Json(
            services::places::buildings(
                ctx.db,
                &dir,
                grid_id.0,
                q.as_deref(),
                limit.0.unwrap_or(50).clamp(1, 200),
                CoordSystem::or_default(coord_system.0),
            )
            .await?,
        ))
    }

    /// The people in the caller's scope (holding a role in an area they see; within
    /// `area_id` when given, `404` outside their sight), of `role`, whose name
    /// contains `q`, by name, with the open tickets each holds and their roles within the
    /// caller's sight: for transfer and assignment.
    /// At most 200; staff who have left are not listed.
    #[oai(path = "/staff", method = "get", tag = "Tag::Work")]
    async fn staff(
        &self,
        auth: StaffAuth,
        area_id: Query<Option<Uuid>>,
        role: Query<Option<StaffRole>>,
        q: Query<Option<String>>,
    ) -> ApiResult<Json<StaffList>> {
        let q = search(q.0)?;
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let dir = ctx.dir().await?;
        Ok(Json(
            services::people::in_scope(&ctx, &dir, &scope, area_id.0, role.0, q.as_deref()).await?,
        ))
    }
}
