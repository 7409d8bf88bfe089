//! The ticket state machine of SPEC §3. Every change of status goes through [`next`].
pub use entity::enums::Status;

use super::RatingLevel;

/// What happened to a ticket; its name is the `action` of the timeline event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Submit,
    /// Routing at submission; `found` says whether a person was chosen.
    Route {
        found: bool,
    },
    Accept,
    Resolve,
    Transfer {
        found: bool,
    },
    Escalate {
        found: bool,
    },
    Assign,
    Reject,
    Withdraw,
    Rate(RatingLevel),
    /// An unsatisfied rating past the reopen limit: sent up a level instead of reopened.
    RateEscalate {
        found: bool,
    },
    Comment,
    /// The scheduler found the response deadline passed with nowhere left to escalate.
    ResponseOverdue,
    /// The scheduler found the resolution deadline passed.
    ResolutionOverdue,
    /// Resolved and not rated within the configured days.
    AutoClose,
    /// A return visit (回访) recorded after repeated dissatisfaction.
    ReturnVisit,
    /// Enough residents said "me too": the priority goes up.
    PriorityRaised,
    /// Praise received: closed on arrival, passed on to the worker it thanks.
    Acknowledge,
    /// Staff appealed the ticket as unreasonable (甄别).
    Appeal,
    /// The reviewer decided an appeal.
    AppealDecided {
        approved: bool,
    },
    /// Its worker sends it back to the dispatcher as not theirs (退单).
    Return,
    /// The dispatcher refuses a return: back to the worker, who may not return it again.
    RefuseReturn,
    /// A community or street administrator flags the ticket with a deadline (督办).
    Supervise,
    /// The supervisor's deadline passed with nowhere left to escalate.
    SupervisionMissed,
    /// The assignee asks for more time (延期) or a pause (挂账).
    RequestExtension,
    /// An administrator above decided a request for more time; an approved pause is `Suspend`.
    ExtensionDecided {
        approved: bool,
    },
    /// An approved pause: the resolution clock stops while a third party acts (挂账).
    Suspend,
    /// The pause ends: the clock runs again with the time that was left.
    Resume,
    /// Staff correct the category (`recategorise`) or the point (`relocate`); `rerouted`:
    /// the correction sent it elsewhere, to a person (`Some(true)`) or a queue.
    Correct {
        category: bool,
        rerouted: Option<bool>,
    },
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Route { .. } => "route",
            Action::Accept => "accept",
            Action::Resolve => "resolve",
            Action::Transfer { .. } => "transfer",
            Action::Escalate { .. } => "escalate",
            Action::Assign => "assign",
            Action::Reject => "reject",
            Action::Withdraw => "withdraw",
            Action::Rate(RatingLevel::Unsatisfied) => "reopen",
            Action::Rate(_) => "rate",
            Action::RateEscalate { .. } => "escalate",
            Action::Comment => "comment",
            Action::ResponseOverdue => "response_overdue",
            Action::ResolutionOverdue => "resolution_overdue",
            Action::AutoClose => "auto_close",
            Action::ReturnVisit => "return_visit",
            Action::PriorityRaised => "priority_raised",
            Action::Acknowledge => "acknowledge",
            Action::Appeal => "appeal",
            Action::AppealDecided { approved: true } => "appeal_approved",
            Action::AppealDecided { approved: false } => "appeal_denied",
            Action::Return => "return",
            Action::RefuseReturn => "refuse_return",
            Action::Supervise => "supervise",
            Action::SupervisionMissed => "supervision_missed",
            Action::RequestExtension => "extension_requested",
            Action::ExtensionDecided { approved: true } => "extension_approved",
            Action::ExtensionDecided { approved: false } => "extension_refused",
            Action::Suspend => "suspend",
            Action::Resume => "resume",
            Action::Correct { category: true, .. } => "recategorise",
            Action::Correct {
                category: false, ..
            } => "relocate",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{}` is not allowed from `{}`", action.name(), from.as_str())]
pub struct NotAllowed {
    pub from: Status,
    pub action: Action,
}

fn routed(found: bool) -> Status {
    if found {
        Status::Assigned
    } else {
        Status::PendingDispatch
    }
}

/// The status after `action` from `from`, or why not.
pub fn next(from: Status, action: Action) -> Result<Status, NotAllowed> {
    use Status::*;
    let to = match (from, action) {
        (Submitted, Action::Route { found }) => Some(routed(found)),
        (Assigned, Action::Accept) => Some(InProgress),
        (InProgress | Suspended, Action::Resolve) => Some(Resolved),
        (Assigned | InProgress, Action::RequestExtension | Action::ExtensionDecided { .. }) => {
            Some(from)
        }
        (InProgress, Action::Suspend) => Some(Suspended),
        (PendingDispatch | Assigned | InProgress | Returned, Action::Correct { rerouted, .. }) => {
            Some(rerouted.map_or(from, routed))
        }
        (Suspended, Action::Resume) => Some(InProgress),
        (
            PendingDispatch | Assigned | InProgress | Returned,
            Action::Transfer { found } | Action::Escalate { found },
        ) => Some(routed(found)),
        (PendingDispatch | Assigned | InProgress | Returned, Action::Assign) => Some(Assigned),
        (Assigned | InProgress, Action::Return) => Some(Returned),
        (Returned, Action::RefuseReturn) => Some(Assigned),
        (
            Submitted | PendingDispatch | Assigned | InProgress | Returned | Suspended,
            Action::Reject,
        ) => Some(Rejected),
        (Submitted | PendingDispatch | Assigned | Returned, Action::Withdraw) => Some(Withdrawn),
        (Resolved, Action::Rate(RatingLevel::Satisfied | RatingLevel::BasicallySatisfied)) => {
            Some(Closed)
        }
        (Resolved, Action::Rate(RatingLevel::Unsatisfied)) => Some(Assigned),
        (Resolved, Action::RateEscalate { found }) => Some(routed(found)),
        (
            s,
            Action::Comment
            | Action::ResponseOverdue
            | Action::ResolutionOverdue
            | Action::PriorityRaised,
        ) if !s.is_terminal() => Some(s),
        // A suspended ticket waits on a third party: nobody can be held to a deadline there.
        (s, Action::Supervise) if s.is_open() && s != Suspended => Some(s),
        (s, Action::SupervisionMissed) if s.is_open() => Some(s),
        (Resolved, Action::AutoClose) => Some(Closed),
        (Submitted, Action::Acknowledge) => Some(Closed),
        // A return visit, an appeal and its decision concern a ticket in whatever state it is.
        (s, Action::ReturnVisit | Action::Appeal | Action::AppealDecided { .. }) => Some(s),
        _ => None,
    };
    to.ok_or(NotAllowed { from, action })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_ends_closed() {
        let mut s = Status::Submitted;
        for a in [
            Action::Route { found: true },
            Action::Accept,
            Action::Resolve,
            Action::Rate(RatingLevel::Satisfied),
        ] {
            s = next(s, a).expect("allowed");
        }
        assert_eq!(s, Status::Closed);
    }

    #[test]
    fn unsatisfied_rating_reopens_to_assigned() {
        assert_eq!(
            next(Status::Resolved, Action::Rate(RatingLevel::Unsatisfied)),
            Ok(Status::Assigned)
        );
    }

    #[test]
    fn withdraw_only_before_accept() {
        assert_eq!(
            next(Status::Assigned, Action::Withdraw),
            Ok(Status::Withdrawn)
        );
        assert!(next(Status::InProgress, Action::Withdraw).is_err());
    }

    #[test]
    fn terminal_states_refuse_everything() {
        for s in [Status::Closed, Status::Withdrawn, Status::Rejected] {
            for a in [
                Action::Accept,
                Action::Resolve,
                Action::Assign,
                Action::Reject,
                Action::Comment,
                Action::Withdraw,
            ] {
                assert!(next(s, a).is_err(), "{s} {a:?}");
            }
        }
    }

    #[test]
    fn only_a_resolved_ticket_closes_by_itself() {
        assert_eq!(
            next(Status::Resolved, Action::AutoClose),
            Ok(Status::Closed)
        );
        assert!(next(Status::InProgress, Action::AutoClose).is_err());
        assert!(next(Status::Closed, Action::ResolutionOverdue).is_err());
    }

    #[test]
    fn a_return_waits_for_the_dispatcher() {
        for from in [Status::Assigned, Status::InProgress] {
            assert_eq!(next(from, Action::Return), Ok(Status::Returned));
        }
        assert!(next(Status::PendingDispatch, Action::Return).is_err());
        assert!(next(Status::Returned, Action::Return).is_err());
        assert!(next(Status::Returned, Action::Accept).is_err());
        assert!(next(Status::Returned, Action::Resolve).is_err());
        assert_eq!(
            next(Status::Returned, Action::RefuseReturn),
            Ok(Status::Assigned)
        );
        assert_eq!(next(Status::Returned, Action::Assign), Ok(Status::Assigned));
        assert_eq!(
            next(Status::Returned, Action::Transfer { found: false }),
            Ok(Status::PendingDispatch)
        );
        assert!(next(Status::Assigned, Action::RefuseReturn).is_err());
    }

    #[test]
    fn a_suspension_stops_until_resumed_or_resolved() {
        assert_eq!(
            next(Status::InProgress, Action::Suspend),
            Ok(Status::Suspended)
        );
        assert!(next(Status::Assigned, Action::Suspend).is_err());
        assert_eq!(
            next(Status::Suspended, Action::Resume),
            Ok(Status::InProgress)
        );
        assert_eq!(
            next(Status::Suspended, Action::Resolve),
            Ok(Status::Resolved)
        );
        for a in [
            Action::Accept,
            Action::Return,
            Action::Withdraw,
            Action::RequestExtension,
            Action::Assign,
        ] {
            assert!(next(Status::Suspended, a).is_err(), "{a:?}");
        }
        assert!(next(Status::InProgress, Action::Resume).is_err());
    }

    #[test]
    fn supervision_concerns_open_tickets_only() {
        for s in Status::OPEN.into_iter().filter(|s| *s != Status::Suspended) {
            assert_eq!(next(s, Action::Supervise), Ok(s));
        }
        assert!(next(Status::Suspended, Action::Supervise).is_err());
        for s in [Status::Resolved, Status::Closed, Status::Rejected] {
            assert!(next(s, Action::Supervise).is_err());
        }
        assert!(next(Status::Resolved, Action::RequestExtension).is_err());
    }

    #[test]
    fn a_correction_keeps_or_reroutes_an_open_ticket() {
        let stays = Action::Correct {
            category: true,
            rerouted: None,
        };
        assert_eq!(next(Status::InProgress, stays), Ok(Status::InProgress));
        assert_eq!(next(Status::Returned, stays), Ok(Status::Returned));
        let moved = Action::Correct {
            category: false,
            rerouted: Some(false),
        };
        assert_eq!(next(Status::InProgress, moved), Ok(Status::PendingDispatch));
        for s in [
            Status::Submitted,
            Status::Suspended,
            Status::Resolved,
            Status::Closed,
        ] {
            assert!(next(s, stays).is_err(), "{s}");
        }
    }

    #[test]
    fn resolve_requires_in_progress() {
        assert!(next(Status::Assigned, Action::Resolve).is_err());
        assert_eq!(
            next(Status::InProgress, Action::Resolve),
            Ok(Status::Resolved)
        );
    }
}
