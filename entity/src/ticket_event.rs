//! The `ticket_event` table.
use sea_orm::entity::prelude::*;

use crate::enums::{ActorKind, Status, Visibility};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub seq: i32,
    pub actor_kind: ActorKind,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub from_status: Option<Status>,
    pub to_status: Option<Status>,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub visibility: Visibility,
    pub created_at: DateTimeUtc,
    /// Content safety of a comment: `review` or `unchecked`.
    pub moderation: Option<String>,
    pub moderation_label: Option<i32>,
    /// What the resident reads of an internal step (a transfer's or an escalation's reason is
    /// staff-only).
    #[sea_orm(column_type = "Text", nullable)]
    pub public_note: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
