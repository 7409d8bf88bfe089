//! Staff accounts, their assignments to areas, and password login.
use super::audit::{self, Target};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use chrono::{DateTime, Utc};

use super::{Ctx, ServiceError, ServiceResult, passwords::PasswordHasher};
use crate::{
    domain::{StaffRole, StaffStatus, inputs::Text},
    error::Code,
};

pub struct NewStaff {
    pub name: Text,
    pub login: Text,
    pub password: Password,
    /// Created by an administrator: its holder chooses their own password first. (The CLI's
    /// first administrator and the demo street's accounts are not.)
    pub must_change_password: bool,
}

/// A staff password as 等保 2.0 asks: 10 to 128 characters of at least three kinds (upper case,
/// lower case, digits, symbols); only its argon2 hash is ever stored.
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> ServiceResult<Self> {
        Self::parse_field("password", raw)
    }

    /// As [`Password::parse`], naming `field` when it is refused.
    pub fn parse_field(field: &'static str, raw: &str) -> ServiceResult<Self> {
        let n = raw.chars().count();
        if n > 128 {
            return Err(ServiceError::rejected(
                Code::TextTooLong,
                field,
                crate::error::bi("密码最多 128 个字符", "at most 128 characters"),
            ));
        }
        let kinds = [
            raw.chars().any(|c| c.is_ascii_uppercase()),
            raw.chars().any(|c| c.is_ascii_lowercase()),
            raw.chars().any(|c| c.is_ascii_digit()),
            raw.chars().any(|c| !c.is_ascii_alphanumeric()),
        ];
        if n < 10 || kinds.iter().filter(|k| **k).count() < 3 {
            return Err(ServiceError::Rejected {
                code: Code::WeakPassword,
                field: Some(field.to_owned()),
                detail: None,
            });
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who set a password: its holder, or an administrator (who creates or resets an account; its
/// holder must then choose their own before anything else).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SetBy {
    Holder,
    Administrator,
}

/// Stores a new password for `staff`. Every token and console session begun before it ends
/// (a reset after a lost phone): its `token_version` goes up, and the directory with it.
pub async fn set_password(
    ctx: &Ctx<'_>,
    staff: entity::staff::Model,
    new: Password,
    by: SetBy,
    at: DateTime<Utc>,
) -> ServiceResult<entity::staff::Model> {
    let hash = ctx.passwords.hash(new.0).await?;
    let version = staff.token_version;
    let mut am = staff.into_active_model();
    am.password_hash = Set(hash);
    am.token_version = Set(version + 1);
    am.must_change_password = Set(by == SetBy::Administrator);
    // A WeChat binding is a credential too: whoever bound it may be who the change locks out.
    am.openid = Set(None);
    am.updated_at = Set(at);
    let txn = super::write_txn(ctx.db).await?;
    let updated = am.update(&txn).await?;
    let action = match by {
        SetBy::Holder => "password.change",
        SetBy::Administrator => "password.reset",
    };
    audit::record(
        &txn,
        action,
        Target::new("staff", updated.id),
        json!({"login": updated.login}),
        at,
    )
    .await?;
    super::directory::bump(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

pub async fn create(
    db: &impl ConnectionTrait,
    hasher: &PasswordHasher,
    new: NewStaff,
    at: DateTime<Utc>,
) -> ServiceResult<entity::staff::Model> {
    let exists = entity::staff::Entity::find()
        .filter(entity::staff::Column::Login.eq(new.login.as_str()))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Err(ServiceError::rejected(
            Code::AlreadyExists,
            "login",
            crate::error::bi("该登录名已被使用", "that login is taken"),
        ));
    }
    let hash = hasher.hash(new.password.0).await?;
    let created = entity::staff::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(new.name.into_inner()),
        login: Set(new.login.into_inner()),
        password_hash: Set(hash),
        openid: Set(None),
        wecom_userid: Set(None),
        status: Set(StaffStatus::Active),
        token_version: Set(0),
        must_change_password: Set(new.must_change_password),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        "staff.create",
        Target::new("staff", created.id),
        json!({"login": created.login, "name": created.name, "must_change_password": created.must_change_password}),
        at,
    )
    .await?;
    super::directory::bump(db).await?;
    Ok(created)
}

/// Creates a system administrator (the CLI's `admin create`).
pub async fn create_admin(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    new: NewStaff,
    at: DateTime<Utc>,
) -> ServiceResult<entity::staff::Model> {
    let txn = super::write_txn(db).await?;
    let staff = create(&txn, hasher, new, at).await?;
    let admin = NewAssignment {
        area_id: None,
        role: StaffRole::SystemAdmin,
        skills: vec![],
        department: None,
    };
    assign(&txn, staff.id, admin, at).await?;
    txn.commit().await?;
    Ok(staff)
}

pub struct NewAssignment {
    pub area_id: Option<Uuid>,
    pub role: StaffRole,
    pub skills: Vec<String>,
    pub department: Option<Text>,
}

pub async fn assign(
    db: &impl ConnectionTrait,
    staff_id: Uuid,
    new: NewAssignment,
    at: DateTime<Utc>,
) -> ServiceResult<entity::staff_assignment::Model> {
    get(db, staff_id).await?;
    let area_id = match (new.role.area_kind(), new.area_id) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(ServiceError::rejected(
                Code::UnknownArea,
                "area_id",
                crate::error::bi("该角色需要指定区域", "this role needs an area"),
            ));
        }
        (Some(kind), Some(area_id)) => {
            let area = entity::area::Entity::find_by_id(area_id)
                .one(db)
                .await?
                .ok_or_else(|| {
                    ServiceError::rejected(
                        Code::UnknownArea,
                        "area_id",
                        crate::error::bi("没有这个区域", "no such area"),
                    )
                })?;
            if area.kind != kind {
                return Err(ServiceError::rejected(
                    Code::RoleAreaMismatch,
                    "area_id",
                    format!("{} is held in a {kind}, not a {}", new.role, area.kind),
                ));
            }
            Some(area_id)
        }
    };
    if new.role == StaffRole::Department && new.department.is_none() {
        return Err(ServiceError::rejected(
            Code::InvalidField,
            "department",
            "a department assignment names its department",
        ));
    }
    let duplicate = entity::staff_assignment::Entity::find()
        .filter(entity::staff_assignment::Column::StaffId.eq(staff_id))
        .filter(entity::staff_assignment::Column::Role.eq(new.role.as_str()))
        .filter(match area_id {
            Some(a) => entity::staff_assignment::Column::AreaId.eq(a),
            None => entity::staff_assignment::Column::AreaId.is_null(),
        })
        .one(db)
        .await?;
    if duplicate.is_some() {
        return Err(ServiceError::rejected(
            Code::AlreadyExists,
            "role",
            crate::error::bi("该任职已存在", "this assignment exists"),
        ));
    }
    let skills =
        serde_json::to_string(&new.skills).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let created = entity::staff_assignment::ActiveModel {
        id: Set(Uuid::new_v4()),
        staff_id: Set(staff_id),
        area_id: Set(area_id),
        role: Set(new.role),
        department: Set(new.department.map(Text::into_inner)),
        skills: Set(skills),
        created_at: Set(at),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        "staff.assign",
        Target::new("staff", staff_id),
        json!({"role": created.role.as_str(), "area_id": created.area_id}),
        at,
    )
    .await?;
    super::directory::bump(db).await?;
    Ok(created)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> ServiceResult<entity::staff::Model> {
    entity::staff::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)
}

