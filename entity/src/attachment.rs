//! The `attachment` table: an uploaded photo, stored by content hash.
use sea_orm::entity::prelude::*;

use crate::enums::Visibility;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "attachment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `resident` or `staff`.
    pub owner_kind: String,
    pub owner_id: Uuid,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    /// The thumbnail (longest side 320 px), stored once it is first asked for.
    pub thumbnail_key: Option<String>,
    /// Set when attached to a ticket (by submission, a comment or a resolution).
    pub ticket_id: Option<Uuid>,
    /// `ticket`, `comment` or `resolution`.
    pub purpose: Option<String>,
    /// `public`, or `internal` when attached to a staff-only comment (never shown to residents).
    pub visibility: Visibility,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
