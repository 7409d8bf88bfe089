//! Leaving (PIPL Art. 47): a resident closes their account (`POST /me/deletion`); their tokens
//! stop at once. Within `privacy.deletion_grace_days` (the 冷静期) logging in again says so and
//! may restore it (`POST /auth/wechat {code, restore: true}`); after it the scheduler anonymises
//! the account: openid, unionid and phone erased, names and phones in the resident's texts
//! masked, their photos deleted from storage, their inbox and subscriptions dropped. Tickets stay
//! (redacted, each with an event saying so), so the street's statistics stay true. A returning
//! openid is then a new resident.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::{
    domain::redact::anonymised,
    error::Code,
    services::{Ctx, ServiceError, ServiceResult, attachments, tickets, write_txn},
};
use entity::{resident, ticket};

/// Whether a resident's token of `version` works: the account exists, is open, and was not
/// closed since the token was issued.
pub async fn account_open(
    db: &impl ConnectionTrait,
    id: Uuid,
    version: i32,
) -> ServiceResult<bool> {
    Ok(resident::Entity::find_by_id(id)
        .one(db)
        .await?
        .is_some_and(|r| r.closed_at.is_none() && r.token_version == version))
}

/// A closed account: when, and when it will be anonymised.
pub struct Closed {
    pub closed_at: DateTime<Utc>,
    pub anonymise_at: DateTime<Utc>,
}

