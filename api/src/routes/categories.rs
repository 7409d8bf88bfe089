//! The category a text suggests (`POST /categories/suggest`), and the model behind it: when it
//! was trained and from what, and training it now (system administrators).
use poem_openapi::{Object, OpenApi, payload::Json};

use super::{
    ApiResult, Tag,
    auth::{AdminAuth, CallerAuth},
};
use crate::{
    domain::inputs::{CoordSystem as Datum, GeoPoint, Text},
    services::{
        self, ServiceError,
        text_models::{Trained, suggest},
    },
    state::SharedState,
};

pub struct CategoryApi {
    pub state: SharedState,
}

/// The longest text a suggestion reads (a ticket's description is at most 2000).
const TEXT_MAX: usize = 2000;

#[derive(Object)]
pub struct SuggestRequest {
    /// What the resident has typed so far.
    pub text: String,
    /// Where, if known (WGS-84 unless `coord_system` says `gcj02`): categories told nearby weigh
    /// a little more.
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub coord_system: Option<crate::schemas::places::CoordSystem>,
}

#[derive(Object)]
pub struct CategorySuggestion {
    /// The category's code, as `POST /tickets {category}` takes it.
    pub category: String,
    pub name: String,
    /// How likely (0–1; all the categories' scores sum to 1).
    pub score: f64,
}

#[derive(Object)]
pub struct Suggestions {
    /// Up to three, most likely first, each at least 1 % likely; empty when the text says
    /// nothing the model knows.
    pub suggestions: Vec<CategorySuggestion>,
}

#[derive(Object)]
pub struct ModelStatus {
    pub id: uuid::Uuid,
    pub trained_at: crate::schemas::Time,
    /// Texts it learnt from: the deployment's closed tickets (`tickets`) and the bundled
    /// examples for the categories whose codes it shares.
    pub texts: u64,
    pub tickets: u64,
    pub categories: u64,
}

impl From<Trained> for ModelStatus {
    fn from(t: Trained) -> Self {
        ModelStatus {
            id: t.id,
            trained_at: t.trained_at.into(),
            texts: t.texts,
            tickets: t.tickets,
            categories: t.categories as u64,
        }
    }
}

/// Scores rounded for reading.
pub fn suggestion(
    dir: &services::directory::Directory,
    s: crate::domain::category_model::Scored,
) -> CategorySuggestion {
    CategorySuggestion {
        name: dir
            .category_by_code(&s.category)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        category: s.category,
        score: (s.score * 1000.0).round() / 1000.0,
    }
}

#[OpenApi(tag = "Tag::Tickets")]
impl CategoryApi {
    /// The categories a resident's text suggests, while they type it: up to three with scores,
    /// from a model learnt from this deployment's closed tickets (their final category, after
    /// any staff correction), retrained nightly. Residents and staff (for intake).
    #[oai(path = "/categories/suggest", method = "post")]
    async fn suggest(
        &self,
        _auth: CallerAuth,
        body: Json<SuggestRequest>,
    ) -> ApiResult<Json<Suggestions>> {
        let text = Text::parse("text", &body.0.text, TEXT_MAX).map_err(ServiceError::from)?;
        let point = match (body.0.lat, body.0.lng) {
            (None, None) => None,
            (Some(lat), Some(lng)) => {
                let datum = match body.0.coord_system.unwrap_or_default() {
                    crate::schemas::places::CoordSystem::Gcj02 => Datum::Gcj02,
                    crate::schemas::places::CoordSystem::Wgs84 => Datum::Wgs84,
                };
                let p = GeoPoint::parse(lat, lng, datum).map_err(ServiceError::from)?;
                Some((p.lat, p.lng))
            }
            _ => {
                return Err(ServiceError::rejected(
                    crate::error::Code::InvalidField,
                    "lng",
                    crate::error::bi("lat 与 lng 须同时给出", "give lat and lng together"),
                )
                .into());
            }
        };
        let ctx = self.state.ctx();
        let scored = suggest(&ctx, text.as_str(), point).await?;
        let dir = ctx.dir().await?;
        Ok(Json(Suggestions {
            suggestions: scored.into_iter().map(|s| suggestion(&dir, s)).collect(),
        }))
    }

    /// The category model every node serves: when it was trained and from how many texts.
    #[oai(path = "/admin/category-model", method = "get", tag = "Tag::Admin")]
    async fn model(&self, _auth: AdminAuth) -> ApiResult<Json<ModelStatus>> {
        let ctx = self.state.ctx();
        services::text_models::model(&ctx).await?;
        let newest = services::text_models::newest(&ctx)
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok(Json(newest.into()))
    }

    /// Trains the category model now from the closed tickets (the scheduler does it nightly);
    /// every node serves it within a minute.
    #[oai(
        path = "/admin/category-model/train",
        method = "post",
        tag = "Tag::Admin"
    )]
    async fn train(&self, _auth: AdminAuth) -> ApiResult<Json<ModelStatus>> {
        let ctx = self.state.ctx();
        Ok(Json(services::text_models::train(&ctx).await?.into()))
    }
}
