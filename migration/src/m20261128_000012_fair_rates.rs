//! The three rates as issue 20 defines them (SPEC §7).
//!
//! - A ticket counts in the response (resolution) rate at one moment: when it was answered
//!   (resolved) or fell due, whichever came first. `response_counted_at` and
//!   `resolution_counted_at` hold that moment (null: never counted: praise, a ticket withdrawn
//!   or rejected before it was owed anything, one excluded by an approved appeal), indexed by
//!   place for the daily rollups. Existing tickets get theirs here; the rollups are emptied so
//!   the first start rebuilds them under the new definitions.
//! - `excluded_from_rates`: an approved appeal (甄别) took the ticket out of the denominators.
//! - Praise names a worker (`praised_staff_id`) or follows a ticket (`follows_ticket_id`);
//!   existing praise loses its deadlines and leaves the queues.
//! - `response_staff_id`, `resolution_staff_id`: who held the ticket when its moment came, for
//!   the figures per worker (existing tickets: their holder).
//! - `stat_day` gains the resolution counts, praise, appeal exclusions and the reasons given
//!   with dissatisfied ratings; `rating.reasons` holds those reasons.
//! - `appeal`: one row per appeal, at most one pending per ticket.
use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

const DAY_COUNTS: [&str; 10] = [
    "resolution_due",
    "resolved_in_time",
    "praise_received",
    "appealed_excluded",
    "reason_not_solved",
    "reason_too_slow",
    "reason_attitude",
    "reason_no_contact",
    "reason_disagree_result",
    "reason_other",
];

const INDEXES: [(&str, &str, &str); 4] = [
    (
        "idx_ticket_grid_response_counted",
        "grid_id",
        "response_counted_at",
    ),
    (
        "idx_ticket_area_response_counted",
        "handling_area_id",
        "response_counted_at",
    ),
    (
        "idx_ticket_grid_resolution_counted",
        "grid_id",
        "resolution_counted_at",
    ),
    (
        "idx_ticket_area_resolution_counted",
        "handling_area_id",
        "resolution_counted_at",
    ),
];

/// A response is made by acceptance, or by resolution or rejection without one; a ticket
/// dropped (withdrawn, or rejected unaccepted) before it fell due was never owed one. Praise
/// loses its deadlines and leaves the queues (below).
const BACKFILL: &str = "UPDATE ticket SET \
    response_counted_at = CASE \
      WHEN kind = 'praise' OR response_due_at IS NULL THEN NULL \
      WHEN COALESCE(accepted_at, resolved_at, CASE WHEN status = 'rejected' THEN closed_at END) \
           <= response_due_at \
        THEN COALESCE(accepted_at, resolved_at, CASE WHEN status = 'rejected' THEN closed_at END) \
      WHEN status IN ('withdrawn', 'rejected') AND accepted_at IS NULL \
           AND closed_at <= response_due_at THEN NULL \
      ELSE response_due_at END, \
    resolution_counted_at = CASE \
      WHEN kind = 'praise' OR resolution_due_at IS NULL THEN NULL \
      WHEN resolved_at <= resolution_due_at THEN resolved_at \
      WHEN status IN ('withdrawn', 'rejected') AND accepted_at IS NULL \
           AND closed_at <= resolution_due_at THEN NULL \
      ELSE resolution_due_at END";

/// Praise has no deadlines and waits in no queue: existing praise loses its deadlines and,
/// if still open, is closed as of its submission.
const PRAISE: &str = "UPDATE ticket SET response_due_at = NULL, resolution_due_at = NULL, \
    next_response_check_at = NULL, resolution_overdue = false, \
    closed_at = CASE WHEN status IN ('submitted', 'pending_dispatch', 'assigned', 'in_progress') \
                THEN submitted_at ELSE closed_at END, \
    status = CASE WHEN status IN ('submitted', 'pending_dispatch', 'assigned', 'in_progress') \
             THEN 'closed' ELSE status END \
    WHERE kind = 'praise'";

fn appeal_table() -> TableCreateStatement {
    Table::create()
        .table("appeal")
        .col(pk_uuid("id"))
        .col(uuid("ticket_id"))
        .col(string_len("reason_code", 32))
        .col(text("note"))
        .col(text("attachment_ids"))
        .col(string_len("status", 16))
        .col(uuid("filed_by"))
        .col(timestamp_with_time_zone("filed_at"))
        .col(uuid("reviewer_area_id"))
        .col(uuid_null("decided_by"))
        .col(timestamp_with_time_zone_null("decided_at"))
        .col(text_null("decision_note"))
        .foreign_key(
            ForeignKey::create()
                .name("fk_appeal_ticket_id")
                .from("appeal", "ticket_id")
                .to("ticket", "id"),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_appeal_filed_by")
                .from("appeal", "filed_by")
                .to("staff", "id"),
        )
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "ticket",
            vec![
                timestamp_with_time_zone_null("response_counted_at"),
                timestamp_with_time_zone_null("resolution_counted_at"),
                boolean("excluded_from_rates").default(false).take(),
                uuid_null("praised_staff_id"),
                uuid_null("follows_ticket_id"),
                uuid_null("response_staff_id"),
                uuid_null("resolution_staff_id"),
            ],
        )
        .await?;
        add_columns(
            manager,
            "stat_day",
            DAY_COUNTS
                .iter()
                .map(|c| big_integer(*c).default(0).take())
                .collect(),
        )
        .await?;
        add_columns(manager, "rating", vec![text_null("reasons")]).await?;
        for (name, a, b) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("ticket")
                        .col(a)
                        .col(b)
                        .take(),
                )
                .await?;
        }
        manager.create_table(appeal_table()).await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_appeal_one_pending ON appeal (ticket_id) \
             WHERE status = 'pending'",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_appeal_reviewer_status")
                    .table("appeal")
                    .col("reviewer_area_id")
                    .col("status")
                    .take(),
            )
            .await?;
        db.execute_unprepared(BACKFILL).await?;
        db.execute_unprepared(PRAISE).await?;
        // Who answered for an existing ticket's moments is not recorded: its holder stands in.
        db.execute_unprepared(
            "UPDATE ticket SET response_staff_id = assignee_id, resolution_staff_id = assignee_id",
        )
        .await?;
        db.execute_unprepared("DELETE FROM stat_day").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("appeal").take())
            .await?;
        for (name, _, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table("ticket").to_owned())
                .await?;
        }
        drop_columns(manager, "rating", &["reasons"]).await?;
        drop_columns(manager, "stat_day", &DAY_COUNTS).await?;
        drop_columns(
            manager,
            "ticket",
            &[
                "response_counted_at",
                "resolution_counted_at",
                "excluded_from_rates",
                "praised_staff_id",
                "follows_ticket_id",
                "response_staff_id",
                "resolution_staff_id",
            ],
        )
        .await?;
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM stat_day")
            .await?;
        Ok(())
    }
}
