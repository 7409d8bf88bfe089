//! A believable demo street (`seed-demo`): 东华门街道-style layout near Beijing's centre with three
//! communities of four grids each, tiled without gaps or overlaps, buildings in every grid,
//! grid workers, assistants, admins, a city-management department and realistic categories.
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;

use super::{
    ServiceResult,
    areas::{self, NewArea, NewBuilding},
    categories::{self, NewCategory},
    staff::{self, NewAssignment, NewStaff, Password},
};
use crate::domain::{
    AreaKind, HandlingLevel, SlaMode, StaffRole,
    inputs::{CoordSystem, GeoPoint, Text},
};

pub const DEMO_PASSWORD: &str = "Qiaomen-demo1";
pub const DEMO_STREET_CODE: &str = "demo-street";

pub enum Seeded {
    Created { grids: usize, staff: usize },
    AlreadyThere,
}

fn t(s: &str) -> Text {
    // Seed literals are all short and non-empty.
    Text::parse("seed", s, 200).unwrap_or_else(|_| Text::parse("seed", "?", 1).expect("literal"))
}

/// Lattice corner (i, j), WGS-84, with a fixed pseudo-random wobble on interior points so grids
/// look surveyed, not ruled; neighbours share the very same points.
fn corner(i: usize, j: usize, cols: usize, rows: usize) -> [f64; 2] {
    let (x0, y0, dx, dy) = (116.4010, 39.9260, 0.0062, 0.0085);
    let interior = i > 0 && i < cols && j > 0 && j < rows;
    let wobble = |k: usize| {
        if interior {
            (((k * 7919) % 17) as f64 - 8.0) * 0.00009
        } else {
            0.0
        }
    };
    [
        x0 + i as f64 * dx + wobble(i * 31 + j),
        y0 + j as f64 * dy + wobble(j * 17 + i + 5),
    ]
}

fn midpoint(a: [f64; 2], b: [f64; 2], salt: usize) -> [f64; 2] {
    let bend = (((salt * 104_729) % 13) as f64 - 6.0) * 0.00004;
    [(a[0] + b[0]) / 2.0 + bend, (a[1] + b[1]) / 2.0 - bend]
}

/// Cell (i, j) as a closed ring with a bent midpoint on each edge (shared with the neighbour).
fn cell(i: usize, j: usize, cols: usize, rows: usize) -> Vec<[f64; 2]> {
    let c = |a, b| corner(a, b, cols, rows);
    let (sw, se, ne, nw) = (c(i, j), c(i + 1, j), c(i + 1, j + 1), c(i, j + 1));
    let edge = |a: [f64; 2], b: [f64; 2], salt: usize, boundary: bool| {
        if boundary {
            [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]
        } else {
            midpoint(a, b, salt)
        }
    };
    vec![
        sw,
        edge(sw, se, 1000 + i * 10 + j, j == 0),
        se,
        edge(se, ne, 2000 + (i + 1) * 10 + j, i + 1 == cols),
        ne,
        edge(nw, ne, 1000 + i * 10 + j + 1, j + 1 == rows),
        nw,
        edge(sw, nw, 2000 + i * 10 + j, i == 0),
        sw,
    ]
}

