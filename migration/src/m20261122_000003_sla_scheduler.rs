//! SLAs and the scheduler: working-time categories, response checks and overdue marks on tickets
//! (indexed, so scans never read all tickets), return visits, a database lease for nodes without
//! Redis, and the notification outbox that escalations write to.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TICKET_COLUMNS: [&str; 5] = [
    "next_response_check_at",
    "resolution_overdue",
    "return_visit_at",
    "return_visit_outcome",
    "return_visit_note",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("category")
                    .add_column(string_len("sla_mode", 16).default("calendar"))
                    .take(),
            )
            .await?;
        for col in [
            timestamp_with_time_zone_null("next_response_check_at"),
            boolean("resolution_overdue").default(false).take(),
            timestamp_with_time_zone_null("return_visit_at"),
            string_len_null("return_visit_outcome", 24),
            text_null("return_visit_note"),
        ] {
            manager
                .alter_table(Table::alter().table("ticket").add_column(col).take())
                .await?;
        }
        for (name, cols) in [
            (
                "idx_ticket_next_response_check_at",
                &["next_response_check_at"][..],
            ),
            (
                "idx_ticket_status_resolution_due_at",
                &["status", "resolution_due_at"],
            ),
            ("idx_ticket_status_resolved_at", &["status", "resolved_at"]),
            (
                "idx_ticket_return_visit_required",
                &["return_visit_required"],
            ),
        ] {
            let mut idx = Index::create();
            idx.name(name).table("ticket");
            for c in cols {
                idx.col(*c);
            }
            manager.create_index(idx.take()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("lease")
                    .col(string_len("name", 64).primary_key())
                    .col(string_len("holder", 64))
                    .col(timestamp_with_time_zone("expires_at"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("notification_outbox")
                    .col(pk_uuid("id"))
                    .col(string_len("recipient_kind", 16))
                    .col(uuid("recipient_id"))
                    .col(string_len("event", 32))
                    .col(uuid_null("ticket_id"))
                    .col(text("payload"))
                    .col(string_len("status", 16))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notification_outbox_status_next_attempt_at")
                    .table("notification_outbox")
                    .col("status")
                    .col("next_attempt_at")
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("notification_outbox").take())
            .await?;
        manager
            .drop_table(Table::drop().table("lease").take())
            .await?;
        for name in [
            "idx_ticket_next_response_check_at",
            "idx_ticket_status_resolution_due_at",
            "idx_ticket_status_resolved_at",
            "idx_ticket_return_visit_required",
        ] {
            manager
                .drop_index(Index::drop().name(name).table("ticket").to_owned())
                .await?;
        }
        for col in TICKET_COLUMNS.iter().rev() {
            manager
                .alter_table(Table::alter().table("ticket").drop_column(*col).take())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("category")
                    .drop_column("sla_mode")
                    .take(),
            )
            .await?;
        Ok(())
    }
}
