//! Open311 GeoReport v2 at `/open311/v2/`: `services.{json|xml}`, `services/{code}.{fmt}`,
//! `requests.{fmt}` (GET, and POST form-encoded with an api_key), `requests/{id}.{fmt}` and
//! `tokens/{token}.{fmt}`. Errors are the specification's lists, `[{code, description}]` or
//! `<errors><error>…`, with the matching HTTP status.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use poem::{
    Response, Route, get, handler,
    http::StatusCode,
    web::{Data, Form, Path, Query},
};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    domain::{
        AreaKind, Channel, TicketKind,
        inputs::{GeoPoint, Phone, Text},
        open311::{self, Format},
    },
    error::Code,
    services::{
        self, ServiceError,
        directory::Directory,
        open311::{Reader, RequestQuery},
        routing::{self, Served},
        tickets::{NewTicket, Reporter},
    },
    state::SharedState,
};

pub fn routes() -> Route {
    Route::new()
        .at("/:resource", get(resources).post(create))
        .at("/:collection/:item", get(item))
}

fn respond(format: Format, status: StatusCode, root: &str, value: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type(format.content_type())
        .body(open311::render(format, root, value))
}

fn error(format: Format, status: StatusCode, description: impl Into<String>) -> Response {
    let body = json!([{"code": status.as_u16(), "description": description.into()}]);
    respond(format, status, "errors", &body)
}

fn internal(format: Format, e: ServiceError) -> Response {
    match e {
        ServiceError::Rejected {
            code: Code::OutsideServiceArea,
            detail,
            ..
        } => error(
            format,
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("outside_service_area: {}", detail.unwrap_or_default()),
        ),
        ServiceError::Rejected { detail, field, .. } => error(
            format,
            StatusCode::BAD_REQUEST,
            format!(
                "{}{}",
                field.map(|f| format!("{f}: ")).unwrap_or_default(),
                detail.unwrap_or_default()
            ),
        ),
        ServiceError::Db(_) => error(
            format,
            StatusCode::SERVICE_UNAVAILABLE,
            "the service is unavailable; retry later",
        ),
        other => {
            tracing::error!(error = %other, "open311");
            error(format, StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// A wrong `jurisdiction_id` is refused; a missing one is fine (Qiaomen serves one).
fn jurisdiction_ok(state: &SharedState, params: &HashMap<String, String>) -> bool {
    params
        .get("jurisdiction_id")
        .is_none_or(|j| j.is_empty() || *j == state.settings.open311.jurisdiction_id)
}

fn parse_time(raw: Option<&String>) -> Result<Option<DateTime<Utc>>, String> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| Some(d.with_timezone(&Utc)))
            .map_err(|_| format!("`{s}` is not a w3 date-time such as 2026-11-22T08:15:30+08:00")),
    }
}

/// Who is reading: a valid `api_key` reads its areas' tickets; anyone else, and any other key,
/// the public ones.
async fn reader(
    state: &SharedState,
    params: &HashMap<String, String>,
) -> Result<Reader, ServiceError> {
    let Some(key) = params.get("api_key").filter(|k| !k.is_empty()) else {
        return Ok(Reader::Public);
    };
    Ok(match services::open311::key_areas(&state.db, key).await? {
        Some(areas) => Reader::Areas(areas),
        None => Reader::Public,
    })
}

#[handler]
async fn resources(
    Path(resource): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    state: Data<&SharedState>,
) -> Response {
    let Some((name, format)) = Format::split(&resource) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "use .json or .xml");
    };
    if !jurisdiction_ok(&state, &params) {
        return error(format, StatusCode::NOT_FOUND, "jurisdiction_id not found");
    }
    match name {
        "services" => match services::open311::services(&state.db).await {
            Ok(v) => respond(format, StatusCode::OK, "services", &v),
            Err(e) => internal(format, e),
        },
        "requests" => list_requests(&state, format, &params).await,
        _ => error(
            format,
            StatusCode::NOT_FOUND,
            format!("no resource `{name}`"),
        ),
    }
}

