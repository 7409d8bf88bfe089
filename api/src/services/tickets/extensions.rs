//! Extensions (延期) and suspensions (挂账) (issue 25): the assignee asks for a later resolution
//! deadline, or for the clock to stop while a third party acts; an administrator above decides
//! (never the one who asked). An approved extension moves `resolution_due_at`, so the rates
//! count against it; an approved suspension lifts the deadline (the ticket is `suspended`, in
//! no resolution count) and keeps it in `suspended_due_at`, and resumption — by hand, by
//! resolving, or by the scheduler at `suspended_until` — gives back the time that was left.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    JoinType, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Access, Changing, Decided, EventDraft, change};
use crate::{
    domain::{
        ExtensionKind, ExtensionStatus, Visibility,
        access::StaffScope,
        calendar::beijing_minute,
        inputs::Text,
        lifecycle::{Action, Status, next},
    },
    error::Code,
    services::{Caller, Ctx, ServiceError, ServiceResult, notify, rollups, sla, write_txn},
};
use entity::{ticket, ticket_extension};

/// What an assignee asks for.
pub struct Request {
    pub kind: ExtensionKind,
    /// Extension: the new resolution deadline. Suspension: when it resumes by itself, if known.
    pub until: Option<DateTime<Utc>>,
    pub reason: Text,
}

/// A request as the caller reads it.
pub struct ExtensionView {
    pub row: ticket_extension::Model,
    pub ticket_number: String,
    /// The caller may decide it now (pending, theirs to decide, not their own).
    pub can_decide: bool,
}

fn bad_until(detail: String) -> ServiceError {
    ServiceError::rejected(Code::InvalidField, "until", detail)
}

/// Checks `until` for a request made at `now` on a ticket due at `due`.
fn check_until(
    ctx: &Ctx<'_>,
    kind: ExtensionKind,
    until: Option<DateTime<Utc>>,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let life = &ctx.settings.lifecycle;
    match (kind, until) {
        (ExtensionKind::Extension, None) => Err(bad_until(crate::error::bi(
            "延期须写明新的办理期限",
            "an extension needs the new deadline",
        ))),
        (ExtensionKind::Extension, Some(u))
            if u <= due || u > due + Duration::days(life.max_extension_days) =>
        {
            Err(bad_until(crate::error::bi(
                format_args!(
                    "新的办理期限须晚于现期限（{}），且至多延长 {} 天",
                    beijing_minute(due),
                    life.max_extension_days
                ),
                format_args!(
                    "the new deadline must be after the current one and at most {} days later",
                    life.max_extension_days
                ),
            )))
        }
        (ExtensionKind::Suspension, Some(u))
            if u <= now || u > now + Duration::days(life.max_suspension_days) =>
        {
            Err(bad_until(crate::error::bi(
                format_args!("恢复时间须在今后 {} 天之内", life.max_suspension_days),
                format_args!(
                    "the resumption must lie within the next {} days",
                    life.max_suspension_days
                ),
            )))
        }
        _ => Ok(()),
    }
}

/// The assignee asks for more time or a pause, before the resolution deadline.
pub async fn request(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    reference: &str,
    asked: Request,
) -> ServiceResult<ExtensionView> {
    let id = Uuid::new_v4();
    let caller = Caller::Staff(scope.clone());
    change(
        ctx,
        &caller,
        reference,
        Access::Handles,
        async |c: &Changing<'_>| {
            let t = c.ticket;
            if t.assignee_id != Some(scope.staff_id) {
                return Err(ServiceError::NotAssignee);
            }
            if asked.kind == ExtensionKind::Suspension {
                next(c.from, Action::Suspend)?;
            }
            let Some(due) = t.resolution_due_at.filter(|d| c.at < *d) else {
                return Err(ServiceError::Rejected {
                    code: Code::ExtensionTooLate,
                    field: None,
                    detail: None,
                });
            };
            check_until(c.ctx, asked.kind, asked.until, due, c.at)?;
            if pending(c.txn, t.id).await?.is_some() {
                return Err(ServiceError::Rejected {
                    code: Code::ExtensionPending,
                    field: None,
                    detail: None,
                });
            }
            ticket_extension::ActiveModel {
                id: Set(id),
                ticket_id: Set(t.id),
                kind: Set(asked.kind),
                requested_by: Set(scope.staff_id),
                until: Set(asked.until),
                reason: Set(asked.reason.as_str().to_owned()),
                requested_at: Set(c.at),
                status: Set(ExtensionStatus::Pending),
                due_before: Set(Some(due)),
                decided_by: Set(None),
                decided_at: Set(None),
                decision_note: Set(None),
            }
            .insert(c.txn)
            .await?;
            let words = match (asked.kind, asked.until) {
                (ExtensionKind::Extension, Some(u)) => format!("申请延期至 {}", beijing_minute(u)),
                (_, Some(u)) => format!("申请挂账至 {}", beijing_minute(u)),
                (_, None) => "申请挂账".to_owned(),
            };
            let note = format!("{words}：{}", asked.reason.as_str());
            let mut decided = Decided::transition(
                c,
                t.clone().into_active_model(),
                Action::RequestExtension,
                Some(note),
            )?;
            decided.event.visibility = Visibility::Internal;
            for admin in super::supervision::admins_above(c.dir, t) {
                notify::staff(c.txn, admin, notify::Event::ExtensionRequested, t, c.at).await?;
            }
            Ok(decided)
        },
    )
    .await?;
    let row = ticket_extension::Entity::find_by_id(id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    shown(ctx, scope, row).await
}

