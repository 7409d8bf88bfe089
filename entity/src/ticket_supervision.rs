//! The `ticket_supervision` table: a community or street administrator flagged a ticket (督办)
//! with a deadline; how it ended is `outcome` (none while it stands).
use sea_orm::entity::prelude::*;

use crate::enums::SupervisionOutcome;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_supervision")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub supervisor_id: Uuid,
    pub deadline: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub created_at: DateTimeUtc,
    pub outcome: Option<SupervisionOutcome>,
    pub settled_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
