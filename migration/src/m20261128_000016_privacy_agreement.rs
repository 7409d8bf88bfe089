//! Residents' personal information (issue 24):
//!
//! - `privacy_agreement`: agreements to the privacy notice, which version, when, from which
//!   client. A resident who has not agreed to the current version may read but not submit.
//! - `personal_data_access`: each time a staff member revealed a resident's contact data, with
//!   the reason and the request it came in (PIPL Art. 51); appended, never changed.
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
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("personal_data_access")
                    .col(uuid("id").primary_key())
                    .col(uuid("staff_id"))
                    .col(uuid_null("resident_id"))
                    .col(uuid("ticket_id"))
                    .col(string("field"))
                    .col(text("reason"))
                    .col(string_null("request_id"))
                    .col(timestamp_with_time_zone("at"))
                    .take(),
            )
            .await?;
        for (name, col) in [
            ("idx_personal_data_access_staff", "staff_id"),
            ("idx_personal_data_access_resident", "resident_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("personal_data_access")
                        .col(col)
                        .col("at")
                        .take(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("personal_data_access").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("privacy_agreement").to_owned())
            .await
    }
}