/// The request waiting for a decision on ticket `ticket_id`, if any.
pub async fn pending(
    db: &impl ConnectionTrait,
    ticket_id: Uuid,
) -> ServiceResult<Option<ticket_extension::Model>> {
    Ok(ticket_extension::Entity::find()
        .filter(ticket_extension::Column::TicketId.eq(ticket_id))
        .filter(ticket_extension::Column::Status.eq(ExtensionStatus::Pending))
        .one(db)
        .await?)
}

/// An administrator over the ticket approves or refuses a pending request; whoever asked does
/// not decide it (403 forbidden), and a decided one is `409 extension_decided`.
pub async fn decide(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    id: Uuid,
    approve: bool,
    note: Text,
) -> ServiceResult<ExtensionView> {
    let row = ticket_extension::Entity::find_by_id(id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let caller = Caller::Staff(scope.clone());
    let reference = row.ticket_id.to_string();
    change(
        ctx,
        &caller,
        &reference,
        Access::AdminOver,
        async |c: &Changing<'_>| {
            let ext = ticket_extension::Entity::find_by_id(id)
                .one(c.txn)
                .await?
                .ok_or(ServiceError::NotFound)?;
            if ext.status != ExtensionStatus::Pending {
                return Err(ServiceError::Rejected {
                    code: Code::ExtensionDecided,
                    field: None,
                    detail: None,
                });
            }
            if ext.requested_by == scope.staff_id {
                return Err(ServiceError::Forbidden);
            }
            let decided = decision(c, &ext, approve, &note).await?;
            let mut am = ext.clone().into_active_model();
            am.status = Set(if approve {
                ExtensionStatus::Approved
            } else {
                ExtensionStatus::Refused
            });
            am.decided_by = Set(Some(scope.staff_id));
            am.decided_at = Set(Some(c.at));
            am.decision_note = Set(Some(note.as_str().to_owned()));
            am.update(c.txn).await?;
            Ok(decided)
        },
    )
    .await?;
    let row = ticket_extension::Entity::find_by_id(id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    shown(ctx, scope, row).await
}

/// The ticket's change for a decision, and who hears of it.
async fn decision(
    c: &Changing<'_>,
    ext: &ticket_extension::Model,
    approve: bool,
    note: &Text,
) -> ServiceResult<Decided> {
    let t = c.ticket;
    let mut am = t.clone().into_active_model();
    let (decided, answer, resident) = match (approve, ext.kind) {
        (false, _) => {
            let words = format!("不同意{}：{}", kind_words(ext.kind), note.as_str());
            let action = Action::ExtensionDecided { approved: false };
            let mut d = Decided::transition(c, am, action, Some(words))?;
            d.event.visibility = Visibility::Internal;
            (d, notify::Event::ExtensionRefused, None)
        }
        (true, ExtensionKind::Extension) => {
            let until = ext
                .until
                .ok_or_else(|| ServiceError::Internal("extension without until".into()))?;
            am.resolution_due_at = Set(Some(until));
            am.resolution_overdue = Set(false);
            let words = format!("同意延期至 {}：{}", beijing_minute(until), note.as_str());
            let action = Action::ExtensionDecided { approved: true };
            let mut d = Decided::transition(c, am, action, Some(words))?;
            d.event.public_note = Some(format!("经审批，办理期限延长至 {}", beijing_minute(until)));
            (
                d,
                notify::Event::ExtensionApproved,
                Some(notify::Event::Extended),
            )
        }
        (true, ExtensionKind::Suspension) => {
            am.suspended_at = Set(Some(c.at));
            am.suspended_until = Set(ext.until);
            am.suspended_due_at = Set(t.resolution_due_at);
            am.resolution_due_at = Set(None);
            let words = format!("同意挂账：{}", note.as_str());
            let mut d = Decided::transition(c, am, Action::Suspend, Some(words))?;
            d.event.public_note =
                Some("需等待相关单位处理，暂缓办理（挂账），恢复后继续计时".to_owned());
            (
                d,
                notify::Event::ExtensionApproved,
                Some(notify::Event::Suspended),
            )
        }
    };
    notify::staff(c.txn, ext.requested_by, answer, t, c.at).await?;
    if let (Some(r), Some(e)) = (t.resident_id, resident) {
        notify::resident(c.txn, r, e, t, c.at).await?;
    }
    Ok(decided)
}

fn kind_words(kind: ExtensionKind) -> &'static str {
    match kind {
        ExtensionKind::Extension => "延期",
        ExtensionKind::Suspension => "挂账",
    }
}

