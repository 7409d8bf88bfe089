//! Time, through a clock the tests control: nothing waits for a deadline in a test, the test
//! moves the clock.
use std::sync::Mutex;

use chrono::{DateTime, Duration, SubsecRound, Utc};

pub trait Clock: Send + Sync {
    /// Now, to the microsecond (what PostgreSQL keeps), so values read back compare equal.
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// Real time shifted by an offset the tests move: time still flows (so ordering by time works),
/// and a test jumps past a deadline instead of waiting for it.
pub struct ManualClock(Mutex<Duration>);

impl ManualClock {
    pub fn starting_now() -> Self {
        ManualClock(Mutex::new(Duration::zero()))
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        if let Ok(mut offset) = self.0.lock() {
            *offset += by;
        }
    }

    /// Moves the clock so that it reads `to` now.
    pub fn set(&self, to: DateTime<Utc>) {
        if let Ok(mut offset) = self.0.lock() {
            *offset = to - Utc::now();
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        let offset = self
            .0
            .lock()
            .map(|o| *o)
            .unwrap_or_else(|_| Duration::zero());
        (Utc::now() + offset).trunc_subsecs(6)
    }
}
