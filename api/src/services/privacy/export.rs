//! A copy of one's data (PIPL Art. 45): `GET /me/data` answers a ZIP holding `data.json` (the
//! resident's profile, agreements, tickets as the resident reads them — public timeline and
//! ratings included — supports, subscriptions, inbox, and who revealed their contact data and
//! when) and `photos/`, the resident's own photos.
//!
//! The JSON is assembled first (a resident with 100 tickets: well under a second); the ZIP is
//! then written on a blocking thread into a bounded channel the response body reads, one photo
//! at a time, so memory stays at a few chunks whatever the photos weigh, and a client that goes
//! away stops the writing. `privacy.exports_per_day` copies a day per resident.
use std::{io::Write, sync::Arc};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    error::Code,
    services::{Caller, Ctx, ServiceError, ServiceResult, tickets},
    storage::MediaStore,
};

/// What goes into the ZIP: the JSON, and the photos to read from storage as it is written.
pub struct Copy {
    pub data: Vec<u8>,
    pub photos: Vec<PhotoFile>,
}

pub struct PhotoFile {
    /// The name inside the ZIP: `photos/<ticket number>/<photo id>.<ext>`.
    pub name: String,
    pub storage_key: String,
}

/// Counts this copy against the resident's daily allowance (`429 rate_limited` past it).
async fn allowance(ctx: &Ctx<'_>, resident: Uuid) -> ServiceResult<()> {
    let day = std::time::Duration::from_secs(24 * 3600);
    let key = format!("privacy:export:{resident}");
    let (count, left) = ctx
        .cache
        .hit(&key, day)
        .await
        .map_err(|e| ServiceError::Internal(format!("cache: {e}")))?;
    if count > ctx.settings.privacy.exports_per_day {
        return Err(ServiceError::Throttled {
            code: Code::RateLimited,
            retry_after: left.as_secs().max(1),
        });
    }
    Ok(())
}

/// Gathers the resident's data.
pub async fn gather(ctx: &Ctx<'_>, resident: Uuid) -> ServiceResult<Copy> {
    allowance(ctx, resident).await?;
    let me = entity::resident::Entity::find_by_id(resident)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let dir = ctx.dir().await?;
    let mine = entity::ticket::Entity::find()
        .filter(entity::ticket::Column::ResidentId.eq(resident))
        .order_by_asc(entity::ticket::Column::SubmittedAt)
        .all(ctx.db)
        .await?;
    let numbers: std::collections::HashMap<Uuid, String> =
        mine.iter().map(|t| (t.id, t.number.clone())).collect();
    let caller = Caller::Resident(resident);
    let mut shown = Vec::with_capacity(mine.len());
    for t in mine {
        let view = tickets::show(ctx, &caller, t).await?;
        let body = crate::schemas::tickets::Ticket::from(view);
        shown.push(poem_openapi::types::ToJSON::to_json(&body).unwrap_or(Value::Null));
    }
    let photos = own_photos(ctx, resident, &numbers).await?;
    let reveals: Vec<Value> = entity::personal_data_access::Entity::find()
        .filter(entity::personal_data_access::Column::ResidentId.eq(resident))
        .order_by_asc(entity::personal_data_access::Column::At)
        .all(ctx.db)
        .await?
        .into_iter()
        .map(|a| {
            json!({
                "at": a.at,
                "staff_name": dir.staff_name(a.staff_id),
                "ticket_number": numbers.get(&a.ticket_id),
                "field": a.field,
                "reason": a.reason,
            })
        })
        .collect();
    let data = json!({
        "generated_at": ctx.now(),
        "about": "敲门：您在本街道诉求平台的个人信息副本（《个人信息保护法》第四十五条）",
        "profile": {
            "resident_id": me.id,
            "wechat_openid": me.openid,
            "wechat_unionid": me.unionid,
            "phone": me.phone,
            "home_building_id": me.home_building_id,
            "created_at": me.created_at,
        },
        "privacy_agreements": agreements(ctx, resident).await?,
        "tickets": shown,
        "supports": supports(ctx, resident).await?,
        "subscriptions": subscriptions(ctx, resident).await?,
        "notifications": notifications(ctx, resident).await?,
        "contact_reveals": reveals,
        "photos": photos.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
    });
    let data =
        serde_json::to_vec_pretty(&data).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(Copy { data, photos })
}

async fn own_photos(
    ctx: &Ctx<'_>,
    resident: Uuid,
    numbers: &std::collections::HashMap<Uuid, String>,
) -> ServiceResult<Vec<PhotoFile>> {
    use entity::attachment::{Column, Entity};
    Ok(Entity::find()
        .filter(Column::OwnerKind.eq("resident"))
        .filter(Column::OwnerId.eq(resident))
        .order_by_asc(Column::CreatedAt)
        .all(ctx.db)
        .await?
        .into_iter()
        .map(|a| {
            let folder = a
                .ticket_id
                .and_then(|t| numbers.get(&t).cloned())
                .unwrap_or_else(|| "unattached".into());
            let ext = match a.content_type.as_str() {
                "image/png" => "png",
                "image/webp" => "webp",
                "image/heic" => "heic",
                _ => "jpg",
            };
            PhotoFile {
                name: format!("photos/{folder}/{}.{ext}", a.id),
                storage_key: a.storage_key,
            }
        })
        .collect())
}

