//! Redis through a managed connection that reconnects by itself. Every call has a short timeout,
//! so a Redis that is down or hanging costs a request milliseconds, not seconds.
use std::time::Duration;

use redis::{AsyncCommands, Client, aio::ConnectionManager, aio::ConnectionManagerConfig};
use tokio::sync::Mutex;

use super::{Cache, CacheError};

const CALL_TIMEOUT: Duration = Duration::from_millis(300);

pub struct RedisCache {
    client: Client,
    prefix: String,
    /// Created on first use (Redis may be down at start-up), then kept: it reconnects itself.
    manager: Mutex<Option<ConnectionManager>>,
}

fn err(e: impl std::fmt::Display) -> CacheError {
    CacheError(e.to_string())
}

impl RedisCache {
    pub fn new(url: &str, prefix: &str) -> Result<Self, CacheError> {
        Ok(RedisCache {
            client: Client::open(url).map_err(err)?,
            prefix: prefix.to_owned(),
            manager: Mutex::new(None),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn conn(&self) -> Result<ConnectionManager, CacheError> {
        let mut slot = self.manager.lock().await;
        if let Some(m) = slot.as_ref() {
            return Ok(m.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = tokio::time::timeout(
            CALL_TIMEOUT * 2,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await
        .map_err(|_| CacheError("connect timed out".into()))?
        .map_err(err)?;
        *slot = Some(manager.clone());
        Ok(manager)
    }

    async fn run<T>(
        &self,
        op: impl AsyncFnOnce(ConnectionManager) -> redis::RedisResult<T>,
    ) -> Result<T, CacheError> {
        let conn = self.conn().await?;
        match tokio::time::timeout(CALL_TIMEOUT, op(conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(err(e)),
            Err(_) => Err(CacheError("timed out".into())),
        }
    }
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        let key = &self.key(key);
        self.run(async |mut c| c.get(key).await).await
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        let key = &self.key(key);
        let ms = ttl.as_millis().max(1) as u64;
        self.run(async |mut c| c.pset_ex(key, value, ms).await)
            .await
    }

    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, CacheError> {
        let key = &self.key(key);
        let ms = ttl.as_millis().max(1) as u64;
        let reply: Option<String> = self
            .run(async |mut c| {
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(reply.is_some())
    }

    async fn del(&self, key: &str) -> Result<(), CacheError> {
        let key = &self.key(key);
        self.run(async |mut c| c.del(key).await).await
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<(u64, Duration), CacheError> {
        let key = &self.key(key);
        let ms = window.as_millis().max(1) as u64;
        let (count, ttl): (u64, i64) = self
            .run(async |mut c| {
                redis::pipe()
                    .atomic()
                    .incr(key, 1u64)
                    .cmd("PEXPIRE")
                    .arg(key)
                    .arg(ms)
                    .arg("NX")
                    .ignore()
                    .pttl(key)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok((count, Duration::from_millis(ttl.max(0) as u64)))
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let _: String = self
            .run(async |mut c| redis::cmd("PING").query_async(&mut c).await)
            .await?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
