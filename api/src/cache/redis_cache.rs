//! Redis through a managed connection that reconnects by itself. Every call has a short timeout,
//! and a circuit breaker keeps an outage from costing every request that timeout: after a failed
//! call Redis is left alone for [`BREAK_FOR`] and this node's in-process cache stands in; then
//! one call at a time tries Redis again until it answers.
use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use redis::{AsyncCommands, Client, aio::ConnectionManager, aio::ConnectionManagerConfig};
use tokio::sync::Mutex;

use super::{Cache, CacheError, MemoryCache};

const CALL_TIMEOUT: Duration = Duration::from_millis(300);
/// How long Redis is skipped after a failure.
pub const BREAK_FOR: Duration = Duration::from_secs(3);

pub struct RedisCache {
    client: Client,
    prefix: String,
    /// Created on first use (Redis may be down at start-up), then kept: it reconnects itself.
    manager: std::sync::RwLock<Option<ConnectionManager>>,
    /// Held by the one call making the connection; the others do not queue behind it.
    connecting: Mutex<()>,
    /// Milliseconds since `started` until which Redis is skipped (0: it is in use).
    broken_until: AtomicU64,
    started: Instant,
    /// Stands in while Redis is skipped: rate limits, locks and idempotency hints per node.
    fallback: MemoryCache,
}

/// Where a call goes.
enum Route {
    Redis,
    Fallback,
}

fn err(e: impl std::fmt::Display) -> CacheError {
    CacheError(e.to_string())
}

impl RedisCache {
    pub fn new(url: &str, prefix: &str) -> Result<Self, CacheError> {
        Ok(RedisCache {
            client: Client::open(url).map_err(err)?,
            prefix: prefix.to_owned(),
            manager: std::sync::RwLock::new(None),
            connecting: Mutex::new(()),
            broken_until: AtomicU64::new(0),
            started: Instant::now(),
            fallback: MemoryCache::default(),
        })
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64 + 1
    }

    /// Redis, unless the breaker is open. When its time is up, the one caller that moves the
    /// deadline on tries Redis; everyone else keeps to the fallback until that call succeeds.
    fn route(&self) -> Route {
        let until = self.broken_until.load(Ordering::Acquire);
        if until == 0 {
            return Route::Redis;
        }
        let now = self.now_ms();
        let next = now + BREAK_FOR.as_millis() as u64;
        if now >= until
            && self
                .broken_until
                .compare_exchange(until, next, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            return Route::Redis;
        }
        Route::Fallback
    }

    fn trip(&self) {
        let next = self.now_ms() + BREAK_FOR.as_millis() as u64;
        if self.broken_until.swap(next, Ordering::AcqRel) == 0 {
            tracing::warn!(
                seconds = BREAK_FOR.as_secs(),
                "redis failed: using the in-process cache for a while"
            );
        }
    }

    fn mend(&self) {
        if self.broken_until.swap(0, Ordering::AcqRel) != 0 {
            tracing::info!("redis answers again");
        }
    }

    /// Runs `op` on Redis, or `stand_in` on the fallback while the breaker is open. The call
    /// that finds Redis failing still reports the failure (callers count and log it).
    async fn call<T>(
        &self,
        op: impl AsyncFnOnce(ConnectionManager) -> redis::RedisResult<T>,
        stand_in: impl AsyncFnOnce(&MemoryCache) -> Result<T, CacheError>,
    ) -> Result<T, CacheError> {
        if let Route::Fallback = self.route() {
            return stand_in(&self.fallback).await;
        }
        match self.run(op).await {
            Ok(Some(v)) => {
                self.mend();
                Ok(v)
            }
            Ok(None) => stand_in(&self.fallback).await,
            Err(e) => {
                self.trip();
                Err(e)
            }
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn made(&self) -> Option<ConnectionManager> {
        self.manager.read().ok().and_then(|m| m.clone())
    }

    /// The connection, made on first use; `None` while another call is making it (that one
    /// waits up to the connect timeout, the others use the fallback rather than queue).
    async fn conn(&self) -> Result<Option<ConnectionManager>, CacheError> {
        if let Some(m) = self.made() {
            return Ok(Some(m));
        }
        let Ok(_connecting) = self.connecting.try_lock() else {
            return Ok(None);
        };
        if let Some(m) = self.made() {
            return Ok(Some(m));
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
        if let Ok(mut slot) = self.manager.write() {
            *slot = Some(manager.clone());
        }
        Ok(Some(manager))
    }

    /// `op` on Redis; `Ok(None)` when the connection is still being made by another call.
    async fn run<T>(
        &self,
        op: impl AsyncFnOnce(ConnectionManager) -> redis::RedisResult<T>,
    ) -> Result<Option<T>, CacheError> {
        let Some(conn) = self.conn().await? else {
            return Ok(None);
        };
        match tokio::time::timeout(CALL_TIMEOUT, op(conn)).await {
            Ok(Ok(v)) => Ok(Some(v)),
            Ok(Err(e)) => Err(err(e)),
            Err(_) => Err(CacheError("timed out".into())),
        }
    }
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        let full = &self.key(key);
        self.call(async |mut c| c.get(full).await, async |m| m.get(key).await)
            .await
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        let full = &self.key(key);
        let ms = ttl.as_millis().max(1) as u64;
        self.call(
            async |mut c| c.pset_ex(full, value, ms).await,
            async |m| m.set(key, value, ttl).await,
        )
        .await
    }

    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, CacheError> {
        let full = &self.key(key);
        let ms = ttl.as_millis().max(1) as u64;
        let reply: Option<String> = self
            .call(
                async |mut c| {
                    redis::cmd("SET")
                        .arg(full)
                        .arg(value)
                        .arg("NX")
                        .arg("PX")
                        .arg(ms)
                        .query_async(&mut c)
                        .await
                },
                async |m| {
                    let set = m.set_nx(key, value, ttl).await?;
                    Ok(set.then(|| "OK".to_owned()))
                },
            )
            .await?;
        Ok(reply.is_some())
    }

    async fn del(&self, key: &str) -> Result<(), CacheError> {
        let full = &self.key(key);
        self.call(async |mut c| c.del(full).await, async |m| m.del(key).await)
            .await
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<(u64, Duration), CacheError> {
        let full = &self.key(key);
        let ms = window.as_millis().max(1) as u64;
        let (count, ttl): (u64, i64) = self
            .call(
                async |mut c| {
                    redis::pipe()
                        .atomic()
                        .incr(full, 1u64)
                        .cmd("PEXPIRE")
                        .arg(full)
                        .arg(ms)
                        .arg("NX")
                        .ignore()
                        .pttl(full)
                        .query_async(&mut c)
                        .await
                },
                async |m| {
                    let (count, left) = m.hit(key, window).await?;
                    Ok((count, left.as_millis() as i64))
                },
            )
            .await?;
        Ok((count, Duration::from_millis(ttl.max(0) as u64)))
    }

    /// Always asks Redis itself (readiness probes are how an outage is seen, and a successful
    /// one closes the breaker at once).
    async fn ping(&self) -> Result<(), CacheError> {
        let reply: Result<Option<String>, _> = self
            .run(async |mut c| redis::cmd("PING").query_async(&mut c).await)
            .await;
        match reply {
            Ok(Some(_)) => {
                self.mend();
                Ok(())
            }
            Ok(None) => Err(CacheError("connecting".into())),
            Err(e) => {
                self.trip();
                Err(e)
            }
        }
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
