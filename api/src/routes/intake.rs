//! Intake on behalf of a resident (代登记): staff enter a hotline call or a counter visit; the
//! caller claims it in the mini-program with the code they were given. See
//! `services::tickets::intake`.
use poem_openapi::{Enum, Object, OpenApi, payload::Json};
use uuid::Uuid;

use super::{
    ApiResult, Created, Tag,
    auth::{ResidentAuth, StaffAuth},
    text, text_opt,
};
use crate::{
    domain::{Channel, TicketKind, inputs::Phone},
    schemas::{Str, admin::LocationInput, tickets::Ticket},
    services::{self, ServiceError, tickets::NewTicket},
    state::SharedState,
};

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum IntakeChannel {
    /// A call to the street's hotline.
    Hotline,
    /// A resident at the service counter.
    Counter,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct IntakeCreate {
    pub channel: IntakeChannel,
    /// The name the caller gave (up to 30 characters), if any.
    pub caller_name: Option<Str>,
    /// A number to call back (the ticket's contact phone, masked to staff as any other).
    pub caller_phone: Option<Str>,
    /// `suggestion`, `complaint` (the default) or `consultation`; not praise.
    pub kind: Option<TicketKind>,
    /// A category code.
    pub category: Str,
    /// Up to 60 characters.
    pub title: Option<Str>,
    /// What the caller said: 1–2000 characters.
    pub description: Str,
    pub location: Option<LocationInput>,
    pub building_id: Option<Uuid>,
    /// Up to 200 characters.
    pub address_text: Option<Str>,
    /// The caller asked not to be named to grid staff.
    pub anonymous: Option<bool>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ClaimBody {
    /// The code the caller was given (8 letters and digits; spaces, dashes and case ignored).
    pub code: Str,
}

/// Staff enter a hotline call or a counter visit for a resident (代登记): routed as any
/// ticket, with `channel` `hotline` or `counter`. The answer carries `claim_code`: read it
/// to the caller, who claims the ticket in the mini-program (`POST /tickets/claim`) to
/// follow and rate it.
pub(super) async fn enter(
    state: &SharedState,
    auth: StaffAuth,
    body: Json<IntakeCreate>,
) -> ApiResult<Created<Ticket>> {
    let body = body.0;
    let kind = body.kind.unwrap_or(TicketKind::Complaint);
    if kind == TicketKind::Praise {
        return Err(ServiceError::rejected(
            crate::error::Code::InvalidField,
            "kind",
            crate::error::bi(
                "表扬须由居民本人提出",
                "praise comes from residents themselves",
            ),
        )
        .into());
    }
    let channel = match body.channel {
        IntakeChannel::Hotline => Channel::Hotline,
        IntakeChannel::Counter => Channel::Counter,
    };
    let description = text("description", &body.description, 2000)?;
    let new = NewTicket {
        title: text_opt("title", body.title.as_deref(), 60)?,
        location: body
            .location
            .as_ref()
            .map(LocationInput::parse)
            .transpose()?,
        building_id: body.building_id,
        address_text: text_opt("address_text", body.address_text.as_deref(), 200)?,
        anonymous: body.anonymous.unwrap_or(false),
        contact_phone: body
            .caller_phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| Phone::parse("caller_phone", p))
            .transpose()
            .map_err(ServiceError::from)?,
        caller_name: text_opt("caller_name", body.caller_name.as_deref(), 30)?,
        ..NewTicket::told(kind, body.category.into(), description, channel)
    };
    let ctx = state.ctx();
    let scope = auth.scope(&ctx).await?;
    let view = services::tickets::intake::enter(&ctx, &scope, new).await?;
    let topic = services::topics::link_new(&ctx, &view.ticket_view.ticket).await?;
    let mut out = Ticket::from(view.ticket_view);
    out.topic = topic.map(Into::into);
    out.claim_code = view.claim_code;
    out.caller_name = view.caller_name;
    Ok(Created::Created(Json(out)))
}

pub struct IntakeApi {
    pub state: SharedState,
}

#[OpenApi]
impl IntakeApi {
    /// A resident claims a ticket staff entered for them (by phone, at the counter or on a
    /// door-knock visit) with the code they were given: it becomes theirs to follow and rate.
    /// An unknown or used code is `404 not_found`; ten tries an hour, then `429`.
    #[oai(path = "/tickets/claim", method = "post", tag = "Tag::Tickets")]
    async fn claim(&self, auth: ResidentAuth, body: Json<ClaimBody>) -> ApiResult<Json<Ticket>> {
        let ctx = self.state.ctx();
        services::privacy::require_agreement(&ctx, auth.0).await?;
        let view = services::tickets::intake::claim(&ctx, auth.0, &body.0.code).await?;
        Ok(Json(view.into()))
    }
}
