//! Tickets: submission with routing, every lifecycle transition, comments, ratings, merges and
//! what each viewer is shown. One room per idea:
//!
//! - [`submit`]: a new ticket, routed, once per idempotency key;
//! - [`commands`]: what staff do (accept, resolve, transfer, escalate, reject, assign), a
//!   resident's withdrawal and the return visit;
//! - [`rating`], [`comments`], [`merge`];
//! - [`returns`] (退单), [`supervision`] (督办), [`extensions`] (延期 and 挂账): the command
//!   centre's tools;
//! - [`view`]: what a caller may see of a ticket, masked for them.
//!
//! Here is what they share: finding a ticket the caller may see, and [`change`], the one way a
//! ticket changes. Each change is one transaction: the ticket row is updated with `WHERE version =
//! <read version>` (a loser of a race gets `ConcurrentUpdate`, a 409), its timeline event is
//! inserted beside it, the statistics rollups and the notification outbox are written in the same
//! transaction.
pub mod appeals;
pub mod commands;
pub mod comments;
pub mod corrections;
pub mod extensions;
pub mod intake;
pub mod merge;
mod praise;
pub mod rating;
pub mod returns;
pub mod submit;
pub mod supervision;
pub mod topics;
pub mod view;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

pub use commands::{StaffCommand, TransferTarget, act, record_return_visit, withdraw};
pub use comments::comment;
pub use merge::merge;
pub use rating::{NewRating, rate};
pub use submit::{
    Idempotency, NewTicket, Reporter, Submission, create, create_in, replay, submit_once,
};
pub use view::{
    Shown, TicketView, Timing, assemble, count_open_by_status, get, read_for_page, show,
};

use super::{
    Caller, Ctx, ServiceError, ServiceResult, directory::Directory, notify, routing::Destination,
    safety::Moderation, sla,
};
use crate::{
    domain::{
        ActorKind, RatingLevel, Visibility,
        access::Placement,
        lifecycle::{Action, Status, next},
    },
    error::Code,
};
use entity::{ticket, ticket_event};

pub(super) struct EventDraft {
    pub action: &'static str,
    pub from: Option<Status>,
    pub to: Option<Status>,
    pub note: Option<String>,
    pub visibility: Visibility,
    pub moderation: Option<Moderation>,
    /// What the resident reads when `note` is internal (a transfer's or escalation's reason).
    pub public_note: Option<String>,
}

impl EventDraft {
    pub fn transition(action: Action, from: Status, to: Status, note: Option<String>) -> Self {
        EventDraft::named(action.name(), from, to, note)
    }

    /// A public event that is not one of the lifecycle's actions (`merge`, `follow`).
    pub fn named(action: &'static str, from: Status, to: Status, note: Option<String>) -> Self {
        EventDraft {
            action,
            from: Some(from),
            to: Some(to),
            note,
            visibility: Visibility::Public,
            moderation: None,
            public_note: None,
        }
    }
}