pub async fn assignments(
    db: &impl ConnectionTrait,
    staff_id: Uuid,
) -> ServiceResult<Vec<entity::staff_assignment::Model>> {
    Ok(entity::staff_assignment::Entity::find()
        .filter(entity::staff_assignment::Column::StaffId.eq(staff_id))
        .order_by_asc(entity::staff_assignment::Column::CreatedAt)
        .all(db)
        .await?)
}

/// The ids of the active system administrators, their assignment rows locked until the
/// transaction ends (PostgreSQL; SQLite's write transaction holds the whole database), so two
/// admins demoting each other at once cannot both succeed.
async fn active_system_admins(db: &impl ConnectionTrait) -> ServiceResult<Vec<Uuid>> {
    use entity::staff_assignment::Column as A;
    let holders: Vec<Uuid> = entity::staff_assignment::Entity::find()
        .filter(A::Role.eq(StaffRole::SystemAdmin.as_str()))
        .lock_exclusive()
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.staff_id)
        .collect();
    Ok(entity::staff::Entity::find()
        .filter(entity::staff::Column::Id.is_in(holders))
        .filter(entity::staff::Column::Status.eq(StaffStatus::Active.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect())
}

/// Refuses a change that would leave no active system administrator (`409 last_admin`).
async fn keep_an_admin(db: &impl ConnectionTrait, losing: Uuid) -> ServiceResult<()> {
    let admins = active_system_admins(db).await?;
    if admins.contains(&losing) && admins.len() == 1 {
        return Err(ServiceError::rejected(
            Code::LastAdmin,
            "id",
            crate::error::bi(
                "请先任命另一位系统管理员",
                "appoint another system administrator first",
            ),
        ));
    }
    Ok(())
}

pub async fn set_status(
    db: &DatabaseConnection,
    id: Uuid,
    status: StaffStatus,
    at: DateTime<Utc>,
) -> ServiceResult<entity::staff::Model> {
    let txn = super::write_txn(db).await?;
    let mut am = get(&txn, id).await?.into_active_model();
    if status != StaffStatus::Active {
        keep_an_admin(&txn, id).await?;
    }
    am.status = Set(status);
    am.updated_at = Set(at);
    let updated = am.update(&txn).await?;
    audit::record(
        &txn,
        "staff.status",
        Target::new("staff", id),
        json!({"status": status.as_str()}),
        at,
    )
    .await?;
    super::directory::bump(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// A 企业微信 userid as 企业微信 allows it: 1–64 letters, digits and `_-@.`, starting with a
/// letter or digit (so never `@all`, nor a `|` list), compared without case as 企业微信 does;
/// kept in lower case.
pub fn parse_wecom_userid(raw: &str) -> ServiceResult<String> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw.starts_with(|c: char| c.is_ascii_alphanumeric())
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '@' | '.'));
    if !ok {
        return Err(ServiceError::rejected(
            Code::InvalidField,
            "wecom_userid",
            crate::error::bi(
                "企业微信账号须为 1–64 位字母、数字或 _-@.，以字母或数字开头",
                "1 to 64 letters, digits or _-@., starting with a letter or digit",
            ),
        ));
    }
    Ok(raw.to_ascii_lowercase())
}

