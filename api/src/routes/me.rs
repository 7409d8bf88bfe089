//! The signed-in caller: who they are (`GET /me`, `GET /staff/me`), their home building, phone,
//! subscriptions, WeChat binding and password.
use poem_openapi::{Object, OpenApi, payload::Json};

use super::{
    ApiResult, Tag,
    auth::{ResidentAuth, StaffAuth, StaffPendingAuth, StaffToken},
};
use crate::{
    error::{ApiError, Code},
    schemas::{
        Str,
        places::{HomeBody, PasswordChange, ResidentMe, StaffMe},
    },
    services::{self, staff::Password},
    state::SharedState,
};

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
pub struct PrivacyAgreement {
    /// The version of `GET /privacy/notice` the resident agreed to.
    #[oai(validator(min_length = 1, max_length = 64))]
    pub version: Str,
}

#[derive(Object)]
pub struct PrivacyAgreed {
    pub version: String,
    pub agreed_at: crate::schemas::Time,
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

#[OpenApi(tag = "Tag::Me")]
impl MeApi {
    /// Who the signed-in resident is: phone (masked), home building, unused notification
    /// grants per template key, the privacy notice version agreed to.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, auth: ResidentAuth) -> ApiResult<Json<ResidentMe>> {
        Ok(Json(
            services::me::resident(&self.state.ctx(), auth.0).await?,
        ))
    }

    /// Records the resident's agreement to the current privacy notice (`GET /privacy/notice`),
    /// with the time and the client; another version is `422`. Needed before submitting.
    #[oai(path = "/me/privacy", method = "post")]
    async fn agree_privacy(
        &self,
        auth: ResidentAuth,
        body: Json<PrivacyAgreement>,
        #[oai(name = "User-Agent")] client: poem_openapi::param::Header<Option<String>>,
    ) -> ApiResult<Json<PrivacyAgreed>> {
        let ctx = self.state.ctx();
        let agreed =
            services::privacy::agree(&ctx, auth.0, &body.0.version, client.0.as_deref()).await?;
        Ok(Json(PrivacyAgreed {
            version: agreed.version,
            agreed_at: agreed.agreed_at.into(),
        }))
    }

    /// Sets the resident's home building (from `GET /buildings`): a ticket with neither a
    /// building nor a point inside a grid is routed to its grid.
    #[oai(path = "/me/home", method = "put")]
    async fn set_home(
        &self,
        auth: ResidentAuth,
        body: Json<HomeBody>,
    ) -> ApiResult<Json<ResidentMe>> {
        let ctx = self.state.ctx();
        services::me::set_home(&ctx, auth.0, body.building_id, ctx.now()).await?;
        Ok(Json(services::me::resident(&ctx, auth.0).await?))
    }

    /// Who the signed-in staff member is: roles with their areas, and the broadest of those
    /// areas (`home_area_id`) as the default `area_id` of lists and statistics.
    #[oai(path = "/staff/me", method = "get")]
    async fn staff_me(&self, auth: StaffPendingAuth) -> ApiResult<Json<StaffMe>> {
        Ok(Json(services::me::staff(&self.state.ctx(), auth.0).await?))
    }

    /// Changes the caller's own password: at least 10 characters of three kinds (upper case,
    /// lower case, digits, symbols; `422 weak_password`), not the old one. Every earlier token
    /// and console session of the caller ends; the answer carries a new token. `422
    /// wrong_password` for a wrong `old`; repeated wrong tries lock the account like failed
    /// logins (`429 login_locked`). Open to an account that must still choose its password.
    #[oai(path = "/staff/me/password", method = "post")]
    async fn change_password(
        &self,
        auth: StaffPendingAuth,
        body: Json<PasswordChange>,
    ) -> ApiResult<Json<StaffToken>> {
        let ctx = self.state.ctx();
        let new = Password::parse_field("new", &body.new)?;
        let member = services::me::change_password(&ctx, auth.0, &body.old, new, ctx.now()).await?;
        Ok(Json(StaffToken::new(&self.state, &member)?))
    }

    /// Stores the resident's phone number from a `getPhoneNumber` code (getuserphonenumber).
    /// Staff see it masked (`138****1234`) except the assignee.
    #[oai(path = "/me/phone", method = "post")]
    async fn bind_phone(
        &self,
        auth: ResidentAuth,
        body: Json<CodeBody>,
    ) -> ApiResult<Json<PhoneBound>> {
        let resident = auth.0;
        let phone = services::auth::bind_phone(&self.state.ctx(), resident, &body.code).await?;
        Ok(Json(PhoneBound { phone }))
    }

    /// Records the one-time subscription-message templates the resident just granted in the
    /// mini-program (`wx.requestSubscribeMessage`); each grant lets one message through.
    #[oai(path = "/me/subscriptions", method = "post")]
    async fn subscriptions(
        &self,
        auth: ResidentAuth,
        body: Json<SubscriptionsBody>,
    ) -> ApiResult<Json<Granted>> {
        let resident = auth.0;
        if body.template_ids.is_empty()
            || body.template_ids.len() > 20
            || body
                .template_ids
                .iter()
                .any(|t| t.is_empty() || t.len() > 64)
        {
            return Err(ApiError::new(Code::InvalidField)
                .field("template_ids")
                .detail(crate::error::bi(
                    "需给出 1 至 20 个模板 id",
                    "1 to 20 template ids",
                )));
        }
        let now = self.state.clock.now();
        let template_ids: Vec<String> = body.0.template_ids.into_iter().map(String::from).collect();
        services::grants::add(
            &self.state.db,
            &self.state.settings.notifications,
            resident,
            &template_ids,
            now,
        )
        .await?;
        Ok(Json(Granted {
            granted: template_ids.len() as u32,
        }))
    }

    /// Binds the calling staff member's WeChat account (a `wx.login` code).
    #[oai(path = "/staff/me/wechat", method = "post")]
    async fn bind_staff_wechat(&self, auth: StaffAuth, body: Json<CodeBody>) -> ApiResult<()> {
        let ctx = self.state.ctx();
        let staff_id = auth.scope(&ctx).await?.staff_id;
        services::auth::bind_staff_wechat(&ctx, staff_id, &body.code).await?;
        Ok(())
    }

    /// Staff login from the mini-program, for a staff member whose WeChat account is bound
    /// (`401 wechat_not_bound` otherwise).
    #[oai(path = "/auth/staff/wechat", method = "post")]
    async fn staff_wechat_login(&self, body: Json<CodeBody>) -> ApiResult<Json<StaffToken>> {
        let member = services::auth::staff_wechat_login(&self.state.ctx(), &body.code).await?;
        Ok(Json(StaffToken::new(&self.state, &member)?))
    }
}
