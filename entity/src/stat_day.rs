//! The `stat_day` table: one Beijing day of the three rates' counts at one place (a grid, or
//! the area a gridless ticket is handled at). `response_secs` and `resolution_secs` hold the
//! seconds to acceptance and to resolution of that day's received tickets, as little-endian
//! u32s, so medians and p90s stay exact when days are summed.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stat_day")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub place_id: Uuid,
    pub received: i64,
    pub withdrawn: i64,
    pub rejected: i64,
    pub accepted: i64,
    pub resolved: i64,
    pub reopened: i64,
    pub response_due: i64,
    pub responded_in_time: i64,
    pub rated: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub unsatisfied: i64,
    pub response_secs: Vec<u8>,
    pub resolution_secs: Vec<u8>,
    pub resolution_due: i64,
    pub resolved_in_time: i64,
    pub praise_received: i64,
    pub appealed_excluded: i64,
    pub reason_not_solved: i64,
    pub reason_too_slow: i64,
    pub reason_attitude: i64,
    pub reason_no_contact: i64,
    pub reason_disagree_result: i64,
    pub reason_other: i64,
}

impl ActiveModelBehavior for ActiveModel {}
