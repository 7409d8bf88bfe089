//! The public board: public suggestions as anyone may see them, a page at a time, and one in
//! detail. Everything that leaves here is anonymised: no resident, no contact, personal data in
//! the text redacted, a resident's point rounded to about 100 m.
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{Ctx, ServiceError, ServiceResult, directory::Directory};
use crate::domain::{TicketKind, lifecycle::Status, redact::redact};
use entity::{ticket, ticket_support as support};

/// A ticket as the public board shows it.
pub struct PublicTicket {
    pub id: Uuid,
    pub number: String,
    pub kind: TicketKind,
    pub category_code: String,
    pub category_name: String,
    pub title: Option<String>,
    pub description: String,
    pub status: Status,
    pub support_count: i32,
    pub grid_name: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Where a point was entered by staff (a door-knock visit, a staff entry), it is a public
/// place and shown as entered; a resident's own point is rounded to three decimals (about 100 m).
pub fn published_point(t: &ticket::Model) -> (Option<f64>, Option<f64>) {
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    match t.created_by_staff_id {
        Some(_) => (t.lat, t.lng),
        None => (t.lat.map(round), t.lng.map(round)),
    }
}

/// A public ticket in detail.
pub struct PublicDetail {
    pub ticket: PublicTicket,
    /// WGS-84, rounded as [`published_point`] says.
    pub location: Option<(f64, f64)>,
    /// Photos of the fix.
    pub resolution_photos: Vec<entity::attachment::Model>,
    /// With a resident's token: whether they said "me too".
    pub supported_by_me: Option<bool>,
}

pub struct BoardQuery {
    /// Under this area; the whole deployment without one.
    pub area_id: Option<Uuid>,
    pub kind: Option<TicketKind>,
    pub status: Option<Status>,
    pub by_support: bool,
    pub cursor: Option<String>,
    pub limit: u64,
}

pub struct BoardPage {
    pub items: Vec<PublicTicket>,
    pub next_cursor: Option<String>,
}

/// A ticket the board shows: public, neither withdrawn nor rejected.
fn on_board(t: &ticket::Model) -> bool {
    t.public && !matches!(t.status, Status::Withdrawn | Status::Rejected)
}

fn shown(dir: &Directory, t: ticket::Model) -> PublicTicket {
    let category = dir.category(t.category_id);
    PublicTicket {
        id: t.id,
        number: t.number,
        kind: t.kind,
        category_code: category.map(|c| c.code.clone()).unwrap_or_default(),
        category_name: category.map(|c| c.name.clone()).unwrap_or_default(),
        title: t.title.map(|s| redact(&s)),
        description: redact(&t.description),
        status: t.status,
        support_count: t.support_count,
        grid_name: t
            .grid_id
            .and_then(|g| dir.tree.get(g))
            .map(|a| a.name.clone()),
        submitted_at: t.submitted_at,
        resolved_at: t.resolved_at,
    }
}

/// Public suggestions, newest first or most supported first, a page at a time (withdrawn and
/// rejected ones left out).
pub async fn board(ctx: &Ctx<'_>, q: BoardQuery) -> ServiceResult<BoardPage> {
    let dir = ctx.dir().await?;
    let offset = super::cursors::offset("board", q.cursor.as_deref())?;
    let mut find = ticket::Entity::find()
        .filter(ticket::Column::Public.eq(true))
        .filter(
            ticket::Column::Status
                .is_not_in([Status::Withdrawn.as_str(), Status::Rejected.as_str()]),
        );
    if let Some(area) = q.area_id {
        dir.tree.get(area).ok_or(ServiceError::NotFound)?;
        let areas = dir.tree.subtree(area);
        find = find.filter(
            sea_orm::Condition::any()
                .add(ticket::Column::GridId.is_in(areas.clone()))
                .add(ticket::Column::HandlingAreaId.is_in(areas)),
        );
    }
    if let Some(s) = q.status {
        find = find.filter(ticket::Column::Status.eq(s.as_str()));
    }
    if let Some(kind) = q.kind {
        find = find.filter(ticket::Column::Kind.eq(kind.as_str()));
    }
    if q.by_support {
        find = find.order_by_desc(ticket::Column::SupportCount);
    }
    let mut rows = find
        .order_by_desc(ticket::Column::SubmittedAt)
        .order_by_desc(ticket::Column::Id)
        .offset(offset)
        .limit(q.limit + 1)
        .all(ctx.db)
        .await?;
    let more = rows.len() as u64 > q.limit;
    rows.truncate(q.limit as usize);
    Ok(BoardPage {
        items: rows.into_iter().map(|t| shown(&dir, t)).collect(),
        next_cursor: super::cursors::next_offset("board", offset, q.limit, more),
    })
}

/// One public ticket (by id or number) as the board shows it, with its rounded point, the
/// photos of its fix and, for a resident, whether they support it. Anything not on the board is
/// `404`.
pub async fn detail(
    ctx: &Ctx<'_>,
    reference: &str,
    resident: Option<Uuid>,
) -> ServiceResult<PublicDetail> {
    let dir = ctx.dir().await?;
    let t = super::tickets::find(ctx.db, reference).await?;
    if !on_board(&t) {
        return Err(ServiceError::NotFound);
    }
    let photos = super::attachments::for_ticket(ctx.db, t.id)
        .await?
        .into_iter()
        .filter(is_public_photo)
        .collect();
    let supported_by_me = match resident {
        Some(r) => Some(
            support::Entity::find_by_id((t.id, r))
                .one(ctx.db)
                .await?
                .is_some(),
        ),
        None => None,
    };
    let (lat, lng) = published_point(&t);
    Ok(PublicDetail {
        location: lat.zip(lng),
        resolution_photos: photos,
        supported_by_me,
        ticket: shown(&dir, t),
    })
}

/// Photos anyone may see: those of the fix of a ticket on the board.
fn is_public_photo(a: &entity::attachment::Model) -> bool {
    a.purpose.as_deref() == Some("resolution") && super::attachments::shown_to_residents(a, None)
}

/// Whether a photo may be shown to anyone: a photo of the fix of a ticket on the board.
pub async fn photo_is_public(
    db: &impl ConnectionTrait,
    photo: &entity::attachment::Model,
) -> ServiceResult<bool> {
    let Some(ticket_id) = photo.ticket_id else {
        return Ok(false);
    };
    if !is_public_photo(photo) {
        return Ok(false);
    }
    let t = ticket::Entity::find_by_id(ticket_id).one(db).await?;
    Ok(t.is_some_and(|t| on_board(&t)))
}

/// The public summary of a resident's ticket's original (the ticket it was rejected as a
/// duplicate of): number, category and status always; text and support only when the original
/// is on the board.
pub async fn original_of(
    ctx: &Ctx<'_>,
    dir: &Directory,
    original: Uuid,
) -> ServiceResult<Option<(PublicTicket, bool)>> {
    let Some(t) = ticket::Entity::find_by_id(original).one(ctx.db).await? else {
        return Ok(None);
    };
    let public = on_board(&t);
    let mut summary = shown(dir, t);
    if !public {
        summary.title = None;
        summary.description = String::new();
        summary.support_count = 0;
        summary.grid_name = None;
    }
    Ok(Some((summary, public)))
}
