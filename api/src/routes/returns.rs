//! Returns instead of ping-pong (退单, issue 25): the assignee sends a ticket that is not theirs
//! back to the dispatcher; the dispatcher redirects it (`assign`, `transfer`) or refuses the
//! return; the statistics count returns per grid and worker.
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{ApiResult, Tag, auth::StaffAuth, text};
use crate::{
    domain::{ReturnReason, rates::NamedPeriod},
    schemas::{Str, stats::PeriodBound, tickets::Ticket},
    services,
    state::SharedState,
};

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ReturnBody {
    /// `not_my_grid`, `not_my_duty`, `wrong_category` or `other`.
    pub reason_code: ReturnReason,
    /// What the dispatcher should know (1–500 characters), e.g. 「该楼栋属甲二网格」.
    pub note: Str,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct RefuseReturnBody {
    /// Why the ticket stays with the worker (1–500 characters).
    pub note: Str,
}

#[derive(Object)]
pub struct ReturnCount {
    /// A grid's id (in `by_grid`) or a worker's (in `by_worker`).
    pub id: Uuid,
    #[oai(nullable)]
    pub name: Option<String>,
    /// Returns made in the period (流转次数).
    pub returns: u64,
    pub redirected: u64,
    pub refused: u64,
    /// Still waiting for the dispatcher.
    pub waiting: u64,
    /// Minutes the tickets spent returned, up to now for those still waiting.
    pub minutes_returned: i64,
}

#[derive(Object)]
pub struct ReturnStats {
    pub area_id: Uuid,
    pub from: crate::schemas::Time,
    pub to: crate::schemas::Time,
    /// The grids tickets were returned from, most returns first.
    pub by_grid: Vec<ReturnCount>,
    /// The workers who returned them, most returns first.
    pub by_worker: Vec<ReturnCount>,
}

pub struct ReturnApi {
    pub state: SharedState,
}

#[OpenApi(tag = "Tag::Work")]
impl ReturnApi {
    /// The assignee sends the ticket back to the dispatcher one level up (退单): status
    /// `returned`, in the community's queue (the street's for a community-level ticket), the
    /// dispatcher told. A worker whose return of this ticket was refused may not return it
    /// again (`409 return_refused`); past `lifecycle.max_returns` returns the street is told.
    /// The reason is internal; the resident reads that the ticket is being redirected.
    #[oai(path = "/tickets/:id/return", method = "post")]
    async fn send_back(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<ReturnBody>,
    ) -> ApiResult<Json<Ticket>> {
        let note = text("note", &body.note, 500)?;
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let view =
            services::tickets::returns::send_back(&ctx, &scope, &id.0, body.reason_code, note)
                .await?;
        Ok(Json(view.into()))
    }

    /// An administrator over the ticket refuses its return: it goes back to the worker who
    /// returned it, where it was, and that worker may not return it again. To redirect it
    /// instead, `assign` or `transfer` it.
    #[oai(path = "/tickets/:id/refuse-return", method = "post")]
    async fn refuse(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<RefuseReturnBody>,
    ) -> ApiResult<Json<Ticket>> {
        let note = text("note", &body.note, 500)?;
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let view = services::tickets::returns::refuse(&ctx, &scope, &id.0, note).await?;
        Ok(Json(view.into()))
    }

    /// Returns (流转次数) of the area's grids and workers over the period (as the other
    /// statistics take it; by default the last 30 days), with the time tickets spent returned.
    #[oai(path = "/stats/returns", method = "get", tag = "Tag::Stats")]
    async fn stats(
        &self,
        auth: StaffAuth,
        area_id: Query<Uuid>,
        from: Query<Option<PeriodBound>>,
        to: Query<Option<PeriodBound>>,
        period: Query<Option<NamedPeriod>>,
    ) -> ApiResult<Json<ReturnStats>> {
        let ctx = self.state.ctx();
        let asked = super::stats::period(&ctx, from, to, period)?;
        let scope = auth.scope(&ctx).await?;
        let r = services::tickets::returns::tally(&ctx, &scope, area_id.0, asked).await?;
        let dir = ctx.dir().await?;
        let count = |(id, t): (Uuid, services::tickets::returns::Tally), name: Option<String>| {
            ReturnCount {
                id,
                name,
                returns: t.returns,
                redirected: t.redirected,
                refused: t.refused,
                waiting: t.waiting,
                minutes_returned: t.minutes_returned,
            }
        };
        Ok(Json(ReturnStats {
            area_id: area_id.0,
            from: r.asked.period.from.into(),
            to: r.asked.period.to.into(),
            by_grid: r
                .by_grid
                .into_iter()
                .map(|g| count(g, dir.tree.get(g.0).map(|a| a.name.clone())))
                .collect(),
            by_worker: r
                .by_worker
                .into_iter()
                .map(|w| count(w, dir.staff_name(w.0).map(str::to_owned)))
                .collect(),
        }))
    }
}
