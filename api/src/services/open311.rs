//! Open311 GeoReport v2 over Qiaomen's tickets: API keys bound to areas, services from
//! categories, requests as anonymised tickets.
use super::audit::{self, Target};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::ExprTrait,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Ctx, ServiceError, ServiceResult};
use crate::{
    domain::{lifecycle::Status, open311, redact::redact},
    error::Code,
};
use entity::{category, open311_key, ticket};

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Creates a key for the given areas; the key itself is returned once and stored only hashed.
pub async fn create_key(
    db: &impl ConnectionTrait,
    name: &str,
    area_ids: &[Uuid],
    at: DateTime<Utc>,
) -> ServiceResult<(Uuid, String)> {
    if area_ids.is_empty() {
        return Err(ServiceError::rejected(
            Code::InvalidField,
            "area_ids",
            crate::error::bi(
                "密钥至少要绑定一个区域",
                "bind the key to at least one area",
            ),
        ));
    }
    for id in area_ids {
        if entity::area::Entity::find_by_id(*id)
            .one(db)
            .await?
            .is_none()
        {
            return Err(ServiceError::rejected(
                Code::UnknownArea,
                "area_ids",
                crate::error::bi(format_args!("没有区域 {id}"), format_args!("no area {id}")),
            ));
        }
    }
    let key = format!(
        "qm311_{}{}",
        Uuid::new_v4().simple(),
        Uuid::new_v4().simple()
    );
    let id = Uuid::new_v4();
    open311_key::ActiveModel {
        id: Set(id),
        name: Set(name.to_owned()),
        key_hash: Set(hash(&key)),
        area_ids: Set(
            serde_json::to_string(area_ids).map_err(|e| ServiceError::Internal(e.to_string()))?
        ),
        active: Set(true),
        created_at: Set(at),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        "open311_key.create",
        Target::new("open311_key", id),
        json!({"name": name, "area_ids": area_ids}),
        at,
    )
    .await?;
    Ok((id, key))
}

