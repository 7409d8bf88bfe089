//! Service levels (SPEC §4 items 4–5): due times at routing, and the scans the scheduler runs for
//! overdue work. Each scan reads a bounded batch through an indexed column and changes each ticket
//! in its own transaction, guarded by the ticket's version, so an action happens once even when
//! two nodes race.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{Ctx, ServiceError, ServiceResult, notify, routing, write_txn};
use crate::domain::{
    calendar::WorkCalendar,
    lifecycle::{Action, Status, next},
};
use entity::ticket;

/// The instant an SLA of `minutes` ends when it starts at `from`, in the category's mode.
pub fn deadline(
    category: &entity::category::Model,
    from: DateTime<Utc>,
    minutes: i64,
    calendar: &WorkCalendar,
) -> DateTime<Utc> {
    if category.sla_mode == crate::domain::SlaMode::Working {
        calendar.add_working_minutes(from, minutes)
    } else {
        from + Duration::minutes(minutes)
    }
}

pub fn response_deadline(
    category: &entity::category::Model,
    from: DateTime<Utc>,
    calendar: &WorkCalendar,
) -> DateTime<Utc> {
    deadline(category, from, category.response_minutes.into(), calendar)
}

pub fn resolution_deadline(
    category: &entity::category::Model,
    from: DateTime<Utc>,
    calendar: &WorkCalendar,
) -> DateTime<Utc> {
    deadline(
        category,
        from,
        i64::from(category.resolution_hours) * 60,
        calendar,
    )
}

