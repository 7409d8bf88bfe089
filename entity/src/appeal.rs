//! The `appeal` table: staff asking that a ticket leave the rates' denominators (甄别), and the
//! reviewer's decision.
use sea_orm::entity::prelude::*;

use crate::enums::{AppealReason, AppealStatus};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "appeal")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub reason_code: AppealReason,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    /// Evidence photos (`POST /attachments`), comma-separated ids.
    #[sea_orm(column_type = "Text")]
    pub attachment_ids: String,
    pub status: AppealStatus,
    pub filed_by: Uuid,
    pub filed_at: DateTimeUtc,
    /// The area whose admins (or those above) decide.
    pub reviewer_area_id: Uuid,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_note: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
