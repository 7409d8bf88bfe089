//! WeChat server APIs over HTTPS. The base URL is configuration, so tests point it at a fake
//! server on loopback. WeChat answers errors as `{errcode, errmsg}` with HTTP 200; a missing or
//! zero errcode means success, and the body is JSON whatever its Content-Type says.
use std::time::Duration;

use serde::Deserialize;

use crate::config::WechatSettings;

#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    /// The `js_code` is invalid, expired or already used (40029, 40163).
    #[error("login code rejected by WeChat ({0})")]
    CodeInvalid(i64),
    /// WeChat is busy (-1), rate limited (45011), slow, down, or answered something unreadable.
    #[error("WeChat unavailable: {0}")]
    Unavailable(String),
}

#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    base: String,
    appid: String,
    secret: String,
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
    pub fn new(settings: &WechatSettings) -> Result<Self, reqwest::Error> {
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
        })
    }

    /// `GET /sns/jscode2session`: trades a mini-program login code for the user's openid.
    pub async fn code2session(&self, code: &str) -> Result<Session, WechatError> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/sns/jscode2session", self.base),
            &[
                ("appid", self.appid.as_str()),
                ("secret", self.secret.as_str()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ],
        )
        .map_err(|e| WechatError::Unavailable(format!("bad api_base: {e}")))?;
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| WechatError::Unavailable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(WechatError::Unavailable(format!("HTTP {}", resp.status())));
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| WechatError::Unavailable(e.to_string()))?;
        let reply: SessionReply = serde_json::from_slice(&bytes)
            .map_err(|e| WechatError::Unavailable(format!("unreadable reply: {e}")))?;
        match (reply.errcode, reply.openid) {
            (0, Some(openid)) if !openid.is_empty() => Ok(Session {
                openid,
                unionid: reply.unionid,
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
