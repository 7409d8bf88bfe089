//! Intake on behalf of a resident (代登记) and call-backs on a sample (回访) (issue 25, parts 5
//! and 6). A ticket staff entered for a caller keeps the caller's name (`caller_name`, personal
//! data like the contact phone) and a short `claim_code` the caller types into the mini-program
//! to follow and rate it (unique while unclaimed; cleared once claimed). A return visit records
//! why it was due (`return_visit_cause`: repeated dissatisfaction, the sample, or no rating) and
//! the structured reasons heard (`return_visit_reasons`, comma-separated).
use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 4] = [
    "caller_name",
    "claim_code",
    "return_visit_cause",
    "return_visit_reasons",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "ticket",
            vec![
                text_null("caller_name").take(),
                string_null("claim_code").take(),
                string_null("return_visit_cause").take(),
                string_null("return_visit_reasons").take(),
            ],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_claim_code")
                    .table("ticket")
                    .col("claim_code")
                    .unique()
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_ticket_claim_code")
                    .table("ticket")
                    .to_owned(),
            )
            .await?;
        drop_columns(manager, "ticket", &COLUMNS).await
    }
}
