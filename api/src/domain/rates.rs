//! The three rates (三率) and their companions (SPEC §7), computed from ticket and rating rows.
//! Every grouping (area, worker, category, day, week) uses these same definitions:
//!
//! - **received**: tickets submitted in the period, less those withdrawn or rejected (invalid,
//!   out of scope or duplicates), which are counted apart as `withdrawn` and `rejected`.
//! - **response rate** = `responded_in_time` / `response_due`: of the tickets whose response was
//!   due in the period (not withdrawn or rejected before it was due), those accepted by then.
//! - **resolution rate** = `resolved` / `received`: received tickets whose current resolution
//!   stands (a reopened ticket counts again only once resolved again).
//! - **satisfaction rate** = (`satisfied` + w × `basically_satisfied`) / `rated`, over the
//!   ratings given in the period (one per resolution round); w is configurable (default 1.0).
//! - **reopen rate** = received tickets reopened at least once / received.
//! - **overdue_open**: tickets open now with a deadline passed.
//! - median and p90 minutes from submission to acceptance and to resolution, over received ones.
//! - **composite score** = 100 × (w_r × response + w_s × resolution + w_t × satisfaction).
//!
//! A rate whose denominator is 0 is `None`, never 0 or NaN.
use chrono::{DateTime, Duration, Utc};

use super::{RatingLevel, lifecycle::Status};

/// A window of time, `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    /// What an office asks for: `to` by default now, `from` by default 30 days before `to`.
    pub fn asked(
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        let to = to.unwrap_or(now);
        Period {
            from: from.unwrap_or(to - Duration::days(30)),
            to,
        }
    }

    pub fn contains(self, t: DateTime<Utc>) -> bool {
        t >= self.from && t < self.to
    }
}

#[derive(Clone, Debug)]
pub struct TicketRow {
    pub status: Status,
    pub submitted_at: DateTime<Utc>,
    pub response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub reopen_count: i32,
}

#[derive(Clone, Copy, Debug)]
pub struct Weights {
    pub basically_satisfied: f64,
    pub response: f64,
    pub resolution: f64,
    pub satisfaction: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            basically_satisfied: 1.0,
            response: 0.1,
            resolution: 0.5,
            satisfaction: 0.4,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    pub received: u64,
    pub withdrawn: u64,
    pub rejected: u64,
    pub accepted: u64,
    pub response_due: u64,
    pub responded_in_time: u64,
    pub response_rate: Option<f64>,
    pub resolved: u64,
    pub resolution_rate: Option<f64>,
    pub rated: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub unsatisfied: u64,
    pub satisfaction_rate: Option<f64>,
    pub reopened: u64,
    pub reopen_rate: Option<f64>,
    pub overdue_open: u64,
    pub median_response_minutes: Option<f64>,
    pub p90_response_minutes: Option<f64>,
    pub median_resolution_minutes: Option<f64>,
    pub p90_resolution_minutes: Option<f64>,
    pub composite_score: Option<f64>,
}

fn rate(num: f64, den: u64) -> Option<f64> {
    (den > 0).then(|| num / den as f64)
}

/// The nearest-rank `q` percentile of unsorted seconds, in minutes; reorders `secs`.
fn percentile_minutes(secs: &mut [u32], q: f64) -> Option<f64> {
    if secs.is_empty() {
        return None;
    }
    let rank = ((q * secs.len() as f64).ceil().max(1.0) as usize).min(secs.len());
    let (_, v, _) = secs.select_nth_unstable(rank - 1);
    Some(f64::from(*v) / 60.0)
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
    u32::try_from((to - from).num_seconds().max(0)).unwrap_or(u32::MAX)
}

/// The countable part of the figures, for one window of time: what a ticket submitted in it,
/// a response falling due in it and a rating given in it add. Tallies of disjoint windows
/// (or places) add up to the tally of their union, which is what makes daily rollups exact.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub received: u64,
    pub withdrawn: u64,
    pub rejected: u64,
    pub accepted: u64,
    pub resolved: u64,
    pub reopened: u64,
    pub response_due: u64,
    pub responded_in_time: u64,
    pub rated: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub unsatisfied: u64,
    /// Seconds from submission to acceptance of the received tickets that were accepted.
    pub response_secs: Vec<u32>,
    /// Seconds from submission to resolution of the received tickets that stand resolved.
    pub resolution_secs: Vec<u32>,
}

impl Tally {
    /// A ticket submitted in the window.
    pub fn add_submitted(&mut self, t: &TicketRow) {
        match t.status {
            Status::Withdrawn => self.withdrawn += 1,
            Status::Rejected => self.rejected += 1,
            _ => {
                self.received += 1;
                if let Some(a) = t.accepted_at {
                    self.accepted += 1;
                    self.response_secs.push(seconds(t.submitted_at, a));
                }
                if let Some(r) = t.resolved_at {
                    self.resolved += 1;
                    self.resolution_secs.push(seconds(t.submitted_at, r));
                }
                if t.reopen_count > 0 {
                    self.reopened += 1;
                }
            }
        }
    }

