//! Residents' contact data behind a reveal (PIPL Art. 51): staff views show the phone masked;
//! `POST /tickets/{id}/reveal-contact {reason}` returns it to the ticket's assignee or an
//! administrator over it and logs who, whose, why and when; system administrators read the log.
use poem_openapi::{Object, OpenApi, param::Path, param::Query, payload::Json};
use uuid::Uuid;

use super::{
    ApiResult, Tag,
    auth::{AdminAuth, StaffAuth},
};
use crate::{
    domain::inputs::Text,
    schemas::{Str, Time},
    services::{self, ServiceError},
    state::SharedState,
};

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct RevealBody {
    /// Why the number is needed now (kept in the access log), e.g. 「上门前电话确认地址」.
    pub reason: Str,
}

#[derive(Object)]
pub struct Revealed {
    /// The resident's contact phone on this ticket; null when they gave none.
    #[oai(nullable)]
    pub contact_phone: Option<String>,
}

#[derive(Object)]
pub struct AccessEntry {
    pub id: Uuid,
    pub staff_id: Uuid,
    #[oai(nullable)]
    pub resident_id: Option<Uuid>,
    pub ticket_id: Uuid,
    /// Which datum: `contact_phone`.
    pub field: String,
    pub reason: String,
    #[oai(nullable)]
    pub request_id: Option<String>,
    pub at: Time,
}

pub struct PrivacyApi {
    pub state: SharedState,
}

#[OpenApi]
impl PrivacyApi {
    /// Reveals the resident's contact phone to the ticket's assignee or an administrator over
    /// it, for a reason of 2–200 characters, and logs it; anyone else gets 404.
    #[oai(
        path = "/tickets/:id/reveal-contact",
        method = "post",
        tag = "Tag::Work"
    )]
    async fn reveal(
        &self,
        req: &poem::Request,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<RevealBody>,
    ) -> ApiResult<Json<Revealed>> {
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let reason = Text::parse("reason", &body.0.reason, 200).map_err(ServiceError::from)?;
        if reason.as_str().chars().count() < 2 {
            return Err(ServiceError::rejected(
                crate::error::Code::InvalidField,
                "reason",
                crate::error::bi("请说明查看理由", "say why the number is needed"),
            )
            .into());
        }
        let request_id = req
            .headers()
            .get(crate::edge::REQUEST_ID)
            .and_then(|v| v.to_str().ok());
        let contact_phone =
            services::privacy::reveal_contact(&ctx, &scope, &id.0, reason, request_id).await?;
        Ok(Json(Revealed { contact_phone }))
    }

    /// Who revealed residents' contact data, newest first (system administrators): filter by
    /// `staff_id`, `resident_id`, and `from`/`to` (RFC 3339).
    #[oai(path = "/admin/access-log", method = "get", tag = "Tag::Admin")]
    async fn access_log(
        &self,
        _auth: AdminAuth,
        staff_id: Query<Option<Uuid>>,
        resident_id: Query<Option<Uuid>>,
        from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        to: Query<Option<chrono::DateTime<chrono::Utc>>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<Vec<AccessEntry>>> {
        let rows = services::privacy::access_log(
            &self.state.ctx(),
            staff_id.0,
            resident_id.0,
            from.0,
            to.0,
            super::page_limit(limit.0),
        )
        .await?;
        Ok(Json(
            rows.into_iter()
                .map(|r| AccessEntry {
                    id: r.id,
                    staff_id: r.staff_id,
                    resident_id: r.resident_id,
                    ticket_id: r.ticket_id,
                    field: r.field,
                    reason: r.reason,
                    request_id: r.request_id,
                    at: r.at.into(),
                })
                .collect(),
        ))
    }
}
