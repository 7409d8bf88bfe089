//! HTTP handlers, one file per resource. Handlers parse, call a service, and map the result.
pub mod admin;
pub mod appeals;
pub mod attachments;
pub mod auth;
pub mod categories;
pub mod extensions;
pub mod inbox;
pub mod intake;
pub mod me;
pub mod open311;
pub mod ops;
pub mod places;
pub mod privacy;
pub mod public;
pub mod returns;
pub mod stats;
pub mod supervision;
pub mod tickets;
pub mod topics;
pub mod visits;
pub mod wechat_push;

use std::marker::PhantomData;

use poem::IntoResponse;
use poem_openapi::{
    ApiResponse, Tags,
    payload::{Json, Payload},
    registry::{MetaResponses, MetaSchemaRef, Registry},
    types::{ToJSON, Type},
};

use crate::{domain::inputs::Text, error::ApiError, services::ServiceError};

pub type ApiResult<T> = Result<T, ApiError>;

impl From<crate::services::ServiceError> for poem::Error {
    fn from(err: crate::services::ServiceError) -> Self {
        ApiError::from(err).into()
    }
}

#[derive(Tags)]
pub enum Tag {
    /// Logging in.
    Auth,
    /// The signed-in caller: who they are, home, phone, subscriptions, password.
    Me,
    /// What is where: areas, boundaries, what is at a point, buildings, people in scope.
    Places,
    /// Residents' tickets: submit, follow, add information, withdraw, rate.
    Tickets,
    /// Staff work: inbox, accept, resolve, transfer, escalate, reject, assign.
    Work,
    /// System administration: areas, buildings, staff, categories.
    Admin,
    /// Public reference data.
    Public,
    /// Statistics for community and street offices: the three rates.
    Stats,
}

/// `201 Created` with the new resource.
#[derive(ApiResponse)]
pub enum Created<T: ToJSON + Send + Sync> {
    #[oai(status = 201)]
    Created(Json<T>),
}

/// A `200` JSON response rendered already (a work-list page kept in memory with its rendering,
/// `services::work_lists`), documented as the `T` it renders.
pub struct JsonBody<T>(pub bytes::Bytes, PhantomData<fn() -> T>);

impl<T> JsonBody<T> {
    pub fn new(body: bytes::Bytes) -> Self {
        JsonBody(body, PhantomData)
    }
}

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = Json::<T>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        Json::<T>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type> IntoResponse for JsonBody<T> {
    fn into_response(self) -> poem::Response {
        poem::Response::builder()
            .content_type(Self::CONTENT_TYPE)
            .body(self.0)
    }
}

impl<T: ToJSON> ApiResponse for JsonBody<T> {
    fn meta() -> MetaResponses {
        Json::<T>::meta()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// Trimmed, non-empty text of at most `max` characters.
pub fn text(field: &'static str, raw: &str, max: usize) -> Result<Text, ServiceError> {
    Ok(Text::parse(field, raw, max)?)
}

/// Like [`text`], with absent or blank meaning `None`.
pub fn text_opt(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<Text>, ServiceError> {
    Ok(Text::parse_opt(field, raw, max)?)
}

/// Limits for cursor paging.
pub fn page_limit(limit: Option<u64>) -> u64 {
    limit.unwrap_or(20).clamp(1, 100)
}
