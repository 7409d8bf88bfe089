//! The three rates (三率) and their companions (SPEC §7, issue 20), computed from ticket and
//! rating rows. Every grouping (area, worker, category, day, week) and every rollup uses these
//! same definitions, and every period is read only up to now.
//!
//! - A ticket **counts** in a rate at one moment ([`TicketRow::response_moment`],
//!   [`TicketRow::resolution_moment`]): when it was answered (resolved) or fell due, whichever
//!   came first. A period's denominator is the tickets whose moment lies inside it and not
//!   after now; so an in-time answer counts the moment it is given, and an open ticket counts
//!   as a miss only once its deadline has passed.
//! - **response rate** = `responded_in_time` / `response_due`. A response is an acceptance, or
//!   a resolution or a rejection by staff without one. A ticket withdrawn or rejected before
//!   it fell due, unanswered, was never owed a response.
//! - **resolution rate** = `resolved_in_time` / `resolution_due`: the same rule with the
//!   resolution deadline; a ticket reopened by an unsatisfied rating has no standing
//!   resolution until it is resolved again. A ticket withdrawn, or rejected before anyone
//!   accepted it, before its deadline was never owed a resolution; one rejected after
//!   acceptance was (it counts as a miss at its deadline; leaving the rates takes an appeal).
//! - **received**: tickets submitted in the period, less those withdrawn or rejected (counted
//!   apart as `withdrawn` and `rejected`), praise and those excluded by an appeal.
//! - **satisfaction rate** = (`satisfied` + w × `basically_satisfied`) / `rated`, over the
//!   ratings given in the period (one per resolution round); w is configurable (default 1.0).
//!   Reasons given with 不满意 and 基本满意 are counted per reason (`reason_*`).
//! - **reopen rate** = received tickets reopened at least once / received.
//! - **praise** (`kind: praise`) has no deadlines and is in no denominator: it is counted as
//!   `praise_received` on its submission day.
//! - **appeals**: a ticket whose appeal (甄别) was approved leaves every denominator of every
//!   period and is counted as `appealed_excluded` on its submission day.
//! - **overdue_open**: tickets open now with a deadline passed.
//! - median and p90 minutes from submission to acceptance and to resolution, over received ones.
//! - **composite score** = 100 × (w_r × response + w_s × resolution + w_t × satisfaction).
//!
//! A rate whose denominator is 0 is `None`, never 0 or NaN. Rankings ([`ranking`]) order by
//! the lower bound of the Wilson 95 % interval.
mod moments;
mod period;
pub mod ranking;
mod tally;

pub use moments::{TicketRow, is_overdue_open};
pub use period::{Bound, NamedPeriod, Period, PeriodError};
pub use tally::{Figures, Reasons, Tally, Weights, decode_secs, encode_secs};
