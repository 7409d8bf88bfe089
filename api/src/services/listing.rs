//! Listings, newest first and a page at a time: a resident's own tickets and a staff member's
//! work list (SPEC §5).
//!
//! A work list is the tickets of a scope (the worker's own, their grids', their areas') in some
//! statuses. Asked as one query with `OR`s, the database fetches every ticket of the scope in
//! those statuses and sorts them all for one page. Instead each range `(scope column = value,
//! status = s)` is read in page order straight off its `(column, status, created_at, id)` index,
//! at most a page from each, and only the union of those few ids is sorted: a page costs about
//! the same however large the scope. A scope with more ranges than [`MAX_RANGES`] (a street
//! admin's, all statuses), a department's (bound to categories) or everything (a system admin)
//! is read as one query.
//!
//! A work-list page is answered from memory where it can be: `work_lists`.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, UnionType},
};
use uuid::Uuid;

use super::{
    Caller, Ctx, ServiceResult,
    directory::Directory,
    overdue_open_at, ticket_status_in,
    tickets::{Shown, TicketView, assemble},
};
use crate::domain::{access::StaffScope, lifecycle::Status};
use entity::{ticket, ticket_event};

/// Above this many index ranges a work list is read as one query.
const MAX_RANGES: usize = 64;

pub struct Page {
    pub items: Vec<TicketView>,
    pub next_cursor: Option<String>,
}

/// A page's tickets as read, and whether more follow.
pub struct Rows {
    pub tickets: Vec<ticket::Model>,
    /// Where the next page starts; `None` on the last.
    pub next_cursor: Option<String>,
}

/// The order of a work list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WorkSort {
    /// Newest first (the default).
    #[default]
    Newest,
    /// The soonest deadline first: an open ticket's response deadline until it is accepted,
    /// then its resolution deadline; tickets without a standing deadline last.
    Due,
}

#[derive(Default)]
pub struct WorkFilter {
    pub statuses: Vec<Status>,
    pub grid_id: Option<Uuid>,
    pub category: Option<String>,
    /// Open tickets past a deadline (true) or not (false).
    pub overdue: Option<bool>,
    /// Only tickets waiting for a return visit.
    pub return_visit_pending: bool,
    /// Only tickets whose text or comments content safety flagged (`review` or `unchecked`).
    pub moderation_pending: bool,
    /// Text found in the number, title, description or address.
    pub q: Option<String>,
    pub sort: WorkSort,
}

/// Where a page starts: after the last item's creation time and id.
#[derive(Clone, Copy)]
struct Cursor {
    at: DateTime<Utc>,
    id: Uuid,
}

impl Cursor {
    /// Opaque to clients: the creation time in µs and the id.
    fn encode(t: &ticket::Model) -> String {
        URL_SAFE_NO_PAD.encode(super::cursors::keyset_value(t.created_at, t.id))
    }

    fn decode(cursor: &str) -> ServiceResult<Cursor> {
        let text = URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .unwrap_or_default();
        let (at, id) = super::cursors::parse_keyset(&text)?;
        Ok(Cursor { at, id })
    }

    /// `(created_at, id) < (at, id)`: a range read starts right after the cursor.
    fn condition(self) -> Expr {
        Expr::tuple([
            Expr::col(ticket::Column::CreatedAt),
            Expr::col(ticket::Column::Id),
        ])
        .lt(Expr::tuple([Expr::value(self.at), Expr::value(self.id)]))
    }
}

/// Newest first: the order of every listing and of every index range it reads.
fn newest_first<Q: QueryOrder>(q: Q) -> Q {
    q.order_by_desc(ticket::Column::CreatedAt)
        .order_by_desc(ticket::Column::Id)
}

/// The ids of the first `limit` tickets of `ranges` (each a condition an index reads in page
/// order), every one also matching `rest`: a page from each range, merged.
fn merged_ids(ranges: &[Condition], rest: &Condition, limit: u64) -> Option<SelectStatement> {
    let mut arms = ranges.iter().enumerate().map(|(i, range)| {
        let mut arm = Query::select();
        arm.column(ticket::Column::Id)
            .from(ticket::Entity)
            .cond_where(range.clone().add(rest.clone()))
            .order_by(ticket::Column::CreatedAt, sea_orm::Order::Desc)
            .order_by(ticket::Column::Id, sea_orm::Order::Desc)
            .limit(limit);
        // SQLite takes ORDER BY and LIMIT in a compound's members only inside a subquery.
        Query::select()
            .column(ticket::Column::Id)
            .from_subquery(arm.take(), Alias::new(format!("r{i}")))
            .take()
    });
    let mut union = arms.next()?;
    for arm in arms {
        union.union(UnionType::Distinct, arm);
    }
    Some(union)
}