async fn list_requests(
    state: &SharedState,
    format: Format,
    params: &HashMap<String, String>,
) -> Response {
    let ctx = state.ctx();
    let (start, end) = match (
        parse_time(params.get("start_date")),
        parse_time(params.get("end_date")),
    ) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(why), _) | (_, Err(why)) => return error(format, StatusCode::BAD_REQUEST, why),
    };
    let end = end.unwrap_or_else(|| ctx.now());
    let start = start.unwrap_or(end - Duration::days(90));
    let statuses = match params
        .get("status")
        .map(String::as_str)
        .filter(|s| !s.is_empty())
    {
        None | Some("open,closed") | Some("closed,open") => None,
        Some(s) => match open311::statuses_for(s) {
            Some(list) => Some(list),
            None => return error(format, StatusCode::BAD_REQUEST, "status is open or closed"),
        },
    };
    let ids = params
        .get("service_request_id")
        .map(|s| {
            s.split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let q = RequestQuery {
        reader: match reader(state, params).await {
            Ok(r) => r,
            Err(e) => return internal(format, e),
        },
        ids,
        service_code: params
            .get("service_code")
            .filter(|s| !s.is_empty())
            .cloned(),
        start,
        end,
        statuses,
    };
    match services::open311::requests(&ctx, q).await {
        Ok(v) => respond(format, StatusCode::OK, "service_requests", &v),
        Err(e) => internal(format, e),
    }
}

#[handler]
async fn item(
    Path((kind, item)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    state: Data<&SharedState>,
) -> Response {
    let Some((key, format)) = Format::split(&item) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "use .json or .xml");
    };
    if !jurisdiction_ok(&state, &params) {
        return error(format, StatusCode::NOT_FOUND, "jurisdiction_id not found");
    }
    match kind.as_str() {
        "services" => match services::open311::definition(&state.db, key).await {
            Ok(Some(v)) => respond(format, StatusCode::OK, "service_definition", &v),
            Ok(None) => error(
                format,
                StatusCode::NOT_FOUND,
                format!("service_code `{key}` not found"),
            ),
            Err(e) => internal(format, e),
        },
        "requests" => {
            let q = RequestQuery {
                reader: match reader(&state, &params).await {
                    Ok(r) => r,
                    Err(e) => return internal(format, e),
                },
                ids: vec![key.to_owned()],
                service_code: None,
                start: Utc::now(),
                end: Utc::now(),
                statuses: None,
            };
            match services::open311::requests(&state.ctx(), q).await {
                Ok(Value::Array(v)) if v.is_empty() => error(
                    format,
                    StatusCode::NOT_FOUND,
                    format!("service_request_id `{key}` not found"),
                ),
                Ok(v) => respond(format, StatusCode::OK, "service_requests", &v),
                Err(e) => internal(format, e),
            }
        }
        // Requests are created at once, so a token is simply the request's internal id.
        "tokens" => {
            let found = match Uuid::parse_str(key) {
                Ok(id) => entity::ticket::Entity::find_by_id(id)
                    .one(&state.db)
                    .await
                    .ok()
                    .flatten(),
                Err(_) => None,
            };
            match found.filter(|t| t.channel == Channel::Open311) {
                Some(t) => respond(
                    format,
                    StatusCode::OK,
                    "service_requests",
                    &json!([{"service_request_id": t.number, "token": key}]),
                ),
                None => error(
                    format,
                    StatusCode::NOT_FOUND,
                    format!("token `{key}` not found"),
                ),
            }
        }
        _ => error(
            format,
            StatusCode::NOT_FOUND,
            format!("no resource `{kind}`"),
        ),
    }
}

#[handler]
async fn create(
    Path(resource): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
    state: Data<&SharedState>,
) -> Response {
    let Some(("requests", format)) = Format::split(&resource) else {
        return error(
            Format::Json,
            StatusCode::NOT_FOUND,
            "POST requests.json or requests.xml",
        );
    };
    let params: HashMap<String, String> = fields.into_iter().collect();
    if !jurisdiction_ok(&state, &params) {
        return error(format, StatusCode::NOT_FOUND, "jurisdiction_id not found");
    }
    let Some(key) = params.get("api_key").filter(|k| !k.is_empty()) else {
        return error(
            format,
            StatusCode::FORBIDDEN,
            "api_key is required to create a service request",
        );
    };
    let areas = match services::open311::key_areas(&state.db, key).await {
        Ok(Some(a)) => a,
        Ok(None) => return error(format, StatusCode::FORBIDDEN, "invalid api_key"),
        Err(e) => return internal(format, e),
    };
    let Some(code) = params.get("service_code").filter(|c| !c.is_empty()) else {
        return error(format, StatusCode::BAD_REQUEST, "service_code is required");
    };
    let definition = match services::open311::definition(&state.db, code).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            return error(
                format,
                StatusCode::NOT_FOUND,
                format!("service_code `{code}` not found"),
            );
        }
        Err(e) => return internal(format, e),
    };
    for attr in definition["attributes"].as_array().into_iter().flatten() {
        let name = attr["code"].as_str().unwrap_or_default();
        let given = params
            .get(&format!("attribute[{name}]"))
            .is_some_and(|v| !v.is_empty());
        if attr["required"] == true && !given {
            return error(
                format,
                StatusCode::BAD_REQUEST,
                format!("attribute[{name}] is required"),
            );
        }
    }
    match submit(&state, &params, code, &areas).await {
        Ok(Ok((number, _id))) => respond(
            format,
            StatusCode::OK,
            "service_requests",
            &json!([{"service_request_id": number, "service_notice": "", "account_id": Value::Null}]),
        ),
        Ok(Err((status, why))) => error(format, status, why),
        Err(e) => internal(format, e),
    }
}

