//! Bodies of what a front end looks up: areas, boundaries, what is at a point, buildings, the
//! people in one's scope, and who the caller is.
use std::collections::HashMap;

use poem_openapi::{Enum, Object};
use uuid::Uuid;

use super::{admin::Point, tickets::AreaRef};
use crate::domain::{AreaKind, StaffRole, StaffStatus, coords};

/// The datum of coordinates in a response: `wgs84` (what is stored, the default) or `gcj02`
/// (what WeChat's `<map>` and Chinese maps draw in).
#[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum CoordSystem {
    #[default]
    Wgs84,
    Gcj02,
}

impl CoordSystem {
    /// A stored WGS-84 `(lat, lng)` in this datum.
    pub fn convert(self, lat: f64, lng: f64) -> (f64, f64) {
        match self {
            CoordSystem::Wgs84 => (lat, lng),
            CoordSystem::Gcj02 => coords::wgs84_to_gcj02(lat, lng),
        }
    }

    pub fn point(self, lat: f64, lng: f64) -> Point {
        let (lat, lng) = self.convert(lat, lng);
        Point { lat, lng }
    }

    /// Every `[lng, lat]` pair of a GeoJSON value (a geometry, feature or collection) in
    /// this datum.
    pub fn convert_geojson(self, value: &mut serde_json::Value) {
        if self == CoordSystem::Wgs84 {
            return;
        }
        match value {
            serde_json::Value::Array(items) => {
                if let [serde_json::Value::Number(x), serde_json::Value::Number(y)] =
                    items.as_slice()
                    && let (Some(lng), Some(lat)) = (x.as_f64(), y.as_f64())
                {
                    let (lat, lng) = self.convert(lat, lng);
                    *value = serde_json::json!([lng, lat]);
                } else {
                    items.iter_mut().for_each(|v| self.convert_geojson(v));
                }
            }
            serde_json::Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if key != "properties" {
                        self.convert_geojson(v);
                    }
                }
            }
            _ => {}
        }
    }

    /// Each `location: {lat, lng}` of a rendered page of tickets (`items`) in this datum.
    pub fn convert_page(self, body: bytes::Bytes) -> bytes::Bytes {
        if self == CoordSystem::Wgs84 {
            return body;
        }
        let Ok(mut page) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return body;
        };
        for item in page["items"].as_array_mut().into_iter().flatten() {
            let loc = &mut item["location"];
            if let (Some(lat), Some(lng)) = (loc["lat"].as_f64(), loc["lng"].as_f64()) {
                let (lat, lng) = self.convert(lat, lng);
                *loc = serde_json::json!({"lat": lat, "lng": lng});
            }
        }
        serde_json::to_vec(&page).map(Into::into).unwrap_or(body)
    }

    /// The datum of a request's `coord_system`, absent meaning WGS-84.
    pub fn or_default(param: Option<CoordSystem>) -> CoordSystem {
        param.unwrap_or_default()
    }
}

#[derive(Object)]
pub struct AreaItem {
    pub id: Uuid,
    pub kind: AreaKind,
    pub name: String,
    #[oai(nullable)]
    pub code: Option<String>,
    #[oai(nullable)]
    pub parent_id: Option<Uuid>,
    pub children_count: u32,
    /// The areas below, down to the `depth` asked for (empty below it; see `children_count`).
    pub children: Vec<AreaItem>,
}

#[derive(Object)]
pub struct AreaList {
    pub items: Vec<AreaItem>,
}

/// GeoJSON geometry (RFC 7946 shape; coordinates in the datum asked for).
#[derive(Object)]
pub struct Geometry {
    /// `Polygon` or `MultiPolygon`.
    #[oai(rename = "type")]
    pub kind: String,
    /// `[[[lng, lat], ...]]` rings, as GeoJSON orders them.
    pub coordinates: serde_json::Value,
}

#[derive(Object)]
pub struct AreaProperties {
    pub id: Uuid,
    pub kind: AreaKind,
    pub name: String,
    #[oai(nullable)]
    pub code: Option<String>,
    /// The community a grid belongs to.
    #[oai(nullable)]
    pub community: Option<AreaRef>,
    /// `wgs84` or `gcj02`: the datum of `geometry`.
    pub coord_system: CoordSystem,
}

/// A GeoJSON Feature: an area and its boundary (a community's or street's is the union of its
/// grids' polygons; null when none has one).
#[derive(Object)]
pub struct AreaFeature {
    /// Always `Feature`.
    #[oai(rename = "type")]
    pub kind: String,
    #[oai(nullable)]
    pub geometry: Option<Geometry>,
    pub properties: AreaProperties,
}

#[derive(Object)]
pub struct AreaFeatureCollection {
    /// Always `FeatureCollection`.
    #[oai(rename = "type")]
    pub kind: String,
    pub features: Vec<AreaFeature>,
}

