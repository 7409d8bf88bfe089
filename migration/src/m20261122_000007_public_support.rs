//! Public suggestions and "me too" support.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            boolean("public").default(false).take(),
            integer("support_count").default(0).take(),
        ] {
            manager
                .alter_table(Table::alter().table("ticket").add_column(col).take())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_public_support")
                    .table("ticket")
                    .col("public")
                    .col("support_count")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("ticket_support")
                    .col(uuid("ticket_id"))
                    .col(uuid("resident_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("ticket_id").col("resident_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ticket_support_ticket_id")
                            .from("ticket_support", "ticket_id")
                            .to("ticket", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ticket_support_resident_id")
                            .from("ticket_support", "resident_id")
                            .to("resident", "id"),
                    )
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("ticket_support").take())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_ticket_public_support")
                    .table("ticket")
                    .to_owned(),
            )
            .await?;
        for col in ["support_count", "public"] {
            manager
                .alter_table(Table::alter().table("ticket").drop_column(col).take())
                .await?;
        }
        Ok(())
    }
}
