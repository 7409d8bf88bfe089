//! Supervision (督办): a community or street administrator flags a ticket with a deadline; the
//! supervised tickets in one's sight. See `services::tickets::supervision`.
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{ApiResult, Tag, auth::StaffAuth, page_limit, text};
use crate::{
    schemas::{
        Str, Time,
        places::CoordSystem,
        tickets::{Ticket, TicketPage},
    },
    services,
    state::SharedState,
};

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct SuperviseBody {
    /// By when it must be resolved: later than now, within 90 days.
    pub deadline: Time,
    /// What the supervisor asks (1–500 characters), e.g. 「请于周五前修复并回复居民」.
    pub note: Str,
}

pub struct SupervisionApi {
    pub state: SharedState,
}

#[OpenApi(tag = "Tag::Work")]
impl SupervisionApi {
    /// A community or street administrator over the ticket supervises it (督办): the assignee
    /// and the administrators above them are told, it comes first in work lists with the
    /// supervisor's deadline, and if it is not resolved by then it goes up a level (at the
    /// street, the street's administrators are told). A later supervision replaces a standing
    /// one. Residents do not see it.
    #[oai(path = "/tickets/:id/supervise", method = "post")]
    async fn supervise(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<SuperviseBody>,
    ) -> ApiResult<Json<Ticket>> {
        let note = text("note", &body.note, 500)?;
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let view =
            services::tickets::supervision::supervise(&ctx, &scope, &id.0, body.deadline.0, note)
                .await?;
        Ok(Json(view.into()))
    }

    /// The supervised open tickets in the caller's sight, the supervisor's soonest deadline
    /// first (at most `limit`, default 20, up to 100).
    #[oai(path = "/work/supervised", method = "get")]
    async fn supervised(
        &self,
        auth: StaffAuth,
        limit: Query<Option<u64>>,
        coord_system: Query<Option<CoordSystem>>,
    ) -> ApiResult<Json<TicketPage>> {
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let page = services::listing::list_supervised(&ctx, &scope, page_limit(limit.0)).await?;
        Ok(Json(
            TicketPage::from(page).in_datum(coord_system.0.unwrap_or_default()),
        ))
    }
}