    /// A ticket whose response fell due in the window. One withdrawn or rejected before it
    /// was due (and never accepted) was never owed a response.
    pub fn add_due(&mut self, t: &TicketRow) {
        let Some(due) = t.response_due_at else {
            return;
        };
        let dropped = matches!(t.status, Status::Withdrawn | Status::Rejected);
        if dropped && t.accepted_at.is_none() && t.closed_at.is_some_and(|c| c <= due) {
            return;
        }
        self.response_due += 1;
        if t.accepted_at.is_some_and(|a| a <= due) {
            self.responded_in_time += 1;
        }
    }

    /// A rating given in the window.
    pub fn add_rating(&mut self, level: RatingLevel) {
        self.rated += 1;
        match level {
            RatingLevel::Satisfied => self.satisfied += 1,
            RatingLevel::BasicallySatisfied => self.basically_satisfied += 1,
            RatingLevel::Unsatisfied => self.unsatisfied += 1,
        }
    }

    /// Adds another window's or place's tally.
    pub fn merge(&mut self, other: &Tally) {
        self.received += other.received;
        self.withdrawn += other.withdrawn;
        self.rejected += other.rejected;
        self.accepted += other.accepted;
        self.resolved += other.resolved;
        self.reopened += other.reopened;
        self.response_due += other.response_due;
        self.responded_in_time += other.responded_in_time;
        self.rated += other.rated;
        self.satisfied += other.satisfied;
        self.basically_satisfied += other.basically_satisfied;
        self.unsatisfied += other.unsatisfied;
        self.response_secs.extend_from_slice(&other.response_secs);
        self.resolution_secs
            .extend_from_slice(&other.resolution_secs);
    }

    /// The figures, given the open tickets now overdue (a count of the present, not a window).
    pub fn figures(mut self, overdue_open: u64, w: Weights) -> Figures {
        let mut f = Figures {
            received: self.received,
            withdrawn: self.withdrawn,
            rejected: self.rejected,
            accepted: self.accepted,
            response_due: self.response_due,
            responded_in_time: self.responded_in_time,
            resolved: self.resolved,
            rated: self.rated,
            satisfied: self.satisfied,
            basically_satisfied: self.basically_satisfied,
            unsatisfied: self.unsatisfied,
            reopened: self.reopened,
            overdue_open,
            ..Figures::default()
        };
        f.response_rate = rate(f.responded_in_time as f64, f.response_due);
        f.resolution_rate = rate(f.resolved as f64, f.received);
        f.satisfaction_rate = rate(
            f.satisfied as f64 + w.basically_satisfied * f.basically_satisfied as f64,
            f.rated,
        );
        f.reopen_rate = rate(f.reopened as f64, f.received);
        f.median_response_minutes = percentile_minutes(&mut self.response_secs, 0.5);
        f.p90_response_minutes = percentile_minutes(&mut self.response_secs, 0.9);
        f.median_resolution_minutes = percentile_minutes(&mut self.resolution_secs, 0.5);
        f.p90_resolution_minutes = percentile_minutes(&mut self.resolution_secs, 0.9);
        f.composite_score = match (f.response_rate, f.resolution_rate, f.satisfaction_rate) {
            (Some(a), Some(b), Some(c)) => {
                Some(100.0 * (w.response * a + w.resolution * b + w.satisfaction * c))
            }
            _ => None,
        };
        f
    }
}

/// Seconds as stored in a rollup: little-endian u32s.
pub fn encode_secs(secs: &[u32]) -> Vec<u8> {
    secs.iter().flat_map(|s| s.to_le_bytes()).collect()
}

pub fn decode_secs(bytes: &[u8], into: &mut Vec<u32>) {
    into.extend(
        bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
    );
}

/// An open ticket past its response or resolution deadline.
pub fn is_overdue_open(t: &TicketRow, now: DateTime<Utc>) -> bool {
    let open = t.status.is_open();
    let response_late = t.accepted_at.is_none() && t.response_due_at.is_some_and(|d| d < now);
    let resolution_late = t.resolution_due_at.is_some_and(|d| d < now);
    open && (response_late || resolution_late)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_denominators_give_none_not_zero() {
        let f = Tally::default().figures(0, Weights::default());
        assert_eq!(
            (
                f.response_rate,
                f.resolution_rate,
                f.satisfaction_rate,
                f.composite_score,
                f.median_response_minutes
            ),
            (None, None, None, None, None)
        );
    }

    #[test]
    fn rollup_seconds_survive_encoding_and_give_nearest_rank_percentiles() {
        let secs: Vec<u32> = (1..=10).rev().map(|m| m * 60).collect();
        let mut back = Vec::new();
        decode_secs(&encode_secs(&secs), &mut back);
        assert_eq!(back, secs);
        assert_eq!(percentile_minutes(&mut back, 0.5), Some(5.0));
        assert_eq!(percentile_minutes(&mut back, 0.9), Some(9.0));
        assert_eq!(percentile_minutes(&mut back, 1.0), Some(10.0));
        assert_eq!(percentile_minutes(&mut [420], 0.9), Some(7.0));
    }
}
