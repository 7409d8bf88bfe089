//! Residents' grants of subscription-message templates (`wx.requestSubscribeMessage`): a
//! one-time grant lets one message through; a long-term one (长期订阅) every message. A grant is
//! consumed in the same statement that decides a message may go, so two senders never spend one
//! grant twice; a message with no grant waits (`waiting_grant`) until the resident grants its
//! template, and then the newest waiting message per ticket and template goes.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::ServiceResult;
use crate::config::NotificationSettings;
use entity::{notification_outbox as outbox, subscription_grant as grant};

/// Takes one unused grant of `template_id` (a long-term grant is not used up). True when the
/// message may go.
pub async fn take(
    db: &impl ConnectionTrait,
    resident_id: Uuid,
    template_id: &str,
    long_term: bool,
) -> ServiceResult<bool> {
    let mine = |q: sea_orm::UpdateMany<grant::Entity>| {
        q.filter(grant::Column::ResidentId.eq(resident_id))
            .filter(grant::Column::TemplateId.eq(template_id))
            .filter(grant::Column::Remaining.gt(0))
    };
    let step = if long_term { 0 } else { 1 };
    let taken = mine(grant::Entity::update_many().col_expr(
        grant::Column::Remaining,
        Expr::col(grant::Column::Remaining).sub(step),
    ))
    .exec(db)
    .await?;
    Ok(taken.rows_affected == 1)
}

/// Gives back a grant taken for a message that was not delivered (WeChat was down).
pub async fn give_back(
    db: &impl ConnectionTrait,
    resident_id: Uuid,
    template_id: &str,
    long_term: bool,
) -> ServiceResult<()> {
    if long_term {
        return Ok(());
    }
    grant::Entity::update_many()
        .col_expr(
            grant::Column::Remaining,
            Expr::col(grant::Column::Remaining).add(1),
        )
        .filter(grant::Column::ResidentId.eq(resident_id))
        .filter(grant::Column::TemplateId.eq(template_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The resident's grant row of a template, made (with nothing granted) if they have none.
async fn row_of(
    db: &impl ConnectionTrait,
    resident_id: Uuid,
    template_id: &str,
    at: DateTime<Utc>,
) -> ServiceResult<Uuid> {
    let existing = grant::Entity::find()
        .filter(grant::Column::ResidentId.eq(resident_id))
        .filter(grant::Column::TemplateId.eq(template_id))
        .one(db)
        .await?;
    if let Some(g) = existing {
        return Ok(g.id);
    }
    Ok(grant::ActiveModel {
        id: Set(Uuid::new_v4()),
        resident_id: Set(resident_id),
        template_id: Set(template_id.to_owned()),
        remaining: Set(0),
        updated_at: Set(at),
        refused_at: Set(None),
    }
    .insert(db)
    .await?
    .id)
}

/// A resident granted templates (in the mini-program, or WeChat's popup event): one more
/// message each (a long-term template: from now on), and any earlier refusal lifted. The newest
/// waiting message per ticket and template is queued to go now; older ones of the same ticket
/// and template are superseded.
pub async fn add(
    db: &impl ConnectionTrait,
    settings: &NotificationSettings,
    resident_id: Uuid,
    template_ids: &[String],
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    for template_id in template_ids {
        let id = row_of(db, resident_id, template_id, at).await?;
        grant::Entity::update_many()
            .col_expr(
                grant::Column::Remaining,
                Expr::col(grant::Column::Remaining).add(1),
            )
            .col_expr(grant::Column::UpdatedAt, Expr::value(at))
            .col_expr(
                grant::Column::RefusedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(grant::Column::Id.eq(id))
            .exec(db)
            .await?;
        let events: Vec<&str> = settings
            .templates
            .iter()
            .filter(|(_, t)| &t.template_id == template_id)
            .map(|(event, _)| event.as_str())
            .collect();
        wake(db, resident_id, &events, at).await?;
    }
    Ok(())
}

/// The resident refused templates (the popup, or WeChat's settings): no grant of them is left,
/// and the refusal is recorded.
pub async fn refuse(
    db: &impl ConnectionTrait,
    resident_id: Uuid,
    template_ids: &[String],
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    for template_id in template_ids {
        let id = row_of(db, resident_id, template_id, at).await?;
        grant::Entity::update_many()
            .col_expr(grant::Column::Remaining, Expr::value(0))
            .col_expr(grant::Column::RefusedAt, Expr::value(at))
            .col_expr(grant::Column::UpdatedAt, Expr::value(at))
            .filter(grant::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Queues the newest waiting message per ticket among `events` (one template's), superseding
/// the older ones.
async fn wake(
    db: &impl ConnectionTrait,
    resident_id: Uuid,
    events: &[&str],
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let waiting = outbox::Entity::find()
        .filter(outbox::Column::RecipientKind.eq("resident"))
        .filter(outbox::Column::RecipientId.eq(resident_id))
        .filter(outbox::Column::Status.eq("waiting_grant"))
        .filter(outbox::Column::Event.is_in(events.iter().copied()))
        .order_by_desc(outbox::Column::CreatedAt)
        .all(db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    for row in waiting {
        let newest = seen.insert(row.ticket_id);
        let (status, why) = if newest {
            ("pending", None)
        } else {
            (
                "skipped",
                Some("superseded by a newer message of this ticket"),
            )
        };
        outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, Expr::value(status))
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(at))
            .col_expr(
                outbox::Column::WaitUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(outbox::Column::LastError, Expr::value(why))
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::Status.eq("waiting_grant"))
            .exec(db)
            .await?;
    }
    Ok(())
}