/// Newest first, `limit` at a time, continuing after `cursor`: the tickets matching `rest` and
/// any of `ranges` (no ranges: all tickets matching `rest`).
pub(super) async fn rows(
    ctx: &Ctx<'_>,
    ranges: &[Condition],
    rest: Condition,
    cursor: Option<&str>,
    limit: u64,
) -> ServiceResult<Rows> {
    let mut rest = rest;
    if let Some(c) = cursor {
        rest = rest.add(Cursor::decode(c)?.condition());
    }
    let query = match merged_ids(ranges, &rest, limit + 1) {
        Some(ids) => ticket::Entity::find().filter(ticket::Column::Id.in_subquery(ids)),
        None => ticket::Entity::find().filter(rest),
    };
    let mut tickets = newest_first(query).limit(limit + 1).all(ctx.db).await?;
    let more = tickets.len() as u64 > limit;
    tickets.truncate(limit as usize);
    let next_cursor = if more {
        tickets.last().map(Cursor::encode)
    } else {
        None
    };
    Ok(Rows {
        tickets,
        next_cursor,
    })
}

/// The deadline a ticket is working to, as SQL: the response deadline of an open ticket not
/// yet accepted, else the resolution deadline of an open one; null for the others.
fn standing_deadline() -> Expr {
    let open = Status::OPEN
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    Expr::cust(format!(
        "CASE WHEN ticket.status IN ({open}) THEN \
         CASE WHEN ticket.accepted_at IS NULL THEN ticket.response_due_at \
         ELSE ticket.resolution_due_at END END"
    ))
}

/// Soonest standing deadline first (then newest), `limit` at a time from the offset in
/// `cursor`: the tickets matching `rest` and any of `ranges`.
pub(super) async fn rows_by_due(
    ctx: &Ctx<'_>,
    ranges: &[Condition],
    rest: Condition,
    cursor: Option<&str>,
    limit: u64,
) -> ServiceResult<Rows> {
    let offset = super::cursors::offset("due", cursor)?;
    let cond = if ranges.is_empty() {
        rest
    } else {
        let mut any = Condition::any();
        for r in ranges {
            any = any.add(r.clone());
        }
        rest.add(any)
    };
    let mut tickets = ticket::Entity::find()
        .filter(cond)
        .order_by(standing_deadline().is_null(), sea_orm::Order::Asc)
        .order_by(standing_deadline(), sea_orm::Order::Asc)
        .order_by_desc(ticket::Column::CreatedAt)
        .order_by_desc(ticket::Column::Id)
        .offset(offset)
        .limit(limit + 1)
        .all(ctx.db)
        .await?;
    let more = tickets.len() as u64 > limit;
    tickets.truncate(limit as usize);
    Ok(Rows {
        tickets,
        next_cursor: super::cursors::next_offset("due", offset, limit, more),
    })
}

/// The most supervised tickets a first page puts on top.
const PINNED: u64 = 100;

/// Supervised open tickets (督办) matching `cond` and any of `ranges`, the supervisor's
/// soonest deadline first.
async fn supervised_rows(
    ctx: &Ctx<'_>,
    ranges: &[Condition],
    cond: Condition,
    limit: u64,
) -> ServiceResult<Vec<ticket::Model>> {
    let mut any = Condition::any();
    for r in ranges {
        any = any.add(r.clone());
    }
    let cond = if ranges.is_empty() {
        cond
    } else {
        cond.add(any)
    };
    Ok(ticket::Entity::find()
        .filter(cond)
        .filter(ticket::Column::SupervisedUntil.is_not_null())
        .filter(ticket_status_in(&Status::OPEN))
        .order_by_asc(ticket::Column::SupervisedUntil)
        .order_by_desc(ticket::Column::CreatedAt)
        .order_by_desc(ticket::Column::Id)
        .limit(limit)
        .all(ctx.db)
        .await?)
}

/// A work list shows supervised tickets first: on its first page, above the rest, soonest
/// deadline first; on later pages not again.
pub(super) async fn pin_supervised(
    ctx: &Ctx<'_>,
    ranges: &[Condition],
    cond: Condition,
    mut rows: Rows,
    first_page: bool,
) -> ServiceResult<Rows> {
    let supervised = |t: &ticket::Model| t.supervised_until.is_some() && t.status.is_open();
    if !first_page {
        rows.tickets.retain(|t| !supervised(t));
        return Ok(rows);
    }
    let mut pinned = supervised_rows(ctx, ranges, cond, PINNED).await?;
    if pinned.is_empty() {
        return Ok(rows);
    }
    let ids: std::collections::HashSet<Uuid> = pinned.iter().map(|t| t.id).collect();
    rows.tickets
        .retain(|t| !ids.contains(&t.id) && !supervised(t));
    pinned.append(&mut rows.tickets);
    rows.tickets = pinned;
    Ok(rows)
}

