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

/// `Authorization: Bearer <token>` from `POST /auth/wechat` or `POST /auth/staff`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_token")]
pub struct BearerAuth(pub Claims);

async fn check_token(req: &Request, bearer: Bearer) -> poem::Result<Claims> {
    let state = req
        .data::<SharedState>()
        .ok_or_else(|| ApiError::new(Code::Internal))?;
    state
        .tokens
        .verify(&bearer.token)
        .ok_or_else(|| ApiError::new(Code::Unauthorized).into())
}

impl BearerAuth {
    /// The resident behind the token; staff tokens are refused.
    pub fn resident(&self) -> Result<Uuid, ApiError> {
        match self.0.kind {
            PrincipalKind::Resident => Ok(self.0.sub),
            PrincipalKind::Staff => Err(ApiError::new(Code::Forbidden).detail("residents only")),
        }
    }

    /// The staff member behind the token, not yet checked against the directory (a service
    /// that does its own check takes it); resident tokens are refused.
    pub fn staff_id(&self) -> Result<Uuid, ApiError> {
        match self.0.kind {
            PrincipalKind::Staff => Ok(self.0.sub),
            PrincipalKind::Resident => Err(ApiError::new(Code::Forbidden).detail("staff only")),
        }
    }

    /// The staff member behind the token with their current scope (from the directory, checked
    /// against the database on each request); resident tokens are refused.
    pub async fn staff(&self, ctx: &Ctx<'_>) -> Result<StaffScope, ApiError> {
        let staff_id = self.staff_id()?;
        Ok(ctx.dir().await?.scope(staff_id)?)
    }

    pub async fn caller(&self, ctx: &Ctx<'_>) -> Result<Caller, ApiError> {
        match self.0.kind {
            PrincipalKind::Resident => Ok(Caller::Resident(self.0.sub)),
            PrincipalKind::Staff => self.staff(ctx).await.map(Caller::Staff),
        }
    }

    /// A system administrator.
    pub async fn admin(&self, ctx: &Ctx<'_>) -> Result<Uuid, ApiError> {
        let scope = self.staff(ctx).await?;
        if scope.is_system_admin() {
            Ok(scope.staff_id)
        } else {
            Err(ApiError::new(Code::Forbidden).detail("system administrators only"))
        }
    }
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct WechatLogin {
    /// The code from the mini-program's `wx.login()`.
    #[oai(validator(min_length = 1, max_length = 256))]
    pub code: Str,
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
        let resident_id =
            services::auth::wechat_login(&self.state.db, &self.state.wechat, code.as_str()).await?;
        let token = self
            .state
            .tokens
            .issue(resident_id, PrincipalKind::Resident)?;
        Ok(Json(ResidentToken { token, resident_id }))
    }

    /// Staff login with login name and password.
    #[oai(path = "/auth/staff", method = "post")]
    async fn staff(&self, body: Json<StaffLogin>) -> ApiResult<Json<StaffToken>> {
        let staff = services::staff::login(&self.state.ctx(), &body.login, &body.password).await?;
        let token = self.state.tokens.issue(staff.id, PrincipalKind::Staff)?;
        Ok(Json(StaffToken {
            token,
            staff_id: staff.id,
        }))
    }
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct CodeBody {
    /// A code from the mini-program (`wx.login` or `getPhoneNumber`).
    #[oai(validator(min_length = 1, max_length = 256))]
    pub code: Str,
}

#[derive(Object)]
pub struct PhoneBound {
    pub phone: String,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct SubscriptionsBody {
    pub template_ids: Vec<Str>,
}

#[derive(Object)]
pub struct Granted {
    pub granted: u32,
}

pub struct MeApi {
    pub state: SharedState,
}

#[OpenApi(tag = "Tag::Auth")]
impl MeApi {
    /// Stores the resident's phone number from a `getPhoneNumber` code (getuserphonenumber).
    /// Staff see it masked (`138****1234`) except the assignee.
    #[oai(path = "/me/phone", method = "post")]
    async fn bind_phone(
        &self,
        auth: BearerAuth,
        body: Json<CodeBody>,
    ) -> ApiResult<Json<PhoneBound>> {
        let resident = auth.resident()?;
        let phone =
            services::auth::bind_phone(&self.state.db, &self.state.wechat, resident, &body.code)
                .await?;
        Ok(Json(PhoneBound { phone }))
    }

    /// Records the one-time subscription-message templates the resident just granted in the
    /// mini-program (`wx.requestSubscribeMessage`); each grant lets one message through.
    #[oai(path = "/me/subscriptions", method = "post")]
    async fn subscriptions(
        &self,
        auth: BearerAuth,
        body: Json<SubscriptionsBody>,
    ) -> ApiResult<Json<Granted>> {
        let resident = auth.resident()?;
        if body.template_ids.is_empty()
            || body.template_ids.len() > 20
            || body
                .template_ids
                .iter()
                .any(|t| t.is_empty() || t.len() > 64)
        {
            return Err(ApiError::new(Code::InvalidField)
                .field("template_ids")
                .detail("1 to 20 template ids"));
        }
        let now = self.state.clock.now();
        let template_ids: Vec<String> = body.0.template_ids.into_iter().map(String::from).collect();
        services::outbox::add_grants(&self.state.db, resident, &template_ids, now).await?;
        Ok(Json(Granted {
            granted: template_ids.len() as u32,
        }))
    }

    /// Binds the calling staff member's WeChat account (a `wx.login` code).
    #[oai(path = "/staff/me/wechat", method = "post")]
    async fn bind_staff_wechat(&self, auth: BearerAuth, body: Json<CodeBody>) -> ApiResult<()> {
        let staff_id = auth.staff(&self.state.ctx()).await?.staff_id;
        services::auth::bind_staff_wechat(&self.state.db, &self.state.wechat, staff_id, &body.code)
            .await?;
        Ok(())
    }

    /// Staff login from the mini-program, for a staff member whose WeChat account is bound
    /// (`401 wechat_not_bound` otherwise).
    #[oai(path = "/auth/staff/wechat", method = "post")]
    async fn staff_wechat_login(&self, body: Json<CodeBody>) -> ApiResult<Json<StaffToken>> {
        let staff_id =
            services::auth::staff_wechat_login(&self.state.db, &self.state.wechat, &body.code)
                .await?;
        let token = self.state.tokens.issue(staff_id, PrincipalKind::Staff)?;
        Ok(Json(StaffToken { token, staff_id }))
    }
}
