//! The shared cache: Redis when configured, an in-process map otherwise. The rest of the code
//! holds an `Arc<dyn Cache>` and never knows which. Callers treat every [`CacheError`] as "the
//! cache is not there right now" and carry on on the slower path: losing Redis costs speed, never
//! correctness.
mod memory;
mod redis_cache;

use std::{sync::Arc, time::Duration};

pub use memory::MemoryCache;
pub use redis_cache::RedisCache;

#[derive(Debug, thiserror::Error)]
#[error("cache unavailable: {0}")]
pub struct CacheError(pub String);

#[async_trait::async_trait]
pub trait Cache: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<String>, CacheError>;
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError>;
    /// Sets only if absent (`SET NX PX`): locks and leases. True when this call set it.
    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, CacheError>;
    async fn del(&self, key: &str) -> Result<(), CacheError>;
    /// Counts a hit in a fixed window: returns the count so far and the time left in the window.
    async fn hit(&self, key: &str, window: Duration) -> Result<(u64, Duration), CacheError>;
    async fn ping(&self) -> Result<(), CacheError>;
    fn kind(&self) -> &'static str;
}

/// Redis when `url` is set (every key under `prefix`), in-process otherwise.
pub fn from_url(url: Option<&str>, prefix: &str) -> Result<Arc<dyn Cache>, CacheError> {
    match url {
        Some(url) => Ok(Arc::new(RedisCache::new(url, prefix)?)),
        None => Ok(Arc::new(MemoryCache::default())),
    }
}