/// Closes the resident's account now; anonymised after the grace period. Closing twice answers
/// as the first time.
pub async fn close(ctx: &Ctx<'_>, id: Uuid) -> ServiceResult<Closed> {
    let r = resident::Entity::find_by_id(id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if let (Some(closed_at), Some(anonymise_at)) = (r.closed_at, r.anonymise_at) {
        return Ok(Closed {
            closed_at,
            anonymise_at,
        });
    }
    let now = ctx.now();
    let anonymise_at = now + Duration::days(ctx.settings.privacy.deletion_grace_days.max(0));
    let version = r.token_version;
    let mut am = r.into_active_model();
    am.token_version = Set(version + 1);
    am.closed_at = Set(Some(now));
    am.anonymise_at = Set(Some(anonymise_at));
    am.updated_at = Set(now);
    am.update(ctx.db).await?;
    Ok(Closed {
        closed_at: now,
        anonymise_at,
    })
}

/// What a login with `openid` finds: an open account, or one closed and not yet anonymised —
/// reopened when `restore`, else `409 account_closed` saying until when it can be.
pub async fn on_login(
    ctx: &Ctx<'_>,
    r: resident::Model,
    restore_it: bool,
) -> ServiceResult<resident::Model> {
    let Some(anonymise_at) = r.anonymise_at.filter(|_| r.closed_at.is_some()) else {
        return Ok(r);
    };
    if restore_it {
        restore(ctx, r.id).await?;
        return resident::Entity::find_by_id(r.id)
            .one(ctx.db)
            .await?
            .ok_or(ServiceError::NotFound);
    }
    let day = crate::domain::calendar::beijing_date(anonymise_at);
    Err(ServiceError::rejected(
        Code::AccountClosed,
        "restore",
        crate::error::bi(
            format_args!("账号已申请注销，将于 {day} 完成；如需恢复，请在此前登录并选择恢复账号"),
            format_args!(
                "this account was closed and will be anonymised on {day}; log in with restore: true before then to keep it"
            ),
        ),
    ))
}

/// Reopens a closed account within its grace period.
pub async fn restore(ctx: &Ctx<'_>, id: Uuid) -> ServiceResult<()> {
    resident::Entity::update_many()
        .col_expr(
            resident::Column::ClosedAt,
            sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            resident::Column::AnonymiseAt,
            sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(resident::Column::Id.eq(id))
        .filter(resident::Column::AnonymisedAt.is_null())
        .exec(ctx.db)
        .await?;
    Ok(())
}

/// Anonymises up to `batch` accounts whose grace period ended; returns how many.
pub async fn anonymise_due(ctx: &Ctx<'_>, now: DateTime<Utc>, batch: u64) -> ServiceResult<usize> {
    let due = resident::Entity::find()
        .filter(resident::Column::AnonymiseAt.lte(now))
        .filter(resident::Column::AnonymisedAt.is_null())
        .filter(resident::Column::ClosedAt.is_not_null())
        .order_by_asc(resident::Column::AnonymiseAt)
        .limit(batch)
        .all(ctx.db)
        .await?;
    let mut done = 0;
    for r in due {
        if anonymise(ctx, r, now).await? {
            done += 1;
        }
    }
    Ok(done)
}

/// One account, in one transaction; `false` when another node did it first.
async fn anonymise(ctx: &Ctx<'_>, r: resident::Model, now: DateTime<Utc>) -> ServiceResult<bool> {
    let txn = write_txn(ctx.db).await?;
    // Claim it: the row changes only if nobody anonymised it meanwhile.
    let claimed = resident::Entity::update_many()
        .col_expr(
            resident::Column::Openid,
            sea_orm::sea_query::Expr::value(format!("erased:{}", r.id)),
        )
        .col_expr(
            resident::Column::Unionid,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .col_expr(
            resident::Column::Phone,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .col_expr(
            resident::Column::HomeBuildingId,
            sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            resident::Column::AnonymisedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            resident::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(resident::Column::Id.eq(r.id))
        .filter(resident::Column::AnonymisedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(false);
    }
    redact_tickets(&txn, r.id, now).await?;
    redact_texts(&txn, r.id).await?;
    drop_messages(&txn, r.id).await?;
    let photos = entity::attachment::Entity::find()
        .filter(entity::attachment::Column::OwnerKind.eq("resident"))
        .filter(entity::attachment::Column::OwnerId.eq(r.id))
        .all(&txn)
        .await?;
    let freed = attachments::remove_rows(&txn, &photos).await?;
    txn.commit().await?;
    attachments::forget_bytes(ctx.media, &freed).await;
    Ok(true)
}

/// The resident's tickets: texts anonymised, contact phone gone, an event on each.
async fn redact_tickets(
    txn: &impl ConnectionTrait,
    resident_id: Uuid,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let mine = ticket::Entity::find()
        .filter(ticket::Column::ResidentId.eq(resident_id))
        .all(txn)
        .await?;
    for t in mine {
        let mut am = t.clone().into_active_model();
        am.title = Set(t.title.as_deref().map(anonymised));
        am.description = Set(anonymised(&t.description));
        am.address_text = Set(t.address_text.as_deref().map(anonymised));
        am.contact_phone = Set(None);
        am.caller_name = Set(None);
        let note = "提交人已注销账号：其个人信息已删除或匿名化，诉求内容保留用于统计".to_owned();
        tickets::save_system_note(txn, &t, am, "resident_anonymised", note, now).await?;
    }
    Ok(())
}

/// What the resident wrote elsewhere: comments on timelines and rating comments.
async fn redact_texts(txn: &impl ConnectionTrait, resident_id: Uuid) -> ServiceResult<()> {
    use entity::{rating, ticket_event};
    let said = ticket_event::Entity::find()
        .filter(ticket_event::Column::ActorKind.eq(crate::domain::ActorKind::Resident))
        .filter(ticket_event::Column::ActorId.eq(resident_id))
        .filter(ticket_event::Column::Note.is_not_null())
        .all(txn)
        .await?;
    for e in said {
        let note = e.note.as_deref().map(anonymised);
        let mut am = e.into_active_model();
        am.note = Set(note);
        am.update(txn).await?;
    }
    let rated = rating::Entity::find()
        .filter(rating::Column::ResidentId.eq(resident_id))
        .filter(rating::Column::Comment.is_not_null())
        .all(txn)
        .await?;
    for r in rated {
        let comment = r.comment.as_deref().map(anonymised);
        let mut am = r.into_active_model();
        am.comment = Set(comment);
        am.update(txn).await?;
    }
    Ok(())
}

/// Their inbox, subscriptions and undelivered messages: nobody is left to read them.
async fn drop_messages(txn: &impl ConnectionTrait, resident_id: Uuid) -> ServiceResult<()> {
    use entity::{notification, notification_outbox as outbox, subscription_grant};
    notification::Entity::delete_many()
        .filter(notification::Column::RecipientKind.eq("resident"))
        .filter(notification::Column::RecipientId.eq(resident_id))
        .exec(txn)
        .await?;
    subscription_grant::Entity::delete_many()
        .filter(subscription_grant::Column::ResidentId.eq(resident_id))
        .exec(txn)
        .await?;
    outbox::Entity::delete_many()
        .filter(outbox::Column::RecipientKind.eq("resident"))
        .filter(outbox::Column::RecipientId.eq(resident_id))
        .filter(outbox::Column::Status.is_in(["pending", "waiting_grant"]))
        .exec(txn)
        .await?;
    Ok(())
}