async fn agreements(ctx: &Ctx<'_>, resident: Uuid) -> ServiceResult<Vec<Value>> {
    use entity::privacy_agreement::{Column, Entity};
    Ok(Entity::find()
        .filter(Column::ResidentId.eq(resident))
        .order_by_asc(Column::AgreedAt)
        .all(ctx.db)
        .await?
        .into_iter()
        .map(|a| json!({"version": a.version, "agreed_at": a.agreed_at, "client": a.client}))
        .collect())
}

async fn supports(ctx: &Ctx<'_>, resident: Uuid) -> ServiceResult<Vec<Value>> {
    use entity::ticket_support::{Column, Entity};
    let rows = Entity::find()
        .filter(Column::ResidentId.eq(resident))
        .order_by_asc(Column::CreatedAt)
        .all(ctx.db)
        .await?;
    let numbers: std::collections::HashMap<Uuid, String> = entity::ticket::Entity::find()
        .filter(entity::ticket::Column::Id.is_in(rows.iter().map(|s| s.ticket_id)))
        .all(ctx.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.number))
        .collect();
    Ok(rows
        .into_iter()
        .map(|s| json!({"ticket_number": numbers.get(&s.ticket_id), "at": s.created_at}))
        .collect())
}

async fn subscriptions(ctx: &Ctx<'_>, resident: Uuid) -> ServiceResult<Vec<Value>> {
    use entity::subscription_grant::{Column, Entity};
    Ok(Entity::find()
        .filter(Column::ResidentId.eq(resident))
        .all(ctx.db)
        .await?
        .into_iter()
        .map(|g| json!({"template_id": g.template_id, "remaining": g.remaining, "updated_at": g.updated_at}))
        .collect())
}

async fn notifications(ctx: &Ctx<'_>, resident: Uuid) -> ServiceResult<Vec<Value>> {
    use entity::notification::{Column, Entity};
    Ok(Entity::find()
        .filter(Column::RecipientKind.eq("resident"))
        .filter(Column::RecipientId.eq(resident))
        .order_by_asc(Column::CreatedAt)
        .all(ctx.db)
        .await?
        .into_iter()
        .map(|n| {
            json!({
                "kind": n.kind,
                "title": n.title,
                "body": n.body,
                "at": n.created_at,
                "read_at": n.read_at,
            })
        })
        .collect())
}

/// A `Write` that hands 64 KiB chunks to the response body; a body that went away ends the
/// writing with `BrokenPipe`.
struct ChunkSender {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl ChunkSender {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::ErrorKind::BrokenPipe.into())
    }
}

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The ZIP as a stream of chunks, written on a blocking thread as the client reads.
pub fn zip_stream(
    copy: Copy,
    media: Arc<dyn MediaStore>,
    at: DateTime<Utc>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let runtime = tokio::runtime::Handle::current();
    let failed = tx.clone();
    tokio::task::spawn_blocking(move || {
        let sink = ChunkSender {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = write_zip(sink, copy, &*media, &runtime, at) {
            tracing::warn!(error = %e, "a resident's data copy stopped");
            let _ = failed.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    })
}

fn write_zip(
    sink: ChunkSender,
    copy: Copy,
    media: &dyn MediaStore,
    runtime: &tokio::runtime::Handle,
    at: DateTime<Utc>,
) -> zip::result::ZipResult<()> {
    use zip::{CompressionMethod, write::SimpleFileOptions};
    let local = at
        .with_timezone(&crate::domain::calendar::beijing())
        .naive_local();
    use chrono::{Datelike, Timelike};
    let modified = zip::DateTime::from_date_and_time(
        u16::try_from(local.year()).unwrap_or(1980),
        local.month() as u8,
        local.day() as u8,
        local.hour() as u8,
        local.minute() as u8,
        local.second() as u8,
    )
    .unwrap_or_default();
    let json = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(modified);
    // Photos are compressed already.
    let stored = json.compression_method(CompressionMethod::Stored);
    let mut zip = zip::ZipWriter::new_stream(sink);
    zip.start_file("data.json", json)?;
    zip.write_all(&copy.data)?;
    for photo in copy.photos {
        let Ok(bytes) = runtime.block_on(media.get(&photo.storage_key)) else {
            // Removed meanwhile (retention): the JSON still names it.
            continue;
        };
        zip.start_file(photo.name, stored)?;
        zip.write_all(&bytes)?;
    }
    let mut sink = zip.finish()?.into_inner();
    sink.flush()?;
    Ok(())
}
