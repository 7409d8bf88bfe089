//! Notification records: an inbox row (the channel of record, [`super::inbox`]) and an outbox row
//! (its delivery), written in the same transaction as the change that causes them, so none is
//! lost when the change commits and none exists when it does not. Delivering them (WeChat
//! subscription messages) is the outbox sender's job.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde_json::json;
use uuid::Uuid;

use super::ServiceResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Resident: their ticket was accepted, resolved, rejected, escalated or closed unrated.
    Accepted,
    Resolved,
    Rejected,
    Escalated,
    AutoClosed,
    /// Worker: a ticket landed on them, came back reopened, or is overdue.
    Assigned,
    Reopened,
    Overdue,
    /// Worker: a resident thanked them.
    Praised,
    /// Dispatcher: a worker sent a ticket back to their queue (退单).
    Returned,
    /// Street: a ticket was returned more than `lifecycle.max_returns` times.
    ReturnFlagged,
    /// Assignee and their administrators: a ticket was put under supervision (督办); its
    /// deadline was missed and it went up a level.
    Supervised,
    SupervisionMissed,
    /// Administrators above: an assignee asks for more time or a pause; the assignee: the
    /// answer.
    ExtensionRequested,
    ExtensionApproved,
    ExtensionRefused,
    /// Resident: their ticket's resolution deadline moved (an approved extension), or its
    /// work waits on a third party (a suspension) and resumed.
    Extended,
    Suspended,
    Resumed,
    /// Resident: staff corrected their ticket's category or place.
    Corrected,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Accepted => "accepted",
            Event::Resolved => "resolved",
            Event::Rejected => "rejected",
            Event::Escalated => "escalated",
            Event::AutoClosed => "auto_closed",
            Event::Assigned => "assigned",
            Event::Reopened => "reopened",
            Event::Overdue => "overdue",
            Event::Praised => "praised",
            Event::Returned => "returned",
            Event::ReturnFlagged => "return_flagged",
            Event::Supervised => "supervised",
            Event::SupervisionMissed => "supervision_missed",
            Event::ExtensionRequested => "extension_requested",
            Event::ExtensionApproved => "extension_approved",
            Event::ExtensionRefused => "extension_refused",
            Event::Extended => "extended",
            Event::Suspended => "suspended",
            Event::Resumed => "resumed",
            Event::Corrected => "corrected",
        }
    }
}

async fn record(
    db: &impl ConnectionTrait,
    recipient_kind: &str,
    recipient_id: Uuid,
    event: &str,
    ticket: &entity::ticket::Model,
    text: Option<&str>,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let title = match text {
        Some(t) => t.chars().take(200).collect(),
        None => ticket
            .title
            .clone()
            .unwrap_or_else(|| ticket.description.chars().take(20).collect()),
    };
    let to = match recipient_kind {
        "resident" => super::inbox::Recipient::Resident(recipient_id),
        _ => super::inbox::Recipient::Staff(recipient_id),
    };
    super::inbox::write(db, to, event, ticket, &title, at).await?;
    let payload = json!({
        "number": ticket.number,
        "title": title,
        "at": at.to_rfc3339(),
    });
    entity::notification_outbox::ActiveModel {
        id: Set(Uuid::new_v4()),
        recipient_kind: Set(recipient_kind.to_owned()),
        recipient_id: Set(recipient_id),
        event: Set(event.to_owned()),
        ticket_id: Set(Some(ticket.id)),
        payload: Set(payload.to_string()),
        status: Set("pending".to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(at),
        last_error: Set(None),
        created_at: Set(at),
        claimed_until: Set(None),
        sent_at: Set(None),
        claim_token: Set(None),
        wait_until: Set(None),
        channel: Set(None),
        wechat_msgid: Set(None),
        delivery: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn resident(
    db: &impl ConnectionTrait,
    resident_id: Uuid,
    event: Event,
    ticket: &entity::ticket::Model,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    record(
        db,
        "resident",
        resident_id,
        event.as_str(),
        ticket,
        None,
        at,
    )
    .await
}

/// A message to a resident about their ticket that says more than its event: `text` in place
/// of the ticket's title (a 每月一题 topic's progress note). `event` names the template.
pub async fn resident_about(
    db: &impl ConnectionTrait,
    resident_id: Uuid,
    event: &str,
    ticket: &entity::ticket::Model,
    text: &str,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    record(db, "resident", resident_id, event, ticket, Some(text), at).await
}

pub async fn staff(
    db: &impl ConnectionTrait,
    staff_id: Uuid,
    event: Event,
    ticket: &entity::ticket::Model,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    record(db, "staff", staff_id, event.as_str(), ticket, None, at).await
}
