//! The console dashboard's top categories count a month of an area's tickets by category: with
//! the category and kind in the index on (grid, submission time) that count reads the index
//! alone (an index-only scan on PostgreSQL) instead of every ticket row. It replaces the index
//! on (grid_id, submitted_at), whose queries it serves as well.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_grid_submitted_category")
                    .table("ticket")
                    .col("grid_id")
                    .col("submitted_at")
                    .col("category_id")
                    .col("kind")
                    .take(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_ticket_grid_submitted")
                    .table("ticket")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_grid_submitted")
                    .table("ticket")
                    .col("grid_id")
                    .col("submitted_at")
                    .take(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_ticket_grid_submitted_category")
                    .table("ticket")
                    .to_owned(),
            )
            .await
    }
}
