//! Tickets: residents submit and follow theirs; staff work the ones in their scope.
use std::time::Duration;

use poem_openapi::{
    ApiResponse, OpenApi, param::Header, param::Path, param::Query, payload::Json, types::ToJSON,
};
use uuid::Uuid;

use super::{
    ApiResult, Created, JsonBody, Tag,
    auth::{CallerAuth, ResidentAuth, StaffAuth},
    page_limit, text,
};
use crate::{
    domain::{
        Channel,
        inputs::{Phone, Text},
        lifecycle::Status,
    },
    edge,
    error::{ApiError, Code},
    schemas::{admin::LocationInput, places::CoordSystem, public::DuplicateOriginal, tickets::*},
    services::{
        self, Caller, ServiceError,
        duplicates::Audience,
        listing::{WorkFilter, WorkSort},
        tickets::{Idempotency, NewRating, NewTicket, StaffCommand, Submission, TransferTarget},
    },
    state::SharedState,
};

pub struct TicketApi {
    pub state: SharedState,
}

fn parse_new(body: TicketCreate) -> Result<NewTicket, ServiceError> {
    let location = body
        .location
        .as_ref()
        .map(LocationInput::parse)
        .transpose()?;
    Ok(NewTicket {
        kind: body.kind,
        category_code: body.category.into(),
        title: Text::parse_opt("title", body.title.as_deref(), 60)?,
        description: text("description", &body.description, 2000)?,
        location,
        building_id: body.building_id,
        address_text: Text::parse_opt("address_text", body.address_text.as_deref(), 200)?,
        anonymous: body.anonymous.unwrap_or(false),
        contact_phone: body
            .contact_phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| Phone::parse("contact_phone", p))
            .transpose()?,
        channel: Channel::MiniProgram,
        attachment_ids: body.attachment_ids.unwrap_or_default(),
        moderation: None,
        visit_id: None,
        prefer_assignee: None,
        public: body.public.unwrap_or(false),
        praised_staff_id: body.praised_staff_id,
        follows_ticket_id: body.follows_ticket_id,
        caller_name: None,
    })
}

/// SHA-256 of the request as parsed (field order fixed by the schema, so formatting and key
/// order of the client's JSON do not matter).
fn request_hash(body: &TicketCreate) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(body.to_json_string().as_bytes()))
}

/// `201` for a new ticket, `200` for the replay of an earlier submission with the same key.
#[derive(ApiResponse)]
pub enum TicketSubmitted {
    #[oai(status = 201)]
    Created(Json<Ticket>),
    #[oai(status = 200)]
    Replayed(Json<Ticket>),
}

/// One status or a comma list of them (`422 invalid_field` for an unknown one).
fn statuses(raw: Option<&str>) -> Result<Vec<Status>, ServiceError> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(vec![]),
        Some(list) => list
            .split(',')
            .map(|s| {
                Status::parse(s.trim()).ok_or_else(|| {
                    ServiceError::rejected(
                        Code::InvalidField,
                        "status",
                        crate::error::bi(
                            format_args!("未知的状态「{s}」"),
                            format_args!("unknown status `{s}`"),
                        ),
                    )
                })
            })
            .collect(),
    }
}

impl TicketApi {
    /// A page of the caller's work list, `filter`ed; the service checks who the caller is.
    async fn work_page(
        &self,
        staff_id: Uuid,
        filter: WorkFilter,
        page: (Option<String>, Option<u64>),
        coords: Option<CoordSystem>,
    ) -> ApiResult<JsonBody<TicketPage>> {
        let ctx = self.state.ctx();
        let (cursor, limit) = (page.0, page_limit(page.1));
        let page =
            services::work_lists::list_work_of(&ctx, staff_id, filter, cursor.as_deref(), limit)
                .await?;
        // Pages are kept rendered in WGS-84, what is stored; another datum converts a copy.
        let body = page.render(|p| TicketPage::from(p).to_json_string().into());
        Ok(JsonBody::new(
            CoordSystem::or_default(coords).convert_page(body),
        ))
    }

