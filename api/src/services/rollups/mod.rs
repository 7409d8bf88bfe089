//! Daily rollups of the three rates (`stat_day`): per Beijing day and place, the [`Tally`] of
//! the tickets submitted that day, the tickets whose response or resolution counts that day
//! (their moments, `domain::rates`) and the ratings given that day. Every ticket change
//! recomputes the rows it touches from the tickets themselves, in the same transaction, under
//! the row's lock; a summary then adds whole days from here and counts only the ragged ends of
//! its period from tickets. See `docs/performance.md`.
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
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
    StreamTrait,
    sea_query::{Alias, Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use super::ServiceResult;
use crate::domain::{
    DissatisfactionReason, TicketKind,
    rates::{Tally, TicketRow, decode_secs, encode_secs},
};
use entity::{rating, stat_day, ticket};

mod rebuild;
mod window;

type Id = Option<Uuid>;

pub use crate::domain::calendar::{beijing_date as day_of, beijing_day_start as day_start};
pub use rebuild::{ensure_built, rebuild};
use window::count_window;
pub use window::{counted_ratings, parse_reasons};

/// Where a ticket counts: its grid, or without one the area handling it.
pub fn place_of(t: &ticket::Model) -> Option<Uuid> {
    place(t.grid_id, t.handling_area_id)
}

/// [`place_of`] from a ticket's grid and handling area columns.
fn place(grid: Option<Uuid>, handling_area: Option<Uuid>) -> Option<Uuid> {
    grid.or(handling_area)
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

/// A ticket as the rates read it.
pub fn row_of(t: &ticket::Model) -> TicketRow {
    TicketRow {
        status: t.status,
        praise: t.kind == TicketKind::Praise,
        excluded: t.excluded_from_rates,
        submitted_at: t.submitted_at,
        response_due_at: t.response_due_at,
        resolution_due_at: t.resolution_due_at,
        accepted_at: t.accepted_at,
        resolved_at: t.resolved_at,
        closed_at: t.closed_at,
        reopen_count: t.reopen_count,
    }
}

/// Sets the counting moments (`response_counted_at`, `resolution_counted_at`) of a ticket row
/// about to be written at `at`, from its other columns, and who they count for: `read` is the
/// row as it stands (`None` for a new one, whose `am` then sets every column). Every write of a
/// ticket goes through here.
///
/// The worker a moment counts for is whoever held the ticket when it came: the holder before
/// the write that answers (resolves) it, or, for a deadline passed unanswered, the holder
/// before the first write after it (the holder can only change by a write). An escalation at
/// the deadline so charges the miss to the one who let it pass, not the one it passes to.
pub fn stamp_moments(
    read: Option<&ticket::Model>,
    am: &mut ticket::ActiveModel,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    use sea_orm::{ActiveModelTrait, ActiveValue, Iterable, TryIntoModel};
    let mut full: ticket::ActiveModel = match read {
        Some(r) => r.clone().into(),
        None => am.clone(),
    };
    for c in ticket::Column::iter() {
        if let ActiveValue::Set(v) = am.get(c) {
            full.set(c, v);
        }
    }
    let row = row_of(&full.try_into_model()?);
    let (response, resolution) = (row.response_moment(), row.resolution_moment());
    if read.is_none_or(|r| r.response_counted_at != response) {
        am.response_counted_at = Set(response);
    }
    if read.is_none_or(|r| r.resolution_counted_at != resolution) {
        am.resolution_counted_at = Set(resolution);
    }
    let Some(r) = read else {
        return Ok(());
    };
    let before = row_of(r);
    let past = |due: Option<DateTime<Utc>>| due.is_some_and(|d| d <= at);
    let answered_now = before.answered_at().is_none() && row.answered_at().is_some();
    if r.response_staff_id.is_none() && (answered_now || past(r.response_due_at)) {
        am.response_staff_id = Set(r.assignee_id);
    }
    let resolved_now = r.resolved_at.is_none() && row.resolved_at.is_some();
    if resolved_now || (r.resolution_staff_id.is_none() && past(r.resolution_due_at)) {
        am.resolution_staff_id = Set(r.assignee_id);
    }
    Ok(())
}

/// The four parts of a day's tally, each recomputed on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    /// Tickets submitted that day.
    Submitted,
    /// Tickets whose response moment falls that day.
    Response,
    /// Tickets whose resolution moment falls that day.
    Resolution,
    /// Ratings given that day.
    Rated,
}

const ALL_PARTS: [Part; 4] = [
    Part::Submitted,
    Part::Response,
    Part::Resolution,
    Part::Rated,
];

/// The join from a rating to its ticket (the entities declare no relations).
pub fn rating_ticket() -> sea_orm::RelationDef {
    rating::Entity::belongs_to(ticket::Entity)
        .from(rating::Column::TicketId)
        .to(ticket::Column::Id)
        .into()
}

/// The tally of `places` over `[from, to)`, all of them together.
pub async fn tally(
    db: &(impl ConnectionTrait + StreamTrait),
    places: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ServiceResult<Tally> {
    let mut total = tally_by(db, places, from, to, &|_, _| ()).await?;
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
    tally_by(db, places, from, to, &|place, _| place).await
}

/// The tally of `places` for each Beijing day of `[from, to)` (a day with nothing to count may
/// be missing).
pub async fn tally_by_day(
    db: &(impl ConnectionTrait + StreamTrait),
    places: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ServiceResult<BTreeMap<NaiveDate, Tally>> {
    let days = tally_by(db, places, from, to, &|_, day| day).await?;
    Ok(days.into_iter().collect())
}

/// The tallies of `places` over `[from, to)`, each place and Beijing day counted under its
/// `key`: whole days from the rollups (one streamed statement), the ragged first and last day
/// from the tickets. The caller cuts `to` at now.
async fn tally_by<K: Eq + Hash>(
    db: &(impl ConnectionTrait + StreamTrait),
    places: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    key: &impl Fn(Uuid, NaiveDate) -> K,
) -> ServiceResult<HashMap<K, Tally>> {
    let mut tallies = HashMap::new();
    let start_day = day_of(from);
    let first = if day_start(start_day) == from {
        start_day
    } else {
        start_day + Duration::days(1)
    };
    let end = day_of(to);
    if first > start_day {
        let head = (from, std::cmp::min(day_start(first), to));
        let place_key = |place| key(place, start_day);
        count_window(db, places, head, &ALL_PARTS, &place_key, &mut tallies).await?;
    }
    if first < end {
        // Streamed: each row's seconds are decoded into the tally and the row dropped, so a
        // year's rows are never all held at once beside what they decode to.
        let mut rows = stat_day::Entity::find()
            .filter(stat_day::Column::Day.gte(first))
            .filter(stat_day::Column::Day.lt(end))
            .filter(stat_day::Column::PlaceId.is_in(places.iter().copied()))
            .stream(db)
            .await?;
        while let Some(row) = rows.try_next().await? {
            add_row(tallies.entry(key(row.place_id, row.day)).or_default(), &row);
        }
    }
    if first <= end && day_start(end) < to {
        let tail = (day_start(end), to);
        let place_key = |place| key(place, end);
        count_window(db, places, tail, &ALL_PARTS, &place_key, &mut tallies).await?;
    }
    Ok(tallies)
}

fn add_row(total: &mut Tally, row: &stat_day::Model) {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    total.received += n(row.received);
    total.withdrawn += n(row.withdrawn);
    total.rejected += n(row.rejected);
    total.praise_received += n(row.praise_received);
    total.appealed_excluded += n(row.appealed_excluded);
    total.accepted += n(row.accepted);
    total.resolved += n(row.resolved);
    total.reopened += n(row.reopened);
    total.response_due += n(row.response_due);
    total.responded_in_time += n(row.responded_in_time);
    total.resolution_due += n(row.resolution_due);
    total.resolved_in_time += n(row.resolved_in_time);
    total.rated += n(row.rated);
    total.satisfied += n(row.satisfied);
    total.basically_satisfied += n(row.basically_satisfied);
    total.unsatisfied += n(row.unsatisfied);
    for (reason, stored) in reason_columns(row) {
        *total.reasons.count_mut(reason) += n(stored);
    }
    decode_secs(&row.response_secs, &mut total.response_secs);
    decode_secs(&row.resolution_secs, &mut total.resolution_secs);
}

/// The reason counts of a row, each with its reason.
fn reason_columns(row: &stat_day::Model) -> [(DissatisfactionReason, i64); 6] {
    use DissatisfactionReason as R;
    [
        (R::NotSolved, row.reason_not_solved),
        (R::TooSlow, row.reason_too_slow),
        (R::Attitude, row.reason_attitude),
        (R::NoContact, row.reason_no_contact),
        (R::DisagreeResult, row.reason_disagree_result),
        (R::Other, row.reason_other),
    ]
}

/// The column holding a reason's count.
fn reason_column(r: DissatisfactionReason) -> stat_day::Column {
    use DissatisfactionReason as R;
    use stat_day::Column as C;
    match r {
        R::NotSolved => C::ReasonNotSolved,
        R::TooSlow => C::ReasonTooSlow,
        R::Attitude => C::ReasonAttitude,
        R::NoContact => C::ReasonNoContact,
        R::DisagreeResult => C::ReasonDisagreeResult,
        R::Other => C::ReasonOther,
    }
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
            (C::PraiseReceived, count(t.praise_received).into()),
            (C::AppealedExcluded, count(t.appealed_excluded).into()),
            (C::Accepted, count(t.accepted).into()),
            (C::Resolved, count(t.resolved).into()),
            (C::Reopened, count(t.reopened).into()),
            (C::ResponseSecs, encode_secs(&t.response_secs).into()),
            (C::ResolutionSecs, encode_secs(&t.resolution_secs).into()),
        ],
        Part::Response => vec![
            (C::ResponseDue, count(t.response_due).into()),
            (C::RespondedInTime, count(t.responded_in_time).into()),
        ],
        Part::Resolution => vec![
            (C::ResolutionDue, count(t.resolution_due).into()),
            (C::ResolvedInTime, count(t.resolved_in_time).into()),
        ],
        Part::Rated => {
            let mut values = vec![
                (C::Rated, count(t.rated).into()),
                (C::Satisfied, count(t.satisfied).into()),
                (C::BasicallySatisfied, count(t.basically_satisfied).into()),
                (C::Unsatisfied, count(t.unsatisfied).into()),
            ];
            for r in DissatisfactionReason::ALL {
                values.push((reason_column(*r), count(t.reasons.count(*r)).into()));
            }
            values
        }
    }
}

/// A row of zeros for a day and place; every count column starts at 0.
fn empty_row(day: NaiveDate, place: Uuid) -> stat_day::ActiveModel {
    let mut row = stat_day::ActiveModel {
        day: Set(day),
        place_id: Set(place),
        ..Default::default()
    };
    for part in ALL_PARTS {
        for (col, value) in part_values(part, &Tally::default()) {
            sea_orm::ActiveModelTrait::set(&mut row, col, value);
        }
    }
    row
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
        let window = (start, start + Duration::days(1));
        count_window(db, &[place], window, &parts, &|_| (), &mut counted).await?;
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

/// What a ticket adds to each day's tally, by the moments it counts at.
fn days_of(t: &ticket::Model) -> BTreeMap<NaiveDate, Tally> {
    let row = row_of(t);
    let mut days: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
    days.entry(day_of(t.submitted_at))
        .or_default()
        .add_submitted(&row);
    if let Some(at) = t.response_counted_at {
        days.entry(day_of(at)).or_default().add_response(&row);
    }
    if let Some(at) = t.resolution_counted_at {
        days.entry(day_of(at)).or_default().add_resolution(&row);
    }
    days
}

/// Counts a new ticket in: its submission and its counting moments add to their days' counts
/// (a new ticket has no acceptance or resolution times yet), one upsert each, without
/// recounting the day, so submissions do not slow down as a busy day fills.
pub async fn ticket_created(db: &impl ConnectionTrait, t: &ticket::Model) -> ServiceResult<()> {
    use stat_day::Column as C;
    let Some(place) = place_of(t) else {
        return Ok(());
    };
    let days = days_of(t);
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
        for part in [Part::Submitted, Part::Response, Part::Resolution] {
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

/// Which parts of its days a ticket change touches (all, for a new or moved ticket).
fn touched(before: Option<&ticket::Model>, after: &ticket::Model) -> BTreeSet<Part> {
    let Some(b) = before.filter(|b| place_of(b) == place_of(after)) else {
        return ALL_PARTS.into_iter().collect();
    };
    let (rb, ra) = (row_of(b), row_of(after));
    let mut parts = BTreeSet::new();
    let submitted = |t: &ticket::Model| {
        (
            t.status,
            t.kind,
            t.excluded_from_rates,
            t.accepted_at,
            t.resolved_at,
            t.reopen_count,
        )
    };
    if submitted(b) != submitted(after) {
        parts.insert(Part::Submitted);
    }
    if (b.response_counted_at, rb.responded_in_time())
        != (after.response_counted_at, ra.responded_in_time())
    {
        parts.insert(Part::Response);
    }
    if (b.resolution_counted_at, rb.resolved_in_time())
        != (after.resolution_counted_at, ra.resolved_in_time())
    {
        parts.insert(Part::Resolution);
    }
    if (b.excluded_from_rates, b.kind) != (after.excluded_from_rates, after.kind) {
        parts.insert(Part::Rated);
    }
    parts
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
    let parts = touched(before, after);
    for t in before.into_iter().chain([after]) {
        let moments = [
            (Part::Submitted, Some(t.submitted_at)),
            (Part::Response, t.response_counted_at),
            (Part::Resolution, t.resolution_counted_at),
        ];
        for (part, at) in moments {
            if let (true, Some(at)) = (parts.contains(&part), at) {
                add(at, place_of(t), part);
            }
        }
    }
    if let Some(at) = rated_at {
        add(at, place_of(after), Part::Rated);
    }
    if parts.contains(&Part::Rated) {
        // Moved, or in or out of the rates: every day it was rated on counts again.
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
