//! Categories of suggestions and complaints, each with its handling level and SLA.
use super::audit::{self, Target};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{ServiceError, ServiceResult};
use crate::{
    domain::{HandlingLevel, inputs::Text},
    error::Code,
};

pub struct NewCategory {
    pub code: Text,
    pub name: Text,
    pub group: Text,
    pub handling_level: HandlingLevel,
    pub response_minutes: i32,
    pub resolution_hours: i32,
    pub requires_resolution_photo: bool,
    pub sla_mode: crate::domain::SlaMode,
    pub description: Option<Text>,
    /// Open311 attributes clients fill in for this service.
    pub attributes: Vec<crate::domain::open311::ServiceAttribute>,
}

impl NewCategory {
    /// SLAs must be positive and at most a year.
    pub fn check_sla(response_minutes: i64, resolution_hours: i64) -> ServiceResult<(i32, i32)> {
        let ok_r = (1..=525_600).contains(&response_minutes);
        let ok_h = (1..=8_760).contains(&resolution_hours);
        if !ok_r {
            return Err(ServiceError::rejected(
                Code::InvalidField,
                "response_minutes",
                "1 to 525600",
            ));
        }
        if !ok_h {
            return Err(ServiceError::rejected(
                Code::InvalidField,
                "resolution_hours",
                "1 to 8760",
            ));
        }
        Ok((response_minutes as i32, resolution_hours as i32))
    }
}

/// A category code: ASCII letters, digits, `_`, `-` and `.` (it doubles as the Open311 service_code).
pub fn check_code(code: &Text) -> ServiceResult<()> {
    if code
        .as_str()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        Ok(())
    } else {
        Err(ServiceError::rejected(
            Code::InvalidField,
            "code",
            crate::error::bi(
                "只能使用英文字母、数字、_、- 和 .",
                "ASCII letters, digits, _, - and .",
            ),
        ))
    }
}

pub async fn create(
    db: &impl ConnectionTrait,
    new: NewCategory,
    at: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<entity::category::Model> {
    check_code(&new.code)?;
    for a in &new.attributes {
        if a.code.is_empty() || !crate::domain::open311::DATATYPES.contains(&&*a.datatype) {
            return Err(ServiceError::rejected(
                Code::InvalidField,
                "attributes",
                crate::error::bi(
                    "每个属性需有 code 和 datatype（string、number、datetime、text、singlevaluelist 或 multivaluelist）",
                    "each needs a code and a datatype of string, number, datetime, text, singlevaluelist or multivaluelist",
                ),
            ));
        }
    }
    if by_code(db, new.code.as_str()).await?.is_some() {
        return Err(ServiceError::rejected(
            Code::AlreadyExists,
            "code",
            crate::error::bi("该编码已被使用", "that code is taken"),
        ));
    }
    let created = entity::category::ActiveModel {
        display_order: Set(0),
        id: Set(Uuid::new_v4()),
        code: Set(new.code.into_inner()),
        name: Set(new.name.into_inner()),
        group_name: Set(new.group.into_inner()),
        handling_level: Set(new.handling_level),
        response_minutes: Set(new.response_minutes),
        resolution_hours: Set(new.resolution_hours),
        active: Set(true),
        requires_resolution_photo: Set(new.requires_resolution_photo),
        sla_mode: Set(new.sla_mode),
        description: Set(new.description.map(Text::into_inner)),
        open311_attributes: Set(if new.attributes.is_empty() {
            None
        } else {
            Some(
                serde_json::to_string(&new.attributes)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?,
            )
        }),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        "category.create",
        Target::new("category", &created.code),
        json!({"name": created.name, "handling_level": created.handling_level.as_str()}),
        at,
    )
    .await?;
    super::directory::bump(db).await?;
    Ok(created)
}

pub async fn by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> ServiceResult<Option<entity::category::Model>> {
    Ok(entity::category::Entity::find()
        .filter(entity::category::Column::Code.eq(code))
        .one(db)
        .await?)
}

pub async fn list_active(db: &impl ConnectionTrait) -> ServiceResult<Vec<entity::category::Model>> {
    Ok(entity::category::Entity::find()
        .filter(entity::category::Column::Active.eq(true))
        .order_by_asc(entity::category::Column::DisplayOrder)
        .order_by_asc(entity::category::Column::Code)
        .all(db)
        .await?)
}

/// Every category, retired ones too, in listing order: the administrator's table.
pub async fn list_all(db: &impl ConnectionTrait) -> ServiceResult<Vec<entity::category::Model>> {
    Ok(entity::category::Entity::find()
        .order_by_asc(entity::category::Column::DisplayOrder)
        .order_by_asc(entity::category::Column::Code)
        .all(db)
        .await?)
}

/// What an administrator may change of a category; `None` leaves a field as it is.
#[derive(Default)]
pub struct CategoryChanges {
    pub name: Option<Text>,
    pub group: Option<Text>,
    pub handling_level: Option<crate::domain::HandlingLevel>,
    /// Both together, checked by [`NewCategory::check_sla`].
    pub sla: Option<(i32, i32)>,
    pub sla_mode: Option<crate::domain::SlaMode>,
    pub active: Option<bool>,
    pub display_order: Option<i32>,
    /// `Some(None)` clears it.
    pub description: Option<Option<Text>>,
    pub requires_resolution_photo: Option<bool>,
}

/// Changes a category. New deadlines apply to tickets submitted from now on; tickets already
/// open keep the ones they were given.
pub async fn update(
    db: &sea_orm::DatabaseConnection,
    code: &str,
    changes: CategoryChanges,
    at: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<entity::category::Model> {
    use sea_orm::{ActiveModelTrait, IntoActiveModel};
    let txn = super::write_txn(db).await?;
    let mut am = by_code(&txn, code)
        .await?
        .ok_or(ServiceError::NotFound)?
        .into_active_model();
    if let Some(v) = changes.name {
        am.name = Set(v.into_inner());
    }
    if let Some(v) = changes.group {
        am.group_name = Set(v.into_inner());
    }
    if let Some(v) = changes.handling_level {
        am.handling_level = Set(v);
    }
    if let Some((response, resolution)) = changes.sla {
        am.response_minutes = Set(response);
        am.resolution_hours = Set(resolution);
    }
    if let Some(v) = changes.sla_mode {
        am.sla_mode = Set(v);
    }
    if let Some(v) = changes.active {
        am.active = Set(v);
    }
    if let Some(v) = changes.display_order {
        am.display_order = Set(v);
    }
    if let Some(v) = changes.description {
        am.description = Set(v.map(Text::into_inner));
    }
    if let Some(v) = changes.requires_resolution_photo {
        am.requires_resolution_photo = Set(v);
    }
    am.updated_at = Set(at);
    let updated = am.update(&txn).await?;
    audit::record(
        &txn,
        "category.update",
        Target::new("category", &updated.code),
        json!({
            "name": updated.name,
            "active": updated.active,
            "handling_level": updated.handling_level.as_str(),
            "response_minutes": updated.response_minutes,
            "resolution_hours": updated.resolution_hours,
        }),
        at,
    )
    .await?;
    super::directory::bump(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}
