//! Rebuilding every rollup from the tickets and ratings: after a bulk load, after a migration
//! that changed a definition, or to repair.
use std::collections::HashMap;

use chrono::NaiveDate;
use futures_util::TryStreamExt;
use sea_orm::{
    ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, StreamTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    ALL_PARTS, day_of, empty_row, part_values, rating_ticket,
    window::{TicketColumns, counted_ratings, parse_reasons, ticket_columns},
};
use crate::{
    domain::{RatingLevel, rates::Tally},
    services::ServiceResult,
};
use entity::{rating, stat_day, ticket};

type Days = HashMap<(NaiveDate, Uuid), Tally>;

/// Every ticket's submission and counting moments, into their days.
async fn count_tickets<C>(db: &C, days: &mut Days, progress: &dyn Fn(u64)) -> ServiceResult<()>
where
    C: ConnectionTrait + StreamTrait,
{
    let mut rows = ticket_columns()
        .into_model::<TicketColumns>()
        .stream(db)
        .await?;
    let mut seen = 0u64;
    while let Some(t) = rows.try_next().await? {
        seen += 1;
        if seen.is_multiple_of(10_000) {
            progress(seen);
        }
        let Some(place) = t.grid_id.or(t.handling_area_id) else {
            continue;
        };
        let row = t.row();
        days.entry((day_of(row.submitted_at), place))
            .or_default()
            .add_submitted(&row);
        if let Some(at) = t.response_counted_at {
            days.entry((day_of(at), place))
                .or_default()
                .add_response(&row);
        }
        if let Some(at) = t.resolution_counted_at {
            days.entry((day_of(at), place))
                .or_default()
                .add_resolution(&row);
        }
    }
    progress(seen);
    Ok(())
}

/// Every counted rating, into its day.
async fn count_ratings<C>(db: &C, days: &mut Days) -> ServiceResult<()>
where
    C: ConnectionTrait + StreamTrait,
{
    use ticket::Column as T;
    type Row = (
        chrono::DateTime<chrono::Utc>,
        RatingLevel,
        Option<String>,
        Option<Uuid>,
        Option<Uuid>,
    );
    let mut rows = rating::Entity::find()
        .select_only()
        .columns([
            rating::Column::CreatedAt,
            rating::Column::Level,
            rating::Column::Reasons,
        ])
        .column_as(Expr::col((ticket::Entity, T::GridId)), "grid_id")
        .column_as(
            Expr::col((ticket::Entity, T::HandlingAreaId)),
            "handling_area_id",
        )
        .join(JoinType::InnerJoin, rating_ticket())
        .filter(counted_ratings())
        .into_tuple::<Row>()
        .stream(db)
        .await?;
    while let Some((at, level, reasons, grid, area)) = rows.try_next().await? {
        if let Some(place) = grid.or(area) {
            days.entry((day_of(at), place))
                .or_default()
                .add_rating(level, &parse_reasons(reasons.as_deref()));
        }
    }
    Ok(())
}

/// Rebuilds every rollup from the tickets and ratings. `progress` is told how many tickets
/// have been counted. Returns the number of (day, place) rows written.
pub async fn rebuild<C>(db: &C, progress: &dyn Fn(u64)) -> ServiceResult<usize>
where
    C: ConnectionTrait + StreamTrait,
{
    let mut days: Days = HashMap::new();
    count_tickets(db, &mut days, progress).await?;
    count_ratings(db, &mut days).await?;
    stat_day::Entity::delete_many().exec(db).await?;
    let total = days.len();
    let all: Vec<_> = days.into_iter().collect();
    for chunk in all.chunks(500) {
        let rows = chunk.iter().map(|((day, place), t)| {
            let mut row = empty_row(*day, *place);
            for part in ALL_PARTS {
                for (col, value) in part_values(part, t) {
                    sea_orm::ActiveModelTrait::set(&mut row, col, value);
                }
            }
            row
        });
        stat_day::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(total)
}

/// Builds the rollups once for a database that has tickets but none yet (one upgraded from
/// before they existed, or whose definitions a migration changed and emptied them).
pub async fn ensure_built<C>(db: &C) -> ServiceResult<()>
where
    C: ConnectionTrait + StreamTrait,
{
    let have_rollups = stat_day::Entity::find().one(db).await?.is_some();
    let have_tickets = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::Id)
        .into_tuple::<Uuid>()
        .one(db)
        .await?
        .is_some();
    if !have_rollups && have_tickets {
        let days = rebuild(db, &|_| {}).await?;
        tracing::info!(days, "statistics rollups built from existing tickets");
    }
    Ok(())
}
