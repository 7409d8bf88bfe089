//! The `scope_stamp` table: how many times the tickets an area or a person holds have changed,
//! raised by a trigger on `ticket` (migration `scope_stamp`), never written by the server.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "scope_stamp")]
pub struct Model {
    /// A grid or handling area (`area.id`) or an assignee (`staff.id`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub holder_id: Uuid,
    pub stamp: i64,
}

impl ActiveModelBehavior for ActiveModel {}
