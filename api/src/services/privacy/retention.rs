//! Retention (PIPL Art. 19): `privacy.retention_days` after a ticket was closed (or withdrawn or
//! rejected), the scheduler removes what identifies its resident and was needed only to handle
//! it: the contact phone, the exact point (kept to 100 m, so maps and hot spots still show the
//! neighbourhood), unit and room numbers in the address, phone and ID numbers in the text, and
//! every photo. An event on the ticket says what was removed. Batches of
//! `scheduler.batch_size`, each ticket in its own transaction guarded by its version, under the
//! scheduler's lease: several nodes never remove twice.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::{
    domain::{coords::coarsened, lifecycle::Status, redact},
    services::{Ctx, ServiceError, ServiceResult, attachments, tickets, write_txn},
};
use entity::ticket;

/// How closely a point is kept after the retention period.
pub const KEPT_METERS: f64 = 100.0;

/// Clears up to `batch` tickets past retention; returns how many.
pub async fn clear_due(ctx: &Ctx<'_>, now: DateTime<Utc>, batch: u64) -> ServiceResult<usize> {
    let before = now - Duration::days(ctx.settings.privacy.retention_days.max(0));
    let due = ticket::Entity::find()
        .filter(ticket::Column::ClosedAt.lt(before))
        .filter(ticket::Column::PersonalDataRemovedAt.is_null())
        .filter(
            ticket::Column::Status
                .is_in([Status::Closed, Status::Withdrawn, Status::Rejected].map(|s| s.as_str())),
        )
        .order_by_asc(ticket::Column::ClosedAt)
        .limit(batch)
        .all(ctx.db)
        .await?;
    let mut cleared = 0;
    for t in due {
        match clear(ctx, &t, now).await {
            Ok(()) => cleared += 1,
            // Another node (or a reopen) changed it first: the next pass looks again.
            Err(ServiceError::ConcurrentUpdate) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(cleared)
}

async fn clear(ctx: &Ctx<'_>, t: &ticket::Model, now: DateTime<Utc>) -> ServiceResult<()> {
    let txn = write_txn(ctx.db).await?;
    let photos = entity::attachment::Entity::find()
        .filter(entity::attachment::Column::TicketId.eq(t.id))
        .all(&txn)
        .await?;
    let mut removed = vec![];
    let mut am = t.clone().into_active_model();
    if t.contact_phone.is_some() {
        am.contact_phone = Set(None);
        removed.push("联系电话");
    }
    if t.caller_name.is_some() || t.claim_code.is_some() {
        am.caller_name = Set(None);
        am.claim_code = Set(None);
        removed.push("来电人姓名");
    }
    if let (Some(lat), Some(lng)) = (t.lat, t.lng) {
        let (lat, lng) = coarsened(lat, lng, KEPT_METERS);
        am.lat = Set(Some(lat));
        am.lng = Set(Some(lng));
        removed.push("精确位置（保留到约100米）");
    }
    if let Some(address) = &t.address_text {
        let kept = redact::without_rooms(address);
        if &kept != address {
            am.address_text = Set(Some(kept));
            removed.push("门牌室号");
        }
    }
    let text = redact::mask_personal(&t.description);
    if text != t.description {
        am.description = Set(text);
        removed.push("描述中的电话和证件号");
    }
    if !photos.is_empty() {
        removed.push("照片");
    }
    am.personal_data_removed_at = Set(Some(now));
    let note = if removed.is_empty() {
        "已过保存期限：无需删除的个人信息".to_owned()
    } else {
        format!("已过保存期限，已删除：{}", removed.join("、"))
    };
    tickets::save_system_note(&txn, t, am, "personal_data_removed", note, now).await?;
    let freed = attachments::remove_rows(&txn, &photos).await?;
    txn.commit().await?;
    attachments::forget_bytes(ctx.media, &freed).await;
    Ok(())
}
