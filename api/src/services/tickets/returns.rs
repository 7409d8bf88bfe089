//! Returns instead of ping-pong (退单, issue 25): a worker who holds a ticket that is not theirs
//! sends it back to the dispatcher one level up (the community's queue, or the street's for a
//! community-level ticket), with a reason. The dispatcher redirects it (`assign`, or `transfer`
//! by an administrator) or refuses the return: the ticket goes back to the worker, who may not
//! return it again. Past `lifecycle.max_returns` returns the street's administrators are told.
//! Each return is a `ticket_return` row, settled when the ticket leaves `returned`, so the
//! statistics count returns per grid and worker and the time spent waiting.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use super::{Access, Changing, Decided, change};
use crate::{
    domain::{
        AreaKind, ReturnReason,
        access::StaffScope,
        inputs::Text,
        lifecycle::{Action, Status},
    },
    error::Code,
    services::{Caller, Ctx, ServiceError, ServiceResult, notify, routing},
};
use entity::ticket_return;

/// The assignee sends the ticket back to the dispatcher above it.
pub async fn send_back(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    reference: &str,
    reason: ReturnReason,
    note: Text,
) -> ServiceResult<super::TicketView> {
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
            let refused_before = ticket_return::Entity::find()
                .filter(ticket_return::Column::TicketId.eq(t.id))
                .filter(ticket_return::Column::StaffId.eq(scope.staff_id))
                .filter(ticket_return::Column::Outcome.eq("refused"))
                .one(c.txn)
                .await?
                .is_some();
            if refused_before {
                return Err(ServiceError::Rejected {
                    code: Code::ReturnRefused,
                    field: None,
                    detail: None,
                });
            }
            let queue =
                routing::level_above(c.dir, t.handling_area_id, t.grid_id).ok_or_else(|| {
                    ServiceError::rejected(
                        Code::InvalidTransition,
                        "reason_code",
                        crate::error::bi(
                            "已在街道层级办理，没有可退回的上级；请转派或上报区级",
                            "handled at street level: there is nobody above to return it to",
                        ),
                    )
                })?;
            ticket_return::ActiveModel {
                id: Set(Uuid::new_v4()),
                ticket_id: Set(t.id),
                staff_id: Set(scope.staff_id),
                grid_id: Set(t.grid_id),
                handling_area_id: Set(t.handling_area_id),
                reason_code: Set(reason),
                note: Set(note.as_str().to_owned()),
                returned_at: Set(c.at),
                outcome: Set(None),
                decided_by: Set(None),
                decided_at: Set(None),
            }
            .insert(c.txn)
            .await?;
            let count = t.return_count + 1;
            let mut am = t.clone().into_active_model();
            am.assignee_id = Set(None);
            am.handling_area_id = Set(Some(queue));
            am.return_count = Set(count);
            tell_admins(c, queue, notify::Event::Returned).await?;
            if count > c.ctx.settings.lifecycle.max_returns
                && let Some(street) = c.dir.tree.enclosing(queue, AreaKind::Street).map(|s| s.id)
            {
                tell_admins(c, street, notify::Event::ReturnFlagged).await?;
            }
            let words = format!(
                "退单（{}，第{count}次）：{}",
                reason_words(reason),
                note.as_str()
            );
            let mut decided = Decided::transition(c, am, Action::Return, Some(words))?;
            // The reason is for staff; the resident reads that the ticket is being redirected.
            decided.event.public_note = Some("工单正在重新派单".to_owned());
            Ok(decided)
        },
    )
    .await
}

/// The dispatcher refuses the return: the ticket goes back where it was, to the worker.
pub async fn refuse(
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
        Access::AdminOver,
        async |c: &Changing<'_>| {
            let t = c.ticket;
            let open = open_return(c.txn, t.id)
                .await?
                .ok_or_else(|| ServiceError::Rejected {
                    code: Code::InvalidTransition,
                    field: None,
                    detail: Some(crate::error::bi(
                        "该工单没有待处理的退单",
                        "no return to refuse",
                    )),
                })?;
            // Whoever returned it does not decide their own return.
            if open.staff_id == scope.staff_id {
                return Err(ServiceError::NotAssignee);
            }
            let mut am = t.clone().into_active_model();
            am.assignee_id = Set(Some(open.staff_id));
            am.grid_id = Set(open.grid_id);
            am.handling_area_id = Set(open.handling_area_id);
            settle(c.txn, open, "refused", Some(scope.staff_id), c.at).await?;
            let words = format!("驳回退单：{}", note.as_str());
            let mut decided = Decided::transition(c, am, Action::RefuseReturn, Some(words))?;
            decided.event.public_note = Some("工单继续由原网格办理".to_owned());
            Ok(decided)
        },
    )
    .await
}

