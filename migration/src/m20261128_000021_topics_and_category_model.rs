//! 每月一题 topics and the category model (issue 26, parts 2 and 3).
//!
//! A topic gathers tickets about one problem (a hot spot or a hand-picked set) under an area's
//! ownership until a due date: `topic`, its progress notes `topic_update`, and the ticket's
//! `topic_id`. While open, a topic with an outline (from a hot spot: `outline`, GeoJSON ring
//! in WGS-84) takes new tickets of its category submitted near it. The category model
//! (`category_model`) is the naive Bayes model the scheduler trains from closed tickets, kept
//! as JSON so every node serves the newest one.
use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("topic")
                    .col(uuid("id").primary_key())
                    .col(string("title"))
                    .col(text("description"))
                    .col(uuid_null("category_id"))
                    .col(uuid("owner_area_id"))
                    .col(timestamp_with_time_zone("due_at"))
                    .col(string("status"))
                    .col(text_null("outline"))
                    .col(string_null("hotspot"))
                    .col(uuid("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("closed_at"))
                    .col(text_null("closing_note"))
                    .col(integer("version"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("topic_update")
                    .col(uuid("id").primary_key())
                    .col(uuid("topic_id"))
                    .col(uuid("staff_id"))
                    .col(text("note"))
                    .col(timestamp_with_time_zone("created_at"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("category_model")
                    .col(uuid("id").primary_key())
                    .col(timestamp_with_time_zone("trained_at"))
                    .col(big_integer("texts"))
                    .col(big_integer("tickets"))
                    .col(integer("categories"))
                    .col(text("model"))
                    .take(),
            )
            .await?;
        add_columns(manager, "ticket", vec![uuid_null("topic_id").take()]).await?;
        for (table, name, cols) in [
            ("ticket", "idx_ticket_topic", vec!["topic_id"]),
            ("topic", "idx_topic_status", vec!["status", "category_id"]),
            (
                "topic",
                "idx_topic_owner",
                vec!["owner_area_id", "created_at"],
            ),
            (
                "topic_update",
                "idx_topic_update_topic",
                vec!["topic_id", "created_at"],
            ),
            (
                "category_model",
                "idx_category_model_trained",
                vec!["trained_at"],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(table);
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.take()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_ticket_topic")
                    .table("ticket")
                    .to_owned(),
            )
            .await?;
        drop_columns(manager, "ticket", &["topic_id"]).await?;
        for table in ["category_model", "topic_update", "topic"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
