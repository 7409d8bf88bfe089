//! Merging: a ticket merged into its main one follows the main ticket's status from then on (an
//! event each, and its reporter hears what the main ticket's reporter hears), and its supporters
//! and reporter count as the main ticket's, none lost, none twice.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use uuid::Uuid;

use super::{
    Access, Changing, Decided, EventDraft, TicketView, change, referenced, rejected,
    resident_notice, save,
};
use crate::{
    domain::{
        ActorKind,
        access::StaffScope,
        lifecycle::{Action, Status},
    },
    error::Code,
    services::{Caller, Ctx, ServiceError, ServiceResult, notify},
};
use entity::{ticket, ticket_support};

/// Makes a merged ticket mirror its main one, at `at`: status, holder, and the milestones that
/// matter. What the main ticket did before the follower took its lead happened to the follower
/// only now: a merge never backdates an answer or a resolution (the rates read them).
fn mirror(
    am: &mut ticket::ActiveModel,
    follower: &ticket::Model,
    main: &ticket::Model,
    at: DateTime<Utc>,
) {
    let not_before = |t: Option<DateTime<Utc>>| t.map(|t| t.max(at));
    am.status = Set(main.status);
    am.assignee_id = Set(main.assignee_id);
    am.handling_area_id = Set(main.handling_area_id);
    am.accepted_at = Set(follower.accepted_at.or(not_before(main.accepted_at)));
    am.resolved_at = Set(not_before(main.resolved_at));
    if main.status.is_terminal() {
        am.closed_at = Set(follower.closed_at.or(Some(at)));
    }
    am.next_response_check_at = Set(None);
}

/// Tickets merged into `main` follow the transition `action` it just made: each gets the same
/// status and holder, an event, and its reporter hears what the main ticket's reporter hears.
pub(super) async fn follow_main(
    db: &impl ConnectionTrait,
    main: &ticket::Model,
    action: Action,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let followers = ticket::Entity::find()
        .filter(ticket::Column::DuplicateOf.eq(main.id))
        .filter(ticket::Column::Status.ne(Status::Rejected.as_str()))
        .all(db)
        .await?;
    for f in followers {
        let from = f.status;
        let to = main.status;
        if from.is_terminal() {
            continue;
        }
        let mut am = f.clone().into_active_model();
        mirror(&mut am, &f, main, at);
        let event = EventDraft::named(
            "follow",
            from,
            to,
            Some(format!("随主工单{}：{}", main.number, action.name())),
        );
        let saved = save(db, &f, am, (ActorKind::System, None), vec![event], at).await?;
        if let (Some(r), Some(e)) = (saved.resident_id, resident_notice(action)) {
            notify::resident(db, r, e, &saved, at).await?;
        }
    }
    // Tickets rejected as duplicates of `main` keep their own status; their reporters hear
    // how the original goes, as its own reporter does.
    if let Some(e) = resident_notice(action) {
        let duplicates = ticket::Entity::find()
            .filter(ticket::Column::DuplicateOf.eq(main.id))
            .filter(ticket::Column::Status.eq(Status::Rejected.as_str()))
            .all(db)
            .await?;
        for d in duplicates {
            if let Some(r) = d.resident_id {
                notify::resident(db, r, e, &d, at).await?;
            }
        }
    }
    Ok(())
}

/// Merges a ticket into another (`into`, its main one), by staff who handle the merged one and
/// may see the main one.
pub async fn merge(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    reference: &str,
    into: &str,
) -> ServiceResult<TicketView> {
    let caller = Caller::Staff(scope.clone());
    change(
        ctx,
        &caller,
        reference,
        Access::Handles,
        async |c: &Changing<'_>| {
            let t = c.ticket;
            let (main, _) = referenced(c.txn, c.dir, c.caller, into, "into").await?;
            if main.id == t.id || main.duplicate_of.is_some() || t.duplicate_of.is_some() {
                return Err(rejected(
                    Code::InvalidField,
                    "into",
                    crate::error::bi(
                        "只能合并到一个本身未被合并的工单",
                        "merge into another ticket that is not itself merged",
                    ),
                ));
            }
            let to = main.status;
            if c.from.is_terminal() || to.is_terminal() {
                return Err(ServiceError::InvalidTransition {
                    current: if c.from.is_terminal() { c.from } else { to },
                    action: "merge",
                });
            }
            let main = carry_supporters(c, t, &main).await?;
            let mut am = t.clone().into_active_model();
            am.duplicate_of = Set(Some(main.id));
            mirror(&mut am, t, &main, c.at);
            let note = Some(format!("并入{}", main.number));
            Ok(Decided::in_place(
                am,
                EventDraft::named("merge", c.from, to, note),
            ))
        },
    )
    .await
}

/// Everyone behind the merged ticket (its supporters and its reporter) now backs the main one,
/// once; the main ticket records the merge. Returns the main ticket as saved.
async fn carry_supporters(
    c: &Changing<'_>,
    merged: &ticket::Model,
    main: &ticket::Model,
) -> ServiceResult<ticket::Model> {
    let mut backers: Vec<Uuid> = ticket_support::Entity::find()
        .filter(ticket_support::Column::TicketId.eq(merged.id))
        .all(c.txn)
        .await?
        .into_iter()
        .map(|s| s.resident_id)
        .collect();
    backers.extend(merged.resident_id);
    for resident in backers {
        let have = ticket_support::Entity::find_by_id((main.id, resident))
            .one(c.txn)
            .await?
            .is_some();
        if !have && main.resident_id != Some(resident) {
            ticket_support::ActiveModel {
                ticket_id: Set(main.id),
                resident_id: Set(resident),
                created_at: Set(c.at),
            }
            .insert(c.txn)
            .await?;
        }
    }
    let count = ticket_support::Entity::find()
        .filter(ticket_support::Column::TicketId.eq(main.id))
        .all(c.txn)
        .await?
        .len();
    let status = main.status;
    let mut main_am = main.clone().into_active_model();
    main_am.support_count = Set(count as i32);
    let event = EventDraft::named(
        "merge",
        status,
        status,
        Some(format!("合并{}", merged.number)),
    );
    save(c.txn, main, main_am, c.caller.actor(), vec![event], c.at).await
}
