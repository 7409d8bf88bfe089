//! Idempotent submission (a unique key per resident, held by the database) and photo attachments.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            string_len_null("idempotency_key", 128),
            string_len_null("request_hash", 64),
        ] {
            manager
                .alter_table(Table::alter().table("ticket").add_column(col).take())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("uq_ticket_resident_idempotency_key")
                    .table("ticket")
                    .col("resident_id")
                    .col("idempotency_key")
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("category")
                    .add_column(boolean("requires_resolution_photo").default(false))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("attachment")
                    .col(pk_uuid("id"))
                    .col(string_len("owner_kind", 16))
                    .col(uuid("owner_id"))
                    .col(string_len("content_type", 32))
                    .col(big_integer("size_bytes"))
                    .col(string_len("sha256", 64))
                    .col(string_len("storage_key", 200))
                    .col(uuid_null("ticket_id"))
                    .col(string_len_null("purpose", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attachment_ticket_id")
                            .from("attachment", "ticket_id")
                            .to("ticket", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attachment_ticket_id")
                    .table("attachment")
                    .col("ticket_id")
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("attachment").take())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("category")
                    .drop_column("requires_resolution_photo")
                    .take(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_ticket_resident_idempotency_key")
                    .table("ticket")
                    .to_owned(),
            )
            .await?;
        for col in ["request_hash", "idempotency_key"] {
            manager
                .alter_table(Table::alter().table("ticket").drop_column(col).take())
                .await?;
        }
        Ok(())
    }
}
