//! A photo's visibility: one attached to an internal (staff-only) comment is `internal`, so the
//! resident's view of the ticket and `GET /attachments/{id}` leave it out. Existing photos are
//! `public`, but for staff members' comment photos on a ticket where they wrote an internal
//! comment: which comment a photo came with was not recorded, and hiding a public photo from a
//! resident costs less than showing an internal one.
//!
//! Likely duplicates are looked up by category, time and a box around a point, for residents at
//! submission and for staff on every ticket page: `(category_id, submitted_at, lat, lng)` reads
//! the category's window in order and checks the box on the index, fetching only the tickets
//! inside it.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const NEARBY: &str = "idx_ticket_category_submitted_point";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("attachment")
                    .add_column(string_len("visibility", 16).default("public").take())
                    .take(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE attachment SET visibility = 'internal' \
                 WHERE owner_kind = 'staff' AND purpose = 'comment' AND EXISTS ( \
                   SELECT 1 FROM ticket_event e WHERE e.ticket_id = attachment.ticket_id \
                   AND e.actor_id = attachment.owner_id AND e.action = 'comment' \
                   AND e.visibility = 'internal')",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(NEARBY)
                    .table("ticket")
                    .col("category_id")
                    .col("submitted_at")
                    .col("lat")
                    .col("lng")
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NEARBY).table("ticket").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("attachment")
                    .drop_column("visibility")
                    .take(),
            )
            .await
    }
}
