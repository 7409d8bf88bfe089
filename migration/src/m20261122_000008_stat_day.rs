//! Daily rollups of the three rates per place (a grid, or the area a ticket is handled at when
//! it has no grid), kept in the same transactions as ticket changes, so a street's year of
//! figures reads a few thousand rows instead of a million tickets. Indexes that let one
//! day's rollup be recomputed from its tickets and ratings, and the duplicate check find a
//! category's open tickets without reading the category's whole history.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COUNTS: [&str; 12] = [
    "received",
    "withdrawn",
    "rejected",
    "accepted",
    "resolved",
    "reopened",
    "response_due",
    "responded_in_time",
    "rated",
    "satisfied",
    "basically_satisfied",
    "unsatisfied",
];

const INDEXES: [(&str, &str, &str); 6] = [
    // The duplicate check: open tickets of a category, newest first.
    ("idx_ticket_category_status", "category_id", "status"),
    ("idx_ticket_grid_submitted", "grid_id", "submitted_at"),
    (
        "idx_ticket_area_submitted",
        "handling_area_id",
        "submitted_at",
    ),
    ("idx_ticket_grid_response_due", "grid_id", "response_due_at"),
    (
        "idx_ticket_area_response_due",
        "handling_area_id",
        "response_due_at",
    ),
    ("idx_rating_created", "created_at", "ticket_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table("stat_day")
            .col(date("day"))
            .col(uuid("place_id"));
        for c in COUNTS {
            table.col(big_integer(c).default(0));
        }
        table
            .col(blob("response_secs"))
            .col(blob("resolution_secs"))
            .primary_key(Index::create().col("day").col("place_id"));
        manager.create_table(table.take()).await?;
        for (name, a, b) in INDEXES {
            let table = if name.starts_with("idx_rating") {
                "rating"
            } else {
                "ticket"
            };
            manager
                .create_index(Index::create().name(name).table(table).col(a).col(b).take())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _, _) in INDEXES {
            let table = if name.starts_with("idx_rating") {
                "rating"
            } else {
                "ticket"
            };
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table("stat_day").take())
            .await
    }
}
