//! Who the caller is: a resident's profile and home building, a staff member's roles and
//! home area, and a staff member changing their own password.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use uuid::Uuid;

use super::{
    Ctx, ServiceError, ServiceResult,
    directory::{Directory, Person},
    places::area_ref,
    staff::Password,
};
use crate::{
    domain::{AreaKind, inputs::mask_phone},
    error::Code,
    schemas::places::{HomeBuilding, ResidentMe, RoleItem, StaffMe},
};

pub async fn resident(ctx: &Ctx<'_>, resident_id: Uuid) -> ServiceResult<ResidentMe> {
    let me = entity::resident::Entity::find_by_id(resident_id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::Rejected {
            code: Code::Unauthorized,
            field: None,
            detail: None,
        })?;
    let dir = ctx.dir().await?;
    let home_building = match me.home_building_id {
        Some(id) => entity::building::Entity::find_by_id(id)
            .one(ctx.db)
            .await?
            .and_then(|b| {
                Some(HomeBuilding {
                    grid: area_ref(dir.tree.get(b.grid_id)?),
                    id: b.id,
                    name: b.name,
                    address: b.address,
                })
            }),
        None => None,
    };
    let grants: HashMap<String, i64> = entity::subscription_grant::Entity::find()
        .filter(entity::subscription_grant::Column::ResidentId.eq(resident_id))
        .all(ctx.db)
        .await?
        .into_iter()
        .map(|g| (g.template_id, i64::from(g.remaining.max(0))))
        .collect();
    let subscriptions = ctx
        .settings
        .notifications
        .templates
        .iter()
        .map(|(key, t)| {
            (
                key.clone(),
                grants.get(&t.template_id).copied().unwrap_or(0),
            )
        })
        .collect();
    Ok(ResidentMe {
        resident_id,
        phone_bound: me.phone.is_some(),
        phone_masked: me.phone.as_deref().map(mask_phone),
        home_building,
        subscriptions,
        privacy_version: super::privacy::latest_version(ctx, resident_id).await?,
        privacy_notice_pending: !super::privacy::agreed_current(ctx, resident_id).await?,
    })
}

/// Sets the resident's home building: routing falls back to its grid when a ticket has neither
/// a building nor a point inside a grid.
pub async fn set_home(
    ctx: &Ctx<'_>,
    resident_id: Uuid,
    building_id: Uuid,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    super::areas::building(ctx.db, building_id).await?;
    let mut am = entity::resident::Entity::find_by_id(resident_id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?
        .into_active_model();
    am.home_building_id = Set(Some(building_id));
    am.updated_at = Set(at);
    am.update(ctx.db).await?;
    Ok(())
}

pub fn roles(dir: &Directory, person: &Person) -> Vec<RoleItem> {
    person
        .roles
        .iter()
        .map(|r| RoleItem {
            role: r.assignment.role,
            area: r
                .assignment
                .area_id
                .and_then(|a| dir.tree.get(a))
                .map(area_ref),
            department: r.assignment.department.clone(),
            skills: r.skills.clone(),
        })
        .collect()
}

/// The broadest area a person holds a role in: street, then community, then grid.
fn home_area(dir: &Directory, person: &Person) -> Option<Uuid> {
    let rank = |kind: AreaKind| match kind {
        AreaKind::District => 0,
        AreaKind::Street => 1,
        AreaKind::Community => 2,
        AreaKind::Grid => 3,
    };
    person
        .roles
        .iter()
        .filter_map(|r| dir.tree.get(r.assignment.area_id?))
        .min_by_key(|n| rank(n.kind))
        .map(|n| n.id)
}

pub async fn staff(ctx: &Ctx<'_>, staff_id: Uuid) -> ServiceResult<StaffMe> {
    let dir = ctx.dir().await?;
    dir.scope(staff_id)?;
    let person = dir.person(staff_id).ok_or(ServiceError::NotFound)?;
    Ok(StaffMe {
        staff_id,
        name: person.name.clone(),
        login: person.login.clone(),
        status: person.status,
        assignments: roles(&dir, person),
        home_area_id: home_area(&dir, person),
        must_change_password: person.must_change_password,
    })
}

/// A staff member changes their own password, proving the old one; too many wrong tries lock
/// the account as failed logins do (`429 login_locked`).
pub async fn change_password(
    ctx: &Ctx<'_>,
    staff_id: Uuid,
    old: &str,
    new: Password,
    at: DateTime<Utc>,
) -> ServiceResult<entity::staff::Model> {
    let staff = super::staff::get(ctx.db, staff_id).await?;
    let lockout = super::auth::Lockout::new(ctx.cache, &ctx.settings.passwords, &staff.login);
    lockout.attempt().await?;
    if !ctx
        .passwords
        .verify(staff.password_hash.clone(), old.to_owned())
        .await?
    {
        super::staff::login_audit(
            ctx,
            Some(staff.id),
            &staff.login,
            "login.failed",
            "password_change",
            at,
        )
        .await?;
        return Err(ServiceError::Rejected {
            code: Code::WrongPassword,
            field: Some("old".into()),
            detail: None,
        });
    }
    lockout.succeeded().await;
    if new.as_str() == old {
        return Err(ServiceError::rejected(
            Code::WeakPassword,
            "new",
            crate::error::bi(
                "新密码不能与原密码相同",
                "the new password must differ from the old",
            ),
        ));
    }
    super::staff::set_password(ctx, staff, new, super::staff::SetBy::Holder, at).await
}
