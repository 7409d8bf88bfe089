//! Residents' personal information (PIPL; SPEC §11). One room per right or duty:
//!
//! - here: the privacy notice and residents' agreement to it (Art. 14, 17): the notice's current
//!   version comes from `config/privacy.toml`; a resident who has not agreed to it may read but
//!   not submit (`409 privacy_notice_pending`, naming the version to agree to);
//! - [`contact`]: contact data behind a reveal, and the log of who looked (Art. 51);
//! - [`export`]: a copy of one's data (Art. 45);
//! - [`account`]: closing an account and its anonymisation after the grace period (Art. 47);
//! - [`retention`]: what is removed from closed tickets after the retention period (Art. 19).
pub mod account;
pub mod contact;
pub mod export;
pub mod retention;

pub use account::{account_open, close, restore};
pub use contact::{Revealed, access_log, reveal_contact};
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
