//! Supervision (督办, issue 25): a community or street administrator over a ticket flags it with
//! a deadline and a note. The assignee and the administrators above them are told, work lists
//! show it first, and `GET /work/supervised` lists what is supervised. Resolving it by the
//! deadline meets it; missing it escalates the ticket one level (the scheduler's
//! [`escalate_missed`]), or, at the top already, tells the street.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Access, Changing, Decided, change};
use crate::{
    domain::{
        SupervisionOutcome, Visibility,
        access::StaffScope,
        calendar::beijing_minute,
        inputs::Text,
        lifecycle::{Action, Status},
    },
    error::Code,
    services::{Caller, Ctx, ServiceError, ServiceResult, notify, routing, sla, write_txn},
};
use entity::{ticket, ticket_supervision};

/// The furthest a supervisor's deadline may lie ahead.
const MAX_AHEAD_DAYS: i64 = 90;

/// Flags the ticket (督办) with `deadline`; a standing supervision is superseded by this one.
pub async fn supervise(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    reference: &str,
    deadline: DateTime<Utc>,
    note: Text,
) -> ServiceResult<super::TicketView> {
    let now = ctx.now();
    if deadline <= now || deadline > now + Duration::days(MAX_AHEAD_DAYS) {
        return Err(ServiceError::rejected(
            Code::InvalidField,
            "deadline",
            crate::error::bi(
                format_args!("督办期限须在今后 {MAX_AHEAD_DAYS} 天之内"),
                format_args!("the deadline must lie within the next {MAX_AHEAD_DAYS} days"),
            ),
        ));
    }
    let caller = Caller::Staff(scope.clone());
    change(
        ctx,
        &caller,
        reference,
        Access::AdminOver,
        async |c: &Changing<'_>| {
            let t = c.ticket;
            settle(c.txn, t.id, SupervisionOutcome::Superseded, c.at).await?;
            ticket_supervision::ActiveModel {
                id: Set(Uuid::new_v4()),
                ticket_id: Set(t.id),
                supervisor_id: Set(scope.staff_id),
                deadline: Set(deadline),
                note: Set(note.as_str().to_owned()),
                created_at: Set(c.at),
                outcome: Set(None),
                settled_at: Set(None),
            }
            .insert(c.txn)
            .await?;
            let mut am = t.clone().into_active_model();
            am.supervised_until = Set(Some(deadline));
            am.supervised_by = Set(Some(scope.staff_id));
            am.supervision_note = Set(Some(note.as_str().to_owned()));
            let words = format!("督办，期限 {}：{}", beijing_minute(deadline), note.as_str());
            let mut decided = Decided::transition(c, am, Action::Supervise, Some(words))?;
            decided.event.visibility = Visibility::Internal;
            let mut told: Vec<Uuid> = t.assignee_id.into_iter().collect();
            told.extend(admins_above(c.dir, t));
            told.retain(|id| *id != scope.staff_id);
            told.dedup();
            for id in told {
                notify::staff(c.txn, id, notify::Event::Supervised, t, c.at).await?;
            }
            Ok(decided)
        },
    )
    .await
}

/// The administrators over whoever holds the ticket: the level above its handling area (the
/// community over a grid, the street over a community); for a ticket nobody holds, those of the
/// queue it waits in.
pub(super) fn admins_above(
    dir: &crate::services::directory::Directory,
    t: &ticket::Model,
) -> Vec<Uuid> {
    let area = if t.assignee_id.is_some() {
        routing::level_above(dir, t.handling_area_id, t.grid_id)
    } else {
        t.handling_area_id.or(t.grid_id)
    };
    area.map(|a| super::admins_of(dir, a)).unwrap_or_default()
}

/// Settles a standing supervision of ticket `id` with `outcome` (a no-op when none stands).
async fn settle(
    db: &impl ConnectionTrait,
    id: Uuid,
    outcome: SupervisionOutcome,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let standing = ticket_supervision::Entity::find()
        .filter(ticket_supervision::Column::TicketId.eq(id))
        .filter(ticket_supervision::Column::Outcome.is_null())
        .all(db)
        .await?;
    for s in standing {
        let mut am = s.into_active_model();
        am.outcome = Set(Some(outcome));
        am.settled_at = Set(Some(at));
        am.update(db).await?;
    }
    Ok(())
}