/// The assignee (or an administrator above) resumes a suspended ticket.
pub async fn resume(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    reference: &str,
    note: Text,
) -> ServiceResult<super::TicketView> {
    let caller = Caller::Staff(scope.clone());
    change(
        ctx,
        &caller,
        reference,
        Access::Handles,
        async |c: &Changing<'_>| {
            let am = c.ticket.clone().into_active_model();
            let words = format!("恢复办理：{}", note.as_str());
            let mut d = Decided::transition(c, am, Action::Resume, Some(words))?;
            d.event.public_note = Some("已恢复办理".to_owned());
            if let Some(r) = c.ticket.resident_id {
                notify::resident(c.txn, r, notify::Event::Resumed, c.ticket, c.at).await?;
            }
            Ok(d)
        },
    )
    .await
}

/// What a change of a ticket means for its requests and its pause: leaving `suspended` gives
/// back the time that was left of the resolution deadline; leaving the assignee's hands (a new
/// holder, a return, a resolution, a closing) cancels a request nobody decided.
pub(crate) async fn on_change(
    txn: &impl ConnectionTrait,
    before: &ticket::Model,
    am: &mut ticket::ActiveModel,
    to: Status,
    category: &entity::category::Model,
    calendar: &crate::domain::calendar::WorkCalendar,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    if before.status == Status::Suspended && to != Status::Suspended {
        give_back(before, am, category, calendar, at);
    }
    let assignee = super::assignee_after(before, am);
    let still_theirs = matches!(
        to,
        Status::Assigned | Status::InProgress | Status::Suspended
    ) && assignee == before.assignee_id;
    if !still_theirs && let Some(p) = pending(txn, before.id).await? {
        let mut row = p.into_active_model();
        row.status = Set(ExtensionStatus::Cancelled);
        row.decided_at = Set(Some(at));
        row.update(txn).await?;
    }
    Ok(())
}

/// The resolution deadline again, `at` plus what was left when the clock stopped.
fn give_back(
    before: &ticket::Model,
    am: &mut ticket::ActiveModel,
    category: &entity::category::Model,
    calendar: &crate::domain::calendar::WorkCalendar,
    at: DateTime<Utc>,
) {
    if let (Some(stopped), Some(due)) = (before.suspended_at, before.suspended_due_at) {
        let left = sla::time_left(category, stopped, due, calendar);
        am.resolution_due_at = Set(Some(sla::deadline(category, at, left, calendar)));
    }
    am.suspended_at = Set(None);
    am.suspended_until = Set(None);
    am.suspended_due_at = Set(None);
}

