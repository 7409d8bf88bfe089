//! Returns instead of ping-pong (issue 25, part 1; 退单): a worker who holds a ticket that is not
//! theirs sends it back to the dispatcher above. Each return is a `ticket_return` row: who, from
//! which grid, why, when, and how it ended (redirected by the dispatcher, or refused and handed
//! back to the worker, who may not return it again) and when, so the statistics count returns
//! per grid and worker (流转次数) and the time tickets spent returned. `ticket.return_count`
//! flags a ticket returned more than `lifecycle.max_returns` times to the street.
use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "ticket",
            vec![integer("return_count").default(0).take()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("ticket_return")
                    .col(uuid("id").primary_key())
                    .col(uuid("ticket_id"))
                    .col(uuid("staff_id"))
                    .col(uuid_null("grid_id"))
                    .col(uuid_null("handling_area_id"))
                    .col(string("reason_code"))
                    .col(text("note"))
                    .col(timestamp_with_time_zone("returned_at"))
                    .col(string_null("outcome"))
                    .col(uuid_null("decided_by"))
                    .col(timestamp_with_time_zone_null("decided_at"))
                    .take(),
            )
            .await?;
        for (name, cols) in [
            ("idx_ticket_return_ticket", vec!["ticket_id", "returned_at"]),
            ("idx_ticket_return_at", vec!["returned_at"]),
        ] {
            let mut index = Index::create();
            index.name(name).table("ticket_return");
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.take()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("ticket_return").to_owned())
            .await?;
        drop_columns(manager, "ticket", &["return_count"]).await
    }
}
