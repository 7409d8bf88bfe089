//! Statistics for community and street offices (SPEC §7): the three rates over an area and a
//! period, broken down by grid, community, worker, category, day or week, per-grid counts for
//! the heatmap and the morning view of each worker's load. How they are written (JSON, CSV,
//! XLSX) is `domain::columns` and `crate::exports`.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, Utc};
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, Query},
};
use uuid::Uuid;

use super::{Ctx, ServiceError, ServiceResult, rollups};

pub mod hotspots;
mod ranking;
mod views;

use crate::domain::{
    AreaKind, RatingLevel, TicketKind,
    access::StaffScope,
    calendar::beijing,
    lifecycle::Status,
    rates::{self, Figures, Period, Tally, TicketRow, Weights},
    string_enum,
};
use entity::{rating, ticket};
pub use ranking::{RankedGroup, ranking};
pub use views::{heatmap, workbook, workers_of};

string_enum!(
    /// How a breakdown groups tickets. Day and week go by the Beijing date of submission.
    Grouping { Grid => "grid", Community => "community", Worker => "worker", Category => "category", Day => "day", Week => "week", }
);

impl Grouping {
    /// Its name in exports (the XLSX sheet of this breakdown).
    pub fn title_zh(self) -> &'static str {
        match self {
            Grouping::Grid => "按网格",
            Grouping::Community => "按社区",
            Grouping::Worker => "按人员",
            Grouping::Category => "按类别",
            Grouping::Day => "按日",
            Grouping::Week => "按周",
        }
    }
}

/// What decides a ticket's group.
#[derive(Clone, Copy, FromQueryResult)]
struct Placing {
    grid_id: Option<Uuid>,
    handling_area_id: Option<Uuid>,
    assignee_id: Option<Uuid>,
    category_id: Uuid,
    submitted_at: DateTime<Utc>,
}

/// A ticket as statistics see it: where it sits and its timeline, nothing more, so a year of
/// a street streams through in little memory.
#[derive(FromQueryResult)]
struct StatRow {
    #[sea_orm(nested)]
    placing: Placing,
    status: Status,
    kind: TicketKind,
    excluded_from_rates: bool,
    response_due_at: Option<DateTime<Utc>>,
    resolution_due_at: Option<DateTime<Utc>>,
    accepted_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    reopen_count: i32,
    response_counted_at: Option<DateTime<Utc>>,
    resolution_counted_at: Option<DateTime<Utc>>,
    response_staff_id: Option<Uuid>,
    resolution_staff_id: Option<Uuid>,
}

impl StatRow {
    fn row(&self) -> TicketRow {
        TicketRow {
            status: self.status,
            praise: self.kind == TicketKind::Praise,
            excluded: self.excluded_from_rates,
            submitted_at: self.placing.submitted_at,
            response_due_at: self.response_due_at,
            resolution_due_at: self.resolution_due_at,
            accepted_at: self.accepted_at,
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
            reopen_count: self.reopen_count,
        }
    }
}

/// A rating with the ticket attributes that place it in a group.
#[derive(FromQueryResult)]
struct RatedRow {
    level: RatingLevel,
    reasons: Option<String>,
    #[sea_orm(nested)]
    placing: Placing,
}

/// One group's running count.
#[derive(Default)]
struct Acc {
    tally: Tally,
    overdue_open: u64,
}

/// The figures an office asked for over an area and a period: the breakdowns
/// asked for, open and submitted counts per grid and open load per worker.
pub struct Data {
    pub area_id: Uuid,
    pub area_name: String,
    pub area_kind: AreaKind,
    pub period: Period,
    groups: HashMap<Grouping, Vec<Group>>,
    per_grid: HashMap<Uuid, (u64, u64)>,
    worker_load: HashMap<Uuid, (u64, u64)>,
    names: HashMap<Uuid, String>,
}

#[derive(Clone)]
pub struct Group {
    pub key: String,
    pub name: String,
    pub figures: Figures,
}

/// The staff member may read figures of this area: it lies within their scope.
fn may_read(scope: &StaffScope, dir: &super::directory::Directory, area_id: Uuid) -> bool {
    let visible = scope.visible_set(&dir.tree);
    visible.everything || visible.areas.contains(&area_id)
}

/// The area an office asks about, checked against the caller's scope and the period.
pub struct Asked {
    pub area_id: Uuid,
    pub area_name: String,
    pub area_kind: AreaKind,
    pub period: Period,
    /// What of the period has happened: the part its figures count.
    pub counted: Period,
    /// Every area in its subtree: the places its tickets may count at.
    pub places: Vec<Uuid>,
}