/// Seeds the demo street, its times set to `at`.
pub async fn demo(
    db: &DatabaseConnection,
    at: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<Seeded> {
    let exists = entity::area::Entity::find()
        .filter(entity::area::Column::Code.eq(DEMO_STREET_CODE))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Ok(Seeded::AlreadyThere);
    }
    // Seeding hashes one password after another: no queue to turn anyone away.
    let hasher = &super::passwords::PasswordHasher::new(1, usize::MAX);
    let new_area = |kind, name: &str, parent_id, code: &str, boundary| NewArea {
        kind,
        name: t(name),
        parent_id,
        code: Some(t(code)),
        boundary,
    };
    let street = areas::create(
        db,
        new_area(
            AreaKind::Street,
            "东华门街道（演示）",
            None,
            DEMO_STREET_CODE,
            None,
        ),
        at,
    )
    .await?;

    for (code, name, group, level, resp, res) in [
        (
            "sanitation",
            "环境卫生",
            "环境卫生",
            HandlingLevel::Grid,
            60,
            48,
        ),
        (
            "fire_exit",
            "消防通道堵塞",
            "安全生产",
            HandlingLevel::Grid,
            30,
            24,
        ),
        (
            "noise",
            "噪音扰民",
            "环境卫生",
            HandlingLevel::Grid,
            120,
            72,
        ),
        (
            "parking",
            "停车秩序",
            "城市管理",
            HandlingLevel::Grid,
            120,
            72,
        ),
        (
            "lighting",
            "路灯照明",
            "市政设施",
            HandlingLevel::Community,
            240,
            72,
        ),
        (
            "greenery",
            "绿化养护",
            "市政设施",
            HandlingLevel::Community,
            480,
            168,
        ),
        (
            "property",
            "物业管理",
            "物业管理",
            HandlingLevel::Community,
            240,
            120,
        ),
        (
            "elderly_care",
            "养老助残",
            "民生服务",
            HandlingLevel::Community,
            240,
            120,
        ),
        (
            "illegal_construction",
            "违法建设",
            "城市管理",
            HandlingLevel::Street,
            480,
            240,
        ),
        (
            "street_vendors",
            "占道经营",
            "城市管理",
            HandlingLevel::Street,
            240,
            72,
        ),
    ] {
        categories::create(
            db,
            NewCategory {
                code: t(code),
                name: t(name),
                group: t(group),
                handling_level: level,
                response_minutes: resp,
                resolution_hours: res,
                requires_resolution_photo: matches!(code, "fire_exit" | "illegal_construction"),
                // Street departments work office hours; grid and community staff answer any day.
                sla_mode: if level == HandlingLevel::Street {
                    SlaMode::Working
                } else {
                    SlaMode::Calendar
                },
                description: None,
                attributes: vec![],
            },
            at,
        )
        .await?;
    }

    let mut staff_count = 1; // the admin below
    let mut person = |name: String, login: String| {
        staff_count += 1;
        async move {
            let password = Password::parse(DEMO_PASSWORD)?;
            staff::create(
                db,
                hasher,
                NewStaff {
                    name: t(&name),
                    login: t(&login),
                    password,
                    must_change_password: false,
                },
                at,
            )
            .await
        }
    };
    staff::create_admin(
        db,
        hasher,
        NewStaff {
            name: t("演示管理员"),
            login: t("admin"),
            password: Password::parse(DEMO_PASSWORD)?,
            must_change_password: false,
        },
        at,
    )
    .await?;
    let street_admin = person("街道指挥中心".into(), "street".into()).await?;
    staff::assign(
        db,
        street_admin.id,
        NewAssignment {
            area_id: Some(street.id),
            role: StaffRole::StreetAdmin,
            skills: vec![],
            department: None,
        },
        at,
    )
    .await?;
    let dept = person("城管科".into(), "chengguan".into()).await?;
    staff::assign(
        db,
        dept.id,
        NewAssignment {
            area_id: Some(street.id),
            role: StaffRole::Department,
            skills: vec![],
            department: Some(t("城市管理")),
        },
        at,
    )
    .await?;

    let (cols, rows) = (6, 2);
    let communities = ["南池子社区", "菖蒲河社区", "韶九社区"];
    let surnames = [
        "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
    ];
    let mut grid_no = 0;
    for (c, cname) in communities.iter().enumerate() {
        let community = areas::create(
            db,
            new_area(
                AreaKind::Community,
                cname,
                Some(street.id),
                &format!("demo-c{}", c + 1),
                None,
            ),
            at,
        )
        .await?;
        let ca = person(format!("{cname}书记"), format!("ca{}", c + 1)).await?;
        staff::assign(
            db,
            ca.id,
            NewAssignment {
                area_id: Some(community.id),
                role: StaffRole::CommunityAdmin,
                skills: vec![],
                department: None,
            },
            at,
        )
        .await?;
        for i in (c * 2)..(c * 2 + 2) {
            for j in 0..rows {
                grid_no += 1;
                let ring = cell(i, j, cols, rows);
                let boundary = json!({"type": "Polygon", "coordinates": [ring]});
                let grid = areas::create(
                    db,
                    new_area(
                        AreaKind::Grid,
                        &format!("{cname}第{}网格", grid_no),
                        Some(community.id),
                        &format!("demo-g{grid_no:02}"),
                        Some(boundary),
                    ),
                    at,
                )
                .await?;
                let centre = [
                    (ring[0][0] + ring[4][0]) / 2.0,
                    (ring[0][1] + ring[4][1]) / 2.0,
                ];
                for (k, dx) in [(1, -0.0012), (2, 0.0012)] {
                    let location = GeoPoint::parse(centre[1], centre[0] + dx, CoordSystem::Wgs84)?;
                    areas::create_building(
                        db,
                        NewBuilding {
                            name: t(&format!("{grid_no}号院{k}号楼")),
                            grid_id: grid.id,
                            address: Some(t(&format!("东城区{cname}{grid_no}号院{k}号楼"))),
                            location: Some(location),
                        },
                        at,
                    )
                    .await?;
                }
                let worker = person(
                    format!("{}网格员", surnames[(grid_no - 1) % surnames.len()]),
                    format!("gw{grid_no:02}"),
                )
                .await?;
                staff::assign(
                    db,
                    worker.id,
                    NewAssignment {
                        area_id: Some(grid.id),
                        role: StaffRole::GridWorker,
                        skills: vec![],
                        department: None,
                    },
                    at,
                )
                .await?;
                let assistant = person(
                    format!("{}志愿者", surnames[grid_no % surnames.len()]),
                    format!("ga{grid_no:02}"),
                )
                .await?;
                let skills = ["sanitation", "noise", "fire_exit", "parking"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                staff::assign(
                    db,
                    assistant.id,
                    NewAssignment {
                        area_id: Some(grid.id),
                        role: StaffRole::GridAssistant,
                        skills,
                        department: None,
                    },
                    at,
                )
                .await?;
            }
        }
    }
    Ok(Seeded::Created {
        grids: grid_no,
        staff: staff_count,
    })
}
