//! Counting a window of time straight from the tickets and ratings: the ragged ends of a
//! period, and a day's rollup when a ticket change recounts it.
use std::{collections::HashMap, hash::Hash};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::{Part, placed_in, rating_ticket};
use crate::{
    domain::{
        DissatisfactionReason, RatingLevel, TicketKind,
        lifecycle::Status,
        rates::{Tally, TicketRow},
    },
    services::ServiceResult,
};
use entity::{rating, ticket};

type At = DateTime<Utc>;
type Id = Option<Uuid>;

/// The tally a ticket counts in, from its grid and handling area columns: its place's, keyed by
/// `key` (the place itself, or one key for all).
pub(super) fn at_place<'t, K: Eq + Hash>(
    tallies: &'t mut HashMap<K, Tally>,
    key: &impl Fn(Uuid) -> K,
    grid: Option<Uuid>,
    handling_area: Option<Uuid>,
) -> Option<&'t mut Tally> {
    grid.or(handling_area)
        .map(|p| tallies.entry(key(p)).or_default())
}

/// What the rates read of a ticket, as columns (the order [`TicketColumns::row`] expects).
pub(super) const ROW_COLUMNS: [ticket::Column; 13] = [
    ticket::Column::Id,
    ticket::Column::GridId,
    ticket::Column::HandlingAreaId,
    ticket::Column::Status,
    ticket::Column::Kind,
    ticket::Column::ExcludedFromRates,
    ticket::Column::SubmittedAt,
    ticket::Column::ResponseDueAt,
    ticket::Column::ResolutionDueAt,
    ticket::Column::AcceptedAt,
    ticket::Column::ResolvedAt,
    ticket::Column::ClosedAt,
    ticket::Column::ReopenCount,
];

/// A ticket read as [`ROW_COLUMNS`], with its two counting moments.
#[derive(sea_orm::FromQueryResult)]
pub(super) struct TicketColumns {
    pub id: Uuid,
    pub grid_id: Id,
    pub handling_area_id: Id,
    status: Status,
    kind: TicketKind,
    excluded_from_rates: bool,
    submitted_at: At,
    response_due_at: Option<At>,
    resolution_due_at: Option<At>,
    accepted_at: Option<At>,
    resolved_at: Option<At>,
    closed_at: Option<At>,
    reopen_count: i32,
    pub response_counted_at: Option<At>,
    pub resolution_counted_at: Option<At>,
}

impl TicketColumns {
    pub fn row(&self) -> TicketRow {
        TicketRow {
            status: self.status,
            praise: self.kind == TicketKind::Praise,
            excluded: self.excluded_from_rates,
            submitted_at: self.submitted_at,
            response_due_at: self.response_due_at,
            resolution_due_at: self.resolution_due_at,
            accepted_at: self.accepted_at,
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
            reopen_count: self.reopen_count,
        }
    }
}

/// The ticket query the rates read, with both moments.
pub(super) fn ticket_columns() -> sea_orm::Select<ticket::Entity> {
    ticket::Entity::find()
        .select_only()
        .columns(ROW_COLUMNS)
        .columns([
            ticket::Column::ResponseCountedAt,
            ticket::Column::ResolutionCountedAt,
        ])
}

/// The reasons stored with a rating (comma-separated codes; unknown ones are skipped).
pub fn parse_reasons(stored: Option<&str>) -> Vec<DissatisfactionReason> {
    stored
        .unwrap_or_default()
        .split(',')
        .filter_map(DissatisfactionReason::parse)
        .collect()
}

/// Ratings that count: of tickets in no appeal's exclusion, and not of praise.
pub fn counted_ratings() -> Condition {
    Condition::all()
        .add(ticket::Column::ExcludedFromRates.eq(false))
        .add(ticket::Column::Kind.ne(TicketKind::Praise))
}

/// Counts tickets placed in `places` over `[from, to)`, straight from the tickets, into the
/// tally of each place's `key`: the parts asked for, the others left at zero.
pub(super) async fn count_window<K: Eq + Hash>(
    db: &impl ConnectionTrait,
    places: &[Uuid],
    (from, to): (At, At),
    parts: &[Part],
    key: &impl Fn(Uuid) -> K,
    tallies: &mut HashMap<K, Tally>,
) -> ServiceResult<()> {
    use ticket::Column as T;
    let by_moment = [
        (Part::Submitted, T::SubmittedAt),
        (Part::Response, T::ResponseCountedAt),
        (Part::Resolution, T::ResolutionCountedAt),
    ];
    for (part, column) in by_moment {
        if !parts.contains(&part) {
            continue;
        }
        let rows: Vec<TicketColumns> = ticket_columns()
            .filter(placed_in(places))
            .filter(column.gte(from))
            .filter(column.lt(to))
            .into_model()
            .all(db)
            .await?;
        for t in rows {
            let Some(tally) = at_place(tallies, key, t.grid_id, t.handling_area_id) else {
                continue;
            };
            let row = t.row();
            match part {
                Part::Submitted => tally.add_submitted(&row),
                Part::Response => tally.add_response(&row),
                Part::Resolution => tally.add_resolution(&row),
                Part::Rated => {}
            }
        }
    }
    if parts.contains(&Part::Rated) {
        let levels: Vec<(Id, Id, RatingLevel, Option<String>)> = rating::Entity::find()
            .select_only()
            .columns([T::GridId, T::HandlingAreaId])
            .columns([rating::Column::Level, rating::Column::Reasons])
            .join(JoinType::InnerJoin, rating_ticket())
            .filter(rating::Column::CreatedAt.gte(from))
            .filter(rating::Column::CreatedAt.lt(to))
            .filter(placed_in(places))
            .filter(counted_ratings())
            .into_tuple()
            .all(db)
            .await?;
        for (grid, handling_area, level, reasons) in levels {
            if let Some(tally) = at_place(tallies, key, grid, handling_area) {
                tally.add_rating(level, &parse_reasons(reasons.as_deref()));
            }
        }
    }
    Ok(())
}
