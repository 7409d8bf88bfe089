//! Residents' agreements to the privacy notice (issue 24): which version, when, from which
//! client. A resident who has not agreed to the current version may read but not submit.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("privacy_agreement")
                    .col(uuid("id").primary_key())
                    .col(uuid("resident_id"))
                    .col(string("version"))
                    .col(string_null("client"))
                    .col(timestamp_with_time_zone("agreed_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_privacy_agreement_resident")
                    .table("privacy_agreement")
                    .col("resident_id")
                    .col("version")
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("privacy_agreement").to_owned())
            .await
    }
}
