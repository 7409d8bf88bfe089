//! The in-memory copy of what every request looks up and rarely changes: the area tree and the
//! grid index, the categories, and the staff with their assignments. Shared by every request.
//!
//! Any change to areas, buildings, categories, staff or assignments bumps
//! `directory_version.generation` (in the same transaction where there is one); each request
//! compares that number (one primary-key read, or [`generation_expr`] selected beside a row the
//! request reads anyway) and the node rebuilds when it moved, so every API
//! node routes by the same boundaries and a changed assignment or closed account counts at once.
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use geo::MultiPolygon;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    prelude::Expr,
    sea_query::{ExprTrait, Query},
};
use uuid::Uuid;

use super::{ServiceError, ServiceResult, areas::parse_stored_boundary, staff::parse_skills};
use crate::{
    domain::{
        AreaKind, StaffStatus,
        access::{Assignment, StaffScope},
        areas::{AreaNode, AreaTree},
        routing::{GridIndex, GridShape},
    },
    error::Code,
};

pub struct Directory {
    pub generation: i64,
    pub tree: AreaTree,
    pub grids: GridIndex,
    categories: HashMap<Uuid, entity::category::Model>,
    staff: HashMap<Uuid, Person>,
    /// Who holds a role in each area: (staff id, index into their `roles`).
    holders: HashMap<Uuid, Vec<(Uuid, usize)>>,
}

/// A staff member as requests need them.
pub struct Person {
    pub name: String,
    pub login: String,
    pub status: StaffStatus,
    /// Tokens and console sessions carry the version they began under (see `staff.token_version`).
    pub token_version: i32,
    pub must_change_password: bool,
    /// Their assignments, oldest first.
    pub roles: Vec<Role>,
}

pub struct Role {
    pub assignment: Assignment,
    pub skills: Vec<String>,
}

impl Directory {
    pub fn category(&self, id: Uuid) -> Option<&entity::category::Model> {
        self.categories.get(&id)
    }

    pub fn category_by_code(&self, code: &str) -> Option<&entity::category::Model> {
        self.categories.values().find(|c| c.code == code)
    }

    /// A category by its code, else by its id.
    pub fn category_by_reference(&self, reference: &str) -> Option<&entity::category::Model> {
        self.category_by_code(reference).or_else(|| {
            Uuid::parse_str(reference)
                .ok()
                .and_then(|id| self.category(id))
        })
    }

    pub fn categories_in_group<'a>(&'a self, group: &'a str) -> impl Iterator<Item = Uuid> + 'a {
        self.categories
            .values()
            .filter(move |c| c.group_name == group)
            .map(|c| c.id)
    }

    pub fn person(&self, id: Uuid) -> Option<&Person> {
        self.staff.get(&id)
    }

    /// Every staff member, in no order.
    pub fn people(&self) -> impl Iterator<Item = (Uuid, &Person)> {
        self.staff.iter().map(|(id, p)| (*id, p))
    }

    /// Active categories in display order (then by code).
    pub fn categories_listed(&self) -> Vec<&entity::category::Model> {
        let mut list: Vec<_> = self.categories.values().filter(|c| c.active).collect();
        list.sort_by(|a, b| (a.display_order, &a.code).cmp(&(b.display_order, &b.code)));
        list
    }

    pub fn staff_name(&self, id: Uuid) -> Option<&str> {
        self.person(id).map(|p| p.name.as_str())
    }

    /// The scope of a staff member who may still sign in; `Unauthorized` for an unknown or
    /// closed account.
    pub fn scope(&self, staff_id: Uuid) -> ServiceResult<StaffScope> {
        let person = self.person(staff_id).ok_or(ServiceError::Rejected {
            code: Code::Unauthorized,
            field: None,
            detail: None,
        })?;
        if person.status == StaffStatus::Left {
            return Err(ServiceError::Rejected {
                code: Code::Unauthorized,
                field: None,
                detail: Some(crate::error::bi("账号已停用", "account closed")),
            });
        }
        Ok(StaffScope {
            staff_id,
            assignments: person.roles.iter().map(|r| r.assignment.clone()).collect(),
        })
    }

    /// The people holding a role in `area`, each with that role.
    pub fn holders(&self, area: Uuid) -> impl Iterator<Item = (Uuid, &Person, &Role)> {
        self.holders
            .get(&area)
            .into_iter()
            .flatten()
            .filter_map(|&(id, i)| {
                let person = self.staff.get(&id)?;
                Some((id, person, person.roles.get(i)?))
            })
    }
}

