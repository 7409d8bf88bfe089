//! WeChat server APIs over HTTPS. The base URL is configuration, so tests point it at a fake
//! server on loopback. WeChat answers errors as `{errcode, errmsg}` with HTTP 200; a missing or
//! zero errcode means success, and the body is JSON whatever its Content-Type says.
use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use super::wechat_token::TokenHolder;
use crate::{
    cache::Cache,
    config::{Secret, WechatSettings},
};

/// A transport failure as words that are safe to log and store: reqwest's message names the URL,
/// and WeChat's URLs carry the app secret, the user's login code or the access token.
pub(super) fn unreachable(e: reqwest::Error) -> WechatError {
    WechatError::Unavailable(e.without_url().to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    /// The `js_code` is invalid, expired or already used (40029, 40163).
    #[error("login code rejected by WeChat ({0})")]
    CodeInvalid(i64),
    /// WeChat is busy (-1), rate limited (45011), slow, down, or answered something unreadable.
    #[error("WeChat unavailable: {0}")]
    Unavailable(String),
    /// WeChat answered with an error code.
    #[error("WeChat errcode {errcode}: {errmsg}")]
    Api { errcode: i64, errmsg: String },
}

impl WechatError {
    /// Worth trying again later: busy, rate limited, concurrent sends to one user, timeouts, 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            WechatError::Unavailable(_) => true,
            WechatError::Api { errcode, .. } => matches!(errcode, -1 | 45009 | 45011 | 43108),
            WechatError::CodeInvalid(_) => false,
        }
    }

    pub fn errcode(&self) -> Option<i64> {
        match self {
            WechatError::Api { errcode, .. } | WechatError::CodeInvalid(errcode) => Some(*errcode),
            WechatError::Unavailable(_) => None,
        }
    }
}

/// Codes that mean "the access token is not (or no longer) valid".
pub const TOKEN_ERRORS: [i64; 3] = [40001, 40014, 42001];

#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    base: String,
    appid: String,
    secret: Secret,
    tokens: Arc<TokenHolder>,
}

/// `msg_sec_check`'s verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyVerdict {
    /// `pass`, `review` or `risky`.
    pub suggest: String,
    pub label: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StableToken {
    pub access_token: String,
    pub expires_in: i64,
}

/// POSTs JSON to a Tencent API (WeChat's or 企业微信's) that takes `access_token` in the query.
pub(super) async fn post_with_token<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &impl Serialize,
) -> Result<T, WechatError> {
    let url = reqwest::Url::parse_with_params(url, &[("access_token", token)])
        .map_err(|e| WechatError::Unavailable(format!("bad api_base: {e}")))?;
    let resp = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(unreachable)?;
    read_reply(resp).await
}

/// Reads a WeChat reply: JSON whatever the Content-Type; a non-zero errcode is an error.
pub(super) async fn read_reply<T: DeserializeOwned>(
    resp: reqwest::Response,
) -> Result<T, WechatError> {
    if !resp.status().is_success() {
        return Err(WechatError::Unavailable(format!("HTTP {}", resp.status())));
    }
    let bytes = resp.bytes().await.map_err(unreachable)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| WechatError::Unavailable(format!("unreadable reply: {e}")))?;
    let errcode = value.get("errcode").and_then(Value::as_i64).unwrap_or(0);
    if errcode != 0 {
        let errmsg = value
            .get("errmsg")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        return Err(WechatError::Api { errcode, errmsg });
    }
    serde_json::from_value(value)
        .map_err(|e| WechatError::Unavailable(format!("unexpected reply: {e}")))
}

#[derive(Debug, Clone)]
pub struct Session {
    pub openid: String,
    pub unionid: Option<String>,
}

#[derive(Deserialize)]
struct SessionReply {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    openid: Option<String>,
    unionid: Option<String>,
}

impl WechatClient {
    pub fn new(settings: &WechatSettings, cache: Arc<dyn Cache>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .connect_timeout(Duration::from_millis(settings.timeout_ms.min(3000)))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(WechatClient {
            http,
            base: settings.api_base.trim_end_matches('/').to_owned(),
            appid: settings.appid.clone(),
            secret: settings.secret.clone(),
            tokens: Arc::new(TokenHolder::new(cache)),
        })
    }

    /// `POST /cgi-bin/stable_token`: the app's access token; `force` invalidates the old one.
    pub async fn stable_token(&self, force: bool) -> Result<StableToken, WechatError> {
        let body = json!({"grant_type": "client_credential", "appid": self.appid, "secret": self.secret.expose(), "force_refresh": force});
        let resp = self
            .http
            .post(format!("{}/cgi-bin/stable_token", self.base))
            .json(&body)
            .send()
            .await
            .map_err(unreachable)?;
        read_reply(resp).await
    }

