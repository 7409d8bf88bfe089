//! Bearer tokens (JWT, HS256) and resident login through WeChat.
use chrono::Duration;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ServiceError, ServiceResult, now};
use crate::clients::wechat::{WechatClient, WechatError};

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
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &str, ttl_hours: i64) -> Self {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            ttl: Duration::hours(ttl_hours),
        }
    }

    pub fn issue(&self, sub: Uuid, kind: PrincipalKind) -> ServiceResult<String> {
        let at = now();
        let claims = Claims {
            sub,
            kind,
            iat: at.timestamp(),
            exp: (at + self.ttl).timestamp(),
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

impl From<WechatError> for ServiceError {
    fn from(err: WechatError) -> Self {
        match err {
            WechatError::CodeInvalid(_) => ServiceError::WechatCodeInvalid,
            WechatError::Unavailable(why) => ServiceError::WechatUnavailable(why),
        }
    }
}

/// Logs a resident in with a mini-program `wx.login` code; a new openid makes a new resident.
pub async fn wechat_login(
    db: &impl ConnectionTrait,
    wechat: &WechatClient,
    code: &str,
) -> ServiceResult<Uuid> {
    let session = wechat.code2session(code).await?;
    use entity::resident;
    if let Some(existing) = resident::Entity::find()
        .filter(resident::Column::Openid.eq(&session.openid))
        .one(db)
        .await?
    {
        return Ok(existing.id);
    }
    let at = now();
    let created = resident::ActiveModel {
        id: Set(Uuid::new_v4()),
        openid: Set(session.openid.clone()),
        unionid: Set(session.unionid),
        phone: Set(None),
        home_building_id: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await;
    match created {
        Ok(r) => Ok(r.id),
        // Two first logins at once: the other one made the row; use it.
        Err(_) => resident::Entity::find()
            .filter(resident::Column::Openid.eq(&session.openid))
            .one(db)
            .await?
            .map(|r| r.id)
            .ok_or_else(|| ServiceError::Internal("resident insert failed".into())),
    }
}
