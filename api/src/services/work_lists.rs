//! Work lists kept in memory: a page of a staff member's work list, kept with the directory
//! generation and the scope's change stamp it was read at.
//!
//! The database raises a counter per holder of tickets (a grid, a handling area, an assignee)
//! whenever a ticket held by it changes, before and after the change (a trigger on `ticket`,
//! migration `scope_stamp`): no write path can forget it. The sum of a scope's counters only
//! grows, so a page read after the sum was read is current for as long as the sum stays the
//! same: a kept page costs one small statement (the generation and the sum) instead of the
//! page's query, on this node and on every other one, with nothing shared between nodes.
//!
//! This module owns the whole path: the page read (or kept) for a staff member's filter, the
//! check against the stamps, and the rendering the route makes of it ([`WorkPage::render`]),
//! kept with the page. The stamps are raised by a trigger on `ticket` (migration
//! `m20261123_000010_scope_stamp`).
//!
//! A kept page also keeps the response its reader rendered from it, for as long as the page
//! would render the same: what a page shows changes with the time only when the clock passes
//! one of its tickets' deadlines (whether each was met, whether the ticket is overdue).
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Utc};

use sea_orm::{
    ColumnTrait, ConnectionTrait,
    sea_query::{Alias, Expr, Func, Query},
};
use uuid::Uuid;

use super::{
    Caller, Ctx, ServiceResult,
    directory::generation_expr,
    listing::{self, Page, Rows, Scope, WorkFilter},
};
use crate::domain::lifecycle::Status;
use entity::{scope_stamp, ticket};

/// A work-list page for the route to render. A page kept in memory keeps the response
/// rendered from it for as long as it would render the same.
pub enum WorkPage {
    /// The response rendered from this very page before, still true.
    Rendered(Bytes),
    /// A page to render; when it is kept, its rendering is kept with it.
    Read {
        page: Page,
        kept: Option<(Arc<Kept>, DateTime<Utc>)>,
    },
}

impl WorkPage {
    /// The response body: the one kept, or `render`'s (kept with the page when it is kept).
    pub fn render(self, render: impl FnOnce(Page) -> Bytes) -> Bytes {
        match self {
            WorkPage::Rendered(body) => body,
            WorkPage::Read { page, kept } => {
                let body = render(page);
                if let Some((kept, at)) = kept {
                    kept.keep_rendered(at, body.clone());
                }
                body
            }
        }
    }
}

/// What a page was asked for, whoever else asks the same.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub staff_id: Uuid,
    pub statuses: Vec<Status>,
    pub grid_id: Option<Uuid>,
    pub category: Option<String>,
    pub return_visit_pending: bool,
    pub cursor: Option<String>,
    pub limit: u64,
}

/// When a page was read: the directory's generation and the sum of its scope's stamps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub generation: i64,
    pub changes: i64,
}

/// A page kept: its tickets as read at `stamp`, and the response last rendered from them.
pub struct Kept {
    stamp: Stamp,
    pub rows: Rows,
    rendered: Mutex<Option<Rendered>>,
}

/// A response rendered at `at`, the same until the clock passes `until` (the page's next
/// deadline; none: the same for good).
struct Rendered {
    at: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    body: Bytes,
}

impl Kept {
    /// The response rendered earlier, if the page renders the same at `now`.
    pub fn rendered(&self, now: DateTime<Utc>) -> Option<Bytes> {
        let slot = self.rendered.lock().ok()?;
        let r = slot.as_ref()?;
        (r.at <= now && r.until.is_none_or(|until| now <= until)).then(|| r.body.clone())
    }

    /// Keeps `body`, the response rendered from this page at `at`.
    pub fn keep_rendered(&self, at: DateTime<Utc>, body: Bytes) {
        let until = next_deadline(&self.rows.tickets, at);
        if let Ok(mut slot) = self.rendered.lock() {
            *slot = Some(Rendered { at, until, body });
        }
    }
}

/// The first deadline of `tickets` at or after `at`: until then, every ticket's timing (met,
/// late, overdue) is what it was at `at` (see `tickets::Timing::of`, which compares the time
/// with the response and resolution deadlines only).
fn next_deadline(tickets: &[ticket::Model], at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    tickets
        .iter()
        .flat_map(|t| [t.response_due_at, t.resolution_due_at])
        .flatten()
        .filter(|due| *due >= at)
        .min()
}

/// Weighs a kept page by its tickets, so the bound is on tickets held, not pages.
#[derive(Clone)]
struct ByTickets;

impl quick_cache::Weighter<Key, Arc<Kept>> for ByTickets {
    fn weight(&self, _: &Key, kept: &Arc<Kept>) -> u64 {
        kept.rows.tickets.len() as u64 + 1
    }
}

/// Pages last read, up to `database.work_list_cache_tickets` tickets in all (0 turns it off).
pub struct WorkListCache {
    entries: Option<quick_cache::sync::Cache<Key, Arc<Kept>, ByTickets>>,
}