fn lift(am: &mut ticket::ActiveModel) {
    am.supervised_until = Set(None);
    am.supervised_by = Set(None);
    am.supervision_note = Set(None);
}

/// A supervised ticket resolved (the deadline met, or missed but resolved before the scheduler
/// saw it), rejected or withdrawn: the supervision ends with it.
pub(super) async fn on_change(
    txn: &impl ConnectionTrait,
    before: &ticket::Model,
    am: &mut ticket::ActiveModel,
    to: Status,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let Some(deadline) = before.supervised_until else {
        return Ok(());
    };
    let outcome = match to {
        Status::Resolved | Status::Closed if at <= deadline => SupervisionOutcome::Met,
        Status::Resolved | Status::Closed => SupervisionOutcome::Missed,
        Status::Rejected | Status::Withdrawn => SupervisionOutcome::Closed,
        _ => return Ok(()),
    };
    settle(txn, before.id, outcome, at).await?;
    lift(am);
    Ok(())
}

/// Supervised tickets past their supervisor's deadline go one level up (like an overdue
/// response) with a new response window there; at the street already, or suspended, the
/// miss is recorded and the street's administrators told. Each ticket in its own
/// version-guarded transaction.
pub async fn escalate_missed(
    ctx: &Ctx<'_>,
    now: DateTime<Utc>,
    batch: u64,
) -> ServiceResult<usize> {
    let due: Vec<ticket::Model> = ticket::Entity::find()
        .filter(ticket::Column::SupervisedUntil.lte(now))
        // A ticket that follows a merged main ticket out of the open statuses owes nothing more.
        .filter(crate::services::ticket_status_in(&Status::OPEN))
        .order_by_asc(ticket::Column::SupervisedUntil)
        .limit(batch)
        .all(ctx.db)
        .await?;
    let mut escalated = 0;
    for stale in due {
        let txn = write_txn(ctx.db).await?;
        let Some(t) = ticket::Entity::find_by_id(stale.id).one(&txn).await? else {
            continue;
        };
        if t.version != stale.version {
            continue;
        }
        let dir = ctx.directory.get(&txn).await?;
        let category = super::category_of(&dir, &t)?.clone();
        let mut am = t.clone().into_active_model();
        lift(&mut am);
        settle(&txn, t.id, SupervisionOutcome::Missed, now).await?;
        let up = routing::level_above(&dir, t.handling_area_id, t.grid_id);
        let movable = matches!(
            t.status,
            Status::PendingDispatch | Status::Assigned | Status::InProgress | Status::Returned
        );
        let saved = match up.filter(|_| movable) {
            Some(up) => {
                let sla::Raised {
                    action,
                    to,
                    person,
                    area,
                } = sla::raise(ctx, &txn, &dir, &t, &category, &mut am, up, now).await?;
                let note = format!("督办超期未办结，自动上报至{area}");
                let saved =
                    super::save_system(&txn, &t, am, action, t.status, to, Some(note), now).await;
                if saved.is_ok() {
                    for p in person.into_iter().chain(super::admins_of(&dir, up)) {
                        notify::staff(&txn, p, notify::Event::SupervisionMissed, &t, now).await?;
                    }
                    if let Some(r) = t.resident_id {
                        notify::resident(&txn, r, notify::Event::Escalated, &t, now).await?;
                    }
                }
                saved
            }
            None => {
                // The miss is the offices' business; the resident reads nothing of it.
                let mut event = super::EventDraft::transition(
                    Action::SupervisionMissed,
                    t.status,
                    t.status,
                    Some("督办超期未办结".to_owned()),
                );
                event.visibility = Visibility::Internal;
                let system = (crate::domain::ActorKind::System, None);
                let saved = super::save(&txn, &t, am, system, vec![event], now)
                    .await
                    .map(|_| ());
                let street = t
                    .handling_area_id
                    .or(t.grid_id)
                    .and_then(|a| dir.tree.enclosing(a, crate::domain::AreaKind::Street))
                    .map(|s| s.id);
                if saved.is_ok()
                    && let Some(street) = street
                {
                    for p in super::admins_of(&dir, street) {
                        notify::staff(&txn, p, notify::Event::SupervisionMissed, &t, now).await?;
                    }
                }
                saved
            }
        };
        match saved {
            Ok(()) => {
                txn.commit().await?;
                escalated += 1;
            }
            Err(ServiceError::ConcurrentUpdate) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(escalated)
}