pub(super) async fn insert_events(
    db: &impl ConnectionTrait,
    ticket_id: Uuid,
    first_seq: i32,
    actor: (ActorKind, Option<Uuid>),
    events: Vec<EventDraft>,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let rows: Vec<ticket_event::ActiveModel> = events
        .into_iter()
        .enumerate()
        .map(|(i, e)| event_row(ticket_id, first_seq + i as i32, actor, e, at))
        .collect();
    if !rows.is_empty() {
        ticket_event::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

pub(super) fn event_row(
    ticket_id: Uuid,
    seq: i32,
    actor: (ActorKind, Option<Uuid>),
    e: EventDraft,
    at: DateTime<Utc>,
) -> ticket_event::ActiveModel {
    ticket_event::ActiveModel {
        id: Set(Uuid::new_v4()),
        ticket_id: Set(ticket_id),
        seq: Set(seq),
        actor_kind: Set(actor.0),
        actor_id: Set(actor.1),
        action: Set(e.action.to_owned()),
        from_status: Set(e.from),
        to_status: Set(e.to),
        note: Set(e.note),
        visibility: Set(e.visibility),
        created_at: Set(at),
        moderation: Set(e.moderation.as_ref().map(|m| m.status.to_owned())),
        moderation_label: Set(e.moderation.and_then(|m| m.label)),
        public_note: Set(e.public_note),
    }
}

/// Writes the changed ticket if nobody changed it since `read`, its events and the statistics
/// rollups with it.
pub(super) async fn save(
    db: &impl ConnectionTrait,
    read: &ticket::Model,
    am: ticket::ActiveModel,
    actor: (ActorKind, Option<Uuid>),
    events: Vec<EventDraft>,
    at: DateTime<Utc>,
) -> ServiceResult<ticket::Model> {
    save_rated(db, read, am, actor, events, at, false).await
}

/// [`save`], for a change that recorded a rating at `at`.
pub(super) async fn save_rated(
    db: &impl ConnectionTrait,
    read: &ticket::Model,
    mut am: ticket::ActiveModel,
    actor: (ActorKind, Option<Uuid>),
    events: Vec<EventDraft>,
    at: DateTime<Utc>,
    rated: bool,
) -> ServiceResult<ticket::Model> {
    am.version = Set(read.version + 1);
    am.event_count = Set(read.event_count + events.len() as i32);
    am.updated_at = Set(at);
    super::rollups::stamp_moments(Some(read), &mut am, at)?;
    let updated = ticket::Entity::update(am)
        .validate()?
        .filter(ticket::Column::Version.eq(read.version))
        .exec(db)
        .await
        .map_err(|e| match e {
            DbErr::RecordNotUpdated => ServiceError::ConcurrentUpdate,
            other => ServiceError::Db(other),
        })?;
    insert_events(db, read.id, read.event_count + 1, actor, events, at).await?;
    super::rollups::ticket_changed(db, Some(read), &updated, rated.then_some(at)).await?;
    Ok(updated)
}

/// A change the system makes (the scheduler), with its one event.
#[allow(clippy::too_many_arguments)]
pub async fn save_system(
    db: &impl ConnectionTrait,
    read: &ticket::Model,
    am: ticket::ActiveModel,
    action: Action,
    from: Status,
    to: Status,
    note: Option<String>,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let event = EventDraft::transition(action, from, to, note);
    save(db, read, am, (ActorKind::System, None), vec![event], at)
        .await
        .map(|_| ())
}

/// A change the system makes that leaves the status as it is (the privacy jobs), recorded by a
/// public event named `action`.
pub async fn save_system_note(
    db: &impl ConnectionTrait,
    read: &ticket::Model,
    am: ticket::ActiveModel,
    action: &'static str,
    note: String,
    at: DateTime<Utc>,
) -> ServiceResult<ticket::Model> {
    let event = EventDraft::named(action, read.status, read.status, Some(note));
    save(db, read, am, (ActorKind::System, None), vec![event], at).await
}

fn rejected(code: Code, field: &str, detail: impl Into<String>) -> ServiceError {
    ServiceError::rejected(code, field, detail)
}

pub(super) fn category_of<'d>(
    dir: &'d Directory,
    t: &ticket::Model,
) -> ServiceResult<&'d entity::category::Model> {
    dir.category(t.category_id)
        .ok_or_else(|| ServiceError::Internal("ticket without category".into()))
}

/// Parses a ticket reference: its UUID or its public number.
pub(crate) async fn find(
    db: &impl ConnectionTrait,
    reference: &str,
) -> ServiceResult<ticket::Model> {
    by_reference(reference)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)
}

pub(super) fn by_reference(reference: &str) -> sea_orm::Select<ticket::Entity> {
    match Uuid::parse_str(reference) {
        Ok(id) => ticket::Entity::find_by_id(id),
        Err(_) => ticket::Entity::find().filter(ticket::Column::Number.eq(reference)),
    }
}

pub(super) fn placement<'a>(t: &ticket::Model, group: &'a str) -> Placement<'a> {
    Placement {
        grid_id: t.grid_id,
        handling_area_id: t.handling_area_id,
        assignee_id: t.assignee_id,
        category_group: group,
    }
}

/// Loads a ticket the caller may see; anything else is `NotFound` (no existence leak).
pub(super) async fn visible(
    db: &impl ConnectionTrait,
    dir: &Directory,
    caller: &Caller,
    reference: &str,
) -> ServiceResult<(ticket::Model, entity::category::Model)> {
    let t = find(db, reference).await?;
    let category = category_of(dir, &t)?.clone();
    if may_see(dir, caller, &t, &category) {
        Ok((t, category))
    } else {
        Err(ServiceError::NotFound)
    }
}

