//! Door-knock visits: record one with the suggestions heard, list them, and see which buildings
//! of a grid were visited in a period.
use crate::schemas::Str;
use chrono::{DateTime, Duration, Utc};
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};
use uuid::Uuid;

use super::{ApiResult, Created, Tag, auth::StaffAuth, text, text_opt};
use crate::{
    domain::{Channel, TicketKind, access::StaffScope, inputs::Phone},
    error::{ApiError, Code},
    services::{self, ServiceError, tickets::NewTicket, visits::NewVisit},
    state::SharedState,
};

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct SuggestionBody {
    pub kind: TicketKind,
    /// A category code.
    pub category: Str,
    pub description: Str,
    pub anonymous: Option<bool>,
    /// The resident's phone, if they want to be called back.
    pub resident_phone: Option<Str>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct VisitCreate {
    pub building_id: Uuid,
    /// The household (door) visited, e.g. `2单元301`; never shown publicly.
    pub household: Option<Str>,
    pub notes: Option<Str>,
    /// When the visit took place (default now).
    pub visited_at: Option<DateTime<Utc>>,
    /// What the residents raised: each becomes a ticket (at most 20).
    pub suggestions: Vec<SuggestionBody>,
}

#[derive(Object)]
pub struct VisitTicket {
    pub id: Uuid,
    pub number: String,
    pub status: crate::domain::lifecycle::Status,
    #[oai(nullable)]
    pub grid_id: Option<Uuid>,
    #[oai(nullable)]
    pub assignee_id: Option<Uuid>,
    /// The code to leave with the household: typed into the mini-program
    /// (`POST /tickets/claim`), it makes the ticket theirs to follow and rate.
    #[oai(nullable)]
    pub claim_code: Option<String>,
}

#[derive(Object)]
pub struct Visit {
    pub id: Uuid,
    pub worker_id: Uuid,
    pub building_id: Uuid,
    pub grid_id: Uuid,
    #[oai(nullable)]
    pub household: Option<String>,
    #[oai(nullable)]
    pub notes: Option<String>,
    pub visited_at: crate::schemas::Time,
    /// Tickets the visit produced (in the response to recording it).
    pub tickets: Vec<VisitTicket>,
}

impl From<entity::visit::Model> for Visit {
    fn from(v: entity::visit::Model) -> Self {
        Visit {
            id: v.id,
            worker_id: v.worker_id,
            building_id: v.building_id,
            grid_id: v.grid_id,
            household: v.household,
            notes: v.notes,
            visited_at: v.visited_at.into(),
            tickets: vec![],
        }
    }
}

#[derive(Object)]
pub struct BuildingVisits {
    pub building_id: Uuid,
    pub name: String,
    pub visits: u64,
}

#[derive(Object)]
pub struct GridCoverageBody {
    pub grid_id: Uuid,
    pub name: String,
    pub buildings_total: u64,
    pub visited: u64,
    /// visited / buildings_total.
    #[oai(nullable)]
    pub coverage_rate: Option<f64>,
    pub not_visited: Vec<BuildingVisits>,
    pub buildings: Vec<BuildingVisits>,
}

#[derive(Object)]
pub struct Coverage {
    pub area_id: Uuid,
    pub from: crate::schemas::Time,
    pub to: crate::schemas::Time,
    pub buildings_total: u64,
    pub visited: u64,
    #[oai(nullable)]
    pub coverage_rate: Option<f64>,
    pub grids: Vec<GridCoverageBody>,
}

pub struct VisitApi {
    pub state: SharedState,
}

impl VisitApi {
    async fn scope_over(&self, auth: &StaffAuth, area_id: Uuid) -> ApiResult<StaffScope> {
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let dir = ctx.dir().await?;
        let visible = scope.visible_set(&dir.tree);
        if dir.tree.get(area_id).is_some()
            && (visible.everything || visible.areas.contains(&area_id))
        {
            Ok(scope)
        } else {
            Err(ApiError::new(Code::NotFound))
        }
    }

    fn period(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        let to = to.unwrap_or_else(|| self.state.clock.now());
        (from.unwrap_or(to - Duration::days(30)), to)
    }
}

#[OpenApi(tag = "Tag::Work")]
impl VisitApi {
    /// Records a door-knock visit by a worker or assistant of the building's grid, with the
    /// suggestions heard: one ticket each (channel `door_knock`), routed as usual and normally
    /// to the recording worker, all in one transaction.
    #[oai(path = "/visits", method = "post")]
    async fn record(&self, auth: StaffAuth, body: Json<VisitCreate>) -> ApiResult<Created<Visit>> {
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let body = body.0;
        if body.suggestions.len() > 20 {
            return Err(ApiError::new(Code::InvalidField)
                .field("suggestions")
                .detail(crate::error::bi(
                    "每次走访最多 20 件",
                    "at most 20 per visit",
                )));
        }
        if body
            .suggestions
            .iter()
            .any(|s| s.kind == TicketKind::Praise)
        {
            // Praise is the resident's own word: staff do not record it for them.
            return Err(ApiError::new(Code::InvalidField)
                .field("suggestions")
                .detail(crate::error::bi(
                    "表扬须由居民提出，不能在走访中记录",
                    "praise comes from residents, not from a visit",
                )));
        }
        let mut suggestions = Vec::new();
        for s in body.suggestions {
            let description = text("description", &s.description, 2000)?;
            suggestions.push(NewTicket {
                building_id: Some(body.building_id),
                anonymous: s.anonymous.unwrap_or(false),
                contact_phone: s
                    .resident_phone
                    .as_deref()
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| Phone::parse("resident_phone", p))
                    .transpose()
                    .map_err(ServiceError::from)?,
                ..NewTicket::told(s.kind, s.category.into(), description, Channel::DoorKnock)
            });
        }
        let new = NewVisit {
            building_id: body.building_id,
            household: text_opt("household", body.household.as_deref(), 50)?,
            notes: text_opt("notes", body.notes.as_deref(), 1000)?,
            visited_at: body.visited_at,
            suggestions,
        };
        let (visit, tickets) = services::visits::record(&ctx, &scope, new).await?;
        let mut out = Visit::from(visit);
        out.tickets = tickets
            .into_iter()
            .map(|t| VisitTicket {
                id: t.id,
                number: t.number,
                status: t.status,
                grid_id: t.grid_id,
                assignee_id: t.assignee_id,
                claim_code: t.claim_code,
            })
            .collect();
        Ok(Created::Created(Json(out)))
    }

    /// Visits to buildings under an area in `[from, to)` (default the last 30 days).
    #[oai(path = "/visits", method = "get")]
    async fn list(
        &self,
        auth: StaffAuth,
        area_id: Query<Uuid>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<Json<Vec<Visit>>> {
        self.scope_over(&auth, area_id.0).await?;
        let (from, to) = self.period(from.0, to.0);
        let rows = services::visits::list(&self.state.ctx(), area_id.0, from, to).await?;
        Ok(Json(rows.into_iter().map(Visit::from).collect()))
    }

    /// Which buildings of each grid under an area were visited in the period and which were
    /// not: the "walk every building" view.
    #[oai(path = "/stats/visit-coverage", method = "get", tag = "Tag::Stats")]
    async fn coverage(
        &self,
        auth: StaffAuth,
        area_id: Query<Uuid>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<Json<Coverage>> {
        self.scope_over(&auth, area_id.0).await?;
        let (from, to) = self.period(from.0, to.0);
        let grids = services::visits::coverage(&self.state.ctx(), area_id.0, from, to).await?;
        let rate = |visited: u64, total: u64| (total > 0).then(|| visited as f64 / total as f64);
        let grids: Vec<GridCoverageBody> = grids
            .into_iter()
            .map(|g| {
                let buildings: Vec<BuildingVisits> = g
                    .buildings
                    .iter()
                    .map(|(b, n)| BuildingVisits {
                        building_id: b.id,
                        name: b.name.clone(),
                        visits: *n,
                    })
                    .collect();
                let visited = buildings.iter().filter(|b| b.visits > 0).count() as u64;
                let total = buildings.len() as u64;
                GridCoverageBody {
                    grid_id: g.grid_id,
                    name: g.grid_name,
                    buildings_total: total,
                    visited,
                    coverage_rate: rate(visited, total),
                    not_visited: g
                        .buildings
                        .iter()
                        .filter(|(_, n)| *n == 0)
                        .map(|(b, _)| BuildingVisits {
                            building_id: b.id,
                            name: b.name.clone(),
                            visits: 0,
                        })
                        .collect(),
                    buildings,
                }
            })
            .collect();
        let total: u64 = grids.iter().map(|g| g.buildings_total).sum();
        let visited: u64 = grids.iter().map(|g| g.visited).sum();
        Ok(Json(Coverage {
            area_id: area_id.0,
            from: from.into(),
            to: to.into(),
            buildings_total: total,
            visited,
            coverage_rate: rate(visited, total),
            grids,
        }))
    }
}
