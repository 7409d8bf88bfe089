//! Likely duplicates of a new ticket: open tickets of the same category within a distance and a
//! time window (across grid borders) whose text is similar, so the resident can add "me too"
//! instead of filing the same thing again.
use chrono::Duration;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{ServiceResult, tickets::Ctx};

/// At most this many nearby open tickets are compared with a new one.
const CANDIDATES: u64 = 100;
use crate::domain::{
    lifecycle::Status,
    redact::redact,
    similarity::{meters, similarity},
};
use entity::ticket;

#[derive(Clone, Debug)]
pub struct Duplicate {
    pub ticket: ticket::Model,
    pub distance_meters: f64,
    pub similarity: f64,
}

impl Duplicate {
    pub fn public_description(&self) -> String {
        redact(&self.ticket.description)
    }
}

async fn point_of(ctx: &Ctx<'_>, t: &ticket::Model) -> ServiceResult<Option<(f64, f64)>> {
    if let (Some(lat), Some(lng)) = (t.lat, t.lng) {
        return Ok(Some((lat, lng)));
    }
    let Some(b) = t.building_id else {
        return Ok(None);
    };
    Ok(entity::building::Entity::find_by_id(b)
        .one(ctx.db)
        .await?
        .and_then(|b| b.lat.zip(b.lng)))
}

/// At most five, most similar first.
pub async fn find(ctx: &Ctx<'_>, t: &ticket::Model) -> ServiceResult<Vec<Duplicate>> {
    let cfg = &ctx.settings.duplicates;
    let Some(here) = point_of(ctx, t).await? else {
        return Ok(vec![]);
    };
    // A box around the point narrows the candidates; the exact distance decides.
    let dlat = cfg.distance_meters / 111_320.0;
    let dlng = cfg.distance_meters / (111_320.0 * here.0.to_radians().cos().max(0.01));
    let rows = ticket::Entity::find()
        .filter(ticket::Column::CategoryId.eq(t.category_id))
        .filter(super::ticket_status_in(&Status::OPEN))
        .filter(ticket::Column::Id.ne(t.id))
        .filter(ticket::Column::SubmittedAt.gte(t.submitted_at - Duration::days(cfg.window_days)))
        .filter(ticket::Column::Lat.between(here.0 - dlat, here.0 + dlat))
        .filter(ticket::Column::Lng.between(here.1 - dlng, here.1 + dlng))
        // The most recent candidates are enough to point a resident at; a crowded corner
        // must not make every submission read hundreds of tickets.
        .order_by_desc(ticket::Column::SubmittedAt)
        .limit(CANDIDATES)
        .all(ctx.db)
        .await?;
    let text = format!(
        "{} {}",
        t.title.as_deref().unwrap_or_default(),
        t.description
    );
    let mut found: Vec<Duplicate> =
        rows.into_iter()
            .filter_map(|other| {
                let there = other.lat.zip(other.lng)?;
                let distance_meters = meters(here, there);
                let similarity = similarity(
                    &text,
                    &format!(
                        "{} {}",
                        other.title.as_deref().unwrap_or_default(),
                        other.description
                    ),
                );
                (distance_meters <= cfg.distance_meters && similarity >= cfg.min_similarity)
                    .then_some(Duplicate {
                        ticket: other,
                        distance_meters,
                        similarity,
                    })
            })
            .collect();
    found.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    found.truncate(5);
    Ok(found)
}
