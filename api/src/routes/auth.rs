//! Authentication: bearer tokens for residents (WeChat login) and staff (login + password).
use crate::schemas::Str;
use poem::Request;
use poem_openapi::{Object, OpenApi, SecurityScheme, auth::Bearer, payload::Json};
use uuid::Uuid;

use super::{ApiResult, Tag};
use crate::{
    domain::{access::StaffScope, inputs::Text},
    error::{ApiError, Code},
    services::{
        self, Caller, Ctx,
        auth::{Claims, PrincipalKind},
    },
    state::SharedState,
};

fn state_of(req: &Request) -> Result<&SharedState, ApiError> {
    req.data::<SharedState>()
        .ok_or_else(|| ApiError::new(Code::Internal))
}

fn claims(req: &Request, bearer: &Bearer) -> Result<Claims, ApiError> {
    state_of(req)?
        .tokens
        .verify(&bearer.token)
        .ok_or_else(|| ApiError::new(Code::Unauthorized))
}

/// Any caller with a valid token, resident or staff (`POST /auth/wechat`, `POST /auth/staff`):
/// for what both may do, each within their own scope.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_any")]
pub struct CallerAuth(pub Claims);

async fn check_any(req: &Request, bearer: Bearer) -> poem::Result<Claims> {
    let c = claims(req, &bearer)?;
    match c.kind {
        PrincipalKind::Resident => resident_open(req, &c).await?,
        PrincipalKind::Staff => staff_current(req, &c, false).await?,
    }
    Ok(c)
}

/// A resident's token works while their account is open and was issued after it was last
/// closed: closing it (`POST /me/deletion`) ends every token for good.
async fn resident_open(req: &Request, c: &Claims) -> Result<(), ApiError> {
    let state = state_of(req)?;
    if services::privacy::account_open(&state.db, c.sub, c.ver).await? {
        Ok(())
    } else {
        Err(ApiError::new(Code::Unauthorized)
            .detail(crate::error::bi("账号已注销", "account closed")))
    }
}

/// A staff token works while it was issued under the member's current `token_version` (a
/// password change ends the earlier ones) and, unless `pending_ok`, once the member has chosen
/// their own password (`403 password_change_required` until then).
async fn staff_current(req: &Request, c: &Claims, pending_ok: bool) -> Result<(), ApiError> {
    let state = state_of(req)?;
    let dir = state.ctx().dir().await?;
    let person = dir
        .person(c.sub)
        .ok_or_else(|| ApiError::new(Code::Unauthorized))?;
    if person.token_version != c.ver {
        return Err(ApiError::new(Code::Unauthorized).detail(crate::error::bi(
            "密码已更改，请重新登录",
            "the password changed: log in again",
        )));
    }
    services::audit::set_actor(c.sub, &person.login);
    if person.must_change_password && !pending_ok {
        return Err(ApiError::new(Code::PasswordChangeRequired));
    }
    Ok(())
}

impl CallerAuth {
    /// The caller, staff with their current scope (checked with the request's directory).
    pub async fn caller(&self, ctx: &Ctx<'_>) -> Result<Caller, ApiError> {
        match self.0.kind {
            PrincipalKind::Resident => Ok(Caller::Resident(self.0.sub)),
            PrincipalKind::Staff => Ok(Caller::Staff(ctx.dir().await?.scope(self.0.sub)?)),
        }
    }
}

/// A resident's token (`POST /auth/wechat`); staff tokens are `403`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_resident")]
pub struct ResidentAuth(pub Uuid);

async fn check_resident(req: &Request, bearer: Bearer) -> poem::Result<Uuid> {
    let c = claims(req, &bearer)?;
    match c.kind {
        PrincipalKind::Resident => {
            resident_open(req, &c).await?;
            Ok(c.sub)
        }
        PrincipalKind::Staff => Err(ApiError::new(Code::Forbidden)
            .detail(crate::error::bi("仅限居民", "residents only"))
            .into()),
    }
}

/// A staff member's token (`POST /auth/staff`); resident tokens are `403`. Their scope is read
/// with the request's context ([`StaffAuth::scope`]), so the directory is checked once.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_staff")]
pub struct StaffAuth(pub Uuid);

async fn check_staff(req: &Request, bearer: Bearer) -> poem::Result<Uuid> {
    staff_token(req, bearer, false).await
}

