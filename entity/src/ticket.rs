//! The `ticket` table.
use sea_orm::entity::prelude::*;

use crate::enums::{Channel, Priority, ReturnVisitOutcome, Status, TicketKind};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub number: String,
    pub kind: TicketKind,
    pub category_id: Uuid,
    pub title: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// WGS-84, whatever system the client sent (`coord_system` records that).
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub coord_system: Option<String>,
    pub address_text: Option<String>,
    pub building_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
    pub handling_area_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub status: Status,
    pub priority: Priority,
    pub anonymous: bool,
    pub contact_phone: Option<String>,
    pub channel: Channel,
    pub resident_id: Option<Uuid>,
    pub created_by_staff_id: Option<Uuid>,
    pub response_due_at: Option<DateTimeUtc>,
    pub resolution_due_at: Option<DateTimeUtc>,
    pub submitted_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub reopen_count: i32,
    pub return_visit_required: bool,
    pub duplicate_of: Option<Uuid>,
    pub reject_reason: Option<String>,
    /// Number of timeline events so far; the next event takes `event_count + 1` as its `seq`.
    pub event_count: i32,
    /// Optimistic-concurrency guard: every change is `UPDATE … WHERE version = ?`.
    pub version: i32,
    /// The client's `Idempotency-Key`; unique per resident.
    pub idempotency_key: Option<String>,
    /// SHA-256 of the request that used the key, to tell a replay from a different request.
    pub request_hash: Option<String>,
    /// When the scheduler must next check that someone responded (the current level's response
    /// deadline); cleared on acceptance and when nothing above is left to escalate to.
    pub next_response_check_at: Option<DateTimeUtc>,
    /// Set once by the scheduler when the resolution deadline passed with the ticket open.
    pub resolution_overdue: bool,
    pub return_visit_at: Option<DateTimeUtc>,
    pub return_visit_outcome: Option<ReturnVisitOutcome>,
    #[sea_orm(column_type = "Text", nullable)]
    pub return_visit_note: Option<String>,
    /// Content safety: `review` (WeChat asked for review) or `unchecked` (the check could not run).
    pub moderation: Option<String>,
    pub moderation_label: Option<i32>,
    /// The door-knock visit that recorded it.
    pub visit_id: Option<Uuid>,
    /// The resident made it a public suggestion: listed on the public board, open to "me too".
    pub public: bool,
    pub support_count: i32,
    /// When the ticket counts in the response rate: answered or due, whichever came first
    /// (`domain::rates`); `None` while it never will.
    pub response_counted_at: Option<DateTimeUtc>,
    /// The same for the resolution rate.
    pub resolution_counted_at: Option<DateTimeUtc>,
    /// An approved appeal (甄别) took it out of the rates' denominators.
    pub excluded_from_rates: bool,
    /// Praise: the worker it names.
    pub praised_staff_id: Option<Uuid>,
    /// Praise: the resident's earlier ticket it thanks for.
    pub follows_ticket_id: Option<Uuid>,
    /// Who held the ticket when it was answered or its response fell due: the worker its
    /// response counts for.
    pub response_staff_id: Option<Uuid>,
    /// The same for its (latest) resolution.
    pub resolution_staff_id: Option<Uuid>,
    /// The retention job removed its contact phone, exact point, room numbers and photos.
    pub personal_data_removed_at: Option<DateTimeUtc>,
    /// How many times its workers sent it back (退单); past `lifecycle.max_returns` the street
    /// is told.
    pub return_count: i32,
    /// The standing supervision (督办): its deadline, who set it and why; none when not
    /// supervised.
    pub supervised_until: Option<DateTimeUtc>,
    pub supervised_by: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub supervision_note: Option<String>,
    /// A suspension (挂账): since when, until when it resumes by itself (if said), and the
    /// resolution deadline it had (the time left is given back on resumption).
    pub suspended_at: Option<DateTimeUtc>,
    pub suspended_until: Option<DateTimeUtc>,
    pub suspended_due_at: Option<DateTimeUtc>,
    /// Entered by staff for a caller (hotline, counter, door-knock visit): the caller's name as
    /// given, and the code they claim the ticket with in the mini-program (none once claimed).
    #[sea_orm(column_type = "Text", nullable)]
    pub caller_name: Option<String>,
    pub claim_code: Option<String>,
    /// Why a return visit (回访) is due: `dissatisfied`, `sample` or `unrated`; and the
    /// structured reasons it heard (comma-separated `DissatisfactionReason`s).
    pub return_visit_cause: Option<String>,
    pub return_visit_reasons: Option<String>,
    /// The 每月一题 topic it belongs to.
    pub topic_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
