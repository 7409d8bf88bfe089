//! Daily rollups of the three rates (`stat_day`): per Beijing day and place, the [`Tally`] of
//! the tickets submitted that day, the responses that fell due that day and the ratings given
//! that day. Every ticket change recomputes the rows it touches from the tickets themselves, in
//! the same transaction, under the row's lock; a summary then adds whole days from here and
//! counts only the ragged ends of its period from tickets. See `docs/performance.md`.
//!
//! A ticket's *place* is its grid, or, for a ticket without one, the area handling it; an area's
//! figures are those of the places in its subtree.
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    hash::Hash,
};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, Set,
    StreamTrait,
    sea_query::{Alias, Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use super::ServiceResult;
use crate::domain::{
    RatingLevel,
    lifecycle::Status,
    rates::{Tally, TicketRow, decode_secs, encode_secs},
};
use entity::{rating, stat_day, ticket};

pub use crate::domain::calendar::{beijing_date as day_of, beijing_day_start as day_start};

/// Where a ticket counts: its grid, or without one the area handling it.
pub fn place_of(t: &ticket::Model) -> Option<Uuid> {
    place(t.grid_id, t.handling_area_id)
}

/// [`place_of`] from a ticket's grid and handling area columns.
fn place(grid: Option<Uuid>, handling_area: Option<Uuid>) -> Option<Uuid> {
    grid.or(handling_area)
}

/// The tally a ticket counts in, from its grid and handling area columns: its place's, keyed by
/// `key` (the place itself, or one key for all).
fn at_place<'t, K: Eq + Hash>(
    tallies: &'t mut HashMap<K, Tally>,
    key: &impl Fn(Uuid) -> K,
    grid: Option<Uuid>,
    handling_area: Option<Uuid>,
) -> Option<&'t mut Tally> {
    place(grid, handling_area).map(|p| tallies.entry(key(p)).or_default())
}

/// Tickets whose place is one of `places`.
pub fn placed_in(places: &[Uuid]) -> Condition {
    Condition::any()
        .add(ticket::Column::GridId.is_in(places.iter().copied()))
        .add(
            Condition::all()
                .add(ticket::Column::GridId.is_null())
                .add(ticket::Column::HandlingAreaId.is_in(places.iter().copied())),
        )
}

/// The three parts of a day's tally, each recomputed on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Submitted,
    Due,
    Rated,
}

const ALL_PARTS: [Part; 3] = [Part::Submitted, Part::Due, Part::Rated];

type At = DateTime<Utc>;
type Id = Option<Uuid>;
/// Grid, handling area, status, submitted, accepted, resolved, reopen count.
type SubmittedRow = (Id, Id, Status, At, Option<At>, Option<At>, i32);
/// Grid, handling area, status, submitted, response due, accepted, closed.
type DueRow = (Id, Id, Status, At, At, Option<At>, Option<At>);

/// The join from a rating to its ticket (the entities declare no relations).
pub fn rating_ticket() -> sea_orm::RelationDef {
    rating::Entity::belongs_to(ticket::Entity)
        .from(rating::Column::TicketId)
        .to(ticket::Column::Id)
        .into()
}

