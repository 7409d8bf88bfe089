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
    /// A resident's photo sent to WeChat's image check: `pending`, then `pass`, `review` or
    /// `risky`; `unchecked` when it could not be sent; none for staff photos or with checks off.
    pub media_check: Option<String>,
    /// The check's trace id, which its verdict (a `wxa_media_check` push) names.
    pub media_trace_id: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
