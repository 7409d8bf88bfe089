//! Bearer tokens (JWT, HS256) and resident login through WeChat.
use chrono::Duration;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Ctx, ServiceError, ServiceResult};
use crate::{
    cache::Cache,
    clients::wechat::WechatError,
    config::{PasswordSettings, Secret},
    error::Code,
};
use entity::{resident, staff};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    Resident,
    Staff,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub kind: PrincipalKind,
    pub iat: i64,
    pub exp: i64,
    /// The holder's `token_version` when it was issued: a staff member's password change or a
    /// resident's closing of their account raises it and ends every earlier token.
    #[serde(default)]
    pub ver: i32,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    resident_ttl: Duration,
    staff_ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &Secret, resident_ttl_hours: i64, staff_ttl_hours: i64) -> Self {
        let secret = secret.expose().as_bytes();
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            resident_ttl: Duration::hours(resident_ttl_hours),
            staff_ttl: Duration::hours(staff_ttl_hours),
        }
    }

    /// A resident's token, under their current `token_version`.
    pub fn resident(&self, resident: &resident::Model) -> ServiceResult<String> {
        self.issue(resident.id, PrincipalKind::Resident, resident.token_version)
    }

    /// A staff member's token, under their current `token_version`.
    pub fn staff(&self, member: &staff::Model) -> ServiceResult<String> {
        self.issue(member.id, PrincipalKind::Staff, member.token_version)
    }

    /// A token for `sub`. Tokens live in real time, not the injectable clock's: the JWT library
    /// checks `exp` against the system clock.
    pub fn issue(&self, sub: Uuid, kind: PrincipalKind, ver: i32) -> ServiceResult<String> {
        let at = chrono::Utc::now();
        let ttl = match kind {
            PrincipalKind::Resident => self.resident_ttl,
            PrincipalKind::Staff => self.staff_ttl,
        };
        let claims = Claims {
            sub,
            kind,
            iat: at.timestamp(),
            exp: (at + ttl).timestamp(),
            ver,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }

    pub fn verify(&self, token: &str) -> Option<Claims> {
        let validation = Validation::new(Algorithm::HS256);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// Password logins counted per account, in the shared cache: every attempt is counted before
/// the password is checked (so a burst of guesses at once cannot all slip in before the first
/// failure is recorded) and a success starts the count afresh. Past `passwords.max_failures`
/// attempts without a success within `passwords.lock_minutes`, the account is locked for
/// `lock_minutes`, so guessing one account's password from many addresses gets nowhere. The count
/// is keyed by the login as typed (case folded), whether or not such an account exists, so a
/// lock says nothing about which logins are real.
pub struct Lockout<'a> {
    cache: &'a dyn Cache,
    settings: &'a PasswordSettings,
    attempts: String,
    lock: String,
}

impl<'a> Lockout<'a> {
    pub fn new(cache: &'a dyn Cache, settings: &'a PasswordSettings, login: &str) -> Self {
        use sha2::{Digest, Sha256};
        let account = hex::encode(&Sha256::digest(login.to_lowercase().as_bytes())[..16]);
        Lockout {
            cache,
            settings,
            attempts: format!("login:attempts:{account}"),
            lock: format!("login:locked:{account}"),
        }
    }

    fn window(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.settings.lock_minutes.max(1) * 60)
    }

    fn locked(retry_after: u64) -> ServiceError {
        ServiceError::Throttled {
            code: Code::LoginLocked,
            retry_after: retry_after.max(1),
        }
    }

    /// Counts this attempt; `429 login_locked` with the seconds left while the account is
    /// locked, or when this attempt is one too many (which locks it).
    pub async fn attempt(&self) -> ServiceResult<()> {
        let now = chrono::Utc::now().timestamp();
        match self.cache.get(&self.lock).await {
            Ok(Some(until)) => {
                let left = until.parse::<i64>().map_or(0, |u| u - now);
                if left > 0 {
                    return Err(Self::locked(left as u64));
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "login lockout unreadable: cache unavailable"),
        }
        let window = self.window();
        match self.cache.hit(&self.attempts, window).await {
            Ok((count, _)) if count > self.settings.max_failures => {
                let until = now + window.as_secs() as i64;
                if let Err(e) = self.cache.set(&self.lock, &until.to_string(), window).await {
                    tracing::warn!(error = %e, "login lockout not recorded: cache unavailable");
                }
                let _ = self.cache.del(&self.attempts).await;
                tracing::warn!(account = %self.lock, "staff login locked after repeated failures");
                Err(Self::locked(window.as_secs()))
            }
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "login attempt not counted: cache unavailable");
                Ok(())
            }
        }
    }

    /// A successful login starts the count afresh.
    pub async fn succeeded(&self) {
        let _ = self.cache.del(&self.attempts).await;
    }
}