pub(crate) async fn ask(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    area_id: Uuid,
    period: Period,
) -> ServiceResult<(Asked, std::sync::Arc<super::directory::Directory>)> {
    if period.to <= period.from || period.to - period.from > Duration::days(3 * 366) {
        return Err(ServiceError::rejected(
            crate::error::Code::InvalidField,
            "to",
            crate::error::bi(
                "to 须晚于 from，且相隔不超过 3 年",
                "`to` must follow `from`, at most 3 years apart",
            ),
        ));
    }
    let dir = ctx.dir().await?;
    let area = dir
        .tree
        .get(area_id)
        .filter(|_| may_read(scope, &dir, area_id))
        .ok_or(ServiceError::NotFound)?;
    let asked = Asked {
        area_id,
        area_name: area.name.clone(),
        area_kind: area.kind,
        period,
        counted: period.until(ctx.now()),
        places: dir.tree.subtree(area_id),
    };
    Ok((asked, dir))
}

pub fn weights(ctx: &Ctx<'_>) -> Weights {
    Weights {
        basically_satisfied: ctx.settings.stats.basically_satisfied_weight,
        response: ctx.settings.stats.composite_weights.response,
        resolution: ctx.settings.stats.composite_weights.resolution,
        satisfaction: ctx.settings.stats.composite_weights.satisfaction,
    }
}

/// The figures of an area over `[from, to)`: whole days from the daily rollups, the ragged
/// ends and the overdue count from the tickets. Same definitions as [`Data::breakdown`].
pub async fn summary(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    area_id: Uuid,
    period: Period,
) -> ServiceResult<(Asked, Figures)> {
    let (asked, _) = ask(ctx, scope, area_id, period).await?;
    let Period { from, to } = asked.counted;
    let tally = rollups::tally(ctx.db, &asked.places, from, to).await?;
    let overdue = rollups::overdue_open(ctx.db, &asked.places, ctx.now()).await?;
    Ok((asked, tally.figures(overdue, weights(ctx))))
}

/// The figures of an area for each Beijing day of the period, as the summary counts them (a
/// response or resolution on the day it counted): the dashboard's trend, from the rollups.
pub async fn daily(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    area_id: Uuid,
    period: Period,
) -> ServiceResult<Vec<(chrono::NaiveDate, Figures)>> {
    let (asked, _) = ask(ctx, scope, area_id, period).await?;
    let Period { from, to } = asked.counted;
    let days = rollups::tally_by_day(ctx.db, &asked.places, from, to).await?;
    let w = weights(ctx);
    Ok(days
        .into_iter()
        .map(|(day, tally)| (day, tally.figures(0, w)))
        .collect())
}

/// The categories most asked about in the area over the period (tickets submitted in it,
/// praise aside), most first, with their counts: one grouped count in the database.
pub async fn top_categories(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    area_id: Uuid,
    period: Period,
    n: u64,
) -> ServiceResult<Vec<(String, u64)>> {
    let (asked, dir) = ask(ctx, scope, area_id, period).await?;
    let Period { from, to } = asked.counted;
    let places = asked.places.iter().copied();
    // Two counts, each on its index: tickets in a grid (the index on grid, submission time,
    // category and kind answers it alone), and the few handled at an area without a grid.
    let mut by_category: HashMap<Uuid, i64> = HashMap::new();
    for placed in [
        Condition::all().add(ticket::Column::GridId.is_in(places.clone())),
        Condition::all()
            .add(ticket::Column::GridId.is_null())
            .add(ticket::Column::HandlingAreaId.is_in(places)),
    ] {
        let rows: Vec<(Uuid, i64)> = ticket::Entity::find()
            .select_only()
            .column(ticket::Column::CategoryId)
            .column_as(Expr::col(sea_orm::sea_query::Asterisk).count(), "n")
            .filter(placed)
            .filter(ticket::Column::SubmittedAt.gte(from))
            .filter(ticket::Column::SubmittedAt.lt(to))
            .filter(ticket::Column::Kind.ne(crate::domain::TicketKind::Praise))
            .group_by(ticket::Column::CategoryId)
            .into_tuple()
            .all(ctx.db)
            .await?;
        for (category, n) in rows {
            *by_category.entry(category).or_default() += n;
        }
    }
    let mut counts: Vec<(Uuid, i64)> = by_category.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    Ok(counts
        .into_iter()
        .map(|(id, count)| {
            let name = dir.category(id).map(|c| c.name.clone()).unwrap_or_default();
            (name, u64::try_from(count).unwrap_or_default())
        })
        .collect())
}

