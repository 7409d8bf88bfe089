//! What staff do to a ticket (accept, resolve, transfer, escalate, reject, assign), a
//! resident's withdrawal and the return visit (回访): each a decision over the ticket as read,
//! made and saved through [`change`].
use sea_orm::{ConnectionTrait, EntityTrait, IntoActiveModel, Set};
use uuid::Uuid;

use super::{
    Access, Changing, Decided, EventDraft, TicketView, apply_destination, change, referenced,
    rejected,
};
use crate::{
    domain::{
        ActorKind, AreaKind, ReturnVisitOutcome, Visibility, access::StaffScope, inputs::Text,
        lifecycle::Action,
    },
    error::Code,
    services::{
        Caller, Ctx, ServiceError, ServiceResult,
        attachments::{self, Attachment, Owner},
        directory::Directory,
        routing::{self, Destination},
    },
};

/// What a staff member asks to do to a ticket.
pub enum StaffCommand {
    Accept,
    Resolve {
        note: Text,
        attachment_ids: Vec<Uuid>,
    },
    Transfer {
        to: TransferTarget,
        /// For staff.
        reason: Text,
        /// What the resident reads.
        public_note: Option<Text>,
    },
    Escalate {
        reason: Text,
        public_note: Option<Text>,
    },
    Reject {
        reason: Text,
        duplicate_of: Option<String>,
    },
    Assign {
        staff_id: Uuid,
    },
}

#[derive(Clone, Copy)]
pub enum TransferTarget {
    Staff(Uuid),
    Grid(Uuid),
}

async fn active_staff(
    db: &impl ConnectionTrait,
    id: Uuid,
    field: &str,
) -> ServiceResult<entity::staff::Model> {
    entity::staff::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|s| s.status == crate::domain::StaffStatus::Active)
        .ok_or_else(|| {
            rejected(
                Code::UnknownStaff,
                field,
                crate::error::bi(
                    "没有这位在岗工作人员",
                    "no active staff member with that id",
                ),
            )
        })
}

/// The area a person takes a ticket in: their assignment nearest above the ticket's grid, else
/// their first one.
async fn home_area_of(
    db: &impl ConnectionTrait,
    dir: &Directory,
    staff_id: Uuid,
    grid: Option<Uuid>,
) -> ServiceResult<Option<Uuid>> {
    let areas: Vec<Uuid> = crate::services::staff::assignments(db, staff_id)
        .await?
        .into_iter()
        .filter_map(|a| a.area_id)
        .collect();
    let within = grid.and_then(|g| {
        dir.tree
            .ancestors_inclusive(g)
            .map(|n| n.id)
            .find(|id| areas.contains(id))
    });
    Ok(within.or_else(|| areas.first().copied()))
}

/// Does what a staff member asks: assigning takes an admin above the ticket, anything else its
/// assignee or an admin above. Merged tickets follow, and everyone concerned hears of it.
pub async fn act(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    reference: &str,
    command: StaffCommand,
) -> ServiceResult<TicketView> {
    let access = match command {
        StaffCommand::Assign { .. } => Access::AdminOver,
        _ => Access::Handles,
    };
    let caller = Caller::Staff(scope.clone());
    change(ctx, &caller, reference, access, async |c: &Changing<'_>| {
        let mut decided = match command {
            StaffCommand::Accept => accept(c),
            StaffCommand::Resolve {
                note,
                attachment_ids,
            } => resolve(c, scope, note, &attachment_ids).await,
            StaffCommand::Transfer {
                to,
                reason,
                public_note,
            } => with_public_note(transfer(c, to, reason).await, public_note),
            StaffCommand::Escalate {
                reason,
                public_note,
            } => with_public_note(escalate(c, reason).await, public_note),
            StaffCommand::Reject {
                reason,
                duplicate_of,
            } => reject(c, reason, duplicate_of.as_deref()).await,
            StaffCommand::Assign { staff_id } => assign(c, staff_id).await,
        }?;
        decided.carried = true;
        Ok(decided)
    })
    .await
}

fn accept(c: &Changing<'_>) -> ServiceResult<Decided> {
    let mut am = c.ticket.clone().into_active_model();
    if c.ticket.accepted_at.is_none() {
        am.accepted_at = Set(Some(c.at));
    }
    Decided::transition(c, am, Action::Accept, None)
}

