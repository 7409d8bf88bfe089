//! Counting: a [`Tally`] adds tickets and ratings up; [`Tally::figures`] turns it into the
//! rates (definitions in the module above).
use chrono::{DateTime, Utc};

use super::TicketRow;
use crate::domain::{DissatisfactionReason, RatingLevel, lifecycle::Status};

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

/// How often each reason was given with a 不满意 or 基本满意 rating.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reasons {
    pub not_solved: u64,
    pub too_slow: u64,
    pub attitude: u64,
    pub no_contact: u64,
    pub disagree_result: u64,
    pub other: u64,
}

impl Reasons {
    pub fn count_mut(&mut self, r: DissatisfactionReason) -> &mut u64 {
        match r {
            DissatisfactionReason::NotSolved => &mut self.not_solved,
            DissatisfactionReason::TooSlow => &mut self.too_slow,
            DissatisfactionReason::Attitude => &mut self.attitude,
            DissatisfactionReason::NoContact => &mut self.no_contact,
            DissatisfactionReason::DisagreeResult => &mut self.disagree_result,
            DissatisfactionReason::Other => &mut self.other,
        }
    }

    pub fn count(&self, r: DissatisfactionReason) -> u64 {
        let mut copy = *self;
        *copy.count_mut(r)
    }

    fn merge(&mut self, other: &Reasons) {
        for r in DissatisfactionReason::ALL {
            *self.count_mut(*r) += other.count(*r);
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    pub received: u64,
    pub withdrawn: u64,
    pub rejected: u64,
    pub praise_received: u64,
    pub appealed_excluded: u64,
    pub accepted: u64,
    pub response_due: u64,
    pub responded_in_time: u64,
    pub response_rate: Option<f64>,
    pub resolved: u64,
    pub resolution_due: u64,
    pub resolved_in_time: u64,
    pub resolution_rate: Option<f64>,
    pub rated: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub unsatisfied: u64,
    pub satisfaction_rate: Option<f64>,
    pub reasons: Reasons,
    pub reopened: u64,
    pub reopen_rate: Option<f64>,
    pub overdue_open: u64,
    pub median_response_minutes: Option<f64>,
    pub p90_response_minutes: Option<f64>,
    pub median_resolution_minutes: Option<f64>,
    pub p90_resolution_minutes: Option<f64>,
    pub composite_score: Option<f64>,
}

pub(super) fn rate(num: f64, den: u64) -> Option<f64> {
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
/// a ticket counting in the response or resolution rate in it and a rating given in it add.
/// Tallies of disjoint windows (or places) add up to the tally of their union, which is what
/// makes daily rollups exact.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub received: u64,
    pub withdrawn: u64,
    pub rejected: u64,
    pub praise_received: u64,
    pub appealed_excluded: u64,
    pub accepted: u64,
    pub resolved: u64,
    pub reopened: u64,
    pub response_due: u64,
    pub responded_in_time: u64,
    pub resolution_due: u64,
    pub resolved_in_time: u64,
    pub rated: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub unsatisfied: u64,
    pub reasons: Reasons,
    /// Seconds from submission to acceptance of the received tickets that were accepted.
    pub response_secs: Vec<u32>,
    /// Seconds from submission to resolution of the received tickets that stand resolved.
    pub resolution_secs: Vec<u32>,
}

impl Tally {
    /// A ticket submitted in the window.
    pub fn add_submitted(&mut self, t: &TicketRow) {
        if t.praise {
            self.praise_received += 1;
            return;
        }
        if t.excluded {
            self.appealed_excluded += 1;
            return;
        }
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

    /// A ticket whose response moment lies in the window.
    pub fn add_response(&mut self, t: &TicketRow) {
        self.response_due += 1;
        self.responded_in_time += u64::from(t.responded_in_time());
    }

    /// A ticket whose resolution moment lies in the window.
    pub fn add_resolution(&mut self, t: &TicketRow) {
        self.resolution_due += 1;
        self.resolved_in_time += u64::from(t.resolved_in_time());
    }

    /// A rating given in the window, with the reasons given for it.
    pub fn add_rating(&mut self, level: RatingLevel, reasons: &[DissatisfactionReason]) {
        self.rated += 1;
        match level {
            RatingLevel::Satisfied => self.satisfied += 1,
            RatingLevel::BasicallySatisfied => self.basically_satisfied += 1,
            RatingLevel::Unsatisfied => self.unsatisfied += 1,
        }
        for r in reasons {
            *self.reasons.count_mut(*r) += 1;
        }
    }

    /// Adds another window's or place's tally.
    pub fn merge(&mut self, other: &Tally) {
        self.received += other.received;
        self.withdrawn += other.withdrawn;
        self.rejected += other.rejected;
        self.praise_received += other.praise_received;
        self.appealed_excluded += other.appealed_excluded;
        self.accepted += other.accepted;
        self.resolved += other.resolved;
        self.reopened += other.reopened;
        self.response_due += other.response_due;
        self.responded_in_time += other.responded_in_time;
        self.resolution_due += other.resolution_due;
        self.resolved_in_time += other.resolved_in_time;
        self.rated += other.rated;
        self.satisfied += other.satisfied;
        self.basically_satisfied += other.basically_satisfied;
        self.unsatisfied += other.unsatisfied;
        self.reasons.merge(&other.reasons);
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
            praise_received: self.praise_received,
            appealed_excluded: self.appealed_excluded,
            accepted: self.accepted,
            response_due: self.response_due,
            responded_in_time: self.responded_in_time,
            resolved: self.resolved,
            resolution_due: self.resolution_due,
            resolved_in_time: self.resolved_in_time,
            rated: self.rated,
            satisfied: self.satisfied,
            basically_satisfied: self.basically_satisfied,
            unsatisfied: self.unsatisfied,
            reasons: self.reasons,
            reopened: self.reopened,
            overdue_open,
            ..Figures::default()
        };
        f.response_rate = rate(f.responded_in_time as f64, f.response_due);
        f.resolution_rate = rate(f.resolved_in_time as f64, f.resolution_due);
        f.satisfaction_rate = rate(satisfied_weighted(&f, w), f.rated);
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

/// The satisfaction rate's numerator: satisfied + w × basically satisfied.
pub(super) fn satisfied_weighted(f: &Figures, w: Weights) -> f64 {
    f.satisfied as f64 + w.basically_satisfied * f.basically_satisfied as f64
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

    #[test]
    fn reasons_are_counted_per_rating_and_add_up() {
        let mut a = Tally::default();
        a.add_rating(
            RatingLevel::Unsatisfied,
            &[
                DissatisfactionReason::NotSolved,
                DissatisfactionReason::TooSlow,
            ],
        );
        let mut b = Tally::default();
        b.add_rating(
            RatingLevel::BasicallySatisfied,
            &[DissatisfactionReason::TooSlow],
        );
        a.merge(&b);
        let f = a.figures(0, Weights::default());
        assert_eq!(
            (
                f.rated,
                f.reasons.not_solved,
                f.reasons.too_slow,
                f.reasons.other
            ),
            (2, 1, 2, 0)
        );
    }
}
