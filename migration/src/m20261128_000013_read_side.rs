//! What a front end reads (issue 21):
//!
//! - `category.display_order`: the order the mini-program lists categories in (then by code).
//! - `ticket_event.public_note`: what the resident reads of a transfer or an escalation, whose
//!   reason (`note`) is internal.
//! - `attachment.thumbnail_key`: the stored thumbnail (longest side 320 px), made once.
use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "category",
            vec![integer("display_order").default(0).take()],
        )
        .await?;
        add_columns(manager, "ticket_event", vec![text_null("public_note")]).await?;
        add_columns(manager, "attachment", vec![string_null("thumbnail_key")]).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(manager, "attachment", &["thumbnail_key"]).await?;
        drop_columns(manager, "ticket_event", &["public_note"]).await?;
        drop_columns(manager, "category", &["display_order"]).await?;
        Ok(())
    }
}