impl From<WechatError> for ServiceError {
    fn from(err: WechatError) -> Self {
        match err {
            WechatError::CodeInvalid(_) => ServiceError::WechatCodeInvalid,
            WechatError::Api {
                errcode: 40029 | 40163,
                ..
            } => ServiceError::WechatCodeInvalid,
            other @ (WechatError::Unavailable(_) | WechatError::Api { .. }) => {
                ServiceError::WechatUnavailable(other.to_string())
            }
        }
    }
}

/// Logs a resident in with a mini-program `wx.login` code; a new openid makes a new resident.
/// An account its resident closed answers `409 account_closed` until anonymised, unless
/// `restore` reopens it.
pub async fn wechat_login(
    ctx: &Ctx<'_>,
    code: &str,
    restore: bool,
) -> ServiceResult<resident::Model> {
    let db = ctx.db;
    let session = ctx.wechat.code2session(code).await?;
    if let Some(existing) = resident::Entity::find()
        .filter(resident::Column::Openid.eq(&session.openid))
        .one(db)
        .await?
    {
        return super::privacy::account::on_login(ctx, existing, restore).await;
    }
    let at = ctx.now();
    let created = resident::ActiveModel {
        id: Set(Uuid::new_v4()),
        openid: Set(session.openid.clone()),
        unionid: Set(session.unionid),
        phone: Set(None),
        home_building_id: Set(None),
        closed_at: Set(None),
        anonymise_at: Set(None),
        anonymised_at: Set(None),
        token_version: Set(0),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await;
    match created {
        Ok(r) => Ok(r),
        // Two first logins at once: the other one made the row; use it.
        Err(_) => resident::Entity::find()
            .filter(resident::Column::Openid.eq(&session.openid))
            .one(db)
            .await?
            .ok_or_else(|| ServiceError::Internal("resident insert failed".into())),
    }
}

/// Stores the phone number behind a mini-program `getPhoneNumber` code.
pub async fn bind_phone(ctx: &Ctx<'_>, resident_id: Uuid, code: &str) -> ServiceResult<String> {
    let db = ctx.db;
    let raw = ctx.wechat.phone_number(code).await?;
    let phone = crate::domain::inputs::Phone::parse("code", &raw)?;
    let resident = resident::Entity::find_by_id(resident_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let mut am: resident::ActiveModel = resident.into();
    am.phone = Set(Some(phone.as_str().to_owned()));
    am.updated_at = Set(ctx.now());
    am.update(db).await?;
    Ok(phone.as_str().to_owned())
}

/// Binds a staff member's WeChat openid so they can log in from the mini-program.
pub async fn bind_staff_wechat(ctx: &Ctx<'_>, staff_id: Uuid, code: &str) -> ServiceResult<()> {
    let db = ctx.db;
    let session = ctx.wechat.code2session(code).await?;
    let taken = staff::Entity::find()
        .filter(staff::Column::Openid.eq(&session.openid))
        .one(db)
        .await?;
    if taken.is_some_and(|s| s.id != staff_id) {
        return Err(ServiceError::rejected(
            Code::AlreadyExists,
            "code",
            crate::error::bi(
                "这个微信账号已绑定其他工作人员",
                "this WeChat account is bound to another staff member",
            ),
        ));
    }
    let member = staff::Entity::find_by_id(staff_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let mut am: staff::ActiveModel = member.into();
    am.openid = Set(Some(session.openid));
    am.updated_at = Set(ctx.now());
    let bound = am.update(db).await?;
    super::audit::record(
        db,
        "staff.wechat_bind",
        super::audit::Target::new("staff", bound.id),
        serde_json::json!({}),
        ctx.now(),
    )
    .await
}

/// Logs in a staff member whose openid is bound (in the audit log as a `login` `via: wechat`).
pub async fn staff_wechat_login(ctx: &Ctx<'_>, code: &str) -> ServiceResult<staff::Model> {
    let session = ctx.wechat.code2session(code).await?;
    let member = staff::Entity::find()
        .filter(staff::Column::Openid.eq(&session.openid))
        .one(ctx.db)
        .await?;
    match member {
        Some(m) if m.status != crate::domain::StaffStatus::Left => {
            super::staff::login_audit(ctx, Some(m.id), &m.login, "login", "wechat", ctx.now())
                .await?;
            Ok(m)
        }
        _ => Err(ServiceError::Rejected {
            code: Code::WechatNotBound,
            field: Some("code".into()),
            detail: None,
        }),
    }
}