/// The supervised open tickets in a staff member's scope, the soonest deadline first
/// (`GET /work/supervised`).
pub async fn list_supervised(ctx: &Ctx<'_>, scope: &StaffScope, limit: u64) -> ServiceResult<Page> {
    let dir = ctx.dir().await?;
    let Scope { ranges, whole, .. } = scope_of(&dir, scope, &Status::OPEN);
    let tickets = supervised_rows(ctx, &ranges, whole, limit).await?;
    let rows = Rows {
        tickets,
        next_cursor: None,
    };
    Ok(shown(&dir, &Caller::Staff(scope.clone()), &rows, ctx.now()))
}

/// The page `caller` sees of `rows` at `now`.
pub(super) fn shown(dir: &Directory, caller: &Caller, rows: &Rows, now: DateTime<Utc>) -> Page {
    let next_cursor = rows.next_cursor.clone();
    let items = rows
        .tickets
        .iter()
        .map(|t| {
            let cat = dir.category(t.category_id).cloned();
            assemble(dir, caller, t.clone(), cat, Shown::default(), now)
        })
        .collect();
    Page { items, next_cursor }
}

/// A resident's own tickets, newest first, of `statuses` (all when empty).
pub async fn list_own(
    ctx: &Ctx<'_>,
    resident_id: Uuid,
    statuses: &[Status],
    cursor: Option<&str>,
    limit: u64,
) -> ServiceResult<Page> {
    let dir = ctx.dir().await?;
    let own = Condition::all()
        .add(ticket::Column::ResidentId.eq(resident_id))
        .add_option((!statuses.is_empty()).then(|| ticket_status_in(statuses)));
    let caller = Caller::Resident(resident_id);
    let rows = rows(ctx, &[], own, cursor, limit).await?;
    Ok(shown(&dir, &caller, &rows, ctx.now()))
}

/// Which tickets a work list holds: the scope's ranges, or one condition when it has none
/// (everything, or too many or department-bound ranges).
pub(super) struct Scope {
    pub ranges: Vec<Condition>,
    pub whole: Condition,
    /// With ranges: whose tickets they are (the staff member, the areas of their scope).
    pub holders: Vec<Uuid>,
}

pub(super) fn scope_of(dir: &Directory, scope: &StaffScope, statuses: &[Status]) -> Scope {
    let visible = scope.visible_set(&dir.tree);
    let in_statuses = (!statuses.is_empty()).then(|| ticket_status_in(statuses));
    let whole = |cond: Condition| Scope {
        ranges: Vec::new(),
        whole: cond.add_option(in_statuses.clone()),
        holders: Vec::new(),
    };
    if visible.everything {
        return whole(Condition::all());
    }
    let mut areas: Vec<Uuid> = visible.areas.iter().copied().collect();
    areas.sort();
    let shown = if statuses.is_empty() {
        Status::ALL
    } else {
        statuses
    };
    if visible.departments.is_empty() && (1 + 2 * areas.len()) * shown.len() <= MAX_RANGES {
        let columns = std::iter::once((ticket::Column::AssigneeId, scope.staff_id)).chain(
            areas.iter().flat_map(|&a| {
                [
                    (ticket::Column::GridId, a),
                    (ticket::Column::HandlingAreaId, a),
                ]
            }),
        );
        let ranges = columns
            .flat_map(|(column, value)| {
                shown.iter().map(move |&s| {
                    Condition::all()
                        .add(column.eq(value))
                        .add(ticket_status_in(&[s]))
                })
            })
            .collect();
        return Scope {
            ranges,
            whole: Condition::all(),
            holders: std::iter::once(scope.staff_id).chain(areas).collect(),
        };
    }
    // Placed in one of `areas`: by grid or by handling area.
    let placed = |areas: Vec<Uuid>| {
        Condition::any()
            .add(ticket::Column::GridId.is_in(areas.clone()))
            .add(ticket::Column::HandlingAreaId.is_in(areas))
    };
    let mut any = Condition::any().add(ticket::Column::AssigneeId.eq(scope.staff_id));
    if !areas.is_empty() {
        any = any.add(placed(areas));
    }
    for (dept_areas, dept) in &visible.departments {
        let cat_ids: Vec<Uuid> = dir.categories_in_group(dept).collect();
        any = any.add(
            Condition::all()
                .add(ticket::Column::CategoryId.is_in(cat_ids))
                .add(placed(dept_areas.iter().copied().collect())),
        );
    }
    whole(Condition::all().add(any))
}

