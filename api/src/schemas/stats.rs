//! Bodies of the statistics endpoints.
use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use crate::domain::rates::Figures;

/// The figures of SPEC §7 (definitions in the API description). Rates are fractions (0.95),
/// `null` when their denominator is 0.
#[derive(Object)]
pub struct FiguresBody {
    /// Submitted in the period, less withdrawn and rejected.
    pub received: u64,
    pub withdrawn: u64,
    pub rejected: u64,
    /// Received tickets that were accepted.
    pub accepted: u64,
    /// Tickets whose response was due in the period.
    pub response_due: u64,
    pub responded_in_time: u64,
    #[oai(nullable)]
    pub response_rate: Option<f64>,
    pub resolved: u64,
    #[oai(nullable)]
    pub resolution_rate: Option<f64>,
    pub rated: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub unsatisfied: u64,
    #[oai(nullable)]
    pub satisfaction_rate: Option<f64>,
    pub reopened: u64,
    #[oai(nullable)]
    pub reopen_rate: Option<f64>,
    /// Open now with a deadline passed.
    pub overdue_open: u64,
    #[oai(nullable)]
    pub median_response_minutes: Option<f64>,
    #[oai(nullable)]
    pub p90_response_minutes: Option<f64>,
    #[oai(nullable)]
    pub median_resolution_minutes: Option<f64>,
    #[oai(nullable)]
    pub p90_resolution_minutes: Option<f64>,
    /// 100 × (w_response × response_rate + w_resolution × resolution_rate + w_satisfaction × satisfaction_rate).
    #[oai(nullable)]
    pub composite_score: Option<f64>,
}

impl From<Figures> for FiguresBody {
    fn from(f: Figures) -> Self {
        FiguresBody {
            received: f.received,
            withdrawn: f.withdrawn,
            rejected: f.rejected,
            accepted: f.accepted,
            response_due: f.response_due,
            responded_in_time: f.responded_in_time,
            response_rate: f.response_rate,
            resolved: f.resolved,
            resolution_rate: f.resolution_rate,
            rated: f.rated,
            satisfied: f.satisfied,
            basically_satisfied: f.basically_satisfied,
            unsatisfied: f.unsatisfied,
            satisfaction_rate: f.satisfaction_rate,
            reopened: f.reopened,
            reopen_rate: f.reopen_rate,
            overdue_open: f.overdue_open,
            median_response_minutes: f.median_response_minutes,
            p90_response_minutes: f.p90_response_minutes,
            median_resolution_minutes: f.median_resolution_minutes,
            p90_resolution_minutes: f.p90_resolution_minutes,
            composite_score: f.composite_score,
        }
    }
}

#[derive(Object)]
pub struct Summary {
    pub area_id: Uuid,
    pub area_name: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[oai(flatten)]
    pub figures: FiguresBody,
}

#[derive(Object)]
pub struct GroupFigures {
    /// The group's id (grid, community, worker, category), date (`2026-11-22`) or ISO week
    /// (`2026-W47`); `none` for tickets without one.
    pub key: String,
    pub name: String,
    #[oai(flatten)]
    pub figures: FiguresBody,
}

#[derive(Object)]
pub struct Breakdown {
    pub area_id: Uuid,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by: String,
    pub groups: Vec<GroupFigures>,
}

#[derive(Object)]
pub struct WorkerFigures {
    pub staff_id: Uuid,
    pub name: String,
    pub role: String,
    /// Tickets assigned or in progress now.
    pub open: u64,
    /// Of those, past a deadline.
    pub overdue: u64,
    /// Door-knock visits recorded in the period.
    pub visits: u64,
    #[oai(flatten)]
    pub figures: FiguresBody,
}
