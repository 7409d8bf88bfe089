//! The `ticket_return` table: a worker sent a ticket back to the dispatcher as not theirs (退单):
//! who, from where, why, when, and how it ended: `redirected` (assigned or transferred
//! elsewhere), `refused` (handed back to the worker, who may not return it again), or `closed`
//! (rejected or withdrawn meanwhile).
use sea_orm::entity::prelude::*;

use crate::enums::ReturnReason;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_return")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    /// The worker who returned it.
    pub staff_id: Uuid,
    /// Where it was when returned (it goes back there if the return is refused).
    pub grid_id: Option<Uuid>,
    pub handling_area_id: Option<Uuid>,
    pub reason_code: ReturnReason,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub returned_at: DateTimeUtc,
    /// `redirected`, `refused` or `closed`; none while it waits.
    pub outcome: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
