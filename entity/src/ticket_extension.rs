//! The `ticket_extension` table: an assignee asked for more time (延期, a later resolution
//! deadline `until`) or for a pause while a third party acts (挂账, resumed by hand or at
//! `until`); an administrator above decides.
use sea_orm::entity::prelude::*;

use crate::enums::{ExtensionKind, ExtensionStatus};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_extension")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub kind: ExtensionKind,
    pub requested_by: Uuid,
    pub until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub requested_at: DateTimeUtc,
    pub status: ExtensionStatus,
    /// The resolution deadline when it was asked for.
    pub due_before: Option<DateTimeUtc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_note: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