/// A ticket named in a request's body (`duplicate_of`, `into`): one the caller may not see
/// answers exactly as one that does not exist, `404 not_found` naming the field, so a reference
/// reveals nothing about tickets outside the caller's scope.
pub(super) async fn referenced(
    db: &impl ConnectionTrait,
    dir: &Directory,
    caller: &Caller,
    reference: &str,
    field: &'static str,
) -> ServiceResult<(ticket::Model, entity::category::Model)> {
    match visible(db, dir, caller, reference).await {
        Err(ServiceError::NotFound) => Err(ServiceError::Rejected {
            code: Code::NotFound,
            field: Some(field.to_owned()),
            detail: None,
        }),
        other => other,
    }
}

pub(super) fn may_see(
    dir: &Directory,
    caller: &Caller,
    t: &ticket::Model,
    category: &entity::category::Model,
) -> bool {
    match caller {
        Caller::Resident(id) => t.resident_id == Some(*id),
        Caller::Staff(scope) => scope.can_see(&dir.tree, &placement(t, &category.group_name)),
    }
}

/// Who may make a change.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Whoever may see the ticket (a resident their own).
    Sees,
    /// Its assignee or an admin above it.
    Handles,
    /// An admin above it.
    AdminOver,
}

/// A ticket being changed, read in the change's transaction, with what deciding needs.
pub(super) struct Changing<'c> {
    pub ctx: &'c Ctx<'c>,
    pub txn: &'c DatabaseTransaction,
    pub dir: &'c Directory,
    pub caller: &'c Caller,
    pub ticket: &'c ticket::Model,
    pub category: &'c entity::category::Model,
    pub from: Status,
    pub at: DateTime<Utc>,
}

/// What a change decided: the row to write and its event, and what follows from it.
pub(super) struct Decided {
    pub am: ticket::ActiveModel,
    pub event: EventDraft,
    /// The status it moves to, when it moves: the response clock follows.
    pub moves_to: Option<Status>,
    /// A rating was recorded at the change's time.
    pub rated: bool,
    /// The transition people hear about; with `carried`, merged tickets follow it too.
    pub heard: Option<Action>,
    pub carried: bool,
}

impl Decided {
    /// A transition of the lifecycle (checked against the machine), its event carrying `note`.
    pub fn transition(
        c: &Changing<'_>,
        mut am: ticket::ActiveModel,
        action: Action,
        note: Option<String>,
    ) -> ServiceResult<Decided> {
        let to = next(c.from, action)?;
        am.status = Set(to);
        Ok(Decided {
            am,
            event: EventDraft::transition(action, c.from, to, note),
            moves_to: Some(to),
            rated: false,
            heard: Some(action),
            carried: false,
        })
    }

    /// A change that leaves the status as it is, recorded by `event`.
    pub fn in_place(am: ticket::ActiveModel, event: EventDraft) -> Decided {
        Decided {
            am,
            event,
            moves_to: None,
            rated: false,
            heard: None,
            carried: false,
        }
    }
}

