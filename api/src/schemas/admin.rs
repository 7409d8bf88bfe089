//! Bodies of the administration endpoints.
use crate::schemas::Str;
use poem_openapi::Object;
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{AreaKind, HandlingLevel, SlaMode, StaffRole, StaffStatus};

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct AreaCreate {
    pub kind: AreaKind,
    pub name: Str,
    /// Required except for districts and streets (which may be roots).
    pub parent_id: Option<Uuid>,
    pub code: Option<Str>,
    /// A GeoJSON Polygon or MultiPolygon geometry in WGS-84 ([lng, lat]); holes allowed.
    pub boundary: Option<Value>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct AreaPatch {
    pub name: Option<Str>,
    pub code: Option<Str>,
    pub parent_id: Option<Uuid>,
    pub boundary: Option<Value>,
}

#[derive(Object)]
pub struct Area {
    pub id: Uuid,
    pub kind: AreaKind,
    pub name: String,
    #[oai(nullable)]
    pub parent_id: Option<Uuid>,
    #[oai(nullable)]
    pub code: Option<String>,
    #[oai(nullable)]
    pub boundary: Option<Value>,
    pub created_at: crate::schemas::Time,
    pub updated_at: crate::schemas::Time,
}

impl From<entity::area::Model> for Area {
    fn from(m: entity::area::Model) -> Self {
        Area {
            id: m.id,
            kind: m.kind,
            name: m.name,
            parent_id: m.parent_id,
            code: m.code,
            boundary: m.boundary.and_then(|b| serde_json::from_str(&b).ok()),
            created_at: m.created_at.into(),
            updated_at: m.updated_at.into(),
        }
    }
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct LocationInput {
    pub lat: f64,
    pub lng: f64,
    /// `wgs84` (default) or `gcj02` (WeChat map coordinates, Chinese maps); GCJ-02 is converted.
    pub coord_system: Option<Str>,
}

impl LocationInput {
    /// The point in WGS-84, converted from GCJ-02 when it came so.
    pub fn parse(&self) -> Result<crate::domain::inputs::GeoPoint, crate::services::ServiceError> {
        crate::services::areas::location(self.lat, self.lng, self.coord_system.as_deref())
    }
}

#[derive(Object)]
pub struct Point {
    /// WGS-84.
    pub lat: f64,
    pub lng: f64,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct BuildingCreate {
    pub name: Str,
    pub grid_id: Uuid,
    pub address: Option<Str>,
    pub location: Option<LocationInput>,
}

#[derive(Object)]
pub struct Building {
    pub id: Uuid,
    pub name: String,
    pub grid_id: Uuid,
    #[oai(nullable)]
    pub address: Option<String>,
    #[oai(nullable)]
    pub location: Option<Point>,
}

impl From<entity::building::Model> for Building {
    fn from(m: entity::building::Model) -> Self {
        Building {
            id: m.id,
            name: m.name,
            grid_id: m.grid_id,
            address: m.address,
            location: m.lat.zip(m.lng).map(|(lat, lng)| Point { lat, lng }),
        }
    }
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct StaffCreate {
    pub name: Str,
    pub login: Str,
    /// 8 to 128 characters.
    pub password: Str,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct StaffPatch {
    pub status: Option<StaffStatus>,
    /// Their 企业微信 userid (staff messages go there); `""` removes it.
    #[oai(validator(max_length = 64))]
    pub wecom_userid: Option<Str>,
}

#[derive(Object)]
pub struct Staff {
    pub id: Uuid,
    pub name: String,
    pub login: String,
    pub status: StaffStatus,
    #[oai(nullable)]
    pub wecom_userid: Option<String>,
    pub assignments: Vec<Assignment>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct AssignmentCreate {
    /// Omitted only for `system_admin`.
    pub area_id: Option<Uuid>,
    pub role: StaffRole,
    /// Category codes a grid assistant can handle.
    pub skills: Option<Vec<Str>>,
    /// For `department`: the department's name, matched against category groups.
    pub department: Option<Str>,
}

#[derive(Object)]
pub struct Assignment {
    pub id: Uuid,
    #[oai(nullable)]
    pub area_id: Option<Uuid>,
    pub role: StaffRole,
    pub skills: Vec<String>,
    #[oai(nullable)]
    pub department: Option<String>,
}

impl From<entity::staff_assignment::Model> for Assignment {
    fn from(m: entity::staff_assignment::Model) -> Self {
        Assignment {
            id: m.id,
            area_id: m.area_id,
            role: m.role,
            skills: crate::services::staff::parse_skills(&m.skills),
            department: m.department,
        }
    }
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct CategoryPatch {
    pub name: Option<Str>,
    pub group: Option<Str>,
    pub handling_level: Option<HandlingLevel>,
    /// With `resolution_hours`: both or neither.
    pub response_minutes: Option<i64>,
    pub resolution_hours: Option<i64>,
    pub sla_mode: Option<SlaMode>,
    /// false: residents can no longer choose it (open tickets keep it).
    pub active: Option<bool>,
    pub display_order: Option<i32>,
    /// Up to 500 characters; an empty string clears it.
    pub description: Option<Str>,
    pub requires_resolution_photo: Option<bool>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct CategoryCreate {
    /// Lowercase letters, digits, `_`, `-`; also the Open311 service_code.
    pub code: Str,
    pub name: Str,
    /// Category group; street-level tickets go to the department of this name.
    pub group: Option<Str>,
    pub handling_level: HandlingLevel,
    pub response_minutes: i64,
    pub resolution_hours: i64,
    /// Resolving needs a photo of the fix (default false).
    pub requires_resolution_photo: Option<bool>,
    /// `calendar` (default): the SLA runs in calendar time; `working`: in working time by the
    /// work calendar (working hours, weekends, public holidays and adjusted working days).
    pub sla_mode: Option<crate::domain::SlaMode>,
    /// Shown to Open311 clients as the service description.
    pub description: Option<Str>,
    /// Open311 attributes (`GET /open311/v2/services/{code}.json`).
    pub attributes: Option<Vec<crate::domain::open311::ServiceAttribute>>,
}

#[derive(Object)]
pub struct Category {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub group: String,
    pub handling_level: HandlingLevel,
    pub response_minutes: i32,
    pub resolution_hours: i32,
    pub active: bool,
    pub requires_resolution_photo: bool,
    pub sla_mode: SlaMode,
    /// Where the mini-program lists it (ascending, then by code).
    pub display_order: i32,
    #[oai(nullable)]
    pub description: Option<String>,
    /// The promise to the resident, e.g. `2小时内响应，3个工作日内办结`.
    pub sla_text: String,
}

impl Category {
    /// `day_minutes`: the working minutes of a working day, for SLAs in working time.
    pub fn of(m: entity::category::Model, day_minutes: i64) -> Self {
        Category {
            sla_text: crate::domain::promise::sla_text(
                m.response_minutes,
                m.resolution_hours,
                m.sla_mode,
                day_minutes,
            ),
            display_order: m.display_order,
            description: m.description,
            id: m.id,
            code: m.code,
            name: m.name,
            group: m.group_name,
            handling_level: m.handling_level,
            response_minutes: m.response_minutes,
            resolution_hours: m.resolution_hours,
            active: m.active,
            requires_resolution_photo: m.requires_resolution_photo,
            sla_mode: m.sla_mode,
        }
    }
}

#[derive(Object)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
}

/// Where a message stands: `waiting_grant` is a resident message waiting for its template to be
/// granted; `skipped` means no delivery channel (the inbox holds it).
#[derive(poem_openapi::Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Sending,
    WaitingGrant,
    Sent,
    Failed,
    Skipped,
}

impl OutboxStatus {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "sending" => Self::Sending,
            "waiting_grant" => Self::WaitingGrant,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            "skipped" => Self::Skipped,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::WaitingGrant => "waiting_grant",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

/// The channel a message was delivered through, or tried: the inbox always holds it.
#[derive(poem_openapi::Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum DeliveryChannel {
    Wechat,
    Wecom,
    Inbox,
}

#[derive(Object)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub recipient_kind: String,
    pub recipient_id: Uuid,
    pub event: String,
    #[oai(nullable)]
    pub ticket_id: Option<Uuid>,
    pub status: OutboxStatus,
    /// The channel tried last (`null` before the first try).
    #[oai(nullable)]
    pub channel: Option<DeliveryChannel>,
    pub attempts: i32,
    /// The last channel's answer (an error, or why nothing was sent).
    #[oai(nullable)]
    pub last_error: Option<String>,
    pub next_attempt_at: crate::schemas::Time,
    /// While `waiting_grant`: when the wait ends.
    #[oai(nullable)]
    pub wait_until: Option<crate::schemas::Time>,
    /// What WeChat reported later of a sent message (`subscribe_msg_sent_event`): `delivered`,
    /// or `refused: <code> <status>`.
    #[oai(nullable)]
    pub delivery: Option<String>,
    #[oai(nullable)]
    pub sent_at: Option<crate::schemas::Time>,
    pub created_at: crate::schemas::Time,
}

impl From<entity::notification_outbox::Model> for OutboxMessage {
    fn from(m: entity::notification_outbox::Model) -> Self {
        OutboxMessage {
            id: m.id,
            recipient_kind: m.recipient_kind,
            recipient_id: m.recipient_id,
            event: m.event,
            ticket_id: m.ticket_id,
            status: OutboxStatus::parse(&m.status).unwrap_or(OutboxStatus::Pending),
            channel: match m.channel.as_deref() {
                Some("wechat") => Some(DeliveryChannel::Wechat),
                Some("wecom") => Some(DeliveryChannel::Wecom),
                Some("inbox") => Some(DeliveryChannel::Inbox),
                _ => None,
            },
            attempts: m.attempts,
            last_error: m.last_error,
            next_attempt_at: m.next_attempt_at.into(),
            wait_until: m.wait_until.map(Into::into),
            delivery: m.delivery,
            sent_at: m.sent_at.map(Into::into),
            created_at: m.created_at.into(),
        }
    }
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct Open311KeyCreate {
    /// Who uses it, e.g. the city's 12345 platform.
    pub name: Str,
    /// Areas (and everything below them) the key may post requests into.
    pub area_ids: Vec<Uuid>,
}

#[derive(Object)]
pub struct Open311Key {
    pub id: Uuid,
    pub name: String,
    /// Shown only now; keep it safe.
    pub api_key: String,
    pub area_ids: Vec<Uuid>,
}

/// A key as listed: its name, areas and state; the key itself is never shown again.
#[derive(Object)]
pub struct Open311KeyInfo {
    pub id: Uuid,
    pub name: String,
    pub area_ids: Vec<Uuid>,
    pub active: bool,
    pub created_at: crate::schemas::Time,
}

impl From<crate::services::open311::KeyInfo> for Open311KeyInfo {
    fn from(k: crate::services::open311::KeyInfo) -> Self {
        Self {
            id: k.id,
            name: k.name,
            area_ids: k.area_ids,
            active: k.active,
            created_at: k.created_at.into(),
        }
    }
}

#[derive(Object)]
pub struct SupportCount {
    pub support_count: i32,
}