type Refusal = (StatusCode, String);

/// The area a request lands in, for the key's scope: the building's or the point's grid, the
/// community queue of the nearest grid for a point just outside every grid, the one street for
/// an address alone. A point outside the service area is refused (`422 outside_service_area`).
fn landing_area(
    dir: &Directory,
    building: Option<&entity::building::Model>,
    location: Option<GeoPoint>,
    max_meters: f64,
) -> Result<Option<Uuid>, ServiceError> {
    if let Some(b) = building {
        return Ok(Some(b.grid_id));
    }
    let Some(point) = location else {
        let mut streets = dir.tree.streets();
        return Ok(match (streets.next(), streets.next()) {
            (Some(only), None) => Some(only.id),
            _ => None,
        });
    };
    Ok(match routing::served(dir, point, max_meters)? {
        Served::InGrid(grid) => Some(grid),
        Served::Near { grid } => dir
            .tree
            .enclosing(grid, AreaKind::Community)
            .map(|c| c.id)
            .or(Some(grid)),
    })
}

async fn submit(
    state: &SharedState,
    params: &HashMap<String, String>,
    code: &str,
    areas: &[Uuid],
) -> Result<Result<(String, Uuid), Refusal>, ServiceError> {
    let bad = |why: &str| Ok(Err((StatusCode::BAD_REQUEST, why.to_owned())));
    let num = |k: &str| {
        params
            .get(k)
            .filter(|v| !v.is_empty())
            .map(|v| v.parse::<f64>())
    };
    let location = match (num("lat"), num("long")) {
        (Some(Ok(lat)), Some(Ok(lng))) => Some(services::areas::location(lat, lng, Some("wgs84"))?),
        (None, None) => None,
        _ => return bad("lat and long must both be numbers"),
    };
    let building = match params.get("address_id").filter(|v| !v.is_empty()) {
        Some(raw) => match Uuid::parse_str(raw) {
            Ok(id) => match entity::building::Entity::find_by_id(id)
                .one(&state.db)
                .await?
            {
                Some(b) => Some(b),
                None => return bad("address_id not found"),
            },
            Err(_) => return bad("address_id not found"),
        },
        None => None,
    };
    let address = params.get("address_string").filter(|v| !v.is_empty());
    if location.is_none() && building.is_none() && address.is_none() {
        return bad("lat and long, address_string or address_id is required");
    }
    let dir = state.directory.get(&state.db).await?;
    let max = state.settings.routing.nearest_grid_max_meters;
    let Some(lands_in) = landing_area(&dir, building.as_ref(), location, max)? else {
        return bad("this jurisdiction has several streets: give lat and long or address_id");
    };
    if !areas.iter().any(|a| dir.tree.is_within(lands_in, *a)) {
        return Ok(Err((
            StatusCode::FORBIDDEN,
            "this api_key may not post into that area".into(),
        )));
    }
    let mut description = params
        .get("description")
        .cloned()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| code.to_owned());
    let attrs: Vec<String> = params
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("attribute[")
                .and_then(|k| k.strip_suffix(']'))
                .map(|k| format!("{k}={v}"))
        })
        .collect();
    if !attrs.is_empty() {
        description.push_str(&format!("\n[attributes] {}", attrs.join("; ")));
    }
    if let Some(url) = params.get("media_url").filter(|u| !u.is_empty()) {
        description.push_str(&format!("\n[media] {url}"));
    }
    let new = NewTicket {
        kind: TicketKind::Complaint,
        category_code: code.to_owned(),
        title: None,
        description: Text::parse("description", &description, 2000)?,
        location,
        building_id: building.map(|b| b.id),
        address_text: Text::parse_opt("address_string", address.map(String::as_str), 200)?,
        anonymous: false,
        // Contact fields are optional to 311 clients: a number that is not a mainland one is dropped.
        contact_phone: params
            .get("phone")
            .and_then(|p| Phone::parse("phone", p).ok()),
        channel: Channel::Open311,
        attachment_ids: vec![],
        moderation: None,
        visit_id: None,
        prefer_assignee: None,
        public: false,
        praised_staff_id: None,
        follows_ticket_id: None,
        caller_name: None,
    };
    let made = services::tickets::create(&state.ctx(), Reporter::Open311, new, None).await?;
    Ok(Ok((made.number, made.id)))
}
