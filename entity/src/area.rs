//! The `area` table.
use sea_orm::entity::prelude::*;

use crate::enums::AreaKind;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "area")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: AreaKind,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub code: Option<String>,
    /// A GeoJSON Polygon or MultiPolygon (WGS-84), grids only.
    #[sea_orm(column_type = "Text", nullable)]
    pub boundary: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
