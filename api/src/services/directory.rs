//! The in-memory copy of the area tree and the grid index, shared by every request.
//!
//! Any change to areas bumps `directory_version.generation` in the same transaction; each node
//! compares that number (one primary-key read) before routing and rebuilds when it moved, so
//! every API node routes by the same boundaries.
use std::sync::{Arc, RwLock};

use geo::MultiPolygon;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, prelude::Expr, sea_query::ExprTrait,
};

use super::{ServiceResult, areas::parse_stored_boundary};
use crate::domain::{
    AreaKind,
    areas::{AreaNode, AreaTree},
    routing::{GridIndex, GridShape},
};

pub struct Directory {
    pub generation: i64,
    pub tree: AreaTree,
    pub grids: GridIndex,
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
        if let Some(dir) = self.current.read().ok().and_then(|g| g.clone())
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

async fn load(db: &impl ConnectionTrait, generation: i64) -> ServiceResult<Directory> {
    let rows = entity::area::Entity::find().all(db).await?;
    let mut grids = Vec::new();
    let mut nodes = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(kind) = AreaKind::parse(&row.kind) else {
            continue;
        };
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
    tracing::info!(generation, grids = grids.len(), "routing index rebuilt");
    Ok(Directory {
        generation,
        tree: AreaTree::new(nodes),
        grids: GridIndex::new(grids),
    })
}

/// Marks the directory changed; call inside the transaction that changes areas or buildings.
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
