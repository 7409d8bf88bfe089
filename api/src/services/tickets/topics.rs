//! What a 每月一题 topic does to its tickets: closing it resolves each open one with the topic's
//! note, as if its handler had, and its resident is asked to rate it.
use sea_orm::{IntoActiveModel, Set};
use uuid::Uuid;

use super::{Access, Changing, Decided, EventDraft, change};
use crate::{
    domain::lifecycle::{Action, Status},
    services::{Caller, Ctx, ServiceError, ServiceResult},
};

/// Resolves an open ticket for the topic `title` closing with `note`. A ticket that was
/// resolved, closed or withdrawn meanwhile, or went beyond the closer's sight (escalated past
/// the owner area), is left as it is, with its handler (`Ok(false)`).
pub async fn resolve_for_topic(
    ctx: &Ctx<'_>,
    caller: &Caller,
    ticket_id: Uuid,
    title: &str,
    note: &str,
) -> ServiceResult<bool> {
    let note = format!("每月一题「{title}」办结：{note}");
    let done = change(
        ctx,
        caller,
        &ticket_id.to_string(),
        Access::Sees,
        async |c: &Changing<'_>| resolved(c, &note),
    )
    .await;
    match done {
        Ok(_) => Ok(true),
        Err(
            ServiceError::InvalidTransition { .. }
            | ServiceError::NotFound
            | ServiceError::NotAssignee,
        ) => Ok(false),
        Err(e) => Err(e),
    }
}

fn resolved(c: &Changing<'_>, note: &str) -> ServiceResult<Decided> {
    let open = matches!(
        c.from,
        Status::PendingDispatch
            | Status::Assigned
            | Status::InProgress
            | Status::Returned
            | Status::Suspended
    );
    if !open {
        return Err(ServiceError::InvalidTransition {
            current: c.from,
            action: "resolve",
        });
    }
    let mut am = c.ticket.clone().into_active_model();
    // Answered and resolved at once: the office took it up through the topic.
    if c.ticket.accepted_at.is_none() {
        am.accepted_at = Set(Some(c.at));
    }
    am.resolved_at = Set(Some(c.at));
    am.status = Set(Status::Resolved);
    Ok(Decided {
        am,
        event: EventDraft::transition(Action::Resolve, c.from, Status::Resolved, Some(note.into())),
        moves_to: Some(Status::Resolved),
        rated: false,
        heard: Some(Action::Resolve),
        carried: true,
    })
}