    async fn command(
        &self,
        auth: &StaffAuth,
        id: &str,
        command: StaffCommand,
    ) -> ApiResult<Json<Ticket>> {
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let view = services::tickets::act(&ctx, &scope, id, command).await?;
        Ok(Json(view.into()))
    }
}

#[OpenApi(tag = "Tag::Tickets")]
impl TicketApi {
    /// Submits a suggestion or complaint. It is routed at once: to the building's grid, else the
    /// grid containing `location`, else the resident's home grid; then to the person the
    /// category's handling level calls for, or to that level's dispatch queue
    /// (`pending_dispatch`).
    ///
    /// With an `Idempotency-Key` header (1–128 visible ASCII characters) a retried submission
    /// returns the first ticket with `200` instead of making a second (`201` only the first time);
    /// the same key with a different body is `422 idempotency_key_reused`. A resident may submit
    /// `rate_limits.resident_tickets_per_hour` tickets an hour (`429` with `Retry-After` past it).
    #[oai(path = "/tickets", method = "post")]
    async fn submit(
        &self,
        auth: ResidentAuth,
        body: Json<TicketCreate>,
        #[oai(name = "Idempotency-Key")] idempotency_key: Header<Option<String>>,
    ) -> ApiResult<TicketSubmitted> {
        let resident = auth.0;
        let idem = match idempotency_key.0 {
            None => None,
            Some(key)
                if !key.is_empty()
                    && key.len() <= 128
                    && key.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Some(Idempotency {
                    request_hash: request_hash(&body.0),
                    key,
                })
            }
            Some(_) => return Err(ApiError::new(Code::InvalidIdempotencyKey)),
        };
        let ctx = self.state.ctx();
        if let Some(i) = &idem
            && let Some(first) = services::tickets::replay(&ctx, resident, i).await?
        {
            return Ok(TicketSubmitted::Replayed(Json(first.into())));
        }
        let new = parse_new(body.0)?;
        services::privacy::require_agreement(&ctx, resident).await?;
        let limit = self.state.settings.rate_limits.resident_tickets_per_hour;
        edge::check(
            &self.state,
            &format!("rl:t:{resident}"),
            limit,
            Duration::from_secs(3600),
        )
        .await?;
        Ok(
            match services::tickets::submit_once(&ctx, resident, new, idem).await? {
                Submission::Created(v) => {
                    let duplicates =
                        services::duplicates::find(&ctx, &v.ticket, Audience::Resident).await?;
                    let topic = services::topics::link_new(&ctx, &v.ticket).await?;
                    let mut body = Ticket::from(v);
                    body.possible_duplicates =
                        Some(duplicates.into_iter().map(Into::into).collect());
                    body.topic = topic.map(Into::into);
                    TicketSubmitted::Created(Json(body))
                }
                Submission::Replayed(v) => TicketSubmitted::Replayed(Json(v.into())),
            },
        )
    }

    /// The caller's own tickets, newest first. `status` takes one status or a comma list;
    /// `tab` the mini-program's tabs: `open` (being handled), `to_rate` (resolved, waiting for
    /// the resident's rating), `done` (closed, withdrawn or rejected); not both. Pass
    /// `next_cursor` back as `cursor` for more.
    #[oai(path = "/tickets", method = "get")]
    async fn list_own(
        &self,
        auth: ResidentAuth,
        status: Query<Option<String>>,
        tab: Query<Option<OwnTab>>,
        coord_system: Query<Option<CoordSystem>>,
        cursor: Query<Option<String>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<TicketPage>> {
        let resident = auth.0;
        let shown = match (statuses(status.0.as_deref())?, tab.0) {
            (s, None) => s,
            (s, Some(tab)) if s.is_empty() => tab.statuses().to_vec(),
            _ => {
                return Err(ServiceError::rejected(
                    Code::InvalidField,
                    "tab",
                    crate::error::bi("status 与 tab 只能给出其一", "give status or tab, not both"),
                )
                .into());
            }
        };
        let page = services::listing::list_own(
            &self.state.ctx(),
            resident,
            &shown,
            cursor.0.as_deref(),
            page_limit(limit.0),
        )
        .await?;
        Ok(Json(
            TicketPage::from(page).in_datum(CoordSystem::or_default(coord_system.0)),
        ))
    }

    /// One ticket (by id or number) with its timeline. Outside the caller's scope: 404.
    #[oai(path = "/tickets/:id", method = "get")]
    async fn get(
        &self,
        auth: CallerAuth,
        id: Path<String>,
        coord_system: Query<Option<CoordSystem>>,
    ) -> ApiResult<Json<Ticket>> {
        let ctx = self.state.ctx();
        // Read first (it also checks the directory), shown only once the caller is known: an
        // unknown ticket is a 404 only to a caller who may ask.
        let read = services::tickets::read_for_page(&ctx, &id.0).await;
        let caller = auth.caller(&ctx).await?;
        let view = services::tickets::show(&ctx, &caller, read?).await?;
        let duplicates = match &caller {
            Caller::Staff(scope) => {
                Some(services::duplicates::find(&ctx, &view.ticket, Audience::Staff(scope)).await?)
            }
            Caller::Resident(_) => None,
        };
        let original = match (&caller, view.ticket.duplicate_of) {
            (Caller::Resident(_), Some(original)) => {
                let dir = ctx.dir().await?;
                services::board::original_of(&ctx, &dir, original).await?
            }
            _ => None,
        };
        let notifications = match &caller {
            Caller::Staff(_) => Some(
                services::outbox::list(&self.state.db, None, Some(view.ticket.id), 50)
                    .await?
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            ),
            Caller::Resident(_) => None,
        };
        let view_ticket = view.ticket.clone();
        let mut body = Ticket::from(view);
        body.notifications = notifications;
        body.duplicate_original = original.map(|(o, public)| DuplicateOriginal {
            id: o.id,
            number: o.number,
            category_name: o.category_name,
            status: o.status,
            public,
            description: public.then_some(o.description),
            support_count: o.support_count,
        });
        body.possible_duplicates = duplicates.map(|d| d.into_iter().map(Into::into).collect());
        if let Caller::Staff(_) = &caller {
            body.category_doubt = category_doubt(&ctx, &view_ticket).await?;
        }
        body.topic = services::topics::of_ticket(&ctx, view_ticket.topic_id).await?;
        Ok(Json(body.in_datum(CoordSystem::or_default(coord_system.0))))
    }

    /// Staff who handle the ticket (its assignee, the administrators above it) correct its
    /// category or its point, with a reason: it is routed again where the new category's level
    /// or the new point asks (staying with its holder when that is where it would go), its
    /// deadlines stay as promised (more time is an extension), and the resident is told. The
    /// rates count its final category. Open tickets only (`409 invalid_transition`).
    #[oai(path = "/tickets/:id", method = "patch", tag = "Tag::Work")]
    async fn correct(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<TicketCorrection>,
    ) -> ApiResult<Json<Ticket>> {
        let body = body.0;
        let fix = services::tickets::corrections::Correction {
            category_code: body.category.map(Into::into),
            location: body
                .location
                .as_ref()
                .map(LocationInput::parse)
                .transpose()?,
            address_text: super::text_opt("address_text", body.address_text.as_deref(), 200)?,
            reason: text("reason", &body.reason, 500)?,
        };
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let view = services::tickets::corrections::correct(&ctx, &scope, &id.0, fix).await?;
        Ok(Json(view.into()))
    }

    /// Adds information (resident) or a progress note (staff; `internal` hides it from the resident).
    #[oai(path = "/tickets/:id/comments", method = "post")]
    async fn comment(
        &self,
        auth: CallerAuth,
        id: Path<String>,
        body: Json<CommentCreate>,
    ) -> ApiResult<Created<Ticket>> {
        let ctx = self.state.ctx();
        let caller = auth.caller(&ctx).await?;
        let text = text("text", &body.text, 1000)?;
        let view = services::tickets::comment(
            &ctx,
            &caller,
            &id.0,
            text,
            body.internal.unwrap_or(false),
            body.attachment_ids.as_deref().unwrap_or_default(),
        )
        .await?;
        Ok(Created::Created(Json(view.into())))
    }

    /// "Me too" on a public suggestion: once per resident (again changes nothing). Enough of them
    /// raise its priority.
    #[oai(path = "/tickets/:id/support", method = "post")]
    async fn support(
        &self,
        auth: ResidentAuth,
        id: Path<String>,
    ) -> ApiResult<Json<crate::schemas::admin::SupportCount>> {
        let resident = auth.0;
        let support_count = services::public::support(&self.state.ctx(), resident, &id.0).await?;
        Ok(Json(crate::schemas::admin::SupportCount { support_count }))
    }

    /// Withdraws the resident's "me too".
    #[oai(path = "/tickets/:id/support", method = "delete")]
    async fn unsupport(
        &self,
        auth: ResidentAuth,
        id: Path<String>,
    ) -> ApiResult<Json<crate::schemas::admin::SupportCount>> {
        let resident = auth.0;
        let support_count = services::public::unsupport(&self.state.ctx(), resident, &id.0).await?;
        Ok(Json(crate::schemas::admin::SupportCount { support_count }))
    }

    /// Withdraws a ticket nobody has accepted yet.
    #[oai(path = "/tickets/:id/withdraw", method = "post")]
    async fn withdraw(&self, auth: ResidentAuth, id: Path<String>) -> ApiResult<Json<Ticket>> {
        let resident = auth.0;
        Ok(Json(
            services::tickets::withdraw(&self.state.ctx(), resident, &id.0)
                .await?
                .into(),
        ))
    }

    /// Rates a resolved ticket. `satisfied` / `basically_satisfied` close it; `unsatisfied`
    /// reopens it to the same assignee (`reopen_count` + 1), or past the configured limit sends it
    /// to the community and flags a return visit.
    #[oai(path = "/tickets/:id/rating", method = "post")]
    async fn rate(
        &self,
        auth: ResidentAuth,
        id: Path<String>,
        body: Json<RatingCreate>,
    ) -> ApiResult<Json<Ticket>> {
        let resident = auth.0;
        let body = body.0;
        let score = match body.score {
            None => None,
            Some(s @ 1..=5) => Some(s as i16),
            Some(_) => {
                return Err(ServiceError::rejected(
                    Code::InvalidField,
                    "score",
                    crate::error::bi("须为 1 至 5", "1 to 5"),
                )
                .into());
            }
        };
        let rating = NewRating {
            level: body.level,
            score,
            comment: Text::parse_opt("comment", body.comment.as_deref(), 500)
                .map_err(ServiceError::from)?,
            reasons: body.reasons.unwrap_or_default(),
        };
        Ok(Json(
            services::tickets::rate(&self.state.ctx(), resident, &id.0, rating)
                .await?
                .into(),
        ))
    }

    /// Accepts an assigned ticket (assignee or an admin above).
    #[oai(path = "/tickets/:id/accept", method = "post", tag = "Tag::Work")]
    async fn accept(&self, auth: StaffAuth, id: Path<String>) -> ApiResult<Json<Ticket>> {
        self.command(&auth, &id.0, StaffCommand::Accept).await
    }

    /// Marks a ticket in progress as resolved, with what was done.
    #[oai(path = "/tickets/:id/resolve", method = "post", tag = "Tag::Work")]
    async fn resolve(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<ResolveBody>,
    ) -> ApiResult<Json<Ticket>> {
        let note = text("note", &body.note, 1000)?;
        self.command(
            &auth,
            &id.0,
            StaffCommand::Resolve {
                note,
                attachment_ids: body.0.attachment_ids.unwrap_or_default(),
            },
        )
        .await
    }

    /// Hands a ticket to another staff member or to another grid (routed there as usual). The
    /// `reason` is for staff; residents read `public_note`.
    #[oai(path = "/tickets/:id/transfer", method = "post", tag = "Tag::Work")]
    async fn transfer(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<TransferBody>,
    ) -> ApiResult<Json<Ticket>> {
        let body = body.0;
        let to = match (body.staff_id, body.grid_id) {
            (Some(s), None) => TransferTarget::Staff(s),
            (None, Some(g)) => TransferTarget::Grid(g),
            _ => {
                return Err(ServiceError::rejected(
                    Code::InvalidField,
                    "staff_id",
                    crate::error::bi(
                        "staff_id 与 grid_id 须且只能给出其一",
                        "give exactly one of staff_id and grid_id",
                    ),
                )
                .into());
            }
        };
        let reason = text("reason", &body.reason, 500)?;
        let public_note = super::text_opt("public_note", body.public_note.as_deref(), 200)?;
        self.command(
            &auth,
            &id.0,
            StaffCommand::Transfer {
                to,
                reason,
                public_note,
            },
        )
        .await
    }

    /// Sends a ticket one level up: grid → community → street. The `reason` is for staff;
    /// residents read `public_note`.
    #[oai(path = "/tickets/:id/escalate", method = "post", tag = "Tag::Work")]
    async fn escalate(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<EscalateBody>,
    ) -> ApiResult<Json<Ticket>> {
        let reason = text("reason", &body.reason, 500)?;
        let public_note = super::text_opt("public_note", body.public_note.as_deref(), 200)?;
        self.command(
            &auth,
            &id.0,
            StaffCommand::Escalate {
                reason,
                public_note,
            },
        )
        .await
    }

    /// Rejects a ticket as invalid, out of scope or a duplicate (`duplicate_of`), with a reason.
    #[oai(path = "/tickets/:id/reject", method = "post", tag = "Tag::Work")]
    async fn reject(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<RejectBody>,
    ) -> ApiResult<Json<Ticket>> {
        let body = body.0;
        let reason = text("reason", &body.reason, 500)?;
        self.command(
            &auth,
            &id.0,
            StaffCommand::Reject {
                reason,
                duplicate_of: body.duplicate_of.map(String::from),
            },
        )
        .await
    }

    /// Admins: assigns a queued (or reassigns an open) ticket to a staff member.
    #[oai(path = "/tickets/:id/assign", method = "post", tag = "Tag::Work")]
    async fn assign(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<AssignBody>,
    ) -> ApiResult<Json<Ticket>> {
        self.command(
            &auth,
            &id.0,
            StaffCommand::Assign {
                staff_id: body.staff_id,
            },
        )
        .await
    }

    /// The tickets in the caller's scope, newest first (`sort=due`: the soonest standing
    /// deadline first: the response deadline of an open ticket not yet accepted, else its
    /// resolution deadline; tickets without one last). `status` takes one status or a comma
    /// list; `overdue=true` keeps open tickets past their response or resolution deadline
    /// (`false` the others); `q` finds text in the number, title, description or address.
    /// Each ticket shows its due times and whether each was met.
    /// Staff enter a hotline call or a counter visit for a resident (代登记): routed as any
    /// ticket, with `channel` `hotline` or `counter`. The answer carries `claim_code`: read it
    /// to the caller, who claims the ticket in the mini-program (`POST /tickets/claim`) to
    /// follow and rate it.
    #[oai(path = "/work/tickets", method = "post", tag = "Tag::Work")]
    async fn enter(
        &self,
        auth: StaffAuth,
        body: Json<super::intake::IntakeCreate>,
    ) -> ApiResult<Created<Ticket>> {
        super::intake::enter(&self.state, auth, body).await
    }

    #[oai(path = "/work/tickets", method = "get", tag = "Tag::Work")]
    #[allow(clippy::too_many_arguments)]
    async fn work(
        &self,
        auth: StaffAuth,
        status: Query<Option<String>>,
        grid_id: Query<Option<Uuid>>,
        category: Query<Option<String>>,
        overdue: Query<Option<bool>>,
        q: Query<Option<String>>,
        sort: Query<Option<WorkSortParam>>,
        coord_system: Query<Option<CoordSystem>>,
        cursor: Query<Option<String>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<JsonBody<TicketPage>> {
        let staff_id = auth.0;
        let filter = WorkFilter {
            statuses: statuses(status.0.as_deref())?,
            grid_id: grid_id.0,
            category: category.0,
            overdue: overdue.0,
            q: super::text_opt("q", q.0.as_deref(), 64)?.map(Text::into_inner),
            sort: match sort.0.unwrap_or_default() {
                WorkSortParam::Newest => WorkSort::Newest,
                WorkSortParam::Due => WorkSort::Due,
            },
            ..WorkFilter::default()
        };
        self.work_page(staff_id, filter, (cursor.0, limit.0), coord_system.0)
            .await
    }

    /// Tickets in the caller's scope flagged for a return visit (回访) not yet made.
    #[oai(path = "/work/return-visits", method = "get", tag = "Tag::Work")]
    async fn return_visits(
        &self,
        auth: StaffAuth,
        cursor: Query<Option<String>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<JsonBody<TicketPage>> {
        let staff_id = auth.0;
        let filter = WorkFilter {
            return_visit_pending: true,
            ..WorkFilter::default()
        };
        self.work_page(staff_id, filter, (cursor.0, limit.0), None)
            .await
    }

    /// Tickets in the caller's scope whose text or comments content safety flagged: `review`
    /// (WeChat asked for a human look) or `unchecked` (the check could not run).
    #[oai(path = "/work/moderation", method = "get", tag = "Tag::Work")]
    async fn moderation(
        &self,
        auth: StaffAuth,
        cursor: Query<Option<String>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<JsonBody<TicketPage>> {
        let staff_id = auth.0;
        let filter = WorkFilter {
            moderation_pending: true,
            ..WorkFilter::default()
        };
        self.work_page(staff_id, filter, (cursor.0, limit.0), None)
            .await
    }

    /// Merges this ticket into another (`into`: id or number): it follows the main one's status
    /// from then on, its reporter hears the main one's progress and may rate, and its supporters
    /// carry over to the main ticket (none lost, none counted twice).
    #[oai(path = "/tickets/:id/merge", method = "post", tag = "Tag::Work")]
    async fn merge(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<MergeBody>,
    ) -> ApiResult<Json<Ticket>> {
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let view = services::tickets::merge(&ctx, &scope, &id.0, &body.into).await?;
        Ok(Json(view.into()))
    }

    /// Records the return visit a ticket was flagged for: what the resident said.
    #[oai(path = "/tickets/:id/return-visit", method = "post", tag = "Tag::Work")]
    async fn return_visit(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<ReturnVisitBody>,
    ) -> ApiResult<Json<Ticket>> {
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let note =
            Text::parse_opt("note", body.note.as_deref(), 1000).map_err(ServiceError::from)?;
        let view = services::tickets::record_return_visit(
            &ctx,
            &scope,
            &id.0,
            body.outcome,
            note,
            body.reasons.as_deref().unwrap_or_default(),
        )
        .await?;
        Ok(Json(view.into()))
    }
}

/// 类别可能有误, when the category model doubts the ticket's category.
async fn category_doubt(
    ctx: &services::Ctx<'_>,
    t: &entity::ticket::Model,
) -> ApiResult<Option<crate::schemas::tickets::CategoryDoubt>> {
    let Some(scored) = services::text_models::doubt(ctx, t).await? else {
        return Ok(None);
    };
    let dir = ctx.dir().await?;
    Ok(Some(crate::schemas::tickets::CategoryDoubt {
        message: "类别可能有误".into(),
        suggestions: scored
            .into_iter()
            .map(|s| crate::routes::categories::suggestion(&dir, s))
            .collect(),
    }))
}
