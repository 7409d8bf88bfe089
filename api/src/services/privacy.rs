//! The privacy notice and residents' agreement to it (PIPL Art. 14, 17): the notice's current
//! version comes from `config/privacy.toml`; a resident who has not agreed to it may read but
//! not submit (`409 privacy_notice_pending`, naming the version to agree to).
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{Ctx, ServiceError, ServiceResult};
use crate::error::Code;
use entity::privacy_agreement as agreement;

/// Records that `resident` agreed to `version`, which must be the current one.
pub async fn agree(
    ctx: &Ctx<'_>,
    resident: Uuid,
    version: &str,
    client: Option<&str>,
) -> ServiceResult<agreement::Model> {
    let current = &ctx.notice.version;
    if version != current {
        return Err(ServiceError::rejected(
            Code::InvalidField,
            "version",
            crate::error::bi(
                format_args!("当前隐私保护指引版本为 {current}"),
                format_args!("the current notice is version {current}"),
            ),
        ));
    }
    if let Some(existing) = agreement::Entity::find()
        .filter(agreement::Column::ResidentId.eq(resident))
        .filter(agreement::Column::Version.eq(version))
        .one(ctx.db)
        .await?
    {
        return Ok(existing);
    }
    Ok(agreement::ActiveModel {
        id: Set(Uuid::new_v4()),
        resident_id: Set(resident),
        version: Set(version.to_owned()),
        client: Set(client.map(|c| c.chars().take(200).collect())),
        agreed_at: Set(ctx.now()),
    }
    .insert(ctx.db)
    .await?)
}

/// The version of the notice the resident last agreed to.
pub async fn latest_version(ctx: &Ctx<'_>, resident: Uuid) -> ServiceResult<Option<String>> {
    use sea_orm::QueryOrder;
    Ok(agreement::Entity::find()
        .filter(agreement::Column::ResidentId.eq(resident))
        .order_by_desc(agreement::Column::AgreedAt)
        .one(ctx.db)
        .await?
        .map(|a| a.version))
}

/// Whether the resident has agreed to the current version.
pub async fn agreed_current(ctx: &Ctx<'_>, resident: Uuid) -> ServiceResult<bool> {
    Ok(agreement::Entity::find()
        .filter(agreement::Column::ResidentId.eq(resident))
        .filter(agreement::Column::Version.eq(ctx.notice.version.as_str()))
        .one(ctx.db)
        .await?
        .is_some())
}

/// Refuses a submission from a resident who has not agreed to the current notice.
pub async fn require_agreement(ctx: &Ctx<'_>, resident: Uuid) -> ServiceResult<()> {
    if agreed_current(ctx, resident).await? {
        return Ok(());
    }
    let version = &ctx.notice.version;
    Err(ServiceError::rejected(
        Code::PrivacyNoticePending,
        "version",
        crate::error::bi(
            format_args!("请先同意隐私保护指引（版本 {version}）：POST /api/v1/me/privacy"),
            format_args!(
                "agree to privacy notice version {version} first: POST /api/v1/me/privacy"
            ),
        ),
    ))
}

/// A resident's contact phone on a ticket, revealed to the staff member who handles it (its
/// assignee, or an administrator over its place) for a stated reason, and logged in
/// `personal_data_access` (who, whose, which field, why, which request, when). Anyone else, or
/// a ticket outside the caller's sight: `404`. An anonymous reporter stays hidden from those
/// who may not see them.
pub async fn reveal_contact(
    ctx: &Ctx<'_>,
    scope: &crate::domain::access::StaffScope,
    reference: &str,
    reason: crate::domain::inputs::Text,
    request_id: Option<&str>,
) -> ServiceResult<Option<String>> {
    let caller = super::Caller::Staff(scope.clone());
    let view = super::tickets::get(ctx, &caller, reference).await?;
    let dir = ctx.dir().await?;
    let t = &view.ticket;
    let place = view.placement();
    let entitled = t.assignee_id == Some(scope.staff_id) || scope.is_admin_over(&dir.tree, &place);
    let hidden = t.anonymous && !scope.sees_anonymous_reporter(&dir.tree, &place);
    if !entitled || hidden {
        return Err(ServiceError::NotFound);
    }
    entity::personal_data_access::ActiveModel {
        id: Set(Uuid::new_v4()),
        staff_id: Set(scope.staff_id),
        resident_id: Set(t.resident_id),
        ticket_id: Set(t.id),
        field: Set("contact_phone".to_owned()),
        reason: Set(reason.into_inner()),
        request_id: Set(request_id.map(|r| r.chars().take(64).collect())),
        at: Set(ctx.now()),
    }
    .insert(ctx.db)
    .await?;
    Ok(t.contact_phone.clone())
}

/// The access log, newest first, filtered by staff member, resident and time.
pub async fn access_log(
    ctx: &Ctx<'_>,
    staff_id: Option<Uuid>,
    resident_id: Option<Uuid>,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
    limit: u64,
) -> ServiceResult<Vec<entity::personal_data_access::Model>> {
    use entity::personal_data_access::{Column, Entity};
    use sea_orm::{QueryOrder, QuerySelect};
    let mut q = Entity::find().order_by_desc(Column::At).limit(limit);
    if let Some(s) = staff_id {
        q = q.filter(Column::StaffId.eq(s));
    }
    if let Some(r) = resident_id {
        q = q.filter(Column::ResidentId.eq(r));
    }
    if let Some(f) = from {
        q = q.filter(Column::At.gte(f));
    }
    if let Some(t) = to {
        q = q.filter(Column::At.lt(t));
    }
    Ok(q.all(ctx.db).await?)
}