/// The time a deadline `due` still had when its clock stopped at `stopped`, in the category's
/// mode (minutes; none once passed).
pub fn time_left(
    category: &entity::category::Model,
    stopped: DateTime<Utc>,
    due: DateTime<Utc>,
    calendar: &WorkCalendar,
) -> i64 {
    if category.sla_mode == crate::domain::SlaMode::Working {
        calendar.working_minutes_between(stopped, due)
    } else {
        (due - stopped).num_minutes().max(0)
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanReport {
    pub escalated: usize,
    pub response_overdue: usize,
    pub resolution_overdue: usize,
    pub auto_closed: usize,
    /// Closed accounts anonymised after their grace period (`services::privacy::account`).
    pub anonymised: usize,
    /// Tickets past retention cleared of personal data (`services::privacy::retention`).
    pub personal_data_removed: usize,
    /// Supervised tickets past their supervisor's deadline (`services::tickets::supervision`).
    pub supervision_missed: usize,
    /// Suspended tickets resumed at their resumption time (`services::tickets::extensions`).
    pub resumed: usize,
    /// The category model trained (nightly, `services::text_models`).
    pub models_trained: usize,
}

const WAITING: [&str; 2] = ["assigned", "pending_dispatch"];

/// Runs one action on one ticket; a lost race (another node did it first) counts as not done.
async fn once(result: ServiceResult<()>) -> ServiceResult<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(ServiceError::ConcurrentUpdate) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Where a ticket sent one level up went: the escalation, its status there, who holds it and
/// the area's name.
pub(crate) struct Raised {
    pub action: Action,
    pub to: Status,
    pub person: Option<uuid::Uuid>,
    pub area: String,
}

/// Sends the ticket `t`, being changed in `am`, one level up to `up` (an escalation the scheduler
/// makes: an overdue response, a missed supervision): to that level's holder or queue, with a
/// new response window there; a request for more time its old holder made is cancelled.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn raise(
    ctx: &Ctx<'_>,
    txn: &sea_orm::DatabaseTransaction,
    dir: &super::directory::Directory,
    t: &ticket::Model,
    category: &entity::category::Model,
    am: &mut ticket::ActiveModel,
    up: uuid::Uuid,
    now: DateTime<Utc>,
) -> ServiceResult<Raised> {
    let person = routing::person_in(txn, dir, up, category).await?;
    let action = Action::Escalate {
        found: person.is_some(),
    };
    let to = next(t.status, action)?;
    am.status = Set(to);
    am.handling_area_id = Set(Some(up));
    am.assignee_id = Set(person);
    am.next_response_check_at = Set(Some(response_deadline(category, now, ctx.calendar)));
    super::tickets::extensions::on_change(txn, t, am, to, category, ctx.calendar, now).await?;
    Ok(Raised {
        action,
        to,
        person,
        area: dir.tree.get(up).map(|a| a.name.clone()).unwrap_or_default(),
    })
}

/// Tickets nobody accepted by their level's response deadline go one level up (grid →
/// community → street), to that level's holder or queue, with a new response window there.
pub async fn escalate_overdue_responses(
    ctx: &Ctx<'_>,
    now: DateTime<Utc>,
    batch: u64,
) -> ServiceResult<ScanReport> {
    let due: Vec<ticket::Model> = ticket::Entity::find()
        .filter(ticket::Column::NextResponseCheckAt.lte(now))
        .filter(ticket::Column::Status.is_in(WAITING))
        .order_by_asc(ticket::Column::NextResponseCheckAt)
        .limit(batch)
        .all(ctx.db)
        .await?;
    let mut report = ScanReport::default();
    for stale in due {
        let txn = write_txn(ctx.db).await?;
        let Some(t) = ticket::Entity::find_by_id(stale.id).one(&txn).await? else {
            continue;
        };
        if t.version != stale.version {
            continue; // changed since the scan read it: look again next time
        }
        let category = entity::category::Entity::find_by_id(t.category_id)
            .one(&txn)
            .await?
            .ok_or_else(|| ServiceError::Internal("ticket without category".into()))?;
        let dir = ctx.directory.get(&txn).await?;
        let from = t.status;
        let mut am = t.clone().into_active_model();
        let outcome = match routing::level_above(&dir, t.handling_area_id, t.grid_id) {
            Some(up) => {
                let Raised {
                    action,
                    to,
                    person,
                    area,
                } = raise(ctx, &txn, &dir, &t, &category, &mut am, up, now).await?;
                let note = format!("响应超时，自动上报至{area}");
                let saved =
                    super::tickets::save_system(&txn, &t, am, action, from, to, Some(note), now)
                        .await;
                if saved.is_ok() {
                    if let Some(p) = person {
                        notify::staff(&txn, p, notify::Event::Assigned, &t, now).await?;
                    }
                    if let Some(r) = t.resident_id {
                        notify::resident(&txn, r, notify::Event::Escalated, &t, now).await?;
                    }
                }
                (saved, true)
            }
            None => {
                // Already at the top: record it once and stop checking.
                am.next_response_check_at = Set(None);
                let note = Some("响应超时（已在街道层级）".to_owned());
                let saved = super::tickets::save_system(
                    &txn,
                    &t,
                    am,
                    Action::ResponseOverdue,
                    from,
                    from,
                    note,
                    now,
                )
                .await;
                (saved, false)
            }
        };
        let (saved, escalated) = outcome;
        if once(saved).await? {
            txn.commit().await?;
            if escalated {
                report.escalated += 1;
            } else {
                report.response_overdue += 1;
            }
        }
    }
    Ok(report)
}

/// Open tickets past their resolution deadline are marked overdue once, and their holder told.
pub async fn mark_overdue_resolutions(
    ctx: &Ctx<'_>,
    now: DateTime<Utc>,
    batch: u64,
) -> ServiceResult<usize> {
    let open = Status::OPEN.map(|s| s.as_str());
    let due: Vec<ticket::Model> = ticket::Entity::find()
        .filter(ticket::Column::Status.is_in(open))
        .filter(ticket::Column::ResolutionDueAt.lt(now))
        .filter(ticket::Column::ResolutionOverdue.eq(false))
        .order_by_asc(ticket::Column::ResolutionDueAt)
        .limit(batch)
        .all(ctx.db)
        .await?;
    let mut marked = 0;
    for t in due {
        let txn = write_txn(ctx.db).await?;
        let from = t.status;
        let mut am = t.clone().into_active_model();
        am.resolution_overdue = Set(true);
        let note = Some("办理超时".to_owned());
        let saved = super::tickets::save_system(
            &txn,
            &t,
            am,
            Action::ResolutionOverdue,
            from,
            from,
            note,
            now,
        )
        .await;
        if saved.is_ok()
            && let Some(a) = t.assignee_id
        {
            notify::staff(&txn, a, notify::Event::Overdue, &t, now).await?;
        }
        if once(saved).await? {
            txn.commit().await?;
            marked += 1;
        }
    }
    Ok(marked)
}

/// Resolved tickets nobody rated within `days` are closed without a rating.
pub async fn auto_close(
    ctx: &Ctx<'_>,
    now: DateTime<Utc>,
    days: i64,
    batch: u64,
) -> ServiceResult<usize> {
    let before = now - Duration::days(days);
    let due: Vec<ticket::Model> = ticket::Entity::find()
        .filter(ticket::Column::Status.eq(Status::Resolved.as_str()))
        .filter(ticket::Column::ResolvedAt.lt(before))
        .order_by_asc(ticket::Column::ResolvedAt)
        .limit(batch)
        .all(ctx.db)
        .await?;
    let mut closed = 0;
    for t in due {
        let txn = write_txn(ctx.db).await?;
        let to = next(Status::Resolved, Action::AutoClose)?;
        let mut am = t.clone().into_active_model();
        am.status = Set(to);
        am.closed_at = Set(Some(now));
        if t.kind == crate::domain::TicketKind::Complaint && t.return_visit_at.is_none() {
            // Rated by nobody: somebody calls to ask how it went.
            am.return_visit_required = Set(true);
            am.return_visit_cause = Set(Some("unrated".to_owned()));
        }
        let note = Some(format!("{days}天内未评价，自动办结"));
        let saved = super::tickets::save_system(
            &txn,
            &t,
            am,
            Action::AutoClose,
            Status::Resolved,
            to,
            note,
            now,
        )
        .await;
        if saved.is_ok()
            && let Some(r) = t.resident_id
        {
            notify::resident(&txn, r, notify::Event::AutoClosed, &t, now).await?;
        }
        if once(saved).await? {
            txn.commit().await?;
            closed += 1;
        }
    }
    Ok(closed)
}

/// One pass of every scan.
pub async fn scan(
    ctx: &Ctx<'_>,
    now: DateTime<Utc>,
    auto_close_days: i64,
    batch: u64,
) -> ServiceResult<ScanReport> {
    let mut report = escalate_overdue_responses(ctx, now, batch).await?;
    report.resolution_overdue = mark_overdue_resolutions(ctx, now, batch).await?;
    report.auto_closed = auto_close(ctx, now, auto_close_days, batch).await?;
    Ok(report)
}