/// The tickets in a staff member's scope (SPEC §5), filtered, read from the database.
pub async fn list_work(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    filter: &WorkFilter,
    cursor: Option<&str>,
    limit: u64,
) -> ServiceResult<Page> {
    let dir = ctx.dir().await?;
    let Scope { ranges, whole, .. } = scope_of(&dir, scope, &filter.statuses);
    let cond = filtered(ctx, &dir, scope, whole, filter);
    let caller = Caller::Staff(scope.clone());
    let rows = match filter.sort {
        WorkSort::Newest => rows(ctx, &ranges, cond.clone(), cursor, limit).await?,
        WorkSort::Due => rows_by_due(ctx, &ranges, cond.clone(), cursor, limit).await?,
    };
    let rows = pin_supervised(ctx, &ranges, cond, rows, cursor.is_none()).await?;
    Ok(shown(&dir, &caller, &rows, ctx.now()))
}

/// `cond` narrowed by `filter` (its statuses are in the scope's conditions already).
pub(super) fn filtered(
    ctx: &Ctx<'_>,
    dir: &Directory,
    scope: &StaffScope,
    cond: Condition,
    filter: &WorkFilter,
) -> Condition {
    let mut cond = cond;
    if let Some(grid) = filter.grid_id {
        cond = cond.add(ticket::Column::GridId.eq(grid));
    }
    if let Some(wanted) = filter.overdue {
        let late = overdue_open_at(ctx.now());
        cond = cond.add(if wanted { late } else { late.not() });
    }
    if filter.moderation_pending {
        let flagged_comments = Query::select()
            .column(ticket_event::Column::TicketId)
            .from(ticket_event::Entity)
            .and_where(ticket_event::Column::Moderation.is_not_null())
            .to_owned();
        cond = cond.add(
            Condition::any()
                .add(ticket::Column::Moderation.is_not_null())
                .add(ticket::Column::Id.in_subquery(flagged_comments)),
        );
    }
    if filter.return_visit_pending {
        cond = cond
            .add(ticket::Column::ReturnVisitRequired.eq(true))
            .add(ticket::Column::ReturnVisitAt.is_null());
    }
    if let Some(q) = filter.q.as_deref() {
        // Free text is searched only where the caller reads it whole: on the others it is shown
        // masked, and a search would unmask it a digit at a time. Even there phone and ID
        // numbers are masked, so a query with four digits in a row looks at numbers only.
        let like = || super::contains_pattern(q);
        let text = Condition::any()
            .add(ticket::Column::Title.like(like()))
            .add(ticket::Column::Description.like(like()))
            .add(ticket::Column::AddressText.like(like()));
        let mut found = Condition::any().add(ticket::Column::Number.like(like()));
        if !has_digit_run(q, 4) {
            found = found.add(Condition::all().add(handled_by(dir, scope)).add(text));
        }
        cond = cond.add(found);
    }
    if let Some(code) = &filter.category {
        cond = cond.add(match dir.category_by_code(code) {
            Some(c) => ticket::Column::CategoryId.eq(c.id),
            // No such category: no tickets of it.
            None => Expr::val(1).eq(0),
        });
    }
    cond
}

/// The tickets `scope` handles (SPEC §5: the assignee, admins above, the department of the
/// category's group), as SQL: the condition [`StaffScope::handles`] decides for one ticket.
fn handled_by(dir: &Directory, scope: &StaffScope) -> Condition {
    use crate::domain::StaffRole;
    if scope.is_system_admin() {
        return Condition::all();
    }
    let placed = |areas: Vec<Uuid>| {
        Condition::any()
            .add(ticket::Column::GridId.is_in(areas.clone()))
            .add(ticket::Column::HandlingAreaId.is_in(areas))
    };
    let mut any = Condition::any().add(ticket::Column::AssigneeId.eq(scope.staff_id));
    for a in &scope.assignments {
        let Some(area) = a.area_id else { continue };
        match (a.role, &a.department) {
            (StaffRole::CommunityAdmin | StaffRole::StreetAdmin, _) => {
                any = any.add(placed(dir.tree.subtree(area)));
            }
            (StaffRole::Department, Some(dept)) => {
                let cats: Vec<Uuid> = dir.categories_in_group(dept).collect();
                any = any.add(
                    Condition::all()
                        .add(ticket::Column::CategoryId.is_in(cats))
                        .add(placed(dir.tree.subtree(area))),
                );
            }
            _ => {}
        }
    }
    any
}

/// Whether `q` holds `n` digits in a row (full-width ones too).
fn has_digit_run(q: &str, n: usize) -> bool {
    let mut run = 0;
    for c in crate::domain::redact::fold(q).chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= n {
            return true;
        }
    }
    false
}