/// Counts tickets placed in `places` over `[from, to)`, straight from the tickets, into the
/// tally of each place's `key`: the parts asked for, the others left at zero.
async fn count_window<K: Eq + Hash>(
    db: &impl ConnectionTrait,
    places: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    parts: &[Part],
    key: &impl Fn(Uuid) -> K,
    tallies: &mut HashMap<K, Tally>,
) -> ServiceResult<()> {
    use ticket::Column as T;
    if parts.contains(&Part::Submitted) {
        let rows: Vec<SubmittedRow> = ticket::Entity::find()
            .select_only()
            .columns([
                T::GridId,
                T::HandlingAreaId,
                T::Status,
                T::SubmittedAt,
                T::AcceptedAt,
                T::ResolvedAt,
                T::ReopenCount,
            ])
            .filter(placed_in(places))
            .filter(T::SubmittedAt.gte(from))
            .filter(T::SubmittedAt.lt(to))
            .into_tuple()
            .all(db)
            .await?;
        for (grid, handling_area, status, submitted_at, accepted_at, resolved_at, reopen_count) in
            rows
        {
            let Some(tally) = at_place(tallies, key, grid, handling_area) else {
                continue;
            };
            tally.add_submitted(&TicketRow {
                status,
                submitted_at,
                accepted_at,
                resolved_at,
                reopen_count,
                response_due_at: None,
                resolution_due_at: None,
                closed_at: None,
            });
        }
    }
    if parts.contains(&Part::Due) {
        let rows: Vec<DueRow> = ticket::Entity::find()
            .select_only()
            .columns([
                T::GridId,
                T::HandlingAreaId,
                T::Status,
                T::SubmittedAt,
                T::ResponseDueAt,
                T::AcceptedAt,
                T::ClosedAt,
            ])
            .filter(placed_in(places))
            .filter(T::ResponseDueAt.gte(from))
            .filter(T::ResponseDueAt.lt(to))
            .into_tuple()
            .all(db)
            .await?;
        for (grid, handling_area, status, submitted_at, due, accepted_at, closed_at) in rows {
            let Some(tally) = at_place(tallies, key, grid, handling_area) else {
                continue;
            };
            tally.add_due(&TicketRow {
                status,
                submitted_at,
                response_due_at: Some(due),
                accepted_at,
                closed_at,
                resolution_due_at: None,
                resolved_at: None,
                reopen_count: 0,
            });
        }
    }
    if parts.contains(&Part::Rated) {
        let levels: Vec<(Id, Id, RatingLevel)> = rating::Entity::find()
            .select_only()
            .columns([T::GridId, T::HandlingAreaId])
            .column(rating::Column::Level)
            .join(JoinType::InnerJoin, rating_ticket())
            .filter(rating::Column::CreatedAt.gte(from))
            .filter(rating::Column::CreatedAt.lt(to))
            .filter(placed_in(places))
            .into_tuple()
            .all(db)
            .await?;
        for (grid, handling_area, level) in levels {
            if let Some(tally) = at_place(tallies, key, grid, handling_area) {
                tally.add_rating(level);
            }
        }
    }
    Ok(())
}

