//! The `notification` table: the in-app inbox, the channel of record for every message to a
//! resident or a staff member (WeChat and 企业微信 are deliveries of it).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notification")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `resident` or `staff`.
    pub recipient_kind: String,
    pub recipient_id: Uuid,
    pub ticket_id: Option<Uuid>,
    /// What happened (the outbox's `event`): `accepted`, `resolved`, `assigned`, …
    pub kind: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