    /// POSTs JSON to an API that takes the access token, retrying once with a fresh token when
    /// WeChat says the token is invalid or expired.
    async fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, WechatError> {
        let token = self.tokens.get(self).await?;
        match self.post_with(path, &token, body).await {
            Err(WechatError::Api { errcode, .. }) if TOKEN_ERRORS.contains(&errcode) => {
                let fresh = self.tokens.refresh_after_failure(self, &token).await?;
                self.post_with(path, &fresh, body).await
            }
            other => other,
        }
    }

    async fn post_with<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        body: &impl Serialize,
    ) -> Result<T, WechatError> {
        post_with_token(&self.http, &format!("{}{path}", self.base), token, body).await
    }

    /// `POST /cgi-bin/message/subscribe/send`: one subscription message; WeChat's `msgid` for
    /// it (its later `subscribe_msg_sent_event` names it).
    pub async fn send_subscription(&self, message: &Value) -> Result<Option<String>, WechatError> {
        let reply: Value = self
            .call("/cgi-bin/message/subscribe/send", message)
            .await?;
        Ok(match reply.get("msgid") {
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) if s.len() <= 64 => Some(s.clone()),
            _ => None,
        })
    }

    /// `POST /wxa/msg_sec_check` (version 2): decide on `result.suggest`.
    pub async fn check_text(
        &self,
        content: &str,
        openid: &str,
        scene: u8,
    ) -> Result<SafetyVerdict, WechatError> {
        let body = json!({"content": content, "version": 2, "scene": scene, "openid": openid});
        let reply: Value = self.call("/wxa/msg_sec_check", &body).await?;
        let result = reply
            .get("result")
            .ok_or_else(|| WechatError::Unavailable("reply without result".into()))?;
        Ok(SafetyVerdict {
            suggest: result
                .get("suggest")
                .and_then(Value::as_str)
                .unwrap_or("review")
                .to_owned(),
            label: result.get("label").and_then(Value::as_i64).unwrap_or(0),
        })
    }

    /// `POST /wxa/media_check_async` (version 2): WeChat fetches the image at `media_url` and
    /// pushes its verdict later (`wxa_media_check`); the trace id that verdict will name.
    pub async fn check_media(&self, media_url: &str, openid: &str) -> Result<String, WechatError> {
        let body = json!({"media_url": media_url, "media_type": 2, "version": 2, "scene": 1, "openid": openid});
        let reply: Value = self.call("/wxa/media_check_async", &body).await?;
        reply
            .get("trace_id")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty() && t.len() <= 128)
            .map(str::to_owned)
            .ok_or_else(|| WechatError::Unavailable("reply without trace_id".into()))
    }

    /// `POST /wxa/business/getuserphonenumber`: the phone number behind a `getPhoneNumber` code.
    pub async fn phone_number(&self, code: &str) -> Result<String, WechatError> {
        let reply: Value = self
            .call("/wxa/business/getuserphonenumber", &json!({"code": code}))
            .await?;
        reply
            .pointer("/phone_info/purePhoneNumber")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| WechatError::Unavailable("reply without phone_info".into()))
    }

    /// `GET /sns/jscode2session`: trades a mini-program login code for the user's openid.
    pub async fn code2session(&self, code: &str) -> Result<Session, WechatError> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/sns/jscode2session", self.base),
            &[
                ("appid", self.appid.as_str()),
                ("secret", self.secret.expose()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ],
        )
        .map_err(|e| WechatError::Unavailable(format!("bad api_base: {e}")))?;
        let resp = self.http.get(url).send().await.map_err(unreachable)?;
        if !resp.status().is_success() {
            return Err(WechatError::Unavailable(format!("HTTP {}", resp.status())));
        }
        let bytes = resp.bytes().await.map_err(unreachable)?;
        let reply: SessionReply = serde_json::from_slice(&bytes)
            .map_err(|e| WechatError::Unavailable(format!("unreadable reply: {e}")))?;
        // WeChat's ids are 28–32 characters; anything empty or far longer is not an answer to
        // trust (nor to store in a 64-character column).
        let sane = |id: &String| !id.is_empty() && id.len() <= 64;
        match (reply.errcode, reply.openid) {
            (0, Some(openid)) if sane(&openid) => Ok(Session {
                openid,
                unionid: reply.unionid.filter(sane),
            }),
            (0, _) => Err(WechatError::Unavailable("reply without openid".into())),
            (code @ (40029 | 40163), _) => Err(WechatError::CodeInvalid(code)),
            (code, _) => Err(WechatError::Unavailable(format!(
                "errcode {code}: {}",
                reply.errmsg
            ))),
        }
    }
}