/// The tally of `places` over `[from, to)`, all of them together.
pub async fn tally(
    db: &(impl ConnectionTrait + StreamTrait),
    places: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ServiceResult<Tally> {
    let mut total = tally_by(db, places, from, to, &|_| ()).await?;
    Ok(total.remove(&()).unwrap_or_default())
}

/// The tally of each of `places` over `[from, to)` (a place with nothing to count may be
/// missing), in the same few statements however many places.
pub async fn tally_by_place(
    db: &(impl ConnectionTrait + StreamTrait),
    places: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ServiceResult<HashMap<Uuid, Tally>> {
    tally_by(db, places, from, to, &|place| place).await
}

/// The tallies of `places` over `[from, to)`, each place counted under its `key`: whole Beijing
/// days from the rollups, the ragged ends from the tickets.
async fn tally_by<K: Eq + Hash>(
    db: &(impl ConnectionTrait + StreamTrait),
    places: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    key: &impl Fn(Uuid) -> K,
) -> ServiceResult<HashMap<K, Tally>> {
    let mut tallies = HashMap::new();
    let first = if day_start(day_of(from)) == from {
        day_of(from)
    } else {
        day_of(from) + Duration::days(1)
    };
    let end = day_of(to);
    if first >= end {
        count_window(db, places, from, to, &ALL_PARTS, key, &mut tallies).await?;
        return Ok(tallies);
    }
    for (a, b) in [(from, day_start(first)), (day_start(end), to)] {
        if a < b {
            count_window(db, places, a, b, &ALL_PARTS, key, &mut tallies).await?;
        }
    }
    // Streamed: each row's seconds are decoded into the tally and the row dropped, so a year's
    // rows are never all held at once beside what they decode to.
    let mut rows = stat_day::Entity::find()
        .filter(stat_day::Column::Day.gte(first))
        .filter(stat_day::Column::Day.lt(end))
        .filter(stat_day::Column::PlaceId.is_in(places.iter().copied()))
        .stream(db)
        .await?;
    while let Some(row) = rows.try_next().await? {
        add_row(tallies.entry(key(row.place_id)).or_default(), &row);
    }
    Ok(tallies)
}

fn add_row(total: &mut Tally, row: &stat_day::Model) {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    total.received += n(row.received);
    total.withdrawn += n(row.withdrawn);
    total.rejected += n(row.rejected);
    total.accepted += n(row.accepted);
    total.resolved += n(row.resolved);
    total.reopened += n(row.reopened);
    total.response_due += n(row.response_due);
    total.responded_in_time += n(row.responded_in_time);
    total.rated += n(row.rated);
    total.satisfied += n(row.satisfied);
    total.basically_satisfied += n(row.basically_satisfied);
    total.unsatisfied += n(row.unsatisfied);
    decode_secs(&row.response_secs, &mut total.response_secs);
    decode_secs(&row.resolution_secs, &mut total.resolution_secs);
}

fn count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The columns a part owns, with their values from `t`.
fn part_values(part: Part, t: &Tally) -> Vec<(stat_day::Column, sea_orm::Value)> {
    use stat_day::Column as C;
    match part {
        Part::Submitted => vec![
            (C::Received, count(t.received).into()),
            (C::Withdrawn, count(t.withdrawn).into()),
            (C::Rejected, count(t.rejected).into()),
            (C::Accepted, count(t.accepted).into()),
            (C::Resolved, count(t.resolved).into()),
            (C::Reopened, count(t.reopened).into()),
            (C::ResponseSecs, encode_secs(&t.response_secs).into()),
            (C::ResolutionSecs, encode_secs(&t.resolution_secs).into()),
        ],
        Part::Due => vec![
            (C::ResponseDue, count(t.response_due).into()),
            (C::RespondedInTime, count(t.responded_in_time).into()),
        ],
        Part::Rated => vec![
            (C::Rated, count(t.rated).into()),
            (C::Satisfied, count(t.satisfied).into()),
            (C::BasicallySatisfied, count(t.basically_satisfied).into()),
            (C::Unsatisfied, count(t.unsatisfied).into()),
        ],
    }
}

fn empty_row(day: NaiveDate, place: Uuid) -> stat_day::ActiveModel {
    stat_day::ActiveModel {
        day: Set(day),
        place_id: Set(place),
        received: Set(0),
        withdrawn: Set(0),
        rejected: Set(0),
        accepted: Set(0),
        resolved: Set(0),
        reopened: Set(0),
        response_due: Set(0),
        responded_in_time: Set(0),
        rated: Set(0),
        satisfied: Set(0),
        basically_satisfied: Set(0),
        unsatisfied: Set(0),
        response_secs: Set(Vec::new()),
        resolution_secs: Set(Vec::new()),
    }
}

/// Recomputes the given parts of the given (day, place) rows from the tickets. Rows are taken
/// in key order, each locked (by an upsert that leaves it as it is) before it is counted, so
/// concurrent writers of one day and place queue instead of overwriting each other's counts.
async fn refresh(
    db: &impl ConnectionTrait,
    keys: BTreeMap<(NaiveDate, Uuid), BTreeSet<Part>>,
) -> ServiceResult<()> {
    use stat_day::Column as C;
    for ((day, place), parts) in keys {
        stat_day::Entity::insert(empty_row(day, place))
            .on_conflict(
                OnConflict::columns([C::Day, C::PlaceId])
                    .value(C::Received, Expr::col((stat_day::Entity, C::Received)))
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        let parts: Vec<Part> = parts.into_iter().collect();
        let start = day_start(day);
        let mut counted = HashMap::new();
        let end = start + Duration::days(1);
        count_window(db, &[place], start, end, &parts, &|_| (), &mut counted).await?;
        let tally = counted.remove(&()).unwrap_or_default();
        let mut update = stat_day::Entity::update_many()
            .filter(C::Day.eq(day))
            .filter(C::PlaceId.eq(place));
        for part in parts {
            for (col, value) in part_values(part, &tally) {
                update = update.col_expr(col, Expr::val(value));
            }
        }
        update.exec(db).await?;
    }
    Ok(())
}

/// Counts a new ticket in: a submission and a response falling due add to their days' counts
/// (a new ticket has no acceptance or resolution times yet), one upsert each, without
/// recounting the day, so submissions do not slow down as a busy day fills.
pub async fn ticket_created(db: &impl ConnectionTrait, t: &ticket::Model) -> ServiceResult<()> {
    use stat_day::Column as C;
    let Some(place) = place_of(t) else {
        return Ok(());
    };
    let row = TicketRow {
        status: t.status,
        submitted_at: t.submitted_at,
        response_due_at: t.response_due_at,
        resolution_due_at: t.resolution_due_at,
        accepted_at: t.accepted_at,
        resolved_at: t.resolved_at,
        closed_at: t.closed_at,
        reopen_count: t.reopen_count,
    };
    let mut days: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
    days.entry(day_of(t.submitted_at))
        .or_default()
        .add_submitted(&row);
    if let Some(due) = t.response_due_at {
        days.entry(day_of(due)).or_default().add_due(&row);
    }
    if days
        .values()
        .any(|d| !d.response_secs.is_empty() || !d.resolution_secs.is_empty())
    {
        // Only a ticket created already accepted or resolved has times to add: recount.
        return ticket_changed(db, None, t, None).await;
    }
    for (day, tally) in days {
        let mut am = empty_row(day, place);
        let mut conflict = OnConflict::columns([C::Day, C::PlaceId]);
        for part in [Part::Submitted, Part::Due] {
            for (col, value) in part_values(part, &tally) {
                if matches!(col, C::ResponseSecs | C::ResolutionSecs) {
                    continue;
                }
                sea_orm::ActiveModelTrait::set(&mut am, col, value);
                conflict.value(
                    col,
                    Expr::col((stat_day::Entity, col))
                        .add(Expr::col((Alias::new("excluded"), col))),
                );
            }
        }
        stat_day::Entity::insert(am)
            .on_conflict(conflict.to_owned())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Keeps the rollups true after a ticket was created (`before` is `None`) or changed, and,
/// when `rated_at` is given, after a rating of it was recorded. Call it in the transaction that
/// wrote the ticket.
pub async fn ticket_changed(
    db: &impl ConnectionTrait,
    before: Option<&ticket::Model>,
    after: &ticket::Model,
    rated_at: Option<DateTime<Utc>>,
) -> ServiceResult<()> {
    let mut keys: BTreeMap<(NaiveDate, Uuid), BTreeSet<Part>> = BTreeMap::new();
    let mut add = |at: DateTime<Utc>, place: Option<Uuid>, part: Part| {
        if let Some(place) = place {
            keys.entry((day_of(at), place)).or_default().insert(part);
        }
    };
    let moved = before.is_some_and(|b| place_of(b) != place_of(after));
    let submitted_changed = before.is_none_or(|b| {
        moved
            || (
                b.status.as_str(),
                b.accepted_at,
                b.resolved_at,
                b.reopen_count,
            ) != (
                after.status.as_str(),
                after.accepted_at,
                after.resolved_at,
                after.reopen_count,
            )
    });
    let due_changed = before.is_none_or(|b| {
        moved
            || (
                b.status.as_str(),
                b.accepted_at,
                b.closed_at,
                b.response_due_at,
            ) != (
                after.status.as_str(),
                after.accepted_at,
                after.closed_at,
                after.response_due_at,
            )
    });
    for t in before.into_iter().chain([after]) {
        if submitted_changed {
            add(t.submitted_at, place_of(t), Part::Submitted);
        }
        if let Some(due) = t.response_due_at.filter(|_| due_changed) {
            add(due, place_of(t), Part::Due);
        }
    }
    if let Some(at) = rated_at {
        add(at, place_of(after), Part::Rated);
    }
    if moved {
        let rated: Vec<DateTime<Utc>> = rating::Entity::find()
            .select_only()
            .column(rating::Column::CreatedAt)
            .filter(rating::Column::TicketId.eq(after.id))
            .into_tuple()
            .all(db)
            .await?;
        for at in rated {
            for t in before.into_iter().chain([after]) {
                add(at, place_of(t), Part::Rated);
            }
        }
    }
    refresh(db, keys).await
}

/// Rebuilds every rollup from the tickets and ratings: after a bulk load, or to repair.
/// `progress` is told how many tickets have been counted.
pub async fn rebuild<C>(db: &C, progress: &dyn Fn(u64)) -> ServiceResult<usize>
where
    C: ConnectionTrait + StreamTrait,
{
    use ticket::Column as T;
    let mut days: HashMap<(NaiveDate, Uuid), Tally> = HashMap::new();
    {
        type Row = (
            Option<Uuid>,
            Option<Uuid>,
            Status,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            i32,
        );
        let mut rows = ticket::Entity::find()
            .select_only()
            .columns([
                T::GridId,
                T::HandlingAreaId,
                T::Status,
                T::SubmittedAt,
                T::ResponseDueAt,
                T::AcceptedAt,
                T::ResolvedAt,
                T::ClosedAt,
                T::ReopenCount,
            ])
            .into_tuple::<Row>()
            .stream(db)
            .await?;
        let mut seen = 0u64;
        while let Some(row) = rows.try_next().await? {
            let (
                grid,
                area,
                status,
                submitted_at,
                due,
                accepted_at,
                resolved_at,
                closed_at,
                reopen_count,
            ) = row;
            seen += 1;
            if seen.is_multiple_of(10_000) {
                progress(seen);
            }
            let Some(place) = grid.or(area) else {
                continue;
            };
            let t = TicketRow {
                status,
                submitted_at,
                response_due_at: due,
                resolution_due_at: None,
                accepted_at,
                resolved_at,
                closed_at,
                reopen_count,
            };
            days.entry((day_of(submitted_at), place))
                .or_default()
                .add_submitted(&t);
            if let Some(due) = due {
                days.entry((day_of(due), place)).or_default().add_due(&t);
            }
        }
        progress(seen);
    }
    {
        let mut rows = rating::Entity::find()
            .select_only()
            .column(rating::Column::CreatedAt)
            .column(rating::Column::Level)
            .column_as(Expr::col((ticket::Entity, T::GridId)), "grid_id")
            .column_as(
                Expr::col((ticket::Entity, T::HandlingAreaId)),
                "handling_area_id",
            )
            .join(JoinType::InnerJoin, rating_ticket())
            .into_tuple::<(DateTime<Utc>, RatingLevel, Option<Uuid>, Option<Uuid>)>()
            .stream(db)
            .await?;
        while let Some((at, level, grid, area)) = rows.try_next().await? {
            if let Some(place) = grid.or(area) {
                days.entry((day_of(at), place))
                    .or_default()
                    .add_rating(level);
            }
        }
    }
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
/// before they existed).
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

/// Open tickets placed in `places` past a response or resolution deadline at `now`.
pub async fn overdue_open(
    db: &impl ConnectionTrait,
    places: &[Uuid],
    now: DateTime<Utc>,
) -> ServiceResult<u64> {
    Ok(overdue_open_by_place(db, places, now).await?.values().sum())
}

/// [`overdue_open`] for each of `places` (a place with none may be missing).
pub async fn overdue_open_by_place(
    db: &impl ConnectionTrait,
    places: &[Uuid],
    now: DateTime<Utc>,
) -> ServiceResult<HashMap<Uuid, u64>> {
    use ticket::Column as T;
    let rows: Vec<(Id, Id, i64)> = ticket::Entity::find()
        .select_only()
        .columns([T::GridId, T::HandlingAreaId])
        .column_as(Expr::col(T::Id).count(), "n")
        .filter(placed_in(places))
        .filter(super::overdue_open_at(now))
        .group_by(T::GridId)
        .group_by(T::HandlingAreaId)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = HashMap::new();
    for (grid, handling_area, n) in rows {
        if let Some(p) = place(grid, handling_area) {
            *counts.entry(p).or_default() += u64::try_from(n).unwrap_or(0);
        }
    }
    Ok(counts)
}