async fn resolve(
    c: &Changing<'_>,
    scope: &StaffScope,
    note: Text,
    attachment_ids: &[Uuid],
) -> ServiceResult<Decided> {
    if c.category.requires_resolution_photo && attachment_ids.is_empty() {
        return Err(ServiceError::rejected(
            Code::ResolutionPhotoRequired,
            "attachment_ids",
            crate::error::bi(
                format_args!("「{}」类工单办结须附整改照片", c.category.name),
                format_args!("{} needs a photo of the fix", c.category.name),
            ),
        ));
    }
    let owner = Owner {
        kind: ActorKind::Staff.as_str(),
        id: scope.staff_id,
    };
    let photos = Attachment {
        ticket_id: c.ticket.id,
        purpose: "resolution",
        visibility: Visibility::Public,
    };
    let max = c.ctx.settings.media.max_per_ticket;
    attachments::attach(c.txn, attachment_ids, owner, photos, max).await?;
    let mut am = c.ticket.clone().into_active_model();
    am.resolved_at = Set(Some(c.at));
    Decided::transition(c, am, Action::Resolve, Some(note.into_inner()))
}

/// The event of a decided change carries what the resident reads of its internal reason.
fn with_public_note(decided: ServiceResult<Decided>, note: Option<Text>) -> ServiceResult<Decided> {
    decided.map(|mut d| {
        d.event.public_note = note.map(Text::into_inner);
        d
    })
}

/// Grid staff transfer within their own grid only (to its assistant, say); a ticket that is not
/// theirs is returned (退单) to the dispatcher, who redirects it. Administrators over the ticket
/// transfer anywhere.
async fn within_grid(c: &Changing<'_>, to: TransferTarget) -> ServiceResult<()> {
    let Caller::Staff(scope) = c.caller else {
        return Ok(());
    };
    let place = super::placement(c.ticket, &c.category.group_name);
    if scope.is_admin_over(&c.dir.tree, &place) {
        return Ok(());
    }
    let in_grid = match (to, c.ticket.grid_id) {
        (TransferTarget::Staff(id), Some(grid)) => crate::services::staff::assignments(c.txn, id)
            .await?
            .iter()
            .any(|a| a.area_id == Some(grid)),
        _ => false,
    };
    if in_grid {
        Ok(())
    } else {
        Err(ServiceError::Rejected {
            code: Code::TransferOutsideGrid,
            field: None,
            detail: None,
        })
    }
}

/// Where a ticket held by `staff` sits: their area within the ticket's place (or their first),
/// and, when that is a grid, that grid, so a ticket's grid and handling area always agree.
async fn place_of(c: &Changing<'_>, staff: Uuid) -> ServiceResult<(Option<Uuid>, Option<Uuid>)> {
    let t = c.ticket;
    // A ticket keeps a place to count at, even with someone of no area.
    let area = home_area_of(c.txn, c.dir, staff, t.grid_id)
        .await?
        .or(t.handling_area_id);
    let grid = match area.and_then(|a| c.dir.tree.get(a)) {
        Some(node) if node.kind == AreaKind::Grid => Some(node.id),
        _ => t.grid_id,
    };
    Ok((grid, area))
}

/// An administrator redirects within their own area: a community's admin to its grids and
/// people, the street's within the street. A target outside answers as one that does not exist.
fn within_sight(c: &Changing<'_>, dest: &Destination, field: &'static str) -> ServiceResult<()> {
    let Caller::Staff(scope) = c.caller else {
        return Ok(());
    };
    let sight = scope.visible_set(&c.dir.tree);
    let place = dest.handling_area_id.or(dest.grid_id);
    if sight.everything || place.is_some_and(|a| sight.areas.contains(&a)) {
        return Ok(());
    }
    let code = if field == "grid_id" {
        Code::UnknownArea
    } else {
        Code::UnknownStaff
    };
    Err(ServiceError::Rejected {
        code,
        field: Some(field.to_owned()),
        detail: None,
    })
}

async fn transfer(c: &Changing<'_>, to: TransferTarget, reason: Text) -> ServiceResult<Decided> {
    let t = c.ticket;
    within_grid(c, to).await?;
    let dest = match to {
        TransferTarget::Staff(id) => {
            active_staff(c.txn, id, "staff_id").await?;
            let (grid_id, handling_area_id) = place_of(c, id).await?;
            Destination {
                grid_id,
                handling_area_id,
                assignee_id: Some(id),
            }
        }
        TransferTarget::Grid(grid) => {
            if c.dir.tree.get(grid).map(|a| a.kind) != Some(AreaKind::Grid) {
                return Err(rejected(
                    Code::NotAGrid,
                    "grid_id",
                    crate::error::bi(
                        "转派到网格须给出网格的 id",
                        "transfer to a grid needs a grid's id",
                    ),
                ));
            }
            let person = routing::person_in(c.txn, c.dir, grid, c.category).await?;
            Destination {
                grid_id: Some(grid),
                handling_area_id: Some(grid),
                assignee_id: person,
            }
        }
    };
    let field = match to {
        TransferTarget::Staff(_) => "staff_id",
        TransferTarget::Grid(_) => "grid_id",
    };
    within_sight(c, &dest, field)?;
    let mut am = t.clone().into_active_model();
    apply_destination(&mut am, dest);
    let found = dest.assignee_id.is_some();
    Decided::transition(c, am, Action::Transfer { found }, Some(reason.into_inner()))
}

