//! Extensions (延期) and suspensions (挂账): the assignee asks, an administrator above decides;
//! a suspended ticket resumes. See `services::tickets::extensions`.
use poem_openapi::{
    Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{ApiResult, Created, Tag, auth::StaffAuth, page_limit, text, text_opt};
use crate::{
    domain::{ExtensionKind, ExtensionStatus},
    schemas::{Str, Time, tickets::Ticket},
    services::{
        ServiceError,
        tickets::extensions::{self, ExtensionView, Request},
    },
    state::SharedState,
};

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ExtensionCreate {
    /// `extension` (the default: a later resolution deadline) or `suspension` (挂账: the clock
    /// stops while a third party acts, for a ticket in progress).
    pub kind: Option<ExtensionKind>,
    /// Extension: the new resolution deadline, after the current one and at most
    /// `lifecycle.max_extension_days` (30) later. Suspension: when it resumes by itself, if
    /// known (within `lifecycle.max_suspension_days`, 90).
    pub until: Option<Time>,
    /// Why (1–500 characters), e.g. 「需物业公司采购配件」.
    pub reason: Str,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ExtensionVerdict {
    Approve,
    Refuse,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ExtensionDecision {
    /// `approve` or `refuse` (or say `approved: true|false`).
    pub decision: Option<ExtensionVerdict>,
    pub approved: Option<bool>,
    /// The decider's words (up to 500 characters).
    pub note: Option<Str>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ResumeBody {
    /// Up to 500 characters.
    pub note: Option<Str>,
}

#[derive(Object)]
pub struct Extension {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub ticket_number: String,
    pub kind: ExtensionKind,
    pub status: ExtensionStatus,
    #[oai(nullable)]
    pub until: Option<Time>,
    pub reason: String,
    pub requested_by: Uuid,
    pub requested_at: Time,
    /// The resolution deadline when it was asked for.
    #[oai(nullable)]
    pub due_before: Option<Time>,
    #[oai(nullable)]
    pub decided_by: Option<Uuid>,
    #[oai(nullable)]
    pub decided_at: Option<Time>,
    #[oai(nullable)]
    pub decision_note: Option<String>,
    /// The caller may decide it now (pending, theirs to decide, not their own).
    pub can_decide: bool,
}

impl From<ExtensionView> for Extension {
    fn from(v: ExtensionView) -> Self {
        let r = v.row;
        Extension {
            id: r.id,
            ticket_id: r.ticket_id,
            ticket_number: v.ticket_number,
            kind: r.kind,
            status: r.status,
            until: r.until.map(Into::into),
            reason: r.reason,
            requested_by: r.requested_by,
            requested_at: r.requested_at.into(),
            due_before: r.due_before.map(Into::into),
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(Into::into),
            decision_note: r.decision_note,
            can_decide: v.can_decide,
        }
    }
}

pub struct ExtensionApi {
    pub state: SharedState,
}

#[OpenApi(tag = "Tag::Work")]
impl ExtensionApi {
    /// The assignee asks for more time (延期) or for a pause while a third party acts (挂账),
    /// before the resolution deadline (`409 extension_too_late` after it); one request waits
    /// at a time (`409 extension_pending`). The administrators above are told.
    #[oai(path = "/tickets/:id/extension", method = "post")]
    async fn request(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<ExtensionCreate>,
    ) -> ApiResult<Created<Extension>> {
        let body = body.0;
        let asked = Request {
            kind: body.kind.unwrap_or(ExtensionKind::Extension),
            until: body.until.map(|t| t.0),
            reason: text("reason", &body.reason, 500)?,
        };
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let view = extensions::request(&ctx, &scope, &id.0, asked).await?;
        Ok(Created::Created(Json(view.into())))
    }

    /// An administrator over the ticket (never the one who asked: `403 forbidden`) decides:
    /// an approved extension moves the resolution deadline, which the rates then count
    /// against; an approved suspension sets the ticket `suspended` with its clock stopped. A
    /// decided request is `409 extension_decided`; one whose ticket left its assignee's hands
    /// meanwhile was `cancelled`.
    #[oai(path = "/extensions/:id/decision", method = "post")]
    async fn decide(
        &self,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<ExtensionDecision>,
    ) -> ApiResult<Json<Extension>> {
        let body = body.0;
        let approve = match (body.decision, body.approved) {
            (Some(d), None) => d == ExtensionVerdict::Approve,
            (None, Some(a)) => a,
            (Some(d), Some(a)) if a == (d == ExtensionVerdict::Approve) => a,
            _ => {
                return Err(ServiceError::rejected(
                    crate::error::Code::InvalidField,
                    "decision",
                    crate::error::bi(
                        "请选择同意（approve）或不同意（refuse）",
                        "say `decision: approve|refuse`",
                    ),
                )
                .into());
            }
        };
        let note = text_opt("note", body.note.as_deref(), 500)?;
        let note = match note {
            Some(n) => n,
            None => text("note", if approve { "同意" } else { "不同意" }, 500)?,
        };
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let view = extensions::decide(&ctx, &scope, id.0, approve, note).await?;
        Ok(Json(view.into()))
    }

    /// The assignee (or an administrator above) resumes a suspended ticket: the resolution
    /// clock runs again with the time that was left when it stopped.
    #[oai(path = "/tickets/:id/resume", method = "post")]
    async fn resume(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<ResumeBody>,
    ) -> ApiResult<Json<Ticket>> {
        let note = text_opt("note", body.0.note.as_deref(), 500)?;
        let note = match note {
            Some(n) => n,
            None => text("note", "恢复办理", 500)?,
        };
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let view = extensions::resume(&ctx, &scope, &id.0, note).await?;
        Ok(Json(view.into()))
    }

    /// Requests on tickets in the caller's sight and those they made, newest first (at most
    /// `limit`); `status=pending` is an administrator's queue (see `can_decide`).
    #[oai(path = "/work/extensions", method = "get")]
    async fn list(
        &self,
        auth: StaffAuth,
        status: Query<Option<ExtensionStatus>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<Vec<Extension>>> {
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let rows = extensions::list(&ctx, &scope, status.0, page_limit(limit.0)).await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }
}
