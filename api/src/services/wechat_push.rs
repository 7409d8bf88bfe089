//! WeChat's message push, applied: grants and refusals from the subscription popup and
//! WeChat's settings, delivery results of sent messages, image-check verdicts. The request's
//! checks (signature, freshness, replay, decryption) are [`accept`]'s; nothing is written for a
//! push that fails them.
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use super::{Ctx, ServiceError, ServiceResult, grants};
use crate::{
    domain::wechat_push::{self as push, PushEvent, PushFault},
    error::Code,
};
use entity::notification_outbox as outbox;

/// How far a push's timestamp may be from now, and how long a seen push is remembered.
const WINDOW_SECONDS: i64 = 300;

/// The query WeChat signs a push with.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PushQuery {
    pub signature: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub echostr: Option<String>,
    pub encrypt_type: Option<String>,
    pub msg_signature: Option<String>,
}

fn refused(why: &str) -> ServiceError {
    ServiceError::Rejected {
        code: Code::Unauthorized,
        field: None,
        detail: Some(why.to_owned()),
    }
}

/// The push token, or `NotFound` when push is not configured.
fn token<'a>(ctx: &'a Ctx<'_>) -> ServiceResult<&'a str> {
    let token = ctx.settings.wechat.push_token.expose();
    if token.is_empty() {
        return Err(ServiceError::NotFound);
    }
    Ok(token)
}

/// Remembers a signed request (its timestamp and nonce) for the replay window; false when it
/// was seen already.
async fn first_sight(ctx: &Ctx<'_>, ts: &str, nonce: &str) -> bool {
    ctx.cache
        .set_nx(
            &format!("wechat:push:{ts}:{nonce}"),
            "1",
            std::time::Duration::from_secs(WINDOW_SECONDS as u64 * 2),
        )
        .await
        .unwrap_or(true)
}

async fn forget(ctx: &Ctx<'_>, ts: &str, nonce: &str) {
    let _ = ctx.cache.del(&format!("wechat:push:{ts}:{nonce}")).await;
}

/// The request's timestamp, if it is within the window of now.
fn fresh(ctx: &Ctx<'_>, ts: &str) -> ServiceResult<()> {
    let sent_at = ts
        .parse::<i64>()
        .ok()
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .ok_or_else(|| refused("bad timestamp"))?;
    if (ctx.now() - sent_at).num_seconds().abs() > WINDOW_SECONDS {
        return Err(refused("stale timestamp"));
    }
    Ok(())
}

/// The URL check: the `echostr` to echo when the signature is WeChat's and fresh. Its
/// timestamp and nonce are used up, so the signed query cannot be replayed as a push.
pub async fn verify_url(ctx: &Ctx<'_>, q: &PushQuery) -> ServiceResult<String> {
    let token = token(ctx)?;
    let (Some(sig), Some(ts), Some(nonce), Some(echo)) =
        (&q.signature, &q.timestamp, &q.nonce, &q.echostr)
    else {
        return Err(refused("missing signature"));
    };
    if !push::same(&push::signature(&[token, ts, nonce]), sig) {
        return Err(refused("bad signature"));
    }
    fresh(ctx, ts)?;
    if !first_sight(ctx, ts, nonce).await {
        return Err(refused("replayed"));
    }
    Ok(echo.clone())
}