#[derive(Default)]
pub struct DirectoryCache {
    current: RwLock<Option<Arc<Directory>>>,
}

impl DirectoryCache {
    /// The directory as of the database's current generation, rebuilt if stale.
    pub async fn get(&self, db: &impl ConnectionTrait) -> ServiceResult<Arc<Directory>> {
        let generation = entity::directory_version::Entity::find_by_id(1)
            .one(db)
            .await?
            .map(|v| v.generation)
            .unwrap_or_default();
        self.at(db, generation).await
    }

    /// The directory last read, unchecked: a guess, to be checked against the generation a
    /// request reads beside its first statement.
    pub fn last(&self) -> Option<Arc<Directory>> {
        self.current.read().ok().and_then(|g| g.clone())
    }

    /// The directory as of `generation`, read by the caller ([`generation_expr`] beside other
    /// columns), rebuilt from `db` if stale.
    pub async fn at(
        &self,
        db: &impl ConnectionTrait,
        generation: i64,
    ) -> ServiceResult<Arc<Directory>> {
        if let Some(dir) = self.last()
            && dir.generation == generation
        {
            return Ok(dir);
        }
        let dir = Arc::new(load(db, generation).await?);
        if let Ok(mut slot) = self.current.write() {
            *slot = Some(dir.clone());
        }
        Ok(dir)
    }
}

/// The current generation as an expression to select beside a row (`NULL` before the first
/// change, read as 0 like [`DirectoryCache::get`] does).
pub fn generation_expr() -> Expr {
    let current = Query::select()
        .column(entity::directory_version::Column::Generation)
        .from(entity::directory_version::Entity)
        .and_where(entity::directory_version::Column::Id.eq(1))
        .to_owned();
    Expr::from(current).if_null(0)
}

async fn load(db: &impl ConnectionTrait, generation: i64) -> ServiceResult<Directory> {
    let rows = entity::area::Entity::find().all(db).await?;
    let mut grids = Vec::new();
    let mut nodes = Vec::with_capacity(rows.len());
    for row in rows {
        let kind = row.kind;
        if kind == AreaKind::Grid
            && let Some(shape) = row.boundary.as_deref().and_then(parse_stored_boundary)
        {
            grids.push(GridShape {
                id: row.id,
                code: row.code.clone(),
                shape,
            });
        }
        nodes.push(AreaNode {
            id: row.id,
            kind,
            name: row.name,
            code: row.code,
            parent_id: row.parent_id,
        });
    }
    let categories = entity::category::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut staff: HashMap<Uuid, Person> = entity::staff::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| {
            let person = Person {
                name: s.name,
                login: s.login,
                status: s.status,
                token_version: s.token_version,
                must_change_password: s.must_change_password,
                roles: vec![],
            };
            (s.id, person)
        })
        .collect();
    let mut holders: HashMap<Uuid, Vec<(Uuid, usize)>> = HashMap::new();
    for a in entity::staff_assignment::Entity::find()
        .order_by_asc(entity::staff_assignment::Column::CreatedAt)
        .order_by_asc(entity::staff_assignment::Column::Id)
        .all(db)
        .await?
    {
        let Some(person) = staff.get_mut(&a.staff_id) else {
            continue;
        };
        let role = a.role;
        if let Some(area) = a.area_id {
            holders
                .entry(area)
                .or_default()
                .push((a.staff_id, person.roles.len()));
        }
        person.roles.push(Role {
            skills: parse_skills(&a.skills),
            assignment: Assignment {
                role,
                area_id: a.area_id,
                department: a.department,
            },
        });
    }
    tracing::info!(
        generation,
        grids = grids.len(),
        staff = staff.len(),
        "directory rebuilt"
    );
    Ok(Directory {
        generation,
        tree: AreaTree::new(nodes),
        grids: GridIndex::new(grids),
        categories,
        staff,
        holders,
    })
}

/// Marks the directory changed; call inside the transaction that changes areas, buildings,
/// categories, staff or assignments.
pub async fn bump(db: &impl ConnectionTrait) -> ServiceResult<()> {
    entity::directory_version::Entity::update_many()
        .col_expr(
            entity::directory_version::Column::Generation,
            Expr::col(entity::directory_version::Column::Generation).add(1),
        )
        .filter(entity::directory_version::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(())
}

pub type Shape = MultiPolygon<f64>;
