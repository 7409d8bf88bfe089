//! Comments: a resident adding information (screened by content safety), or staff noting
//! progress, internal ones hidden from the resident with their photos. A comment changes no
//! status, so one that loses a race with a transition is simply made again.
use sea_orm::IntoActiveModel;
use uuid::Uuid;

use super::{Access, Changing, Decided, EventDraft, TicketView, change, submit::screen_resident};
use crate::{
    domain::{
        Visibility,
        inputs::Text,
        lifecycle::{Action, next},
    },
    services::{
        Caller, Ctx, ServiceError, ServiceResult,
        attachments::{self, Attachment, Owner},
        safety,
    },
};

/// How often a comment is tried again after losing a race with a change to its ticket.
const TRIES: usize = 3;

pub async fn comment(
    ctx: &Ctx<'_>,
    caller: &Caller,
    reference: &str,
    text: Text,
    internal: bool,
    attachment_ids: &[Uuid],
) -> ServiceResult<TicketView> {
    let visibility = match caller {
        Caller::Staff(_) if internal => Visibility::Internal,
        _ => Visibility::Public,
    };
    let moderation = match caller {
        Caller::Resident(id) => {
            screen_resident(ctx, *id, text.as_str(), safety::SCENE_COMMENT).await?
        }
        Caller::Staff(_) => None,
    };
    for _ in 0..TRIES {
        let made = change(
            ctx,
            caller,
            reference,
            Access::Sees,
            async |c: &Changing<'_>| {
                next(c.from, Action::Comment)?;
                let photos = Attachment {
                    ticket_id: c.ticket.id,
                    purpose: "comment",
                    visibility,
                };
                let max = c.ctx.settings.media.max_per_ticket;
                attachments::attach(c.txn, attachment_ids, Owner::of(caller), photos, max).await?;
                let event = EventDraft {
                    action: Action::Comment.name(),
                    from: Some(c.from),
                    to: Some(c.from),
                    note: Some(text.as_str().to_owned()),
                    visibility,
                    moderation: moderation.clone(),
                    public_note: None,
                };
                Ok(Decided::in_place(
                    c.ticket.clone().into_active_model(),
                    event,
                ))
            },
        )
        .await;
        match made {
            Err(ServiceError::ConcurrentUpdate) => continue,
            other => return other,
        }
    }
    Err(ServiceError::ConcurrentUpdate)
}