/// Checks a pushed body and, unless it is a replay of one seen in the last five minutes,
/// applies its event. Plain mode: the signature (over token, timestamp and nonce) is checked
/// before the body is read. With an EncodingAESKey configured only safe mode is taken, whose
/// `msg_signature` covers the ciphertext, so no body can be swapped under a signed query. A
/// push whose event could not be applied is not remembered: WeChat's retry is applied.
pub async fn accept(ctx: &Ctx<'_>, q: &PushQuery, body: &str) -> ServiceResult<()> {
    let token = token(ctx)?;
    let (Some(ts), Some(nonce)) = (&q.timestamp, &q.nonce) else {
        return Err(refused("missing timestamp or nonce"));
    };
    fresh(ctx, ts)?;
    let key = ctx.settings.wechat.encoding_aes_key.expose();
    let message = if key.is_empty() {
        let sig = q.signature.as_deref().unwrap_or_default();
        if !push::same(&push::signature(&[token, ts, nonce]), sig) {
            return Err(refused("bad signature"));
        }
        push::read_body(body).map_err(|_| refused("unreadable body"))?
    } else {
        let outer = push::read_body(body).map_err(|_| refused("unreadable body"))?;
        let encrypted = outer
            .get("Encrypt")
            .and_then(|e| e.as_str())
            .ok_or_else(|| refused("safe mode: an encrypted body is required"))?;
        let sig = q.msg_signature.as_deref().unwrap_or_default();
        if !push::same(&push::signature(&[token, ts, nonce, encrypted]), sig) {
            return Err(refused("bad msg_signature"));
        }
        let key = push::aes_key(key).ok_or_else(|| refused("bad EncodingAESKey"))?;
        let plain = push::decrypt(&key, encrypted, &ctx.settings.wechat.appid)
            .map_err(|_| refused("undecryptable"))?;
        push::read_body(&plain).map_err(|f: PushFault| refused(&format!("{f:?}")))?
    };
    // A replay (same timestamp and nonce) within the window is acknowledged and ignored.
    if !first_sight(ctx, ts, nonce).await {
        return Ok(());
    }
    let applied = apply(ctx, push::event(&message)).await;
    if applied.is_err() {
        forget(ctx, ts, nonce).await;
    }
    applied
}

async fn resident_of(ctx: &Ctx<'_>, openid: &str) -> ServiceResult<Option<uuid::Uuid>> {
    Ok(entity::resident::Entity::find()
        .filter(entity::resident::Column::Openid.eq(openid))
        .one(ctx.db)
        .await?
        .map(|r| r.id))
}

async fn apply(ctx: &Ctx<'_>, event: PushEvent) -> ServiceResult<()> {
    let now = ctx.now();
    match event {
        PushEvent::Popup { openid, list } | PushEvent::Change { openid, list } => {
            let Some(resident) = resident_of(ctx, &openid).await? else {
                return Ok(());
            };
            let (accepted, refused): (Vec<_>, Vec<_>) =
                list.into_iter().partition(|t| t.status == "accept");
            let ids = |l: Vec<push::TemplateStatus>| -> Vec<String> {
                l.into_iter().map(|t| t.template_id).collect()
            };
            let (accepted, refused) = (ids(accepted), ids(refused));
            if !accepted.is_empty() {
                grants::add(
                    ctx.db,
                    &ctx.settings.notifications,
                    resident,
                    &accepted,
                    now,
                )
                .await?;
            }
            if !refused.is_empty() {
                grants::refuse(ctx.db, resident, &refused, now).await?;
            }
        }
        PushEvent::Sent { openid, list } => {
            // Only this resident's WeChat messages: a report names no other row.
            let Some(resident) = resident_of(ctx, &openid).await? else {
                return Ok(());
            };
            for item in list {
                let Some(msgid) = item.msg_id else { continue };
                let delivery = match item.error_code {
                    Some(0) => "delivered".to_owned(),
                    code => format!(
                        "refused: {} {}",
                        code.unwrap_or_default(),
                        item.status.chars().take(100).collect::<String>()
                    ),
                };
                outbox::Entity::update_many()
                    .col_expr(outbox::Column::Delivery, Expr::value(delivery))
                    .filter(outbox::Column::WechatMsgid.eq(msgid))
                    .filter(outbox::Column::Channel.eq("wechat"))
                    .filter(outbox::Column::RecipientKind.eq("resident"))
                    .filter(outbox::Column::RecipientId.eq(resident))
                    .exec(ctx.db)
                    .await?;
            }
        }
        PushEvent::MediaCheck {
            trace_id,
            suggest,
            label,
        } => {
            super::attachments::media_verdict(ctx, &trace_id, &suggest, label).await?;
        }
        PushEvent::Other => {}
    }
    Ok(())
}
