//! Notifications that reach people (issue 23):
//!
//! - `notification`: the in-app inbox, the channel of record: one row per message to a resident
//!   or a staff member, written in the same transaction as the change; `read_at` once read.
//! - `notification_outbox.claim_token`: the claim of the one sender that holds a message; its
//!   result is written only under that token, so a sender whose claim expired cannot mark
//!   (or send) what another has taken up.
//! - `notification_outbox.wait_until`: how long a resident message waits for a grant
//!   (`waiting_grant`) before it is given up.
//! - `notification_outbox.channel`: where it went (`wechat`, `wecom`) or `inbox` only;
//!   `wechat_msgid` and `delivery`: WeChat's id for a sent message and what its later
//!   `subscribe_msg_sent_event` reported.
//! - `subscription_grant.refused_at`: the resident refused the template (popup or settings).
//! - `staff.wecom_userid`: the member's 企业微信 userid, where staff messages go.
//! - `attachment.media_check` and `media_trace_id`: a resident's photo sent to WeChat's
//!   `media_check_async` (`pending`, then `pass`, `review` or `risky`; `unchecked` when it could
//!   not be sent) and the trace id its verdict comes back with.
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
                    .table("notification")
                    .col(uuid("id").primary_key())
                    .col(string("recipient_kind"))
                    .col(uuid("recipient_id"))
                    .col(uuid_null("ticket_id"))
                    .col(string("kind"))
                    .col(string("title"))
                    .col(text("body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("read_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notification_recipient")
                    .table("notification")
                    .col("recipient_id")
                    .col("created_at")
                    .take(),
            )
            .await?;
        add_columns(
            manager,
            "notification_outbox",
            vec![
                string_null("claim_token"),
                timestamp_with_time_zone_null("wait_until"),
                string_null("channel"),
                string_null("wechat_msgid"),
                string_null("delivery"),
            ],
        )
        .await?;
        add_columns(
            manager,
            "subscription_grant",
            vec![timestamp_with_time_zone_null("refused_at")],
        )
        .await?;
        add_columns(manager, "staff", vec![string_null("wecom_userid")]).await?;
        add_columns(
            manager,
            "attachment",
            vec![string_null("media_check"), string_null("media_trace_id")],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attachment_media_trace")
                    .table("attachment")
                    .col("media_trace_id")
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_ticket")
                    .table("notification_outbox")
                    .col("ticket_id")
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_wechat_msgid")
                    .table("notification_outbox")
                    .col("wechat_msgid")
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_outbox_ticket")
                    .table("notification_outbox")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_outbox_wechat_msgid")
                    .table("notification_outbox")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_attachment_media_trace")
                    .table("attachment")
                    .to_owned(),
            )
            .await?;
        drop_columns(manager, "attachment", &["media_trace_id", "media_check"]).await?;
        drop_columns(manager, "staff", &["wecom_userid"]).await?;
        drop_columns(manager, "subscription_grant", &["refused_at"]).await?;
        drop_columns(
            manager,
            "notification_outbox",
            &[
                "delivery",
                "wechat_msgid",
                "channel",
                "wait_until",
                "claim_token",
            ],
        )
        .await?;
        manager
            .drop_table(Table::drop().table("notification").to_owned())
            .await?;
        Ok(())
    }
}