async fn escalate(c: &Changing<'_>, reason: Text) -> ServiceResult<Decided> {
    let t = c.ticket;
    let up = routing::level_above(c.dir, t.handling_area_id, t.grid_id).ok_or_else(|| {
        rejected(
            Code::CannotEscalate,
            "reason",
            crate::error::bi(
                "已在街道层级办理，无法再上报",
                "already handled at street level",
            ),
        )
    })?;
    let person = routing::person_in(c.txn, c.dir, up, c.category).await?;
    let mut am = t.clone().into_active_model();
    apply_destination(
        &mut am,
        Destination {
            grid_id: t.grid_id,
            handling_area_id: Some(up),
            assignee_id: person,
        },
    );
    let found = person.is_some();
    Decided::transition(c, am, Action::Escalate { found }, Some(reason.into_inner()))
}

async fn reject(
    c: &Changing<'_>,
    reason: Text,
    duplicate_of: Option<&str>,
) -> ServiceResult<Decided> {
    let mut am = c.ticket.clone().into_active_model();
    if let Some(dup) = duplicate_of {
        let (original, _) = referenced(c.txn, c.dir, c.caller, dup, "duplicate_of").await?;
        if original.id == c.ticket.id {
            return Err(rejected(
                Code::InvalidField,
                "duplicate_of",
                crate::error::bi("工单不能与自身重复", "a ticket cannot duplicate itself"),
            ));
        }
        am.duplicate_of = Set(Some(original.id));
    }
    am.reject_reason = Set(Some(reason.as_str().to_owned()));
    am.closed_at = Set(Some(c.at));
    Decided::transition(c, am, Action::Reject, Some(reason.into_inner()))
}

async fn assign(c: &Changing<'_>, staff_id: Uuid) -> ServiceResult<Decided> {
    let t = c.ticket;
    active_staff(c.txn, staff_id, "staff_id").await?;
    let (grid_id, handling_area_id) = place_of(c, staff_id).await?;
    let dest = Destination {
        grid_id,
        handling_area_id,
        assignee_id: Some(staff_id),
    };
    within_sight(c, &dest, "staff_id")?;
    let mut am = t.clone().into_active_model();
    apply_destination(&mut am, dest);
    Decided::transition(c, am, Action::Assign, None)
}

/// A resident withdraws a ticket nobody has accepted yet.
pub async fn withdraw(
    ctx: &Ctx<'_>,
    resident_id: Uuid,
    reference: &str,
) -> ServiceResult<TicketView> {
    let caller = Caller::Resident(resident_id);
    change(
        ctx,
        &caller,
        reference,
        Access::Sees,
        async |c: &Changing<'_>| {
            let mut am = c.ticket.clone().into_active_model();
            am.closed_at = Set(Some(c.at));
            Decided::transition(c, am, Action::Withdraw, None)
        },
    )
    .await
}

/// Records the return visit (回访) a ticket was flagged for: by an administrator over it, not by
/// the worker whose work it judges.
pub async fn record_return_visit(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    reference: &str,
    outcome: ReturnVisitOutcome,
    note: Option<Text>,
    reasons: &[crate::domain::DissatisfactionReason],
) -> ServiceResult<TicketView> {
    let reasons = super::rating::reasons_for(outcome, reasons)?;
    let caller = Caller::Staff(scope.clone());
    change(
        ctx,
        &caller,
        reference,
        Access::AdminOver,
        async |c: &Changing<'_>| {
            let t = c.ticket;
            if !t.return_visit_required || t.return_visit_at.is_some() {
                return Err(ServiceError::rejected(
                    Code::ReturnVisitNotDue,
                    "outcome",
                    crate::error::bi("该工单无需回访", "no return visit is due for this ticket"),
                ));
            }
            let mut am = t.clone().into_active_model();
            am.return_visit_at = Set(Some(c.at));
            am.return_visit_outcome = Set(Some(outcome));
            am.return_visit_note = Set(note.as_ref().map(|n| n.as_str().to_owned()));
            am.return_visit_reasons = Set(reasons.clone());
            let text = format!(
                "回访：{}{}",
                outcome.as_str(),
                note.map(|n| format!("，{}", n.as_str()))
                    .unwrap_or_default()
            );
            let mut event = EventDraft::transition(Action::ReturnVisit, c.from, c.from, Some(text));
            // What the resident said on the call is for the offices.
            event.visibility = Visibility::Internal;
            Ok(Decided::in_place(am, event))
        },
    )
    .await
}