/// Suspended tickets whose resumption time came resume by themselves, the clock running again.
pub async fn resume_due(ctx: &Ctx<'_>, now: DateTime<Utc>, batch: u64) -> ServiceResult<usize> {
    let due: Vec<ticket::Model> = ticket::Entity::find()
        .filter(ticket::Column::SuspendedUntil.lte(now))
        .filter(ticket::Column::Status.eq(Status::Suspended))
        .order_by_asc(ticket::Column::SuspendedUntil)
        .limit(batch)
        .all(ctx.db)
        .await?;
    let mut resumed = 0;
    for t in due {
        let txn = write_txn(ctx.db).await?;
        let dir = ctx.directory.get(&txn).await?;
        let category = super::category_of(&dir, &t)?.clone();
        let to = next(t.status, Action::Resume)?;
        let mut am = t.clone().into_active_model();
        am.status = Set(to);
        give_back(&t, &mut am, &category, ctx.calendar, now);
        let mut event = EventDraft::transition(
            Action::Resume,
            t.status,
            to,
            Some("挂账期满，自动恢复办理".to_owned()),
        );
        event.public_note = Some("已恢复办理".to_owned());
        let actor = (crate::domain::ActorKind::System, None);
        match super::save(&txn, &t, am, actor, vec![event], now).await {
            Ok(saved) => {
                if let Some(a) = saved.assignee_id {
                    notify::staff(&txn, a, notify::Event::Resumed, &saved, now).await?;
                }
                if let Some(r) = saved.resident_id {
                    notify::resident(&txn, r, notify::Event::Resumed, &saved, now).await?;
                }
                txn.commit().await?;
                resumed += 1;
            }
            Err(ServiceError::ConcurrentUpdate) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(resumed)
}

/// The requests on tickets in the caller's sight and those they made, newest first;
/// `status` narrows them (`pending` is an administrator's queue: see `can_decide`).
pub async fn list(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    status: Option<ExtensionStatus>,
    limit: u64,
) -> ServiceResult<Vec<ExtensionView>> {
    let dir = ctx.dir().await?;
    let visible = scope.visible_set(&dir.tree);
    let mut query = ticket_extension::Entity::find()
        .join(JoinType::InnerJoin, extension_ticket())
        .select_also(ticket::Entity)
        .order_by_desc(ticket_extension::Column::RequestedAt)
        .order_by_desc(ticket_extension::Column::Id)
        .limit(limit);
    if let Some(s) = status {
        query = query.filter(ticket_extension::Column::Status.eq(s));
    }
    if !visible.everything {
        let areas: Vec<Uuid> = visible.areas.iter().copied().collect();
        query = query.filter(
            Condition::any()
                .add(rollups::placed_in(&areas))
                .add(ticket_extension::Column::RequestedBy.eq(scope.staff_id))
                .add(ticket::Column::AssigneeId.eq(scope.staff_id)),
        );
    }
    let caller = Caller::Staff(scope.clone());
    let mut out = Vec::new();
    for (row, t) in query.all(ctx.db).await? {
        let Some(t) = t else { continue };
        let Some(category) = dir.category(t.category_id) else {
            continue;
        };
        if !super::may_see(&dir, &caller, &t, category) && row.requested_by != scope.staff_id {
            continue;
        }
        let can_decide = may_decide(scope, &dir, &row, &t, category);
        out.push(ExtensionView {
            ticket_number: t.number,
            row,
            can_decide,
        });
    }
    Ok(out)
}

fn may_decide(
    scope: &StaffScope,
    dir: &crate::services::directory::Directory,
    row: &ticket_extension::Model,
    t: &ticket::Model,
    category: &entity::category::Model,
) -> bool {
    row.status == ExtensionStatus::Pending
        && row.requested_by != scope.staff_id
        && scope.is_admin_over(&dir.tree, &super::placement(t, &category.group_name))
}

async fn shown(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    row: ticket_extension::Model,
) -> ServiceResult<ExtensionView> {
    let t = ticket::Entity::find_by_id(row.ticket_id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let dir = ctx.dir().await?;
    let category = super::category_of(&dir, &t)?;
    Ok(ExtensionView {
        can_decide: may_decide(scope, &dir, &row, &t, category),
        ticket_number: t.number,
        row,
    })
}

fn extension_ticket() -> sea_orm::RelationDef {
    ticket_extension::Entity::belongs_to(ticket::Entity)
        .from(ticket_extension::Column::TicketId)
        .to(ticket::Column::Id)
        .into()
}
