//! The `notification_outbox` table: messages to send, written in the same transaction as the
//! change that causes them.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `resident` or `staff`.
    pub recipient_kind: String,
    pub recipient_id: Uuid,
    /// What happened: `accepted`, `resolved`, `rejected`, `escalated`, `auto_closed`,
    /// `assigned`, `reopened`, `overdue`.
    pub event: String,
    pub ticket_id: Option<Uuid>,
    /// JSON with the values the message template needs.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// `pending`, `sending` (claimed by a node), `waiting_grant` (a resident message waiting
    /// for the resident to grant its template), `sent`, `failed` (a final error, recorded in
    /// `last_error`) or `skipped` (no channel, no template configured, superseded, or the wait
    /// for a grant ran out; the inbox still holds it).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    /// While `sending`: the claim of one node, until this time.
    pub claimed_until: Option<DateTimeUtc>,
    pub sent_at: Option<DateTimeUtc>,
    /// While `sending`: the token of the claim; results are written only under it.
    pub claim_token: Option<String>,
    /// While `waiting_grant`: when the wait ends.
    pub wait_until: Option<DateTimeUtc>,
    /// The delivery channel tried: `wechat` or `wecom`; `inbox` when there was none.
    pub channel: Option<String>,
    /// WeChat's id of the sent message.
    pub wechat_msgid: Option<String>,
    /// What WeChat's `subscribe_msg_sent_event` reported: `delivered`, or `refused: …`.
    pub delivery: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