/// The group of a ticket under `by`: its key and, for ids, the id to name it by.
fn group_of(
    dir: &super::directory::Directory,
    p: &Placing,
    by: Grouping,
) -> (String, Option<Uuid>) {
    let id = match by {
        Grouping::Day => {
            return (
                p.submitted_at
                    .with_timezone(&beijing())
                    .format("%Y-%m-%d")
                    .to_string(),
                None,
            );
        }
        Grouping::Week => {
            let w = p.submitted_at.with_timezone(&beijing()).iso_week();
            return (format!("{}-W{:02}", w.year(), w.week()), None);
        }
        Grouping::Grid => p.grid_id,
        Grouping::Community => p
            .grid_id
            .or(p.handling_area_id)
            .and_then(|place| dir.tree.enclosing(place, AreaKind::Community))
            .map(|a| a.id),
        Grouping::Worker => p.assignee_id,
        Grouping::Category => Some(p.category_id),
    };
    match id {
        Some(id) => (id.to_string(), Some(id)),
        None => ("none".to_owned(), None),
    }
}

/// One group's count under each grouping, keyed by the group's key, with the id it names.
type Groups = HashMap<(Grouping, String), (Option<Uuid>, Acc)>;

/// Streaming the area's tickets and ratings once: the breakdowns `by` asks for and (with
/// `counts`) the per-grid and per-worker counts; memory grows with the groups, not with the
/// tickets. The summary is [`summary`]'s, from the rollups.
pub async fn load(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    area_id: Uuid,
    period: Period,
    by: &[Grouping],
    counts: bool,
) -> ServiceResult<Data> {
    let (asked, dir) = ask(ctx, scope, area_id, period).await?;
    // Grids and communities are places: their figures come from the rollups, as the summary's.
    let (by_place, by): (Vec<Grouping>, Vec<Grouping>) = by
        .iter()
        .partition(|g| matches!(g, Grouping::Grid | Grouping::Community));
    let mut accs: Groups = HashMap::new();
    for ((g, id), acc) in by_place_from_rollups(ctx, &dir, &asked, &by_place).await? {
        let key = id.map_or_else(|| "none".to_owned(), |id| id.to_string());
        accs.insert((g, key), (id, acc));
    }
    let mut tallied = Tallied {
        accs,
        per_grid: HashMap::new(),
        worker_load: HashMap::new(),
    };
    if !by.is_empty() || counts {
        tally_tickets(ctx, &dir, &asked, &by, &mut tallied).await?;
    }
    if !by.is_empty() {
        tally_ratings(ctx, &dir, &asked, &by, &mut tallied.accs).await?;
    }
    let names = names_of(ctx, &dir, &tallied).await?;
    let w = weights(ctx);
    let mut groups: HashMap<Grouping, Vec<Group>> = by
        .iter()
        .chain(&by_place)
        .map(|g| (*g, Vec::new()))
        .collect();
    for ((g, key), (id, acc)) in tallied.accs {
        let figures = acc.tally.figures(acc.overdue_open, w);
        if figures == Figures::default() {
            continue;
        }
        let name = match (g, id) {
            (Grouping::Day | Grouping::Week, _) => key.clone(),
            (_, Some(id)) => names.get(&id).cloned().unwrap_or_default(),
            (_, None) => "（未分配）".to_owned(),
        };
        groups
            .entry(g)
            .or_default()
            .push(Group { key, name, figures });
    }
    for list in groups.values_mut() {
        list.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(Data {
        area_id,
        area_name: asked.area_name,
        area_kind: asked.area_kind,
        period,
        groups,
        per_grid: tallied.per_grid,
        worker_load: tallied.worker_load,
        names,
    })
}

/// What streaming the tickets and ratings counts up.
struct Tallied {
    accs: Groups,
    /// Per grid: tickets submitted in the period, and how many of them are open.
    per_grid: HashMap<Uuid, (u64, u64)>,
    /// Per current assignee: tickets being worked, and how many are overdue.
    worker_load: HashMap<Uuid, (u64, u64)>,
}

/// Streams the tickets that count in the period (submitted in it, with a moment in it, or open
/// now) into
/// their groups under `by`, and into the per-grid and per-worker counts.
async fn tally_tickets(
    ctx: &Ctx<'_>,
    dir: &super::directory::Directory,
    asked: &Asked,
    by: &[Grouping],
    out: &mut Tallied,
) -> ServiceResult<()> {
    let counted = asked.counted;
    let Period { from, to } = counted;
    let now = ctx.now();
    let within = |c: ticket::Column| c.gte(from).and(c.lt(to));
    let relevant = Condition::any()
        .add(within(ticket::Column::SubmittedAt))
        .add(within(ticket::Column::ResponseCountedAt))
        .add(within(ticket::Column::ResolutionCountedAt))
        .add(super::ticket_status_in(&Status::OPEN));
    let mut rows = ticket::Entity::find()
        .select_only()
        .columns([
            ticket::Column::GridId,
            ticket::Column::HandlingAreaId,
            ticket::Column::AssigneeId,
            ticket::Column::CategoryId,
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
            ticket::Column::ResponseCountedAt,
            ticket::Column::ResolutionCountedAt,
            ticket::Column::ResponseStaffId,
            ticket::Column::ResolutionStaffId,
        ])
        .filter(rollups::placed_in(&asked.places))
        .filter(relevant)
        .into_model::<StatRow>()
        .stream(ctx.db)
        .await?;
    while let Some(r) = rows.try_next().await? {
        let row = r.row();
        let placing = r.placing;
        let submitted = counted.contains(row.submitted_at);
        let response = r.response_counted_at.is_some_and(|d| counted.contains(d));
        let resolution = r.resolution_counted_at.is_some_and(|d| counted.contains(d));
        let overdue = rates::is_overdue_open(&row, now);
        // A worker answers for the moments that came while they held the ticket (see
        // `rollups::stamp_moments`); everything else goes by the ticket's holder now.
        let held_by = |who: Option<Uuid>| Placing {
            assignee_id: who.or(placing.assignee_id),
            ..placing
        };
        let parts = [
            (submitted, placing),
            (response, held_by(r.response_staff_id)),
            (resolution, held_by(r.resolution_staff_id)),
        ];
        for &g in by {
            for (i, (counts, placed)) in parts.iter().enumerate() {
                if !counts && i > 0 {
                    continue;
                }
                let (key, id) = group_of(dir, placed, g);
                let (_, acc) = out
                    .accs
                    .entry((g, key))
                    .or_insert_with(|| (id, Acc::default()));
                match (i, counts) {
                    (0, true) => acc.tally.add_submitted(&row),
                    (1, _) => acc.tally.add_response(&row),
                    (2, _) => acc.tally.add_resolution(&row),
                    _ => {}
                }
                if i == 0 {
                    acc.overdue_open += u64::from(overdue);
                }
            }
        }
        if let (Some(grid), true) = (placing.grid_id, submitted) {
            let entry = out.per_grid.entry(grid).or_default();
            entry.0 += 1;
            entry.1 += u64::from(row.status.is_open());
        }
        let working = matches!(row.status, Status::Assigned | Status::InProgress);
        if let (Some(worker), true) = (placing.assignee_id, working) {
            let entry = out.worker_load.entry(worker).or_default();
            entry.0 += 1;
            entry.1 += u64::from(overdue);
        }
    }
    Ok(())
}

/// Streams the ratings given in the period to the area's tickets into their groups under `by`.
async fn tally_ratings(
    ctx: &Ctx<'_>,
    dir: &super::directory::Directory,
    asked: &Asked,
    by: &[Grouping],
    accs: &mut Groups,
) -> ServiceResult<()> {
    let in_scope = Query::select()
        .column(ticket::Column::Id)
        .from(ticket::Entity)
        .cond_where(rollups::placed_in(&asked.places))
        .to_owned();
    let mut rated = rating::Entity::find()
        .select_only()
        .columns([rating::Column::Level, rating::Column::Reasons]);
    for (col, name) in [
        (ticket::Column::GridId, "grid_id"),
        (ticket::Column::HandlingAreaId, "handling_area_id"),
        (ticket::Column::CategoryId, "category_id"),
        (ticket::Column::SubmittedAt, "submitted_at"),
    ] {
        rated = rated.column_as(Expr::col((ticket::Entity, col)), name);
    }
    // A rating judges a resolution: it counts for whoever resolved.
    let resolver = Expr::expr(Func::coalesce([
        Expr::col((ticket::Entity, ticket::Column::ResolutionStaffId)),
        Expr::col((ticket::Entity, ticket::Column::AssigneeId)),
    ]));
    let rated = rated.column_as(resolver, "assignee_id");
    let mut rated = rated
        .join(JoinType::InnerJoin, rollups::rating_ticket())
        .filter(rating::Column::CreatedAt.gte(asked.counted.from))
        .filter(rating::Column::CreatedAt.lt(asked.counted.to))
        .filter(rollups::counted_ratings())
        .filter(rating::Column::TicketId.in_subquery(in_scope))
        .into_model::<RatedRow>()
        .stream(ctx.db)
        .await?;
    while let Some(r) = rated.try_next().await? {
        let reasons = rollups::parse_reasons(r.reasons.as_deref());
        for &g in by {
            let (key, id) = group_of(dir, &r.placing, g);
            let (_, acc) = accs.entry((g, key)).or_insert_with(|| (id, Acc::default()));
            acc.tally.add_rating(r.level, &reasons);
        }
    }
    Ok(())
}

/// Names for the ids groups and loads are keyed by: areas, the staff counted, categories.
async fn names_of(
    ctx: &Ctx<'_>,
    dir: &super::directory::Directory,
    tallied: &Tallied,
) -> ServiceResult<HashMap<Uuid, String>> {
    let mut names: HashMap<Uuid, String> = dir.tree.all().map(|a| (a.id, a.name.clone())).collect();
    let staff_ids: HashSet<Uuid> = tallied
        .accs
        .iter()
        .filter(|((g, _), _)| *g == Grouping::Worker)
        .filter_map(|(_, (id, _))| *id)
        .chain(tallied.worker_load.keys().copied())
        .collect();
    for s in entity::staff::Entity::find()
        .filter(entity::staff::Column::Id.is_in(staff_ids))
        .all(ctx.db)
        .await?
    {
        names.insert(s.id, s.name);
    }
    for c in entity::category::Entity::find().all(ctx.db).await? {
        names.insert(c.id, c.name);
    }
    Ok(names)
}

/// The figures of each grid and community (as `by` asks) in the asked area, as [`summary`]
/// computes them for one area: whole days from the rollups, ragged ends and overdue from the
/// tickets, read once per place for all the groupings. A ticket counts at its place (its grid,
/// or where it is handled when it has none); places outside any grid or community make the
/// group `None`.
async fn by_place_from_rollups(
    ctx: &Ctx<'_>,
    dir: &super::directory::Directory,
    asked: &Asked,
    by: &[Grouping],
) -> ServiceResult<HashMap<(Grouping, Option<Uuid>), Acc>> {
    let mut groups: HashMap<(Grouping, Option<Uuid>), Acc> = HashMap::new();
    if by.is_empty() {
        return Ok(groups);
    }
    let tallies =
        rollups::tally_by_place(ctx.db, &asked.places, asked.counted.from, asked.counted.to)
            .await?;
    let overdue = rollups::overdue_open_by_place(ctx.db, &asked.places, ctx.now()).await?;
    for &g in by {
        let kind = match g {
            Grouping::Grid => AreaKind::Grid,
            _ => AreaKind::Community,
        };
        for place in &asked.places {
            let group = dir.tree.enclosing(*place, kind).map(|a| a.id);
            let acc = groups.entry((g, group)).or_default();
            if let Some(tally) = tallies.get(place) {
                acc.tally.merge(tally);
            }
            acc.overdue_open += overdue.get(place).copied().unwrap_or(0);
        }
    }
    Ok(groups)
}

impl Data {
    /// The figures per group under `by` (one of those loaded), in key order.
    pub fn breakdown(&self, by: Grouping) -> Vec<Group> {
        self.groups.get(&by).cloned().unwrap_or_default()
    }

    /// The breakdown under `by` as an export's rows: each group's name and figures.
    pub fn rows(&self, by: Grouping) -> Vec<(String, Figures)> {
        self.breakdown(by)
            .into_iter()
            .map(|g| (g.name, g.figures))
            .collect()
    }

    /// Tickets submitted in the period per grid, and how many of them are open.
    pub fn per_grid_counts(&self) -> &HashMap<Uuid, (u64, u64)> {
        &self.per_grid
    }

    /// Open load and overdue per current assignee.
    pub fn worker_load(&self) -> &HashMap<Uuid, (u64, u64)> {
        &self.worker_load
    }

    pub fn name_of(&self, id: Uuid) -> String {
        self.names.get(&id).cloned().unwrap_or_default()
    }
}