#[derive(Object)]
pub struct CategoryItem {
    pub code: String,
    pub name: String,
    pub group: String,
    #[oai(nullable)]
    pub description: Option<String>,
    /// The promise to the resident, e.g. `2小时内响应，3个工作日内办结`.
    pub sla_text: String,
}

#[derive(Object)]
pub struct BuildingItem {
    pub id: Uuid,
    pub name: String,
    #[oai(nullable)]
    pub address: Option<String>,
    pub grid: AreaRef,
    #[oai(nullable)]
    pub location: Option<Point>,
    /// From the point asked about (`GET /areas/at` only), to the metre.
    #[oai(skip_serializing_if_is_none)]
    pub distance_meters: Option<f64>,
}

#[derive(Object)]
pub struct BuildingList {
    pub items: Vec<BuildingItem>,
}

/// What is at a point: where a resident stands, before they submit.
#[derive(Object)]
pub struct PlaceAt {
    /// false: outside the service area (`nearest` names the nearest served grid).
    pub served: bool,
    /// The grid containing the point, or the nearest one when the point is near but outside.
    #[oai(nullable)]
    pub grid: Option<AreaRef>,
    #[oai(nullable)]
    pub community: Option<AreaRef>,
    #[oai(nullable)]
    pub street: Option<AreaRef>,
    /// Outside the service area: the nearest served grid and how far it is.
    #[oai(nullable)]
    pub nearest: Option<NearestArea>,
    /// The categories a resident may choose here, in display order (none when not served).
    pub categories: Vec<CategoryItem>,
    /// Up to 5 buildings with a known point, nearest first.
    pub nearest_buildings: Vec<BuildingItem>,
}

#[derive(Object)]
pub struct NearestArea {
    pub grid: AreaRef,
    #[oai(nullable)]
    pub street: Option<AreaRef>,
    pub distance_meters: f64,
}

#[derive(Object)]
pub struct RoleItem {
    pub role: StaffRole,
    #[oai(nullable)]
    pub area: Option<AreaRef>,
    #[oai(nullable)]
    pub department: Option<String>,
    pub skills: Vec<String>,
}

#[derive(Object)]
pub struct StaffItem {
    pub id: Uuid,
    pub name: String,
    pub status: StaffStatus,
    pub roles: Vec<RoleItem>,
    /// Tickets they hold that are not yet resolved.
    pub open_tickets: u64,
}

#[derive(Object)]
pub struct StaffList {
    pub items: Vec<StaffItem>,
}

/// The signed-in staff member.
#[derive(Object)]
pub struct StaffMe {
    pub staff_id: Uuid,
    pub name: String,
    pub login: String,
    pub status: StaffStatus,
    pub assignments: Vec<RoleItem>,
    /// The broadest area they hold a role in (street before community before grid): the
    /// default `area_id` of statistics and lists. Null for a system admin without an area.
    #[oai(nullable)]
    pub home_area_id: Option<Uuid>,
    /// An administrator created or reset the account: choose a password first
    /// (`POST /staff/me/password`); other staff endpoints answer `403 password_change_required`.
    pub must_change_password: bool,
}

#[derive(Object)]
pub struct HomeBuilding {
    pub id: Uuid,
    pub name: String,
    #[oai(nullable)]
    pub address: Option<String>,
    pub grid: AreaRef,
}

/// The signed-in resident.
#[derive(Object)]
pub struct ResidentMe {
    pub resident_id: Uuid,
    pub phone_bound: bool,
    /// `138****1234`; null when no phone is bound.
    #[oai(nullable)]
    pub phone_masked: Option<String>,
    #[oai(nullable)]
    pub home_building: Option<HomeBuilding>,
    /// Unused one-time grants per notification template key (`accepted`, `resolved`, ...).
    pub subscriptions: HashMap<String, i64>,
    /// The privacy notice version the resident agreed to last; null until they have.
    #[oai(nullable)]
    pub privacy_version: Option<String>,
    /// The current notice (`GET /privacy/notice`) still waits for their agreement: they may
    /// read but not submit until they agree (`POST /me/privacy`).
    pub privacy_notice_pending: bool,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct HomeBody {
    pub building_id: Uuid,
}

/// A staff account as system administrators manage it.
#[derive(Object)]
pub struct StaffAccount {
    #[oai(flatten)]
    pub person: StaffItem,
    pub login: String,
}

#[derive(Object)]
pub struct StaffAccountPage {
    pub items: Vec<StaffAccount>,
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    pub old: crate::schemas::Str,
    /// 8–128 characters.
    pub new: crate::schemas::Str,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct PasswordReset {
    /// 8–128 characters; tell the staff member to change it after signing in.
    pub new: crate::schemas::Str,
}
