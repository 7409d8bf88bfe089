//! The app's WeChat access token, held centrally: cached in the shared cache (Redis) with its
//! expiry, refreshed ahead of expiry by one node under a lock while the others keep using the
//! cached one, and refreshed after a token error with `stable_token`'s rules in mind:
//!
//! - normal mode returns the same token while it is valid (a new one in its last 5 minutes), so
//!   it is always tried first;
//! - `force_refresh` invalidates the old token for every node and is allowed only 20 times a day
//!   and 30 s apart, so it is used only when normal mode hands back the very token that failed.
use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wechat::{WechatClient, WechatError};
use crate::cache::Cache;

const KEY: &str = "wechat:token";
const LOCK: &str = "wechat:token:lock";
/// Refresh when less than this is left (WeChat switches tokens 5 minutes before expiry).
const MARGIN: chrono::Duration = chrono::Duration::minutes(4);
const FORCE_PER_DAY: u64 = 20;
const FORCE_GAP: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Held {
    token: String,
    expires_at: DateTime<Utc>,
}

pub struct TokenHolder {
    cache: Arc<dyn Cache>,
    /// This node's copy, for when the cache is unavailable.
    local: tokio::sync::Mutex<Option<Held>>,
    /// One refresh at a time on this node; concurrent callers wait and reuse its result.
    refreshing: tokio::sync::Mutex<()>,
}

impl TokenHolder {
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        TokenHolder {
            cache,
            local: tokio::sync::Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    async fn current(&self) -> Option<Held> {
        let shared = match self.cache.get(KEY).await {
            Ok(Some(json)) => serde_json::from_str::<Held>(&json).ok(),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "wechat token cache unavailable; using this node's copy");
                None
            }
        };
        match shared {
            Some(h) => Some(h),
            None => self.local.lock().await.clone(),
        }
    }

    async fn store(&self, fresh: &super::wechat::StableToken) -> Held {
        let held = Held {
            token: fresh.access_token.clone(),
            expires_at: Utc::now() + chrono::Duration::seconds(fresh.expires_in),
        };
        if let Ok(json) = serde_json::to_string(&held) {
            let ttl = Duration::from_secs(u64::try_from(fresh.expires_in).unwrap_or(7200).max(1));
            if let Err(e) = self.cache.set(KEY, &json, ttl).await {
                tracing::warn!(error = %e, "wechat token not shared: cache unavailable");
            }
        }
        *self.local.lock().await = Some(held.clone());
        held
    }

    /// A valid access token, fetched at most once however many callers ask at the same time.
    pub async fn get(&self, client: &WechatClient) -> Result<String, WechatError> {
        let fresh_enough = |h: &Held| h.expires_at - Utc::now() > MARGIN;
        if let Some(h) = self.current().await.filter(fresh_enough) {
            return Ok(h.token);
        }
        let _one = self.refreshing.lock().await;
        if let Some(h) = self.current().await.filter(fresh_enough) {
            return Ok(h.token);
        }
        match self.cache.set_nx(LOCK, "1", Duration::from_secs(10)).await {
            Ok(false) => {
                // Another node is refreshing: its token, or the still-valid old one, will do.
                for _ in 0..30 {
                    if let Some(h) = self.current().await.filter(|h| h.expires_at > Utc::now()) {
                        return Ok(h.token);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            Ok(true) => {}
            Err(e) => {
                tracing::warn!(error = %e, "wechat token lock unavailable; refreshing locally")
            }
        }
        let fetched = client.stable_token(false).await;
        let _ = self.cache.del(LOCK).await;
        Ok(self.store(&fetched?).await.token)
    }

    /// A token to replace `failed`, which WeChat just refused.
    pub async fn refresh_after_failure(
        &self,
        client: &WechatClient,
        failed: &str,
    ) -> Result<String, WechatError> {
        let _one = self.refreshing.lock().await;
        if let Some(h) = self
            .current()
            .await
            .filter(|h| h.token != failed && h.expires_at > Utc::now())
        {
            return Ok(h.token); // someone refreshed meanwhile
        }
        let normal = client.stable_token(false).await?;
        if normal.access_token != failed {
            return Ok(self.store(&normal).await.token);
        }
        if !self.may_force().await {
            return Err(WechatError::Api {
                errcode: 40001,
                errmsg: "access token refused and force refresh not allowed now".into(),
            });
        }
        let forced = client.stable_token(true).await?;
        Ok(self.store(&forced).await.token)
    }

    /// At most 20 forced refreshes a day (Beijing day) and 30 s apart, across all nodes.
    async fn may_force(&self) -> bool {
        let day = crate::domain::calendar::beijing_date(Utc::now()).format("%Y%m%d");
        let gap_free = self
            .cache
            .set_nx("wechat:force:last", "1", FORCE_GAP)
            .await
            .unwrap_or(true);
        if !gap_free {
            return false;
        }
        match self
            .cache
            .hit(
                &format!("wechat:force:{day}"),
                Duration::from_secs(24 * 3600),
            )
            .await
        {
            Ok((count, _)) => count <= FORCE_PER_DAY,
            Err(_) => true,
        }
    }
}
