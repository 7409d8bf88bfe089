//! The notification outbox sender: every message in the inbox (the channel of record) is
//! delivered through WeChat where its recipient can be reached there. Once across nodes, even
//! when a node dies or stops:
//!
//! - a message is claimed by one statement that re-checks that it is still due (pending and
//!   due, or a claim that has expired) and sets a fresh claim token and deadline, so exactly one
//!   sender wins it, and each message is claimed just before it is sent (the claim covers one
//!   send, not a pass);
//! - its result is written only under that claim token, so a sender whose claim expired cannot
//!   overwrite another's;
//! - a resident's grant is consumed in the statement that decides the message may go, and given
//!   back if WeChat did not take it;
//! - a stopping node finishes the message in hand, marks it, and takes no more.
//!
//! Transient WeChat errors back off exponentially with jitter; final ones (bad openid, bad
//! data) are recorded and not retried. A resident message without a grant waits
//! (`waiting_grant`, see [`super::grants`]) up to `notifications.grant_wait_days`.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{Ctx, ServiceResult, grants};

mod wechat;
mod wecom;

use crate::{clients::wechat::WechatError, config::NotificationSettings};
use entity::notification_outbox as outbox;
pub use wechat::fit_value;
use wechat::message;

/// How long a claim on one message lasts: longer than a send's timeout.
const CLAIM: i64 = 60;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DrainReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Resident messages now waiting for a grant.
    pub waiting: usize,
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

/// The due messages' ids: pending and due, or claimed by a sender whose claim has expired.
fn due(now: DateTime<Utc>) -> Condition {
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
        )
}

/// Claims one message if it is still due: one statement, so exactly one sender wins it.
async fn claim(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> ServiceResult<Option<String>> {
    let token = Uuid::new_v4().to_string();
    let claimed = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value("sending"))
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(now + Duration::seconds(CLAIM)),
        )
        .col_expr(outbox::Column::ClaimToken, Expr::value(token.as_str()))
        .filter(outbox::Column::Id.eq(id))
        .filter(due(now))
        .exec(db)
        .await?;
    Ok((claimed.rows_affected == 1).then_some(token))
}

/// What becomes of a claimed message.
struct Outcome<'a> {
    status: &'a str,
    error: Option<String>,
    channel: Option<&'a str>,
    /// `pending` again: when to try next.
    next_attempt_at: Option<DateTime<Utc>>,
    /// `waiting_grant`: until when.
    wait_until: Option<DateTime<Utc>>,
    /// `sent` through WeChat: its id for the message.
    wechat_msgid: Option<String>,
}

impl<'a> Outcome<'a> {
    fn done(status: &'a str, channel: Option<&'a str>, error: Option<String>) -> Self {
        Outcome {
            status,
            error,
            channel,
            next_attempt_at: None,
            wait_until: None,
            wechat_msgid: None,
        }
    }
}

/// Writes a claimed message's outcome under its claim token: false when the claim was lost
/// (it expired and another sender took the message up).
async fn finish(
    db: &impl ConnectionTrait,
    row: &outbox::Model,
    token: &str,
    outcome: Outcome<'_>,
    at: DateTime<Utc>,
) -> ServiceResult<bool> {
    let mut q = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(outcome.status))
        .col_expr(outbox::Column::Attempts, Expr::value(row.attempts + 1))
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            outbox::Column::ClaimToken,
            Expr::value(Option::<String>::None),
        )
        .col_expr(outbox::Column::LastError, Expr::value(outcome.error))
        .col_expr(outbox::Column::Channel, Expr::value(outcome.channel))
        .col_expr(outbox::Column::WaitUntil, Expr::value(outcome.wait_until));
    if outcome.status == "sent" {
        q = q
            .col_expr(outbox::Column::SentAt, Expr::value(at))
            .col_expr(
                outbox::Column::WechatMsgid,
                Expr::value(outcome.wechat_msgid),
            );
    }
    if let Some(next) = outcome.next_attempt_at {
        q = q.col_expr(outbox::Column::NextAttemptAt, Expr::value(next));
    }
    let written = q
        .filter(outbox::Column::Id.eq(row.id))
        .filter(outbox::Column::ClaimToken.eq(token))
        .exec(db)
        .await?;
    if written.rows_affected != 1 {
        tracing::warn!(message = %row.id, "outbox claim lost before its result was written");
    }
    Ok(written.rows_affected == 1)
}

