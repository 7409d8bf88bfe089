//! The `category` table.
use sea_orm::entity::prelude::*;

use crate::enums::{HandlingLevel, SlaMode};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "category")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub group_name: String,
    pub handling_level: HandlingLevel,
    pub response_minutes: i32,
    pub resolution_hours: i32,
    pub active: bool,
    /// Resolving needs a photo of the fix.
    pub requires_resolution_photo: bool,
    /// `calendar` (SLA in calendar time) or `working` (in working time by the work calendar).
    pub sla_mode: SlaMode,
    /// Open311 service attributes (JSON array of {code, datatype, required, description, order, values}).
    #[sea_orm(column_type = "Text", nullable)]
    pub open311_attributes: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    /// Where it is listed (ascending, then by code).
    pub display_order: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
