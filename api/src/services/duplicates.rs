//! Likely duplicates of a ticket: tickets of the same category within a distance and a time
//! window (across grid borders) whose words are alike (`domain::terms`: segmented, numbers and
//! personal data left out, near-synonyms read as one, a word rare in the area's tickets
//! weighing more than one every ticket there has).
//!
//! A resident who has just submitted is offered public, open ones only, so they can add "me
//! too" instead of filing the same thing again; nothing a resident did not make public is hinted
//! at. Staff reading a ticket see every likely duplicate they may see, whatever its status or
//! visibility, before and after it, to merge or reject as duplicates: only those alike enough
//! to merge (`duplicates.merge_similarity`, stricter than what a resident is offered).
use chrono::Duration;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{Ctx, ServiceResult};
use crate::domain::{
    access::{Placement, StaffScope},
    lifecycle::Status,
    redact::{mask_personal, redact},
    similarity::{meters, ranked},
    terms::features,
};
use entity::ticket;

/// At most this many nearby tickets are compared with one.
const CANDIDATES: u64 = 100;
/// Distances are shown to this many metres: a hint, not a way to pinpoint anyone.
const DISTANCE_STEP: f64 = 10.0;

/// Who is offered the duplicates.
#[derive(Clone, Copy)]
pub enum Audience<'a> {
    /// The resident who submitted: public open tickets, redacted as on the public board.
    Resident,
    /// Staff reading a ticket: every likely duplicate within their sight.
    Staff(&'a StaffScope),
}

#[derive(Clone, Debug)]
pub struct Duplicate {
    pub ticket: ticket::Model,
    /// Rounded to [`DISTANCE_STEP`].
    pub distance_meters: f64,
    pub similarity: f64,
    /// The text as the audience may read it.
    pub description: String,
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

fn text_of(t: &ticket::Model) -> String {
    format!(
        "{} {}",
        t.title.as_deref().unwrap_or_default(),
        t.description
    )
}

/// The tickets of a category of `group` a staff member may see, as a condition, so the
/// candidates read are theirs (a hundred newer ones next door must not crowd out their own).
fn within_sight(
    scope: &StaffScope,
    dir: &super::directory::Directory,
    group: &str,
) -> sea_orm::Condition {
    use sea_orm::Condition;
    let seen = scope.visible_set(&dir.tree);
    if seen.everything {
        return Condition::all();
    }
    let mut areas: Vec<uuid::Uuid> = seen.areas.into_iter().collect();
    for (dept_areas, dept) in seen.departments {
        if dept == group {
            areas.extend(dept_areas);
        }
    }
    Condition::any()
        .add(ticket::Column::AssigneeId.eq(scope.staff_id))
        .add(ticket::Column::GridId.is_in(areas.clone()))
        .add(ticket::Column::HandlingAreaId.is_in(areas))
}

/// At most five, most similar first.
pub async fn find(
    ctx: &Ctx<'_>,
    t: &ticket::Model,
    audience: Audience<'_>,
) -> ServiceResult<Vec<Duplicate>> {
    let cfg = &ctx.settings.duplicates;
    let Some(here) = point_of(ctx, t).await? else {
        return Ok(vec![]);
    };
    // A box around the point narrows the candidates; the exact distance decides.
    let dlat = cfg.distance_meters / 111_320.0;
    let dlng = cfg.distance_meters / (111_320.0 * here.0.to_radians().cos().max(0.01));
    let window = Duration::days(cfg.window_days);
    let mut query = ticket::Entity::find()
        .filter(ticket::Column::CategoryId.eq(t.category_id))
        .filter(ticket::Column::Id.ne(t.id))
        .filter(ticket::Column::SubmittedAt.gte(t.submitted_at - window))
        .filter(ticket::Column::Lat.between(here.0 - dlat, here.0 + dlat))
        .filter(ticket::Column::Lng.between(here.1 - dlng, here.1 + dlng));
    let dir = ctx.dir().await?;
    query = match audience {
        Audience::Resident => query
            .filter(ticket::Column::Public.eq(true))
            .filter(super::ticket_status_in(&Status::OPEN)),
        Audience::Staff(scope) => {
            let group = dir
                .category(t.category_id)
                .map(|c| c.group_name.as_str())
                .unwrap_or_default();
            query
                .filter(ticket::Column::SubmittedAt.lte(t.submitted_at + window))
                .filter(within_sight(scope, &dir, group))
        }
    };
    // The most recent candidates are enough to point at; a crowded corner must not make every
    // submission or ticket page read hundreds of tickets.
    let rows = query
        .order_by_desc(ticket::Column::SubmittedAt)
        .limit(CANDIDATES)
        .all(ctx.db)
        .await?;
    let sees = |other: &ticket::Model| match audience {
        Audience::Resident => true,
        Audience::Staff(scope) => {
            let group = dir
                .category(other.category_id)
                .map(|c| c.group_name.as_str())
                .unwrap_or_default();
            scope.can_see(
                &dir.tree,
                &Placement {
                    grid_id: other.grid_id,
                    handling_area_id: other.handling_area_id,
                    assignee_id: other.assignee_id,
                    category_group: group,
                },
            )
        }
    };
    let near: Vec<(ticket::Model, f64)> = rows
        .into_iter()
        .filter(|other| sees(other))
        .filter_map(|other| {
            let distance = meters(here, other.lat.zip(other.lng)?);
            (distance <= cfg.distance_meters).then_some((other, distance))
        })
        .collect();
    let Some(place) = t
        .grid_id
        .or(t.handling_area_id)
        .filter(|_| !near.is_empty())
    else {
        return Ok(vec![]);
    };
    let weights = super::text_models::area_weights(ctx, place).await?;
    let candidates: Vec<Vec<String>> = near.iter().map(|(o, _)| features(&text_of(o))).collect();
    let min = match audience {
        Audience::Resident => cfg.min_similarity,
        Audience::Staff(_) => cfg.merge_similarity,
    };
    let offered = ranked(&features(&text_of(t)), &candidates, &weights, min, 5);
    let mut near: Vec<Option<(ticket::Model, f64)>> = near.into_iter().map(Some).collect();
    Ok(offered
        .into_iter()
        .filter_map(|(i, similarity)| {
            let (other, distance) = near[i].take()?;
            let description = match audience {
                Audience::Resident => redact(&other.description),
                Audience::Staff(_) => mask_personal(&other.description),
            };
            Some(Duplicate {
                distance_meters: (distance / DISTANCE_STEP).round() * DISTANCE_STEP,
                similarity: (similarity * 100.0).round() / 100.0,
                description,
                ticket: other,
            })
        })
        .collect())
}
