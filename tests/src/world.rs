//! The small street most tests stand in: two communities, four grids (an L-shaped one, one with
//! a hole and the grid filling it), a building, categories at each level and their staff.
use serde_json::{Value, json};

use super::TestApp;

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<[f64; 2]> {
    vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
}

/// A small street to test against (WGS-84):
///
/// ```text
///  39.920 ┌──────────────B1──────────────┐
///         │        ┌──B2──┐  (B2 fills    │   community CB: B1 (with a hole) and B2 (the hole)
///  39.910 ┌───A1───┐notch┌─────A2───────┐        │ the hole)│
///         │    ┌───┘     │              │   community CA: A1 (an L, concave) and A2
///  39.900 └────┴─────────┴──────────────┘
///      116.400  116.405 116.410       116.420          116.440
/// ```
pub struct World {
    pub street: String,
    pub ca: String,
    pub cb: String,
    pub a1: String,
    pub a2: String,
    pub b1: String,
    pub b2: String,
    pub building_a2: String,
    pub gw_a1: Person,
    pub ga_a1: Person,
    pub gw_a2: Person,
    pub gw_b1: Person,
    pub ca_admin: Person,
    pub cb_admin: Person,
    pub street_admin: Person,
    pub dept: Person,
}

/// A staff member of a test's world: their id and a token they are logged in with.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: String,
    pub token: String,
}

pub const A1_POINT: (f64, f64) = (39.902, 116.408); // lower arm of the L
pub const NOTCH_POINT: (f64, f64) = (39.908, 116.408); // inside A1's bounding box, outside A1
pub const A2_POINT: (f64, f64) = (39.905, 116.415);
pub const BORDER_A1_A2: (f64, f64) = (39.902, 116.410);
pub const B1_POINT: (f64, f64) = (39.905, 116.425);
pub const HOLE_POINT: (f64, f64) = (39.910, 116.430);
/// About 700 m south of A1, outside every grid but within the service area (3 km).
pub const NEAR_OUTSIDE_POINT: (f64, f64) = (39.8937, 116.408);
/// About 16 km south of A1: outside the service area.
pub const FAR_POINT: (f64, f64) = (39.756, 116.408);

impl World {
    pub async fn build(app: &TestApp) -> World {
        let street = app
            .create(
                "/api/v1/admin/areas",
                json!({"kind": "street", "name": "测试街道", "code": "S"}),
            )
            .await;
        let ca = app
            .create(
                "/api/v1/admin/areas",
                json!({"kind": "community", "name": "甲社区", "parent_id": street, "code": "CA"}),
            )
            .await;
        let cb = app
            .create(
                "/api/v1/admin/areas",
                json!({"kind": "community", "name": "乙社区", "parent_id": street, "code": "CB"}),
            )
            .await;
        let l_shape = vec![
            [116.400, 39.900],
            [116.410, 39.900],
            [116.410, 39.905],
            [116.405, 39.905],
            [116.405, 39.910],
            [116.400, 39.910],
            [116.400, 39.900],
        ];
        let grid = |name: &str, code: &str, parent: &str, rings: Vec<Vec<[f64; 2]>>| json!({"kind": "grid", "name": name, "code": code, "parent_id": parent, "boundary": {"type": "Polygon", "coordinates": rings}});
        let a1 = app
            .create(
                "/api/v1/admin/areas",
                grid("甲一网格", "A1", &ca, vec![l_shape]),
            )
            .await;
        let a2 = app
            .create(
                "/api/v1/admin/areas",
                grid(
                    "甲二网格",
                    "A2",
                    &ca,
                    vec![square(116.410, 39.900, 116.420, 39.910)],
                ),
            )
            .await;
        let b1 = app
            .create(
                "/api/v1/admin/areas",
                grid(
                    "乙一网格",
                    "B1",
                    &cb,
                    vec![
                        square(116.420, 39.900, 116.440, 39.920),
                        square(116.428, 39.908, 116.432, 39.912),
                    ],
                ),
            )
            .await;
        let b2 = app
            .create(
                "/api/v1/admin/areas",
                grid(
                    "乙二网格",
                    "B2",
                    &cb,
                    vec![square(116.428, 39.908, 116.432, 39.912)],
                ),
            )
            .await;
        let building_a2 = app
            .create(
                "/api/v1/admin/buildings",
                json!({"name": "甲二网格3号楼", "grid_id": a2, "address": "测试路3号", "location": {"lat": 39.906, "lng": 116.416, "coord_system": "wgs84"}}),
            )
            .await;
        for (code, name, group, level) in [
            ("noise", "噪音扰民", "环境卫生", "grid"),
            ("sanitation", "环境卫生", "环境卫生", "grid"),
            ("lighting", "路灯照明", "市政设施", "community"),
            ("illegal_construction", "违法建设", "城市管理", "street"),
        ] {
            app.create(
                "/api/v1/admin/categories",
                json!({"code": code, "name": name, "group": group, "handling_level": level, "response_minutes": 60, "resolution_hours": 48}),
            )
            .await;
        }
        let none = json!({});
        World {
            gw_a1: app
                .staff_with_role("gw_a1", Some(&a1), "grid_worker", none.clone())
                .await,
            ga_a1: app
                .staff_with_role(
                    "ga_a1",
                    Some(&a1),
                    "grid_assistant",
                    json!({"skills": ["noise"]}),
                )
                .await,
            gw_a2: app
                .staff_with_role("gw_a2", Some(&a2), "grid_worker", none.clone())
                .await,
            gw_b1: app
                .staff_with_role("gw_b1", Some(&b1), "grid_worker", none.clone())
                .await,
            ca_admin: app
                .staff_with_role("ca_admin", Some(&ca), "community_admin", none.clone())
                .await,
            cb_admin: app
                .staff_with_role("cb_admin", Some(&cb), "community_admin", none.clone())
                .await,
            street_admin: app
                .staff_with_role("street_admin", Some(&street), "street_admin", none.clone())
                .await,
            dept: app
                .staff_with_role(
                    "dept",
                    Some(&street),
                    "department",
                    json!({"department": "城市管理"}),
                )
                .await,
            street,
            ca,
            cb,
            a1,
            a2,
            b1,
            b2,
            building_a2,
        }
    }
}

/// A complaint body at a WGS-84 point.
pub fn complaint_at(category: &str, (lat, lng): (f64, f64)) -> Value {
    json!({
        "kind": "complaint",
        "category": category,
        "description": "楼下夜里施工，噪音很大",
        "location": {"lat": lat, "lng": lng, "coord_system": "wgs84"},
        "contact_phone": "13812341234"
    })
}

/// A Beijing wall-clock time (`2026-11-16 09:00`) as an instant.
pub fn beijing(s: &str) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
    chrono::FixedOffset::east_opt(8 * 3600)
        .and_then(|o| o.from_local_datetime(&naive).single())
        .expect("offset")
        .with_timezone(&chrono::Utc)
}

/// An instant as a query parameter value (RFC 3339, `+` escaped).
pub fn query_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339().replace('+', "%2B")
}