async fn staff_token(req: &Request, bearer: Bearer, pending_ok: bool) -> poem::Result<Uuid> {
    let c = claims(req, &bearer)?;
    match c.kind {
        PrincipalKind::Staff => {
            staff_current(req, &c, pending_ok).await?;
            Ok(c.sub)
        }
        PrincipalKind::Resident => Err(ApiError::new(Code::Forbidden)
            .detail(crate::error::bi("仅限工作人员", "staff only"))
            .into()),
    }
}

/// A staff member's token, also while they must still choose their own password: for reading
/// who they are and for changing the password (`GET /staff/me`, `POST /staff/me/password`).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_staff_pending")]
pub struct StaffPendingAuth(pub Uuid);

async fn check_staff_pending(req: &Request, bearer: Bearer) -> poem::Result<Uuid> {
    staff_token(req, bearer, true).await
}

impl StaffAuth {
    /// The staff member with their current scope, from the directory (checked against the
    /// database once per request); a closed account is `401`.
    pub async fn scope(&self, ctx: &Ctx<'_>) -> Result<StaffScope, ApiError> {
        Ok(ctx.dir().await?.scope(self.0)?)
    }
}

/// A system administrator's token, checked against the directory; anyone else is `403`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_admin")]
pub struct AdminAuth(pub Uuid);

async fn check_admin(req: &Request, bearer: Bearer) -> poem::Result<Uuid> {
    let staff_id = check_staff(req, bearer).await?;
    let state = state_of(req)?;
    let scope = state
        .ctx()
        .dir()
        .await
        .map_err(ApiError::from)?
        .scope(staff_id)
        .map_err(ApiError::from)?;
    if scope.is_system_admin() {
        Ok(staff_id)
    } else {
        Err(ApiError::new(Code::Forbidden)
            .detail(crate::error::bi(
                "仅限系统管理员",
                "system administrators only",
            ))
            .into())
    }
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct WechatLogin {
    /// The code from the mini-program's `wx.login()`.
    #[oai(validator(min_length = 1, max_length = 256))]
    pub code: Str,
    /// Reopen an account its resident closed, within the grace period (else `409
    /// account_closed` says until when it can be).
    #[oai(default)]
    pub restore: bool,
}

#[derive(Object)]
pub struct ResidentToken {
    pub token: String,
    pub resident_id: Uuid,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct StaffLogin {
    #[oai(validator(min_length = 1, max_length = 64))]
    pub login: Str,
    #[oai(validator(min_length = 1, max_length = 128))]
    pub password: Str,
}

#[derive(Object)]
pub struct StaffToken {
    pub token: String,
    pub staff_id: Uuid,
    /// An administrator created or reset this account: every other staff endpoint answers
    /// `403 password_change_required` until `POST /staff/me/password`.
    pub must_change_password: bool,
}

impl StaffToken {
    pub fn new(state: &SharedState, member: &entity::staff::Model) -> Result<Self, ApiError> {
        Ok(StaffToken {
            token: state.tokens.staff(member)?,
            staff_id: member.id,
            must_change_password: member.must_change_password,
        })
    }
}

pub struct AuthApi {
    pub state: SharedState,
}

#[OpenApi(tag = "Tag::Auth")]
impl AuthApi {
    /// Resident login with a WeChat mini-program code (jscode2session). A new openid makes a new
    /// resident. `401 wechat_code_invalid` for a bad code, `503 wechat_unavailable` when WeChat
    /// fails or is slow.
    #[oai(path = "/auth/wechat", method = "post")]
    async fn wechat(&self, body: Json<WechatLogin>) -> ApiResult<Json<ResidentToken>> {
        let code = Text::parse("code", &body.code, 256).map_err(services::ServiceError::from)?;
        let resident =
            services::auth::wechat_login(&self.state.ctx(), code.as_str(), body.restore).await?;
        let token = self.state.tokens.resident(&resident)?;
        Ok(Json(ResidentToken {
            token,
            resident_id: resident.id,
        }))
    }

    /// Staff login with login name and password.
    #[oai(path = "/auth/staff", method = "post")]
    async fn staff(&self, body: Json<StaffLogin>) -> ApiResult<Json<StaffToken>> {
        let staff = services::staff::login(&self.state.ctx(), &body.login, &body.password).await?;
        Ok(Json(StaffToken::new(&self.state, &staff)?))
    }
}
