//! 每月一题 topics: made by an office from a hot spot or hand-picked tickets, followed by
//! residents whose tickets it holds, closed with a note that resolves its open tickets.
use poem_openapi::{
    OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{
    ApiResult, Created, Tag,
    auth::{CallerAuth, StaffAuth},
};
use crate::{
    domain::inputs::Text,
    error::Code,
    schemas::topics::{Topic, TopicCreate, TopicNote},
    services::{
        ServiceError,
        topics::{self, NewTopic, Source},
    },
    state::SharedState,
};
use entity::enums::TopicStatus;

pub struct TopicApi {
    pub state: SharedState,
}

const TITLE_MAX: usize = 100;
const TEXT_MAX: usize = 2000;

fn source(ticket_ids: Option<Vec<Uuid>>, hotspot: Option<String>) -> Result<Source, ServiceError> {
    match (ticket_ids, hotspot) {
        (Some(ids), None) => Ok(Source::Tickets(ids)),
        (None, Some(h)) if !h.is_empty() && h.len() <= 200 => Ok(Source::Hotspot(h)),
        _ => Err(ServiceError::rejected(
            Code::InvalidField,
            "ticket_ids",
            crate::error::bi(
                "须给出 ticket_ids 或 hotspot 之一",
                "give `ticket_ids` or `hotspot`, one of them",
            ),
        )),
    }
}

#[OpenApi(tag = "Tag::Work")]
impl TopicApi {
    /// Makes a 每月一题 topic from hand-picked tickets (`ticket_ids`) or a hot spot
    /// (`hotspot`), owned by an area the caller administers (a community or street
    /// administrator), due by `due`. Its tickets' residents are told. Tickets already in
    /// another open topic: 409 ticket_in_topic (a hot spot's stay where they are).
    #[oai(path = "/topics", method = "post")]
    async fn create(&self, auth: StaffAuth, body: Json<TopicCreate>) -> ApiResult<Created<Topic>> {
        let b = body.0;
        let new = NewTopic {
            title: Text::parse("title", &b.title, TITLE_MAX).map_err(ServiceError::from)?,
            description: Text::parse("description", &b.description, TEXT_MAX)
                .map_err(ServiceError::from)?,
            source: source(b.ticket_ids, b.hotspot)?,
            owner_area_id: b.owner_area_id,
            due: topics::due(&b.due)?,
        };
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let v = topics::create(&ctx, &scope, new).await?;
        Ok(Created::Created(Json(v.into())))
    }

    /// Topics the caller may read, newest first (at most 200): staff those of the areas they
    /// see; a resident those holding one of their tickets. `status`: open or closed.
    #[oai(path = "/topics", method = "get")]
    async fn list(
        &self,
        auth: CallerAuth,
        status: Query<Option<TopicStatus>>,
    ) -> ApiResult<Json<Vec<Topic>>> {
        let ctx = self.state.ctx();
        let caller = auth.caller(&ctx).await?;
        let rows = topics::list(&ctx, &caller, status.0).await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// One topic with its tickets (a resident reads their own), progress notes and
    /// satisfaction. Outside the caller's sight: 404.
    #[oai(path = "/topics/:id", method = "get")]
    async fn get(&self, auth: CallerAuth, id: Path<Uuid>) -> ApiResult<Json<Topic>> {
        let ctx = self.state.ctx();
        let caller = auth.caller(&ctx).await?;
        Ok(Json(topics::read(&ctx, &caller, id.0).await?.into()))
    }

    /// A progress note, sent to every resident of the topic's tickets (inbox and WeChat), by an
    /// administrator over its owner area. Closed topics: 409 topic_closed.
    #[oai(path = "/topics/:id/updates", method = "post")]
    async fn update(
        &self,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<TopicNote>,
    ) -> ApiResult<Created<Topic>> {
        let note = Text::parse("note", &body.0.note, TEXT_MAX).map_err(ServiceError::from)?;
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let v = topics::add_update(&ctx, &scope, id.0, note).await?;
        Ok(Created::Created(Json(v.into())))
    }

    /// Closes the topic with a note: each of its open tickets is resolved with it and its
    /// resident asked to rate; the topic's satisfaction is the mean of their ratings. Once
    /// (409 topic_closed after).
    #[oai(path = "/topics/:id/close", method = "post")]
    async fn close(
        &self,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<TopicNote>,
    ) -> ApiResult<Json<Topic>> {
        let note = Text::parse("note", &body.0.note, TEXT_MAX).map_err(ServiceError::from)?;
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        Ok(Json(topics::close(&ctx, &scope, id.0, note).await?.into()))
    }
}
