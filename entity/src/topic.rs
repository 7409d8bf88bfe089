//! The `topic` table: a 每月一题 topic, tickets about one problem gathered under an area's
//! ownership until a due date. Tickets point at it (`ticket.topic_id`).
use sea_orm::entity::prelude::*;

use crate::enums::TopicStatus;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "topic")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// The category of its tickets, when they share one (a hot spot's always do).
    pub category_id: Option<Uuid>,
    pub owner_area_id: Uuid,
    pub due_at: DateTimeUtc,
    pub status: TopicStatus,
    /// The hot spot's outline, a GeoJSON ring of [lng, lat] (WGS-84), as JSON: new tickets of
    /// its category near it join the topic while it is open.
    #[sea_orm(column_type = "Text", nullable)]
    pub outline: Option<String>,
    /// The hot spot it was made from.
    pub hotspot: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub closing_note: Option<String>,
    pub version: i32,
}

impl ActiveModelBehavior for ActiveModel {}