/// The one way a ticket changes: in a write transaction, loads the ticket the caller may see
/// (and, for staff, change as `access` says: outside their sight `NotFound`, within it but not
/// theirs `NotAssignee`), lets `decide` make the change, saves it with its event (a lost race is
/// `ConcurrentUpdate`), restarts or stops the response clock, writes the notifications,
/// commits, and shows the caller the result.
pub(super) async fn change(
    ctx: &Ctx<'_>,
    caller: &Caller,
    reference: &str,
    access: Access,
    decide: impl AsyncFnOnce(&Changing<'_>) -> ServiceResult<Decided>,
) -> ServiceResult<view::TicketView> {
    let txn = super::write_txn(ctx.db).await?;
    let dir = ctx.dir_in(&txn).await?;
    let (t, category) = visible(&txn, &dir, caller, reference).await?;
    if let Caller::Staff(scope) = caller {
        let place = placement(&t, &category.group_name);
        let allowed = match access {
            Access::Sees => true,
            Access::Handles => scope.handles(&dir.tree, &place),
            Access::AdminOver => scope.is_admin_over(&dir.tree, &place),
        };
        if !allowed {
            return Err(ServiceError::NotAssignee);
        }
    }
    let at = ctx.now();
    let changing = Changing {
        ctx,
        txn: &txn,
        dir: &dir,
        caller,
        ticket: &t,
        category: &category,
        from: t.status,
        at,
    };
    let decided = decide(&changing).await?;
    if t.status == Status::Returned && decided.event.to != Some(Status::Returned) {
        returns::on_leaving(&txn, &t, decided.event.action, caller, at).await?;
    }
    let mut am = decided.am;
    if let Some(to) = decided.moves_to {
        // A change that leaves the ticket where it was (a supervision, a request, a correction
        // in place) does not restart its response clock.
        if to != t.status || assignee_after(&t, &am) != t.assignee_id {
            response_window(&mut am, to, &category, ctx.calendar, at);
        }
        supervision::on_change(&txn, &t, &mut am, to, at).await?;
        extensions::on_change(&txn, &t, &mut am, to, &category, ctx.calendar, at).await?;
    }
    let event = vec![decided.event];
    let saved = save_rated(&txn, &t, am, caller.actor(), event, at, decided.rated).await?;
    if let Some(action) = decided.heard {
        notify_transition(&txn, &t, &saved, action, at).await?;
        if decided.carried {
            merge::follow_main(&txn, &saved, action, at).await?;
        }
    }
    txn.commit().await?;
    view::view(ctx, &dir, caller, saved, None, true).await
}

/// Waiting for someone to accept starts a new response window at that level; anything else
/// stops the response clock.
fn response_window(
    am: &mut ticket::ActiveModel,
    to: Status,
    category: &entity::category::Model,
    calendar: &crate::domain::calendar::WorkCalendar,
    at: DateTime<Utc>,
) {
    let waiting = matches!(to, Status::Assigned | Status::PendingDispatch);
    am.next_response_check_at =
        Set(waiting.then(|| sla::response_deadline(category, at, calendar)));
}

/// What a resident hears of a transition of their ticket (or of the one it was merged into).
pub(super) fn resident_notice(action: Action) -> Option<notify::Event> {
    use notify::Event;
    match action {
        Action::Accept => Some(Event::Accepted),
        Action::Resolve => Some(Event::Resolved),
        Action::Reject => Some(Event::Rejected),
        Action::Escalate { .. } | Action::RateEscalate { .. } => Some(Event::Escalated),
        _ => None,
    }
}

/// The notification records a transition calls for, in its transaction.
pub(super) async fn notify_transition(
    db: &impl ConnectionTrait,
    before: &ticket::Model,
    after: &ticket::Model,
    action: Action,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    use notify::Event;
    if let Some(assignee) = after.assignee_id {
        let event = match action {
            Action::Rate(RatingLevel::Unsatisfied) => Some(Event::Reopened),
            _ if before.assignee_id != Some(assignee) => Some(Event::Assigned),
            _ => None,
        };
        if let Some(e) = event {
            notify::staff(db, assignee, e, after, at).await?;
        }
    }
    if let (Some(resident), Some(e)) = (after.resident_id, resident_notice(action)) {
        notify::resident(db, resident, e, after, at).await?;
    }
    Ok(())
}

/// Who holds the ticket `before` once the change `am` is written.
pub(crate) fn assignee_after(before: &ticket::Model, am: &ticket::ActiveModel) -> Option<Uuid> {
    match &am.assignee_id {
        sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => *v,
        sea_orm::ActiveValue::NotSet => before.assignee_id,
    }
}

/// The community and street administrators holding `area`.
pub(super) fn admins_of(dir: &Directory, area: Uuid) -> Vec<Uuid> {
    use crate::domain::StaffRole;
    let mut ids: Vec<Uuid> = dir
        .holders(area)
        .filter(|(_, _, role)| {
            matches!(
                role.assignment.role,
                StaffRole::CommunityAdmin | StaffRole::StreetAdmin
            )
        })
        .map(|(id, _, _)| id)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

pub(super) fn apply_destination(am: &mut ticket::ActiveModel, dest: Destination) {
    am.grid_id = Set(dest.grid_id);
    am.handling_area_id = Set(dest.handling_area_id);
    am.assignee_id = Set(dest.assignee_id);
}
