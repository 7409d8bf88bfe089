//! The `staff_assignment` table.
use sea_orm::entity::prelude::*;

use crate::enums::StaffRole;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_assignment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub staff_id: Uuid,
    pub area_id: Option<Uuid>,
    pub role: StaffRole,
    pub department: Option<String>,
    /// JSON array of category codes this person can handle (grid assistants).
    #[sea_orm(column_type = "Text")]
    pub skills: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