/// Settles the waiting return of a ticket that leaves `returned` by the event `action` (a
/// redirection or a merge, a rejection, a withdrawal); a refusal settled its own.
pub(super) async fn on_leaving(
    txn: &impl ConnectionTrait,
    before: &entity::ticket::Model,
    action: &str,
    by: &Caller,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    if before.status != Status::Returned || action == Action::RefuseReturn.name() {
        return Ok(());
    }
    let outcome = match action {
        "assign" | "transfer" | "escalate" | "merge" | "recategorise" | "relocate" => "redirected",
        _ => "closed",
    };
    if let Some(open) = open_return(txn, before.id).await? {
        let who = match by {
            Caller::Staff(s) => Some(s.staff_id),
            Caller::Resident(_) => None,
        };
        settle(txn, open, outcome, who, at).await?;
    }
    Ok(())
}

async fn open_return(
    db: &impl ConnectionTrait,
    ticket: Uuid,
) -> ServiceResult<Option<ticket_return::Model>> {
    Ok(ticket_return::Entity::find()
        .filter(ticket_return::Column::TicketId.eq(ticket))
        .filter(ticket_return::Column::Outcome.is_null())
        .order_by_desc(ticket_return::Column::ReturnedAt)
        .one(db)
        .await?)
}

async fn settle(
    db: &impl ConnectionTrait,
    open: ticket_return::Model,
    outcome: &str,
    by: Option<Uuid>,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let mut am = open.into_active_model();
    am.outcome = Set(Some(outcome.to_owned()));
    am.decided_by = Set(by);
    am.decided_at = Set(Some(at));
    am.update(db).await?;
    Ok(())
}

/// Tells the administrators holding `area` (its community or street admins).
async fn tell_admins(c: &Changing<'_>, area: Uuid, event: notify::Event) -> ServiceResult<()> {
    for id in super::admins_of(c.dir, area) {
        notify::staff(c.txn, id, event, c.ticket, c.at).await?;
    }
    Ok(())
}

fn reason_words(r: ReturnReason) -> &'static str {
    match r {
        ReturnReason::NotMyGrid => "不属于本网格",
        ReturnReason::NotMyDuty => "不属于职责范围",
        ReturnReason::WrongCategory => "类别有误",
        ReturnReason::Other => "其他",
    }
}

/// Returns counted for one grid or one worker (流转次数) over a period.
#[derive(Default, Clone, Copy)]
pub struct Tally {
    pub returns: u64,
    pub redirected: u64,
    pub refused: u64,
    /// Still waiting for the dispatcher.
    pub waiting: u64,
    /// Minutes tickets spent returned (up to now for those still waiting).
    pub minutes_returned: i64,
}

/// The returns of `area`'s tickets made within `period`, per grid they were returned from and
/// per worker who returned them, each ordered by count, most first.
pub struct Returns {
    pub asked: crate::services::stats::Asked,
    pub by_grid: Vec<(Uuid, Tally)>,
    pub by_worker: Vec<(Uuid, Tally)>,
}

pub async fn tally(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    area_id: Uuid,
    period: crate::domain::rates::Period,
) -> ServiceResult<Returns> {
    let (asked, _) = crate::services::stats::ask(ctx, scope, area_id, period).await?;
    let rows = ticket_return::Entity::find()
        .filter(ticket_return::Column::ReturnedAt.gte(period.from))
        .filter(ticket_return::Column::ReturnedAt.lt(period.to))
        .filter(
            sea_orm::Condition::any()
                .add(ticket_return::Column::HandlingAreaId.is_in(asked.places.clone()))
                .add(ticket_return::Column::GridId.is_in(asked.places.clone())),
        )
        .all(ctx.db)
        .await?;
    let now = ctx.now();
    let mut grids = std::collections::HashMap::<Uuid, Tally>::new();
    let mut workers = std::collections::HashMap::<Uuid, Tally>::new();
    for r in rows {
        let minutes = (r.decided_at.unwrap_or(now) - r.returned_at).num_minutes();
        // The place that returned it: the grid for a grid worker's return, the community for
        // a community-level ticket's.
        let keys = [
            r.handling_area_id.or(r.grid_id).map(|g| (&mut grids, g)),
            Some((&mut workers, r.staff_id)),
        ];
        for (map, key) in keys.into_iter().flatten() {
            let t = map.entry(key).or_default();
            t.returns += 1;
            t.minutes_returned += minutes;
            match r.outcome.as_deref() {
                Some("redirected") => t.redirected += 1,
                Some("refused") => t.refused += 1,
                None => t.waiting += 1,
                _ => {}
            }
        }
    }
    let ordered = |m: std::collections::HashMap<Uuid, Tally>| {
        let mut v: Vec<(Uuid, Tally)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.returns.cmp(&a.1.returns).then(a.0.cmp(&b.0)));
        v
    };
    Ok(Returns {
        asked,
        by_grid: ordered(grids),
        by_worker: ordered(workers),
    })
}
