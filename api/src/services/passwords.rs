//! Password hashing, bounded. argon2 is deliberately costly (about 19 MB and tens of
//! milliseconds a hash): unbounded, a burst of logins holds a hash's memory per request (120 at
//! once took a node past 2 GB). Here at most one hash per core runs at a time, a short queue
//! waits for a turn, and anyone beyond the queue is told to come back (`429` with
//! `Retry-After`) at once, before any memory is spent on them.
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier, Version,
    password_hash::SaltString,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use super::{ServiceError, ServiceResult};
use crate::{config::PasswordSettings, error::Code};

pub struct PasswordHasher {
    turns: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    params: Params,
}

/// Counts a waiter for as long as it waits (also when its request is dropped meanwhile).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordHasher {
    /// At most `at_once` hashes at a time with `queue` waiting, at argon2's default cost.
    pub fn new(at_once: usize, queue: usize) -> Self {
        PasswordHasher {
            turns: Arc::new(Semaphore::new(at_once.max(1))),
            waiting: AtomicUsize::new(0),
            queue,
            params: Params::default(),
        }
    }

    /// One hash per core (or as configured), at the configured cost.
    pub fn from_settings(settings: &PasswordSettings) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let at_once = match settings.hashes_at_once {
            0 => cores,
            n => n,
        };
        let params = Params::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            Params::DEFAULT_P_COST,
            None,
        )
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "argon2 cost out of range: using the default");
            Params::default()
        });
        PasswordHasher {
            params,
            ..PasswordHasher::new(at_once, settings.queue)
        }
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// A turn at hashing: at once, after waiting in the queue, or `Throttled` when the queue is
    /// full.
    async fn turn(&self) -> ServiceResult<OwnedSemaphorePermit> {
        if let Ok(permit) = self.turns.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(ServiceError::Throttled {
                code: Code::RateLimited,
                retry_after: 1,
            });
        }
        let _waiting = Waiting(&self.waiting);
        self.turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// Runs `work` on the blocking pool once it has a turn; the turn is held until `work` ends,
    /// even if the request that asked is gone by then.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> ServiceResult<T> {
        let permit = self.turn().await?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// The argon2 hash of `password` (a PHC string).
    pub async fn hash(&self, password: String) -> ServiceResult<String> {
        let params = self.params.clone();
        self.run(move || {
            // A v4 UUID is 122 bits from the OS's generator: a fine salt.
            let salt = SaltString::encode_b64(Uuid::new_v4().as_bytes())?;
            Self::argon2(params)
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await?
        .map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// Whether `password` matches `hash`.
    pub async fn verify(&self, hash: String, password: String) -> ServiceResult<bool> {
        self.run(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn beyond_the_queue_callers_are_turned_away_at_once() {
        let hasher = PasswordHasher::new(1, 1);
        // The one turn is taken and one caller waits for it: the queue is full.
        let held = hasher.turn().await.ok();
        assert!(held.is_some());
        let waiter = hasher.turn();
        tokio::pin!(waiter);
        assert!(futures_util::FutureExt::now_or_never(waiter.as_mut()).is_none());
        assert!(matches!(
            hasher.turn().await,
            Err(ServiceError::Throttled {
                code: Code::RateLimited,
                retry_after: 1
            })
        ));
        // When the turn is given back, the waiter gets it and the queue has room again.
        drop(held);
        assert!(waiter.await.is_ok());
        assert_eq!(hasher.waiting.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn a_hash_verifies() {
        let hasher = PasswordHasher::new(2, 4);
        let hash = hasher
            .hash("correct horse".into())
            .await
            .ok()
            .unwrap_or_default();
        assert_eq!(
            hasher
                .verify(hash.clone(), "correct horse".into())
                .await
                .ok(),
            Some(true)
        );
        assert_eq!(
            hasher.verify(hash, "wrong horse".into()).await.ok(),
            Some(false)
        );
    }
}
