//! Door-knock visits (敲门走访) and the tickets they produce.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("visit")
                    .col(pk_uuid("id"))
                    .col(uuid("worker_id"))
                    .col(uuid("building_id"))
                    .col(uuid("grid_id"))
                    .col(string_len_null("household", 50))
                    .col(text_null("notes"))
                    .col(timestamp_with_time_zone("visited_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_visit_worker_id")
                            .from("visit", "worker_id")
                            .to("staff", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_visit_building_id")
                            .from("visit", "building_id")
                            .to("building", "id"),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_visit_grid_id_visited_at")
                    .table("visit")
                    .col("grid_id")
                    .col("visited_at")
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("ticket")
                    .add_column(uuid_null("visit_id"))
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("ticket")
                    .drop_column("visit_id")
                    .take(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("visit").take())
            .await?;
        Ok(())
    }
}
