//! The `rating` table.
use sea_orm::entity::prelude::*;

use crate::enums::RatingLevel;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rating")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub round: i32,
    pub resident_id: Uuid,
    pub level: RatingLevel,
    pub score: Option<i16>,
    pub comment: Option<String>,
    /// Why not (fully) satisfied: `DissatisfactionReason` codes, comma-separated.
    #[sea_orm(column_type = "Text", nullable)]
    pub reasons: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
