//! Sending notifications (claims, subscription grants) and content moderation flags.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            timestamp_with_time_zone_null("claimed_until"),
            timestamp_with_time_zone_null("sent_at"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("notification_outbox")
                        .add_column(col)
                        .take(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("subscription_grant")
                    .col(pk_uuid("id"))
                    .col(uuid("resident_id"))
                    .col(string_len("template_id", 64))
                    .col(integer("remaining"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_subscription_grant_resident_id")
                            .from("subscription_grant", "resident_id")
                            .to("resident", "id"),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_subscription_grant_resident_template")
                    .table("subscription_grant")
                    .col("resident_id")
                    .col("template_id")
                    .unique()
                    .take(),
            )
            .await?;
        for table in ["ticket", "ticket_event"] {
            for col in [
                string_len_null("moderation", 16),
                integer_null("moderation_label"),
            ] {
                manager
                    .alter_table(Table::alter().table(table).add_column(col).take())
                    .await?;
            }
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_moderation")
                    .table("ticket")
                    .col("moderation")
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_event_moderation")
                    .table("ticket_event")
                    .col("moderation")
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_ticket_event_moderation")
                    .table("ticket_event")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_ticket_moderation")
                    .table("ticket")
                    .to_owned(),
            )
            .await?;
        for table in ["ticket_event", "ticket"] {
            for col in ["moderation_label", "moderation"] {
                manager
                    .alter_table(Table::alter().table(table).drop_column(col).take())
                    .await?;
            }
        }
        manager
            .drop_table(Table::drop().table("subscription_grant").take())
            .await?;
        for col in ["sent_at", "claimed_until"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("notification_outbox")
                        .drop_column(col)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
