//! Photos attached to tickets, comments and resolutions.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
    sea_query::{Expr, ExprTrait},
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{ServiceError, ServiceResult};
use crate::{
    domain::{
        ActorKind, Visibility,
        photos::{self, ImageKind},
    },
    error::Code,
    storage::MediaStore,
};
use entity::attachment;

/// Who uploaded a photo: only they may attach it.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    pub kind: &'static str,
    pub id: Uuid,
}

impl Owner {
    /// The caller as the owner of what they upload.
    pub fn of(caller: &super::Caller) -> Owner {
        let (kind, id) = match caller {
            super::Caller::Resident(id) => (ActorKind::Resident, *id),
            super::Caller::Staff(scope) => (ActorKind::Staff, scope.staff_id),
        };
        Owner {
            kind: kind.as_str(),
            id,
        }
    }
}

fn storage_key(sha: &str, kind: ImageKind) -> String {
    format!("{}/{sha}.{}", &sha[..2], kind.extension())
}

/// Checks, cleans and stores an uploaded image.
pub async fn upload(
    db: &impl ConnectionTrait,
    store: &dyn MediaStore,
    max_bytes: u64,
    owner: Owner,
    bytes: Vec<u8>,
    at: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<attachment::Model> {
    if bytes.len() as u64 > max_bytes {
        return Err(ServiceError::rejected(
            Code::PayloadTooLarge,
            "file",
            crate::error::bi(
                format_args!("最多 {max_bytes} 字节"),
                format_args!("at most {max_bytes} bytes"),
            ),
        ));
    }
    let kind = photos::sniff(&bytes).ok_or_else(|| {
        ServiceError::rejected(
            Code::NotAnImage,
            "file",
            crate::error::bi(
                "只接受 JPEG、PNG、WebP 或 HEIC 图片",
                "JPEG, PNG, WebP or HEIC only",
            ),
        )
    })?;
    let clean = tokio::task::spawn_blocking(move || photos::strip_metadata(kind, bytes))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .map_err(|e| {
            ServiceError::rejected(
                Code::NotAnImage,
                "file",
                crate::error::bi(format_args!("图片无法读取：{e}"), &e),
            )
        })?;
    let sha = hex::encode(Sha256::digest(&clean));
    let key = storage_key(&sha, kind);
    store
        .put(&key, &clean)
        .await
        .map_err(|e| ServiceError::Internal(format!("media store: {e}")))?;
    Ok(attachment::ActiveModel {
        thumbnail_key: Set(None),
        id: Set(Uuid::new_v4()),
        owner_kind: Set(owner.kind.to_owned()),
        owner_id: Set(owner.id),
        content_type: Set(kind.content_type().to_owned()),
        size_bytes: Set(clean.len() as i64),
        sha256: Set(sha),
        storage_key: Set(key),
        ticket_id: Set(None),
        purpose: Set(None),
        visibility: Set(Visibility::Public),
        media_check: Set(None),
        media_trace_id: Set(None),
        created_at: Set(at),
    }
    .insert(db)
    .await?)
}

/// Sends a resident's new photo to WeChat's image check (when content safety is on and
/// `content_safety.public_base_url` says where WeChat can fetch it): the URL is signed for the
/// photo's owner, who may always see it. `pending` until the verdict comes by the message
/// push; `unchecked` (shown, as unchecked text is) when it could not be sent.
pub async fn send_for_check(
    ctx: &super::Ctx<'_>,
    photo: &attachment::Model,
) -> ServiceResult<Option<String>> {
    let settings = &ctx.settings.content_safety;
    if !settings.enabled || settings.public_base_url.is_empty() || photo.owner_kind != "resident" {
        return Ok(None);
    }
    let Some(resident) = entity::resident::Entity::find_by_id(photo.owner_id)
        .one(ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let path = super::media_urls::MediaUrls::new(ctx.settings).url(
        photo.id,
        super::media_urls::Variant::Full,
        &super::media_urls::Viewer::Resident(photo.owner_id),
        ctx.now(),
    );
    let url = format!("{}{path}", settings.public_base_url.trim_end_matches('/'));
    let (state, trace) = match ctx.wechat.check_media(&url, &resident.openid).await {
        Ok(trace) => ("pending", Some(trace)),
        Err(e) => {
            tracing::warn!(error = %e, "image check not sent; the photo is unchecked");
            ("unchecked", None)
        }
    };
    attachment::Entity::update_many()
        .col_expr(attachment::Column::MediaCheck, Expr::value(state))
        .col_expr(attachment::Column::MediaTraceId, Expr::value(trace))
        .filter(attachment::Column::Id.eq(photo.id))
        .exec(ctx.db)
        .await?;
    Ok(Some(state.to_owned()))
}

/// WeChat's verdict on a photo (`wxa_media_check`): recorded; a `risky` photo's ticket is
/// flagged for moderation (`risky_image`), and the ticket's version raised so no node shows
/// the photo from a kept timeline.
pub async fn media_verdict(
    ctx: &super::Ctx<'_>,
    trace_id: &str,
    suggest: &str,
    label: Option<i32>,
) -> ServiceResult<()> {
    let verdict = match suggest {
        "pass" | "review" | "risky" => suggest,
        _ => return Ok(()),
    };
    let Some(photo) = attachment::Entity::find()
        .filter(attachment::Column::MediaTraceId.eq(trace_id))
        .one(ctx.db)
        .await?
    else {
        return Ok(());
    };
    let txn = super::write_txn(ctx.db).await?;
    attachment::Entity::update_many()
        .col_expr(attachment::Column::MediaCheck, Expr::value(verdict))
        .filter(attachment::Column::Id.eq(photo.id))
        .exec(&txn)
        .await?;
    if let Some(ticket) = photo.ticket_id {
        let mut update = entity::ticket::Entity::update_many()
            .col_expr(
                entity::ticket::Column::Version,
                Expr::col(entity::ticket::Column::Version).add(1),
            )
            .filter(entity::ticket::Column::Id.eq(ticket));
        if verdict == "risky" {
            update = update
                .col_expr(
                    entity::ticket::Column::Moderation,
                    Expr::value("risky_image"),
                )
                .col_expr(entity::ticket::Column::ModerationLabel, Expr::value(label));
        }
        update.exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Where a photo is attached: its ticket, why (`ticket`, `comment`, `resolution`) and who may
/// see it (a staff-only comment's photos are `internal`).
/// The purpose of appeal evidence (staff only, counted apart from the ticket's photos).
pub const APPEAL: &str = "appeal";

pub struct Attachment<'a> {
    pub ticket_id: Uuid,
    pub purpose: &'a str,
    pub visibility: Visibility,
}

/// Whether residents (`viewer`, or anyone with `None`) may see the photo: never a photo of an
/// internal comment, nor one WeChat's image check found risky; one still being checked only
/// its owner.
pub fn shown_to_residents(a: &attachment::Model, viewer: Option<Uuid>) -> bool {
    let own = a.owner_kind == "resident" && Some(a.owner_id) == viewer;
    a.visibility != Visibility::Internal
        && match a.media_check.as_deref() {
            Some("risky") => false,
            Some("pending") => own,
            _ => true,
        }
}

/// Attaches the owner's unattached photos to a ticket, within the caller's transaction.
pub async fn attach(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    owner: Owner,
    to: Attachment<'_>,
    max_per_ticket: u64,
) -> ServiceResult<()> {
    let Attachment {
        ticket_id,
        purpose,
        visibility,
    } = to;
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let rows = attachment::Entity::find()
        .filter(attachment::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    let usable = rows
        .iter()
        .filter(|a| a.owner_kind == owner.kind && a.owner_id == owner.id && a.ticket_id.is_none())
        .count();
    if usable != ids.len() {
        return Err(ServiceError::rejected(
            Code::InvalidAttachment,
            "attachment_ids",
            crate::error::bi(
                "每张照片须是您上传且尚未使用的",
                "each must be a photo you uploaded and have not attached yet",
            ),
        ));
    }
    // Appeal evidence has a room of its own: it neither crowds out nor is crowded out by the
    // ticket's own photos.
    let same_room = match purpose {
        APPEAL => attachment::Column::Purpose.eq(APPEAL),
        _ => attachment::Column::Purpose.ne(APPEAL),
    };
    let already = attachment::Entity::find()
        .filter(attachment::Column::TicketId.eq(ticket_id))
        .filter(same_room)
        .count(db)
        .await?;
    if already + ids.len() as u64 > max_per_ticket {
        return Err(ServiceError::rejected(
            Code::TooManyAttachments,
            "attachment_ids",
            crate::error::bi(
                format_args!("每个工单最多 {max_per_ticket} 张照片"),
                format_args!("at most {max_per_ticket} photos per ticket"),
            ),
        ));
    }
    let done = attachment::Entity::update_many()
        .col_expr(attachment::Column::TicketId, ticket_id.into())
        .col_expr(attachment::Column::Purpose, purpose.into())
        .col_expr(attachment::Column::Visibility, visibility.as_str().into())
        .filter(attachment::Column::Id.is_in(ids.clone()))
        .filter(attachment::Column::TicketId.is_null())
        .exec(db)
        .await?;
    if done.rows_affected != ids.len() as u64 {
        return Err(ServiceError::ConcurrentUpdate);
    }
    Ok(())
}

pub async fn for_ticket(
    db: &impl ConnectionTrait,
    ticket_id: Uuid,
) -> ServiceResult<Vec<attachment::Model>> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::TicketId.eq(ticket_id))
        .order_by_asc(attachment::Column::CreatedAt)
        .all(db)
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> ServiceResult<attachment::Model> {
    attachment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Whether `caller` may see `photo`: its uploader (unless WeChat found it risky); once
/// attached, whoever may see the ticket (residents not a photo of an internal comment, nor a
/// risky one, nor one still being checked unless it is theirs). `NotFound` otherwise.
pub async fn check_visible(
    ctx: &super::Ctx<'_>,
    caller: &super::Caller,
    photo: &attachment::Model,
) -> ServiceResult<()> {
    let owner = Owner::of(caller);
    let risky = photo.media_check.as_deref() == Some("risky");
    if photo.owner_kind == owner.kind && photo.owner_id == owner.id && !risky {
        return Ok(());
    }
    let ticket = photo.ticket_id.ok_or(ServiceError::NotFound)?;
    if let super::Caller::Resident(me) = caller
        && !shown_to_residents(photo, Some(*me))
    {
        return Err(ServiceError::NotFound);
    }
    super::tickets::get(ctx, caller, &ticket.to_string()).await?;
    Ok(())
}

fn store_error(e: std::io::Error) -> ServiceError {
    ServiceError::Internal(format!("media store: {e}"))
}

/// One thumbnail is decoded at a time on a node, off the async workers: a decode of a large
/// photo takes seconds and up to `domain::thumbnails`' memory bound.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// The bytes and content type of a photo, or of its thumbnail (made on first request and
/// kept). A photo that is not decoded here (HEIC) or not within the decoding bounds is its own
/// thumbnail, marked so (`thumbnail_key` = its own key) and never decoded again.
pub async fn bytes_of(
    db: &impl ConnectionTrait,
    media: &dyn MediaStore,
    photo: &attachment::Model,
    variant: super::media_urls::Variant,
) -> ServiceResult<(Vec<u8>, String)> {
    use super::media_urls::Variant;
    let original = || async {
        let bytes = media.get(&photo.storage_key).await.map_err(store_error)?;
        Ok((bytes, photo.content_type.clone()))
    };
    if variant == Variant::Full {
        return original().await;
    }
    let _turn = DECODING
        .acquire()
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    // Another request may have made it while this one waited.
    let key = attachment::Entity::find_by_id(photo.id)
        .one(db)
        .await?
        .and_then(|a| a.thumbnail_key);
    match key {
        Some(k) if k == photo.storage_key => return original().await,
        Some(k) => {
            let bytes = media.get(&k).await.map_err(store_error)?;
            return Ok((bytes, "image/jpeg".into()));
        }
        None => {}
    }
    let source = media.get(&photo.storage_key).await.map_err(store_error)?;
    let (source, made) = tokio::task::spawn_blocking(move || {
        let made = photos::sniff(&source)
            .and_then(|kind| crate::domain::thumbnails::thumbnail(&source, kind));
        (source, made)
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("thumbnail: {e}")))?;
    let (key, served) = match made {
        Some(thumb) => {
            let key = format!("{}.thumb.jpg", photo.storage_key);
            media.put(&key, &thumb).await.map_err(store_error)?;
            (key, (thumb, "image/jpeg".to_owned()))
        }
        None => (
            photo.storage_key.clone(),
            (source, photo.content_type.clone()),
        ),
    };
    attachment::Entity::update_many()
        .col_expr(
            attachment::Column::ThumbnailKey,
            sea_orm::sea_query::Expr::value(key),
        )
        .filter(attachment::Column::Id.eq(photo.id))
        .exec(db)
        .await?;
    Ok(served)
}

/// Deletes photo rows in `txn` and returns the storage keys that no photo uses any more, for
/// [`forget_bytes`] once the transaction committed (a rolled-back removal keeps its bytes).
pub async fn remove_rows(
    txn: &impl ConnectionTrait,
    photos: &[attachment::Model],
) -> ServiceResult<Vec<String>> {
    if photos.is_empty() {
        return Ok(vec![]);
    }
    attachment::Entity::delete_many()
        .filter(attachment::Column::Id.is_in(photos.iter().map(|p| p.id)))
        .exec(txn)
        .await?;
    let mut keys: Vec<String> = photos
        .iter()
        .flat_map(|p| std::iter::once(p.storage_key.clone()).chain(p.thumbnail_key.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    // One photo uploaded twice is stored once: bytes another photo still uses stay.
    let still_used: Vec<String> = attachment::Entity::find()
        .filter(
            attachment::Column::StorageKey
                .is_in(keys.clone())
                .or(attachment::Column::ThumbnailKey.is_in(keys.clone())),
        )
        .all(txn)
        .await?
        .into_iter()
        .flat_map(|p| std::iter::once(p.storage_key).chain(p.thumbnail_key))
        .collect();
    keys.retain(|k| !still_used.contains(k));
    Ok(keys)
}

/// Deletes the bytes [`remove_rows`] freed; a failure is logged, not fatal (the rows are gone,
/// so nothing serves those bytes any more).
pub async fn forget_bytes(media: &dyn MediaStore, keys: &[String]) {
    for key in keys {
        if let Err(e) = media.delete(key).await {
            tracing::warn!(error = %e, "a removed photo's bytes could not be deleted");
        }
    }
}
