//! The notification outbox sender. At least once, never twice by two nodes: a node claims a
//! message (`pending` → `sending`, guarded by its status) before sending it, and a claim that
//! outlives its node expires so the message is taken up again. Transient WeChat errors back off
//! exponentially with jitter; final ones (no subscription left, bad openid, bad data) are recorded
//! and not retried.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Ctx, ServiceResult};
use crate::{clients::wechat::WechatError, config::NotificationSettings};
use entity::{notification_outbox as outbox, subscription_grant as grant};

const CLAIM: i64 = 60;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DrainReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// A value cut to what a template field of this kind accepts.
pub fn fit_value(key: &str, value: &str) -> String {
    let cut = |n: usize| value.chars().take(n).collect::<String>();
    if key.starts_with("thing") {
        cut(20)
    } else if key.starts_with("phrase") {
        cut(5)
    } else if key.starts_with("character_string")
        || key.starts_with("number")
        || key.starts_with("letter")
    {
        cut(32)
    } else if key.starts_with("name") {
        cut(10)
    } else if key.starts_with("time") || key.starts_with("date") {
        DateTime::parse_from_rfc3339(value)
            .map(|t| {
                t.with_timezone(&crate::domain::calendar::beijing())
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_else(|_| cut(16))
    } else {
        cut(20)
    }
}

fn status_word(event: &str) -> &'static str {
    match event {
        "accepted" => "已受理",
        "resolved" => "已办结",
        "rejected" => "不予受理",
        "escalated" => "已上报",
        "auto_closed" => "已关闭",
        "assigned" => "待处理",
        "reopened" => "重新办理",
        "overdue" => "已超时",
        "praised" => "收到表扬",
        _ => "有更新",
    }
}

/// The `subscribe/send` body for a message, or why it cannot be sent.
fn message(
    settings: &NotificationSettings,
    row: &outbox::Model,
    openid: &str,
) -> Result<(String, Value), String> {
    let template = settings
        .templates
        .get(&row.event)
        .ok_or_else(|| format!("no template for `{}`", row.event))?;
    let payload: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let mut data = serde_json::Map::new();
    for (name, key) in &template.fields {
        let value = match name.as_str() {
            "status" => status_word(&row.event).to_owned(),
            "time" => payload["at"].as_str().unwrap_or_default().to_owned(),
            other => payload[other].as_str().unwrap_or_default().to_owned(),
        };
        data.insert(key.clone(), json!({"value": fit_value(key, &value)}));
    }
    let page = settings.page.replace(
        "{id}",
        &row.ticket_id.map(|id| id.to_string()).unwrap_or_default(),
    );
    let body = json!({
        "touser": openid,
        "template_id": template.template_id,
        "page": page,
        "data": data,
        "miniprogram_state": settings.miniprogram_state,
        "lang": settings.lang,
    });
    Ok((template.template_id.clone(), body))
}

async fn openid_of(
    db: &impl ConnectionTrait,
    row: &outbox::Model,
) -> ServiceResult<Option<String>> {
    Ok(match row.recipient_kind.as_str() {
        "resident" => entity::resident::Entity::find_by_id(row.recipient_id)
            .one(db)
            .await?
            .map(|r| r.openid),
        _ => entity::staff::Entity::find_by_id(row.recipient_id)
            .one(db)
            .await?
            .and_then(|s| s.openid),
    })
}

async fn finish(
    db: &impl ConnectionTrait,
    row: &outbox::Model,
    status: &str,
    error: Option<String>,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let mut am: outbox::ActiveModel = row.clone().into();
    am.status = Set(status.to_owned());
    am.attempts = Set(row.attempts + 1);
    am.claimed_until = Set(None);
    am.last_error = Set(error);
    if status == "sent" {
        am.sent_at = Set(Some(at));
    }
    am.update(db).await?;
    Ok(())
}

/// Exponential backoff with ±25 % jitter, capped at six hours.
fn backoff(base_seconds: i64, attempts: i32) -> Duration {
    let exp = base_seconds.saturating_mul(1i64 << attempts.clamp(0, 12));
    let capped = Ord::min(exp, 6 * 3600);
    let jitter = (Uuid::new_v4().as_u128() % 51) as i64 - 25; // -25..=25 percent
    Duration::seconds(capped + capped * jitter / 100)
}

/// Sends what is due. Safe to run on several nodes at once.
pub async fn drain(ctx: &Ctx<'_>, now: DateTime<Utc>) -> ServiceResult<DrainReport> {
    let settings = &ctx.settings.notifications;
    let due = outbox::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(outbox::Column::Status.eq("pending"))
                        .add(outbox::Column::NextAttemptAt.lte(now)),
                )
                .add(
                    Condition::all()
                        .add(outbox::Column::Status.eq("sending"))
                        .add(outbox::Column::ClaimedUntil.lt(now)),
                ),
        )
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(settings.batch_size)
        .all(ctx.db)
        .await?;
    let mut report = DrainReport::default();
    for row in due {
        // The claim: only one node moves this row from what it read to `sending`.
        let claimed = outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, Expr::value("sending"))
            .col_expr(
                outbox::Column::ClaimedUntil,
                Expr::value(now + Duration::seconds(CLAIM)),
            )
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::Status.eq(row.status.as_str()))
            .filter(outbox::Column::Attempts.eq(row.attempts))
            .exec(ctx.db)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let Some(openid) = openid_of(ctx.db, &row).await? else {
            finish(
                ctx.db,
                &row,
                "skipped",
                Some("recipient has no WeChat openid".into()),
                now,
            )
            .await?;
            report.skipped += 1;
            continue;
        };
        let (template_id, body) = match message(settings, &row, &openid) {
            Ok(m) => m,
            Err(why) => {
                finish(ctx.db, &row, "skipped", Some(why), now).await?;
                report.skipped += 1;
                continue;
            }
        };
        let resident = row.recipient_kind == "resident";
        if resident && !has_grant(ctx.db, row.recipient_id, &template_id).await? {
            finish(
                ctx.db,
                &row,
                "skipped",
                Some("no unused subscription for this template".into()),
                now,
            )
            .await?;
            report.skipped += 1;
            continue;
        }
        match ctx.wechat.send_subscription(&body).await {
            Ok(()) => {
                if resident {
                    use_grant(ctx.db, row.recipient_id, &template_id).await?;
                }
                finish(ctx.db, &row, "sent", None, now).await?;
                report.sent += 1;
            }
            Err(e) if e.is_transient() && row.attempts + 1 < settings.max_attempts => {
                let mut am: outbox::ActiveModel = row.clone().into();
                am.status = Set("pending".into());
                am.attempts = Set(row.attempts + 1);
                am.claimed_until = Set(None);
                am.next_attempt_at =
                    Set(now + backoff(settings.base_backoff_seconds, row.attempts));
                am.last_error = Set(Some(e.to_string()));
                am.update(ctx.db).await?;
                report.retried += 1;
            }
            Err(e) => {
                let why = match &e {
                    WechatError::Api { errcode: 43101, .. } => {
                        "43101: the user has no subscription left".to_owned()
                    }
                    WechatError::Api { errcode: 40003, .. } => "40003: invalid openid".to_owned(),
                    WechatError::Api { errcode: 47003, .. } => {
                        "47003: template data invalid".to_owned()
                    }
                    other => other.to_string(),
                };
                finish(ctx.db, &row, "failed", Some(why), now).await?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

async fn has_grant(
    db: &impl ConnectionTrait,
    resident_id: Uuid,
    template_id: &str,
) -> ServiceResult<bool> {
    Ok(grant::Entity::find()
        .filter(grant::Column::ResidentId.eq(resident_id))
        .filter(grant::Column::TemplateId.eq(template_id))
        .filter(grant::Column::Remaining.gt(0))
        .one(db)
        .await?
        .is_some())
}

async fn use_grant(
    db: &impl ConnectionTrait,
    resident_id: Uuid,
    template_id: &str,
) -> ServiceResult<()> {
    grant::Entity::update_many()
        .col_expr(
            grant::Column::Remaining,
            Expr::col(grant::Column::Remaining).sub(1),
        )
        .filter(grant::Column::ResidentId.eq(resident_id))
        .filter(grant::Column::TemplateId.eq(template_id))
        .filter(grant::Column::Remaining.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// A resident granted one-time subscriptions in the mini-program: one message each.
pub async fn add_grants(
    db: &impl ConnectionTrait,
    resident_id: Uuid,
    template_ids: &[String],
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    for template_id in template_ids {
        let existing = grant::Entity::find()
            .filter(grant::Column::ResidentId.eq(resident_id))
            .filter(grant::Column::TemplateId.eq(template_id.as_str()))
            .one(db)
            .await?;
        match existing {
            Some(g) => {
                grant::Entity::update_many()
                    .col_expr(
                        grant::Column::Remaining,
                        Expr::col(grant::Column::Remaining).add(1),
                    )
                    .col_expr(grant::Column::UpdatedAt, Expr::value(at))
                    .filter(grant::Column::Id.eq(g.id))
                    .exec(db)
                    .await?;
            }
            None => {
                grant::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    resident_id: Set(resident_id),
                    template_id: Set(template_id.clone()),
                    remaining: Set(1),
                    updated_at: Set(at),
                }
                .insert(db)
                .await?;
            }
        }
    }
    Ok(())
}

pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<&str>,
    limit: u64,
) -> ServiceResult<Vec<outbox::Model>> {
    let mut q = outbox::Entity::find()
        .order_by_desc(outbox::Column::CreatedAt)
        .limit(limit);
    if let Some(s) = status {
        q = q.filter(outbox::Column::Status.eq(s));
    }
    Ok(q.all(db).await?)
}

/// Messages by status, for `/metrics`.
pub async fn count_by_status(db: &impl ConnectionTrait) -> ServiceResult<Vec<(String, i64)>> {
    Ok(outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Status)
        .column_as(Expr::col(outbox::Column::Id).count(), "n")
        .group_by(outbox::Column::Status)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_cut_to_wechat_field_limits() {
        assert_eq!(fit_value("thing2", &"长".repeat(30)).chars().count(), 20);
        assert_eq!(fit_value("phrase3", "处理中已经完成了"), "处理中已经");
        assert_eq!(fit_value("character_string1", &"9".repeat(40)).len(), 32);
        assert_eq!(
            fit_value("time4", "2026-11-22T02:05:00+00:00"),
            "2026-11-22 10:05"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(30, 0) <= Duration::seconds(38) && backoff(30, 0) >= Duration::seconds(22));
        assert!(backoff(30, 3) >= Duration::seconds(180));
        assert!(backoff(30, 12) <= Duration::seconds(6 * 3600 * 5 / 4));
    }
}
