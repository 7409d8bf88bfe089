//! Open311 GeoReport v2: API keys bound to areas, and the attributes a category (service) declares.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("open311_key")
                    .col(pk_uuid("id"))
                    .col(string_len("name", 100))
                    .col(string_len_uniq("key_hash", 64))
                    .col(text("area_ids"))
                    .col(boolean("active"))
                    .col(timestamp_with_time_zone("created_at"))
                    .take(),
            )
            .await?;
        for col in [text_null("open311_attributes"), text_null("description")] {
            manager
                .alter_table(Table::alter().table("category").add_column(col).take())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in ["description", "open311_attributes"] {
            manager
                .alter_table(Table::alter().table("category").drop_column(col).take())
                .await?;
        }
        manager
            .drop_table(Table::drop().table("open311_key").take())
            .await?;
        Ok(())
    }
}