/// Exponential backoff with ±25 % jitter, capped at six hours.
fn backoff(base_seconds: i64, attempts: i32) -> Duration {
    let exp = base_seconds.saturating_mul(1i64 << attempts.clamp(0, 12));
    let capped = Ord::min(exp, 6 * 3600);
    let jitter = (Uuid::new_v4().as_u128() % 51) as i64 - 25; // -25..=25 percent
    Duration::seconds(capped + capped * jitter / 100)
}

/// Gives up the resident messages whose wait for a grant has run out (the inbox keeps them).
async fn expire_waits(db: &impl ConnectionTrait, now: DateTime<Utc>) -> ServiceResult<usize> {
    let expired = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value("skipped"))
        .col_expr(
            outbox::Column::LastError,
            Expr::value("no grant of this template came within the wait; in the inbox"),
        )
        .filter(outbox::Column::Status.eq("waiting_grant"))
        .filter(outbox::Column::WaitUntil.lt(now))
        .exec(db)
        .await?;
    Ok(expired.rows_affected as usize)
}

/// Sends what is due, one claimed message at a time, until `stop` says the node is stopping.
/// Safe to run on several nodes at once.
pub async fn drain(ctx: &Ctx<'_>, stop: &(dyn Fn() -> bool + Sync)) -> ServiceResult<DrainReport> {
    let settings = &ctx.settings.notifications;
    let mut report = DrainReport {
        skipped: expire_waits(ctx.db, ctx.now()).await?,
        ..DrainReport::default()
    };
    let ids: Vec<Uuid> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(due(ctx.now()))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(settings.batch_size)
        .into_tuple()
        .all(ctx.db)
        .await?;
    for id in ids {
        if stop() {
            break;
        }
        let now = ctx.now();
        let Some(token) = claim(ctx.db, id, now).await? else {
            continue;
        };
        let Some(row) = outbox::Entity::find_by_id(id).one(ctx.db).await? else {
            continue;
        };
        deliver(ctx, settings, &row, &token, now, &mut report).await?;
    }
    Ok(report)
}

/// What a channel's answer makes of a message: sent, tried again later, or failed for good.
fn settle<'a>(
    ctx: &Ctx<'_>,
    settings: &NotificationSettings,
    row: &outbox::Model,
    channel: &'a str,
    result: Result<Option<String>, WechatError>,
    now: DateTime<Utc>,
    report: &mut DrainReport,
) -> Outcome<'a> {
    let transient = |e: &WechatError| match channel {
        "wecom" => crate::clients::wecom::is_transient(e),
        _ => e.is_transient(),
    };
    match result {
        Ok(msgid) => {
            report.sent += 1;
            ctx.metrics.notified(channel, "sent");
            Outcome {
                wechat_msgid: msgid,
                ..Outcome::done("sent", Some(channel), None)
            }
        }
        Err(e) if transient(&e) && row.attempts + 1 < settings.max_attempts => {
            report.retried += 1;
            ctx.metrics.notified(channel, "retried");
            Outcome {
                next_attempt_at: Some(now + backoff(settings.base_backoff_seconds, row.attempts)),
                ..Outcome::done("pending", Some(channel), Some(e.to_string()))
            }
        }
        Err(e) => {
            report.failed += 1;
            ctx.metrics.notified(channel, "failed");
            Outcome::done("failed", Some(channel), Some(final_words(channel, &e)))
        }
    }
}