impl WorkListCache {
    pub fn new(tickets: usize) -> Self {
        WorkListCache {
            entries: (tickets > 0).then(|| {
                quick_cache::sync::Cache::with_weighter(tickets / 8 + 1, tickets as u64, ByTickets)
            }),
        }
    }

    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// The page kept for `key` if it was read at `stamp`.
    pub fn get(&self, key: &Key, stamp: Stamp) -> Option<Arc<Kept>> {
        let kept = self.entries.as_ref()?.get(key)?;
        (kept.stamp == stamp).then_some(kept)
    }

    /// Keeps `rows`, read after `stamp` was.
    pub fn keep(&self, key: Key, stamp: Stamp, rows: Rows) -> Arc<Kept> {
        let kept = Arc::new(Kept {
            stamp,
            rows,
            rendered: Mutex::new(None),
        });
        if let Some(entries) = &self.entries {
            entries.insert(key, kept.clone());
        }
        kept
    }
}

/// The directory's generation and the sum of the stamps of `holders`, in one statement.
pub async fn stamp(db: &impl ConnectionTrait, holders: &[Uuid]) -> ServiceResult<Stamp> {
    let changes = Query::select()
        .expr(Func::cast_as(
            Func::coalesce([
                Func::sum(Expr::col(scope_stamp::Column::Stamp)).into(),
                Expr::value(0),
            ]),
            Alias::new("BIGINT"),
        ))
        .from(scope_stamp::Entity)
        .and_where(scope_stamp::Column::HolderId.is_in(holders.iter().copied()))
        .to_owned();
    let stmt = Query::select()
        .expr_as(generation_expr(), "generation")
        .expr_as(Expr::from(changes), "changes")
        .to_owned();
    // A select without FROM always gives one row.
    let row = db
        .query_one_raw(db.get_database_backend().build(&stmt))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("scope stamp".into()))?;
    Ok(Stamp {
        generation: row.try_get("", "generation")?,
        changes: row.try_get("", "changes")?,
    })
}

/// The page of the work list of staff member `staff_id` (SPEC §5), filtered; the caller is
/// authenticated here, by the directory the request checks.
///
/// A page already read is answered from memory while the directory and the
/// change stamps of the scope's holders are as they were read, and rendered again only when
/// the clock has passed one of its deadlines: the directory in memory proposes the scope, and
/// one statement reads the directory's generation and the stamps. A generation other than the
/// proposing directory's, or a caller that directory refuses (a staff member added on another
/// node), takes the checked path, as does a filter on the time (`overdue`), on events
/// (`moderation_pending`) or on text (`q`), the order by deadline, and a scope read as one
/// query.
pub async fn list_work_of(
    ctx: &Ctx<'_>,
    staff_id: Uuid,
    filter: WorkFilter,
    cursor: Option<&str>,
    limit: u64,
) -> ServiceResult<WorkPage> {
    if let Some(page) = from_memory(ctx, staff_id, &filter, cursor, limit).await? {
        return Ok(page);
    }
    let scope = ctx.dir().await?.scope(staff_id)?;
    let page = listing::list_work(ctx, &scope, &filter, cursor, limit).await?;
    Ok(WorkPage::Read { page, kept: None })
}

/// The page from memory, or read and kept, when the directory in memory is current and the
/// caller's scope and filter allow it; `None`: take the checked path.
async fn from_memory(
    ctx: &Ctx<'_>,
    staff_id: Uuid,
    filter: &WorkFilter,
    cursor: Option<&str>,
    limit: u64,
) -> ServiceResult<Option<WorkPage>> {
    if !ctx.work_lists.enabled()
        || filter.overdue.is_some()
        || filter.moderation_pending
        || filter.q.is_some()
        || filter.sort != listing::WorkSort::Newest
    {
        return Ok(None);
    }
    let Some(proposed) = ctx.directory.last() else {
        return Ok(None);
    };
    let Ok(scope) = proposed.scope(staff_id) else {
        return Ok(None);
    };
    let Scope {
        ranges,
        whole,
        holders,
    } = listing::scope_of(&proposed, &scope, &filter.statuses);
    if ranges.is_empty() {
        return Ok(None);
    }
    let stamp = stamp(ctx.db, &holders).await?;
    let dir = ctx.dir_at(stamp.generation).await?;
    if dir.generation != proposed.generation {
        return Ok(None);
    }
    let key = Key {
        staff_id,
        statuses: filter.statuses.clone(),
        grid_id: filter.grid_id,
        category: filter.category.clone(),
        return_visit_pending: filter.return_visit_pending,
        cursor: cursor.map(str::to_owned),
        limit,
    };
    let now = ctx.now();
    let kept = match ctx.work_lists.get(&key, stamp) {
        Some(kept) => match kept.rendered(now) {
            Some(body) => return Ok(Some(WorkPage::Rendered(body))),
            None => kept,
        },
        None => {
            let cond = listing::filtered(ctx, &dir, &scope, whole, filter);
            let rows = listing::rows(ctx, &ranges, cond.clone(), cursor, limit).await?;
            let rows = listing::pin_supervised(ctx, &ranges, cond, rows, cursor.is_none()).await?;
            ctx.work_lists.keep(key, stamp, rows)
        }
    };
    let page = listing::shown(&dir, &Caller::Staff(scope), &kept.rows, now);
    Ok(Some(WorkPage::Read {
        page,
        kept: Some((kept, now)),
    }))
}
