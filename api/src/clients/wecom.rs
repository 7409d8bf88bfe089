//! 企业微信 (WeCom) for staff: the application's access token (`gettoken` with the corp id and
//! the application's secret), shared across nodes in the cache like WeChat's, and application
//! messages (`message/send`, a text card linking to the console). WeCom answers errors as
//! `{errcode, errmsg}` like WeChat; 40014 and 42001 mean the token is invalid or expired (fetch
//! another and retry once), 60011 no permission for the user, 81013 the user is invalid.
use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::wechat::{WechatError, post_with_token, read_reply, unreachable};
use crate::{cache::Cache, config::WecomSettings};

const KEY: &str = "wecom:token";
const LOCK: &str = "wecom:token:lock";
const MARGIN: chrono::Duration = chrono::Duration::minutes(4);
const TOKEN_ERRORS: [i64; 3] = [40001, 40014, 42001];

/// Transient for 企业微信: busy (-1), frequency limits (45009, 45033), timeouts and 5xx.
pub fn is_transient(e: &WechatError) -> bool {
    match e {
        WechatError::Unavailable(_) => true,
        WechatError::Api { errcode, .. } => matches!(errcode, -1 | 45009 | 45033),
        WechatError::CodeInvalid(_) => false,
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Held {
    token: String,
    expires_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    expires_in: i64,
}

/// A text card: what the staff member reads in 企业微信, and the console page it opens.
pub struct TextCard<'a> {
    pub userid: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub url: &'a str,
}

#[derive(Clone)]
pub struct WecomClient {
    http: reqwest::Client,
    base: String,
    corpid: String,
    settings: WecomSettings,
    cache: Arc<dyn Cache>,
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl WecomClient {
    pub fn new(settings: &WecomSettings, cache: Arc<dyn Cache>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .connect_timeout(Duration::from_millis(settings.timeout_ms.min(3000)))
            .build()?;
        Ok(WecomClient {
            http,
            base: settings.api_base.trim_end_matches('/').to_owned(),
            corpid: settings.corpid.clone(),
            settings: settings.clone(),
            cache,
            refreshing: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Configured: a corp id, a secret and an application.
    pub fn enabled(&self) -> bool {
        !self.corpid.is_empty() && !self.settings.corpsecret.is_empty() && self.settings.agentid > 0
    }

    /// The console's page of a ticket, as the card links it.
    pub fn ticket_url(&self, ticket_id: uuid::Uuid) -> String {
        format!(
            "{}/console/tickets/{ticket_id}",
            self.settings.console_base_url.trim_end_matches('/')
        )
    }

    async fn cached(&self) -> Option<Held> {
        let json = self.cache.get(KEY).await.ok()??;
        serde_json::from_str(&json).ok()
    }

    async fn fetch(&self) -> Result<String, WechatError> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/cgi-bin/gettoken", self.base),
            &[
                ("corpid", self.corpid.as_str()),
                ("corpsecret", self.settings.corpsecret.expose()),
            ],
        )
        .map_err(|e| WechatError::Unavailable(format!("bad api_base: {e}")))?;
        let resp = self.http.get(url).send().await.map_err(unreachable)?;
        let reply: TokenReply = read_reply(resp).await?;
        let held = Held {
            token: reply.access_token,
            expires_at: Utc::now() + chrono::Duration::seconds(reply.expires_in),
        };
        if let Ok(json) = serde_json::to_string(&held) {
            let ttl = Duration::from_secs(u64::try_from(reply.expires_in).unwrap_or(7200).max(1));
            let _ = self.cache.set(KEY, &json, ttl).await;
        }
        Ok(held.token)
    }

    /// A valid token: the shared one, or one fetched by one caller at a time on this node and
    /// under a lock across nodes.
    async fn token(&self) -> Result<String, WechatError> {
        let fresh = |h: &Held| h.expires_at - Utc::now() > MARGIN;
        if let Some(h) = self.cached().await.filter(fresh) {
            return Ok(h.token);
        }
        let _one = self.refreshing.lock().await;
        if let Some(h) = self.cached().await.filter(fresh) {
            return Ok(h.token);
        }
        if let Ok(false) = self.cache.set_nx(LOCK, "1", Duration::from_secs(10)).await {
            for _ in 0..30 {
                if let Some(h) = self.cached().await.filter(|h| h.expires_at > Utc::now()) {
                    return Ok(h.token);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let token = self.fetch().await;
        let _ = self.cache.del(LOCK).await;
        token
    }

    /// A token to replace `failed`: another caller's newer one, or a fresh one.
    async fn replace(&self, failed: &str) -> Result<String, WechatError> {
        let _one = self.refreshing.lock().await;
        if let Some(h) = self.cached().await.filter(|h| h.token != failed) {
            return Ok(h.token);
        }
        let _ = self.cache.del(KEY).await;
        self.fetch().await
    }

    async fn post(&self, token: &str, body: &Value) -> Result<Value, WechatError> {
        let url = format!("{}/cgi-bin/message/send", self.base);
        post_with_token(&self.http, &url, token, body).await
    }

    /// Sends a text card to one member; WeCom's `msgid`. A user WeCom names `invaliduser` is
    /// 81013 (the user is not, or no longer, in the corp).
    pub async fn send_card(&self, card: &TextCard<'_>) -> Result<Option<String>, WechatError> {
        let body = json!({
            "touser": card.userid,
            "msgtype": "textcard",
            "agentid": self.settings.agentid,
            "textcard": {
                "title": card.title,
                "description": card.description,
                "url": card.url,
                "btntxt": "查看",
            },
        });
        let token = self.token().await?;
        let reply = match self.post(&token, &body).await {
            Err(WechatError::Api { errcode, .. }) if TOKEN_ERRORS.contains(&errcode) => {
                let fresh = self.replace(&token).await?;
                self.post(&fresh, &body).await?
            }
            other => other?,
        };
        if reply
            .get("invaliduser")
            .and_then(Value::as_str)
            .is_some_and(|u| !u.is_empty())
        {
            return Err(WechatError::Api {
                errcode: 81013,
                errmsg: "invalid user".into(),
            });
        }
        Ok(reply
            .get("msgid")
            .and_then(Value::as_str)
            .map(str::to_owned))
    }
}