/// A key as its administrator sees it: never the key itself, which is shown once.
pub struct KeyInfo {
    pub id: Uuid,
    pub name: String,
    pub area_ids: Vec<Uuid>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// Every key, newest first.
pub async fn keys(db: &impl ConnectionTrait) -> ServiceResult<Vec<KeyInfo>> {
    Ok(open311_key::Entity::find()
        .order_by_desc(open311_key::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|k| KeyInfo {
            id: k.id,
            area_ids: serde_json::from_str(&k.area_ids).unwrap_or_default(),
            name: k.name,
            active: k.active,
            created_at: k.created_at,
        })
        .collect())
}

/// Revokes a key: requests presenting it are refused from now on. Revoking twice is harmless.
pub async fn revoke_key(db: &impl ConnectionTrait, id: Uuid) -> ServiceResult<()> {
    let key = open311_key::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let mut am: open311_key::ActiveModel = key.into();
    am.active = Set(false);
    am.update(db).await?;
    audit::record(
        db,
        "open311_key.revoke",
        Target::new("open311_key", id),
        json!({}),
        chrono::Utc::now(),
    )
    .await?;
    Ok(())
}

/// The areas a presented key may post into, or `None` for an unknown key.
pub async fn key_areas(db: &impl ConnectionTrait, key: &str) -> ServiceResult<Option<Vec<Uuid>>> {
    let found = open311_key::Entity::find()
        .filter(open311_key::Column::KeyHash.eq(hash(key)))
        .filter(open311_key::Column::Active.eq(true))
        .one(db)
        .await?;
    Ok(found.map(|k| serde_json::from_str(&k.area_ids).unwrap_or_default()))
}

fn attributes(c: &category::Model) -> Vec<open311::ServiceAttribute> {
    c.open311_attributes
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default()
}

/// `GET services`: active categories as services.
pub async fn services(db: &impl ConnectionTrait) -> ServiceResult<Value> {
    let rows = super::categories::list_active(db).await?;
    Ok(Value::Array(
        rows.iter()
            .map(|c| {
                json!({
                    "service_code": c.code,
                    "service_name": c.name,
                    "description": c.description.clone().unwrap_or_default(),
                    "metadata": !attributes(c).is_empty(),
                    "type": "realtime",
                    "keywords": c.group_name,
                    "group": c.group_name,
                })
            })
            .collect(),
    ))
}

/// `GET services/{code}`: the service definition with its attributes.
pub async fn definition(db: &impl ConnectionTrait, code: &str) -> ServiceResult<Option<Value>> {
    let Some(c) = super::categories::by_code(db, code)
        .await?
        .filter(|c| c.active)
    else {
        return Ok(None);
    };
    let mut attrs = attributes(&c);
    attrs.sort_by_key(|a| a.order);
    let list: Vec<Value> = attrs
        .iter()
        .map(|a| {
            json!({
                "variable": true,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": a.datatype_description.clone().unwrap_or_default(),
                "order": a.order,
                "description": a.description,
                "values": a.values.iter().map(|v| json!({"key": v.key, "name": v.name})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Some(json!({"service_code": c.code, "attributes": list})))
}

/// One ticket as an Open311 service request. No personal data: no reporter, no contact phone,
/// phone numbers, ID numbers, plates and room numbers in the text masked, the address the
/// building's public one (or the resident's text redacted), a resident's point rounded.
pub fn request_json(
    t: &ticket::Model,
    c: Option<&category::Model>,
    building: Option<&entity::building::Model>,
    agency: Option<String>,
    notes: Option<String>,
) -> Value {
    let address = match building {
        Some(b) => b.address.clone().unwrap_or_else(|| b.name.clone()),
        None => t.address_text.as_deref().map(redact).unwrap_or_default(),
    };
    let (lat, lng) = super::board::published_point(t);
    json!({
        "service_request_id": t.number,
        "status": open311::status(t.status),
        "status_notes": notes.map(|n| redact(&n)).unwrap_or_default(),
        "service_name": c.map(|c| c.name.clone()).unwrap_or_default(),
        "service_code": c.map(|c| c.code.clone()).unwrap_or_default(),
        "description": redact(&t.description),
        "agency_responsible": agency.unwrap_or_default(),
        "service_notice": "",
        "requested_datetime": t.submitted_at.to_rfc3339(),
        "updated_datetime": t.updated_at.to_rfc3339(),
        "expected_datetime": t.resolution_due_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
        "address": address,
        "address_id": t.building_id.map(|b| b.to_string()).unwrap_or_default(),
        "zipcode": "",
        "lat": lat,
        "long": lng,
        "media_url": "",
    })
}

/// Who reads requests: anyone sees public tickets only; a client with an API key sees the
/// tickets of the key's areas.
pub enum Reader {
    Public,
    Areas(Vec<Uuid>),
}

pub struct RequestQuery {
    pub reader: Reader,
    pub ids: Vec<String>,
    pub service_code: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub statuses: Option<&'static [Status]>,
}

/// `GET requests`: newest first, at most 1000.
pub async fn requests(ctx: &Ctx<'_>, q: RequestQuery) -> ServiceResult<Value> {
    let mut find = ticket::Entity::find()
        .order_by_desc(ticket::Column::SubmittedAt)
        .limit(1000);
    if q.ids.is_empty() {
        find = find
            .filter(ticket::Column::SubmittedAt.gte(q.start))
            .filter(ticket::Column::SubmittedAt.lte(q.end));
    } else {
        find = find.filter(ticket::Column::Number.is_in(q.ids.clone()));
    }
    if let Some(code) = q.service_code {
        match super::categories::by_code(ctx.db, &code).await? {
            Some(c) => find = find.filter(ticket::Column::CategoryId.eq(c.id)),
            // No such service: no requests of it.
            None => return Ok(Value::Array(vec![])),
        }
    }
    if let Some(statuses) = q.statuses {
        find = find.filter(super::ticket_status_in(statuses));
    }
    let dir = ctx.dir().await?;
    find = match &q.reader {
        // As on the public board: what the resident withdrew or staff turned down is not shown.
        Reader::Public => find
            .filter(ticket::Column::Public.eq(true))
            .filter(ticket::Column::Status.is_not_in(["withdrawn", "rejected"])),
        Reader::Areas(areas) => {
            let places: Vec<Uuid> = areas.iter().flat_map(|a| dir.tree.subtree(*a)).collect();
            find.filter(
                ticket::Column::GridId
                    .is_in(places.clone())
                    .or(ticket::Column::HandlingAreaId.is_in(places)),
            )
        }
    };
    let rows = find.all(ctx.db).await?;
    let building_ids: Vec<Uuid> = rows.iter().filter_map(|t| t.building_id).collect();
    let buildings: std::collections::HashMap<Uuid, entity::building::Model> =
        match building_ids.is_empty() {
            true => Default::default(),
            false => entity::building::Entity::find()
                .filter(entity::building::Column::Id.is_in(building_ids))
                .all(ctx.db)
                .await?
                .into_iter()
                .map(|b| (b.id, b))
                .collect(),
        };
    let cats: std::collections::HashMap<Uuid, category::Model> = category::Entity::find()
        .all(ctx.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    Ok(Value::Array(
        rows.iter()
            .map(|t| {
                let agency = t
                    .handling_area_id
                    .and_then(|a| dir.tree.get(a))
                    .map(|a| a.name.clone());
                let building = t.building_id.and_then(|b| buildings.get(&b));
                request_json(
                    t,
                    cats.get(&t.category_id),
                    building,
                    agency,
                    t.reject_reason.clone(),
                )
            })
            .collect(),
    ))
}
