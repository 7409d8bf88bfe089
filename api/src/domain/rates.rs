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
use chrono::{DateTime, Utc};

#[derive(Clone, Debug)]
pub struct TicketRow {
    pub status: String,
    pub submitted_at: DateTime<Utc>,
    pub response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub reopen_count: i32,
}

#[derive(Clone, Debug)]
pub struct RatingRow {
    pub level: String,
    pub at: DateTime<Utc>,
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

/// The value below which `q` of the sorted values lie (nearest rank).
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

fn minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / 60.0
}

const OPEN: [&str; 4] = ["submitted", "pending_dispatch", "assigned", "in_progress"];

/// The figures for tickets and ratings of one group over `[from, to)`, as of `now`.
pub fn compute(
    tickets: &[&TicketRow],
    ratings: &[&RatingRow],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    w: Weights,
) -> Figures {
    let in_period = |t: DateTime<Utc>| t >= from && t < to;
    let dropped = |t: &TicketRow| t.status == "withdrawn" || t.status == "rejected";
    let mut f = Figures::default();
    let (mut to_response, mut to_resolution) = (Vec::new(), Vec::new());
    for t in tickets {
        if in_period(t.submitted_at) {
            match t.status.as_str() {
                "withdrawn" => f.withdrawn += 1,
                "rejected" => f.rejected += 1,
                _ => {
                    f.received += 1;
                    if let Some(a) = t.accepted_at {
                        f.accepted += 1;
                        to_response.push(minutes(t.submitted_at, a));
                    }
                    if let Some(r) = t.resolved_at {
                        f.resolved += 1;
                        to_resolution.push(minutes(t.submitted_at, r));
                    }
                    if t.reopen_count > 0 {
                        f.reopened += 1;
                    }
                }
            }
        }
        if let Some(due) = t.response_due_at.filter(|d| in_period(*d)) {
            let gone_before_due =
                dropped(t) && t.accepted_at.is_none() && t.closed_at.is_some_and(|c| c <= due);
            if !gone_before_due {
                f.response_due += 1;
                if t.accepted_at.is_some_and(|a| a <= due) {
                    f.responded_in_time += 1;
                }
            }
        }
        let open = OPEN.contains(&t.status.as_str());
        let response_late = t.accepted_at.is_none() && t.response_due_at.is_some_and(|d| d < now);
        let resolution_late = t.resolution_due_at.is_some_and(|d| d < now);
        if open && (response_late || resolution_late) {
            f.overdue_open += 1;
        }
    }
    for r in ratings.iter().filter(|r| in_period(r.at)) {
        f.rated += 1;
        match r.level.as_str() {
            "satisfied" => f.satisfied += 1,
            "basically_satisfied" => f.basically_satisfied += 1,
            _ => f.unsatisfied += 1,
        }
    }
    f.response_rate = rate(f.responded_in_time as f64, f.response_due);
    f.resolution_rate = rate(f.resolved as f64, f.received);
    f.satisfaction_rate = rate(
        f.satisfied as f64 + w.basically_satisfied * f.basically_satisfied as f64,
        f.rated,
    );
    f.reopen_rate = rate(f.reopened as f64, f.received);
    to_response.sort_by(f64::total_cmp);
    to_resolution.sort_by(f64::total_cmp);
    f.median_response_minutes = percentile(&to_response, 0.5);
    f.p90_response_minutes = percentile(&to_response, 0.9);
    f.median_resolution_minutes = percentile(&to_resolution, 0.5);
    f.p90_resolution_minutes = percentile(&to_resolution, 0.9);
    f.composite_score = match (f.response_rate, f.resolution_rate, f.satisfaction_rate) {
        (Some(a), Some(b), Some(c)) => {
            Some(100.0 * (w.response * a + w.resolution * b + w.satisfaction * c))
        }
        _ => None,
    };
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_denominators_give_none_not_zero() {
        let now = Utc::now();
        let f = compute(&[], &[], now, now, now, Weights::default());
        assert_eq!(
            (
                f.response_rate,
                f.resolution_rate,
                f.satisfaction_rate,
                f.composite_score
            ),
            (None, None, None, None)
        );
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(5.0));
        assert_eq!(percentile(&v, 0.9), Some(9.0));
        assert_eq!(percentile(&[7.0], 0.9), Some(7.0));
    }
}
