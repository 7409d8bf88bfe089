//! The in-process cache, for a single node without Redis.
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::{Cache, CacheError};

/// Expired entries are swept out once the map is large, at most once a second: a sweep is a
/// pass over every entry, which must not happen on every call while many live ones are held.
const SWEEP_ABOVE: usize = 10_000;
const SWEEP_EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct MemoryCache {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, (String, Instant)>,
    swept: Option<Instant>,
}

impl MemoryCache {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut HashMap<String, (String, Instant)>, Instant) -> T,
    ) -> Result<T, CacheError> {
        let mut entries = self
            .entries
            .lock()
            .map_err(|_| CacheError("poisoned".into()))?;
        let now = Instant::now();
        let due = entries.swept.is_none_or(|at| now - at >= SWEEP_EVERY);
        if entries.map.len() > SWEEP_ABOVE && due {
            entries.map.retain(|_, (_, exp)| *exp > now);
            entries.swept = Some(now);
        }
        Ok(f(&mut entries.map, now))
    }
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        self.with(|m, now| {
            m.get(key)
                .filter(|(_, exp)| *exp > now)
                .map(|(v, _)| v.clone())
        })
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        self.with(|m, now| {
            m.insert(key.to_owned(), (value.to_owned(), now + ttl));
        })
    }

    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, CacheError> {
        self.with(|m, now| match m.get(key) {
            Some((_, exp)) if *exp > now => false,
            _ => {
                m.insert(key.to_owned(), (value.to_owned(), now + ttl));
                true
            }
        })
    }

    async fn del(&self, key: &str) -> Result<(), CacheError> {
        self.with(|m, _| {
            m.remove(key);
        })
    }

    async fn hit(&self, key: &str, window: Duration) -> Result<(u64, Duration), CacheError> {
        self.with(|m, now| {
            let entry = m
                .entry(key.to_owned())
                .or_insert_with(|| ("0".into(), now + window));
            if entry.1 <= now {
                *entry = ("0".into(), now + window);
            }
            let count = entry.0.parse::<u64>().unwrap_or(0) + 1;
            entry.0 = count.to_string();
            (count, entry.1 - now)
        })
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
