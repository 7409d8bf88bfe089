//! Rebuilding every rollup from the tickets and ratings: after a bulk load, after a migration
//! that changed a definition, or to repair.
use std::collections::HashMap;

use chrono::NaiveDate;
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter,
    QuerySelect, StreamTrait, TransactionTrait, sea_query::Expr,
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

/// A ticket whose stored moments differ from what its other columns say (written by an older
/// build, or by hand): its id and the right moments.
type Restamp = (
    Uuid,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
);

/// Every ticket's submission and counting moments, into their days; the moments are computed
/// afresh, and the tickets whose stored ones differ are returned to be corrected.
async fn count_tickets<C>(
    db: &C,
    days: &mut Days,
    progress: &dyn Fn(u64),
) -> ServiceResult<Vec<Restamp>>
where
    C: ConnectionTrait + StreamTrait,
{
    let mut rows = ticket_columns()
        .into_model::<TicketColumns>()
        .stream(db)
        .await?;
    let mut seen = 0u64;
    let mut restamp = Vec::new();
    while let Some(t) = rows.try_next().await? {
        seen += 1;
        if seen.is_multiple_of(10_000) {
            progress(seen);
        }
        let row = t.row();
        let (response, resolution) = (row.response_moment(), row.resolution_moment());
        if (response, resolution) != (t.response_counted_at, t.resolution_counted_at) {
            restamp.push((t.id, response, resolution));
        }
        let Some(place) = t.grid_id.or(t.handling_area_id) else {
            continue;
        };
        days.entry((day_of(row.submitted_at), place))
            .or_default()
            .add_submitted(&row);
        if let Some(at) = response {
            days.entry((day_of(at), place))
                .or_default()
                .add_response(&row);
        }
        if let Some(at) = resolution {
            days.entry((day_of(at), place))
                .or_default()
                .add_resolution(&row);
        }
    }
    progress(seen);
    Ok(restamp)
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

/// Rebuilds every rollup from the tickets and ratings, in one transaction (readers see the old
/// rows or the new, never a part), and corrects tickets whose stored moments are stale.
/// `progress` is told how many tickets have been counted. Returns the number of (day, place)
/// rows written.
pub async fn rebuild(db: &DatabaseConnection, progress: &dyn Fn(u64)) -> ServiceResult<usize> {
    let txn = db.begin().await?;
    let mut days: Days = HashMap::new();
    let restamp = count_tickets(&txn, &mut days, progress).await?;
    count_ratings(&txn, &mut days).await?;
    for (id, response, resolution) in &restamp {
        ticket::Entity::update_many()
            .col_expr(ticket::Column::ResponseCountedAt, (*response).into())
            .col_expr(ticket::Column::ResolutionCountedAt, (*resolution).into())
            .filter(ticket::Column::Id.eq(*id))
            .exec(&txn)
            .await?;
    }
    if !restamp.is_empty() {
        tracing::warn!(tickets = restamp.len(), "counting moments corrected");
    }
    stat_day::Entity::delete_many().exec(&txn).await?;
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
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(total)
}

/// Builds the rollups once for a database that has tickets but none yet (one upgraded from
/// before they existed, or whose definitions a migration changed and emptied them). Nodes
/// starting together may each try: one commits, the others' conflicting rows roll back.
pub async fn ensure_built(db: &DatabaseConnection) -> ServiceResult<()> {
    let have_rollups = stat_day::Entity::find().one(db).await?.is_some();
    let have_tickets = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::Id)
        .into_tuple::<Uuid>()
        .one(db)
        .await?
        .is_some();
    if have_rollups || !have_tickets {
        return Ok(());
    }
    match rebuild(db, &|_| {}).await {
        Ok(days) => tracing::info!(days, "statistics rollups built from existing tickets"),
        Err(e) if stat_day::Entity::find().one(db).await?.is_some() => {
            tracing::info!(error = %e, "statistics rollups built by another node");
        }
        Err(e) => return Err(e),
    }
    Ok(())
}
