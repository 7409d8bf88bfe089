//! Supervision (督办), extensions (延期) and suspensions (挂账) (issue 25, parts 2 and 3).
//!
//! A supervisor's flag is a `ticket_supervision` row (who, the deadline, the note, and how it
//! ended: `met`, `missed`, `superseded` by a later one, or `closed` with the ticket); the ticket
//! carries the standing one (`supervised_until`, `supervised_by`, `supervision_note`) so work
//! lists order by it and the scheduler finds missed ones through an index. A request for more
//! time or for a pause is a `ticket_extension` row, decided by an administrator above; while a
//! ticket is suspended its resolution deadline is lifted (`suspended_due_at` keeps it, so the
//! time left is given back on resumption) and `suspended_until`, when given, resumes it.
use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TICKET_COLUMNS: [&str; 6] = [
    "supervised_until",
    "supervised_by",
    "supervision_note",
    "suspended_at",
    "suspended_until",
    "suspended_due_at",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "ticket",
            vec![
                timestamp_with_time_zone_null("supervised_until").take(),
                uuid_null("supervised_by").take(),
                text_null("supervision_note").take(),
                timestamp_with_time_zone_null("suspended_at").take(),
                timestamp_with_time_zone_null("suspended_until").take(),
                timestamp_with_time_zone_null("suspended_due_at").take(),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("ticket_supervision")
                    .col(uuid("id").primary_key())
                    .col(uuid("ticket_id"))
                    .col(uuid("supervisor_id"))
                    .col(timestamp_with_time_zone("deadline"))
                    .col(text("note"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(string_null("outcome"))
                    .col(timestamp_with_time_zone_null("settled_at"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("ticket_extension")
                    .col(uuid("id").primary_key())
                    .col(uuid("ticket_id"))
                    .col(string("kind"))
                    .col(uuid("requested_by"))
                    .col(timestamp_with_time_zone_null("until"))
                    .col(text("reason"))
                    .col(timestamp_with_time_zone("requested_at"))
                    .col(string("status"))
                    .col(timestamp_with_time_zone_null("due_before"))
                    .col(uuid_null("decided_by"))
                    .col(timestamp_with_time_zone_null("decided_at"))
                    .col(text_null("decision_note"))
                    .take(),
            )
            .await?;
        for (table, name, cols) in [
            (
                "ticket",
                "idx_ticket_supervised_until",
                vec!["supervised_until"],
            ),
            (
                "ticket",
                "idx_ticket_suspended_until",
                vec!["suspended_until"],
            ),
            (
                "ticket_supervision",
                "idx_ticket_supervision_ticket",
                vec!["ticket_id", "created_at"],
            ),
            (
                "ticket_extension",
                "idx_ticket_extension_ticket",
                vec!["ticket_id", "requested_at"],
            ),
            (
                "ticket_extension",
                "idx_ticket_extension_status",
                vec!["status", "requested_at"],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(table);
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.take()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["ticket_extension", "ticket_supervision"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for name in ["idx_ticket_supervised_until", "idx_ticket_suspended_until"] {
            manager
                .drop_index(Index::drop().name(name).table("ticket").to_owned())
                .await?;
        }
        drop_columns(manager, "ticket", &TICKET_COLUMNS).await
    }
}
