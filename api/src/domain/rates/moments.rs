//! When a ticket counts in the response and resolution rates (see the module above).
use chrono::{DateTime, Utc};

use crate::domain::lifecycle::Status;

type At = DateTime<Utc>;

/// A ticket as the rates read it.
#[derive(Clone, Debug)]
pub struct TicketRow {
    pub status: Status,
    /// `kind: praise`: in no rate.
    pub praise: bool,
    /// An approved appeal took it out of the rates.
    pub excluded: bool,
    pub submitted_at: At,
    pub response_due_at: Option<At>,
    pub resolution_due_at: Option<At>,
    pub accepted_at: Option<At>,
    pub resolved_at: Option<At>,
    pub closed_at: Option<At>,
    pub reopen_count: i32,
}

impl TicketRow {
    /// When staff answered it: accepted it, or resolved or rejected it without accepting.
    pub fn answered_at(&self) -> Option<At> {
        self.accepted_at.or(self.resolved_at).or(match self.status {
            Status::Rejected => self.closed_at,
            _ => None,
        })
    }

    /// When it counts in the response rate: answered or due, whichever came first.
    pub fn response_moment(&self) -> Option<At> {
        self.counted(self.response_due_at, self.answered_at())
    }

    /// When it counts in the resolution rate: resolved or due, whichever came first.
    pub fn resolution_moment(&self) -> Option<At> {
        self.counted(self.resolution_due_at, self.resolved_at)
    }

    pub fn responded_in_time(&self) -> bool {
        in_time(self.answered_at(), self.response_due_at)
    }

    pub fn resolved_in_time(&self) -> bool {
        in_time(self.resolved_at, self.resolution_due_at)
    }

    fn counted(&self, due: Option<At>, done: Option<At>) -> Option<At> {
        if self.praise || self.excluded {
            return None;
        }
        let due = due?;
        if let Some(done) = done.filter(|d| *d <= due) {
            return Some(done);
        }
        // Withdrawn, or rejected without being accepted, before it fell due: never owed. A
        // ticket rejected once accepted was owed its resolution (leaving the rates takes an
        // appeal).
        let dropped = matches!(self.status, Status::Withdrawn | Status::Rejected)
            && self.accepted_at.is_none()
            && self.closed_at.is_some_and(|c| c <= due);
        (!dropped).then_some(due)
    }
}

fn in_time(done: Option<At>, due: Option<At>) -> bool {
    matches!((done, due), (Some(d), Some(due)) if d <= due)
}

/// An open ticket past its response or resolution deadline.
pub fn is_overdue_open(t: &TicketRow, now: At) -> bool {
    let open = t.status.is_open();
    let response_late = t.accepted_at.is_none() && t.response_due_at.is_some_and(|d| d < now);
    let resolution_late = t.resolution_due_at.is_some_and(|d| d < now);
    open && (response_late || resolution_late)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn at(minutes: i64) -> At {
        Utc.with_ymd_and_hms(2026, 11, 16, 1, 0, 0)
            .single()
            .unwrap_or_default()
            + Duration::minutes(minutes)
    }

    /// Submitted at 0, response due at 60, resolution due at 600.
    fn ticket(status: Status) -> TicketRow {
        TicketRow {
            status,
            submitted_at: at(0),
            response_due_at: Some(at(60)),
            resolution_due_at: Some(at(600)),
            praise: false,
            excluded: false,
            accepted_at: None,
            resolved_at: None,
            closed_at: None,
            reopen_count: 0,
        }
    }

    #[test]
    fn an_answer_counts_when_given_and_an_open_ticket_at_its_deadline() {
        let open = ticket(Status::Assigned);
        assert_eq!(open.response_moment(), Some(at(60)));
        assert!(!open.responded_in_time());
        let accepted = TicketRow {
            accepted_at: Some(at(30)),
            ..ticket(Status::InProgress)
        };
        assert_eq!(accepted.response_moment(), Some(at(30)));
        assert!(accepted.responded_in_time());
        let late = TicketRow {
            accepted_at: Some(at(90)),
            ..ticket(Status::InProgress)
        };
        assert_eq!(late.response_moment(), Some(at(60)));
        assert!(!late.responded_in_time());
        let on_the_minute = TicketRow {
            accepted_at: Some(at(60)),
            ..ticket(Status::InProgress)
        };
        assert!(on_the_minute.responded_in_time());
    }

    #[test]
    fn a_rejection_answers_and_a_withdrawal_before_the_deadline_is_never_owed() {
        let rejected = TicketRow {
            closed_at: Some(at(20)),
            ..ticket(Status::Rejected)
        };
        assert_eq!(rejected.response_moment(), Some(at(20)));
        assert!(rejected.responded_in_time());
        assert_eq!(rejected.resolution_moment(), None);
        let withdrawn = TicketRow {
            closed_at: Some(at(10)),
            ..ticket(Status::Withdrawn)
        };
        assert_eq!(
            (withdrawn.response_moment(), withdrawn.resolution_moment()),
            (None, None)
        );
        let withdrawn_late = TicketRow {
            closed_at: Some(at(90)),
            ..ticket(Status::Withdrawn)
        };
        assert_eq!(withdrawn_late.response_moment(), Some(at(60)));
        assert_eq!(withdrawn_late.resolution_moment(), None);
        // Rejected after acceptance, before the resolution deadline: still owed, a miss.
        let dropped_late = TicketRow {
            accepted_at: Some(at(10)),
            closed_at: Some(at(300)),
            ..ticket(Status::Rejected)
        };
        assert_eq!(dropped_late.resolution_moment(), Some(at(600)));
        assert!(!dropped_late.resolved_in_time());
    }

    #[test]
    fn praise_and_excluded_tickets_never_count() {
        for t in [
            TicketRow {
                praise: true,
                ..ticket(Status::Closed)
            },
            TicketRow {
                excluded: true,
                ..ticket(Status::Assigned)
            },
        ] {
            assert_eq!((t.response_moment(), t.resolution_moment()), (None, None));
        }
    }

    #[test]
    fn a_resolution_counts_when_made_and_a_reopened_one_at_its_deadline() {
        let resolved = TicketRow {
            accepted_at: Some(at(10)),
            resolved_at: Some(at(120)),
            ..ticket(Status::Resolved)
        };
        assert_eq!(resolved.resolution_moment(), Some(at(120)));
        assert!(resolved.resolved_in_time());
        let reopened = TicketRow {
            accepted_at: Some(at(10)),
            reopen_count: 1,
            ..ticket(Status::Assigned)
        };
        assert_eq!(reopened.resolution_moment(), Some(at(600)));
        assert!(!reopened.resolved_in_time());
    }
}