/// A final error in words for the outbox: the code first, then what it means.
fn final_words(channel: &str, e: &WechatError) -> String {
    let meaning = match (channel, e.errcode()) {
        ("wechat", Some(43101)) => "the user has no subscription left",
        ("wechat", Some(40003)) => "invalid openid",
        ("wechat", Some(47003)) => "template data invalid",
        ("wecom", Some(60011)) => "no permission to message this member (application visibility)",
        ("wecom", Some(81013)) => "the member is not, or no longer, in the corp",
        ("wecom", Some(40001 | 40014 | 42001)) => "the access token was refused twice",
        _ => return e.to_string(),
    };
    format!("{}: {meaning}", e.errcode().unwrap_or_default())
}

/// Delivers one claimed message and records what happened under its claim.
async fn deliver(
    ctx: &Ctx<'_>,
    settings: &NotificationSettings,
    row: &outbox::Model,
    token: &str,
    now: DateTime<Utc>,
    report: &mut DrainReport,
) -> ServiceResult<()> {
    // Staff with a 企业微信 userid hear it there.
    if let Some(userid) = wecom::userid_of(ctx, row).await? {
        let result = wecom::send(ctx, row, &userid).await;
        let outcome = settle(ctx, settings, row, "wecom", result, now, report);
        finish(ctx.db, row, token, outcome, now).await?;
        return Ok(());
    }
    // No channel but the inbox: said so on the row.
    let inbox_only = |why: String, report: &mut DrainReport| {
        ctx.metrics.notified("inbox", "only");
        report.skipped += 1;
        finish(
            ctx.db,
            row,
            token,
            Outcome::done("skipped", Some("inbox"), Some(why)),
            now,
        )
    };
    let Some(openid) = openid_of(ctx.db, row).await? else {
        let why = "no WeChat account to deliver to; in the inbox".to_owned();
        inbox_only(why, report).await?;
        return Ok(());
    };
    let (template_id, body) = match message(settings, row, &openid) {
        Ok(m) => m,
        Err(why) => {
            inbox_only(why, report).await?;
            return Ok(());
        }
    };
    let long_term = settings
        .templates
        .get(&row.event)
        .is_some_and(|t| t.long_term);
    let resident = row.recipient_kind == "resident";
    if resident && !grants::take(ctx.db, row.recipient_id, &template_id, long_term).await? {
        let wait = Outcome {
            wait_until: Some(now + Duration::days(settings.grant_wait_days)),
            ..Outcome::done(
                "waiting_grant",
                Some("wechat"),
                Some("waiting for the resident to grant this template".into()),
            )
        };
        finish(ctx.db, row, token, wait, now).await?;
        ctx.metrics.notified("wechat", "waiting_grant");
        report.waiting += 1;
        return Ok(());
    }
    let result = ctx.wechat.send_subscription(&body).await;
    let outcome = settle(ctx, settings, row, "wechat", result, now, report);
    if outcome.status == "pending" && resident {
        grants::give_back(ctx.db, row.recipient_id, &template_id, long_term).await?;
    }
    finish(ctx.db, row, token, outcome, now).await?;
    Ok(())
}

pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<&str>,
    ticket_id: Option<Uuid>,
    limit: u64,
) -> ServiceResult<Vec<outbox::Model>> {
    let mut q = outbox::Entity::find()
        .order_by_desc(outbox::Column::CreatedAt)
        .limit(limit);
    if let Some(s) = status {
        q = q.filter(outbox::Column::Status.eq(s));
    }
    if let Some(t) = ticket_id {
        q = q.filter(outbox::Column::TicketId.eq(t));
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
    fn backoff_grows_and_is_capped() {
        assert!(backoff(30, 0) <= Duration::seconds(38) && backoff(30, 0) >= Duration::seconds(22));
        assert!(backoff(30, 3) >= Duration::seconds(180));
        assert!(backoff(30, 12) <= Duration::seconds(6 * 3600 * 5 / 4));
    }
}
