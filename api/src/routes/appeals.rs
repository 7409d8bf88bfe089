//! Appeals (甄别): staff ask that an unreasonable ticket leave the rates; the level above
//! decides. See `services::tickets::appeals`.
use poem_openapi::{
    Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{ApiResult, Created, Tag, auth::StaffAuth, page_limit, text};
use crate::{
    domain::{AppealReason, AppealStatus},
    schemas::Str,
    services::tickets::appeals::{self, AppealView, NewAppeal},
    state::SharedState,
};

pub struct AppealApi {
    pub state: SharedState,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct AppealCreate {
    /// Why the ticket is unreasonable.
    pub reason_code: AppealReason,
    /// The facts, for the reviewer: 1–1000 characters.
    pub note: Str,
    /// Evidence photos uploaded first with `POST /attachments` (shown to staff only).
    pub attachment_ids: Option<Vec<Uuid>>,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Deny,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct AppealDecision {
    pub decision: Verdict,
    /// The reviewer's reasons: 1–1000 characters.
    pub note: Str,
}

#[derive(Object)]
pub struct Appeal {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub ticket_number: String,
    pub reason_code: AppealReason,
    pub note: String,
    pub attachment_ids: Vec<Uuid>,
    pub status: AppealStatus,
    pub filed_by: Uuid,
    pub filed_at: crate::schemas::Time,
    /// The area whose admins (or those above them) decide.
    pub reviewer_area_id: Uuid,
    #[oai(nullable)]
    pub decided_by: Option<Uuid>,
    #[oai(nullable)]
    pub decided_at: Option<crate::schemas::Time>,
    #[oai(nullable)]
    pub decision_note: Option<String>,
    /// The caller may decide it now (pending, theirs to review, not their own).
    pub can_decide: bool,
}

impl From<AppealView> for Appeal {
    fn from(v: AppealView) -> Self {
        let a = v.appeal;
        Appeal {
            id: a.id,
            ticket_id: a.ticket_id,
            ticket_number: v.ticket_number,
            reason_code: a.reason_code,
            attachment_ids: appeals::attachment_ids(&a),
            note: a.note,
            status: a.status,
            filed_by: a.filed_by,
            filed_at: a.filed_at.into(),
            reviewer_area_id: a.reviewer_area_id,
            decided_by: a.decided_by,
            decided_at: a.decided_at.map(Into::into),
            decision_note: a.decision_note,
            can_decide: v.can_decide,
        }
    }
}

#[OpenApi(tag = "Tag::Work")]
impl AppealApi {
    /// Appeals a ticket the caller handles as unreasonable (`malicious`, `repeated`,
    /// `outside_duties`, `no_legal_basis`). One appeal waits at a time (`409 appeal_pending`);
    /// praise and tickets already excluded cannot be appealed (`409 not_appealable`).
    #[oai(path = "/tickets/:id/appeal", method = "post")]
    async fn file(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<AppealCreate>,
    ) -> ApiResult<Created<Appeal>> {
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let body = body.0;
        let new = NewAppeal {
            reason: body.reason_code,
            note: text("note", &body.note, 1000)?,
            attachment_ids: body.attachment_ids.unwrap_or_default(),
        };
        let view = appeals::file(&ctx, scope, &id.0, new).await?;
        Ok(Created::Created(Json(view.into())))
    }

    /// Decides a pending appeal: `approve` takes the ticket out of the rates of every period,
    /// `deny` leaves it in. Only an admin of the reviewing area or above, never the one who
    /// appealed (`403 forbidden`); a decided appeal is `409 appeal_decided`.
    #[oai(path = "/appeals/:id/decision", method = "post")]
    async fn decide(
        &self,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<AppealDecision>,
    ) -> ApiResult<Json<Appeal>> {
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let note = text("note", &body.0.note, 1000)?;
        let approve = body.0.decision == Verdict::Approve;
        let view = appeals::decide(&ctx, scope, id.0, approve, note).await?;
        Ok(Json(view.into()))
    }

    /// The appeals on tickets in the caller's sight and those they filed, newest first;
    /// `status` narrows them (`pending` is the reviewer's inbox: see `can_decide`).
    #[oai(path = "/work/appeals", method = "get")]
    async fn list(
        &self,
        auth: StaffAuth,
        status: Query<Option<AppealStatus>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<Vec<Appeal>>> {
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let rows = appeals::list(&ctx, &scope, status.0, page_limit(limit.0)).await?;
        Ok(Json(rows.into_iter().map(Appeal::from).collect()))
    }
}