/// Refuses a userid another staff member holds (`409 already_exists`).
pub async fn check_wecom_userid_free(
    db: &impl ConnectionTrait,
    id: Uuid,
    userid: &str,
) -> ServiceResult<()> {
    let taken = entity::staff::Entity::find()
        .filter(entity::staff::Column::WecomUserid.eq(userid))
        .filter(entity::staff::Column::Id.ne(id))
        .one(db)
        .await?;
    if taken.is_some() {
        return Err(ServiceError::rejected(
            Code::AlreadyExists,
            "wecom_userid",
            crate::error::bi(
                "该企业微信账号已绑定其他人员",
                "another staff member has this userid",
            ),
        ));
    }
    Ok(())
}

/// Sets (or with `None` removes) a staff member's 企业微信 userid (already parsed by
/// [`parse_wecom_userid`]); a userid another member holds is `409 already_exists`.
pub async fn set_wecom_userid(
    db: &DatabaseConnection,
    id: Uuid,
    userid: Option<String>,
    at: DateTime<Utc>,
) -> ServiceResult<entity::staff::Model> {
    let txn = super::write_txn(db).await?;
    if let Some(u) = &userid {
        check_wecom_userid_free(&txn, id, u).await?;
    }
    let mut am = get(&txn, id).await?.into_active_model();
    am.wecom_userid = Set(userid);
    am.updated_at = Set(at);
    let updated = am.update(&txn).await?;
    audit::record(
        &txn,
        "staff.wecom_userid",
        Target::new("staff", id),
        json!({"wecom_userid": updated.wecom_userid}),
        at,
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Takes a role away from a staff member.
pub async fn unassign(
    db: &DatabaseConnection,
    staff_id: Uuid,
    assignment_id: Uuid,
) -> ServiceResult<()> {
    let txn = super::write_txn(db).await?;
    let assignment = entity::staff_assignment::Entity::find_by_id(assignment_id)
        .one(&txn)
        .await?
        .filter(|a| a.staff_id == staff_id)
        .ok_or(ServiceError::NotFound)?;
    if assignment.role == StaffRole::SystemAdmin {
        keep_an_admin(&txn, staff_id).await?;
    }
    entity::staff_assignment::Entity::delete_by_id(assignment_id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        "staff.unassign",
        Target::new("staff", staff_id),
        json!({"role": assignment.role.as_str(), "area_id": assignment.area_id}),
        chrono::Utc::now(),
    )
    .await?;
    super::directory::bump(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Checks a login and password; staff who have left cannot log in. An account with too many
/// recent attempts without a success is locked for a while (`429 login_locked`), whoever asks
/// and from wherever.
pub async fn login(
    ctx: &Ctx<'_>,
    login: &str,
    password: &str,
) -> ServiceResult<entity::staff::Model> {
    let lockout = super::auth::Lockout::new(ctx.cache, &ctx.settings.passwords, login);
    lockout.attempt().await?;
    let staff = entity::staff::Entity::find()
        .filter(entity::staff::Column::Login.eq(login))
        .one(ctx.db)
        .await?;
    let invalid = || ServiceError::Rejected {
        code: Code::InvalidCredentials,
        field: None,
        detail: None,
    };
    let at = ctx.now();
    let Some(staff) = staff else {
        // Spend the same effort as a real check so timing does not reveal which logins exist.
        ctx.passwords.hash(password.to_owned()).await?;
        login_audit(ctx, None, login, "login.failed", "password", at).await?;
        return Err(invalid());
    };
    let matches = ctx
        .passwords
        .verify(staff.password_hash.clone(), password.to_owned())
        .await?;
    if !matches || staff.status == StaffStatus::Left {
        login_audit(
            ctx,
            Some(staff.id),
            &staff.login,
            "login.failed",
            "password",
            at,
        )
        .await?;
        return Err(invalid());
    }
    lockout.succeeded().await;
    login_audit(ctx, Some(staff.id), &staff.login, "login", "password", at).await?;
    Ok(staff)
}

/// A login, or a failed one, in the audit log (the login as typed, cut to 64 characters), and
/// how: `password`, `wechat`, or `password_change` (a wrong old password).
pub(super) async fn login_audit(
    ctx: &Ctx<'_>,
    id: Option<Uuid>,
    login: &str,
    action: &str,
    via: &str,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let target = Target {
        kind: "staff",
        id: id.map(|i| i.to_string()),
    };
    let detail = json!({ "via": via });
    audit::record_as(ctx.db, (id, login), action, target, detail, None, at).await
}

pub fn parse_skills(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}
