//! The closed sets of values the tables store as text and the API speaks: each column holding
//! one of them is typed with it (sea-orm's `DeriveActiveEnum`; the stored strings are the
//! snake_case names), and with the `openapi` feature each is an enum in the OpenAPI document
//! too, so a generated client gets unions rather than `string`.
use sea_orm::entity::prelude::*;

/// What every closed set of snake_case strings offers: all its values, each one's string,
/// parsing, and `Display` (for the enums here and the API's own, such as statistics groupings).
#[macro_export]
macro_rules! string_set {
    ($name:ident { $($variant:ident => $s:literal,)* }) => {
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s,)* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A closed set of snake_case strings stored in the database and spoken by the API.
macro_rules! db_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $s:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
        #[cfg_attr(feature = "openapi", derive(poem_openapi::Enum), oai(rename_all = "snake_case"))]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name { $(#[sea_orm(string_value = $s)] $variant,)* }

        $crate::string_set!($name { $($variant => $s,)* });
    };
}

db_enum!(
    /// Where a ticket is in its life (SPEC §3); `returned`: sent back by its worker as not
    /// theirs (退单), waiting in the dispatcher's queue; `suspended`: waiting on a third party
    /// with the resolution clock stopped (挂账).
    Status {
        Submitted => "submitted",
        PendingDispatch => "pending_dispatch",
        Assigned => "assigned",
        InProgress => "in_progress",
        Returned => "returned",
        Suspended => "suspended",
        Resolved => "resolved",
        Closed => "closed",
        Withdrawn => "withdrawn",
        Rejected => "rejected",
    }
);

impl Status {
    /// Statuses in which somebody still owes the resident work.
    pub const OPEN: [Status; 6] = [
        Status::Submitted,
        Status::PendingDispatch,
        Status::Assigned,
        Status::InProgress,
        Status::Returned,
        Status::Suspended,
    ];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Withdrawn | Status::Rejected)
    }
}

db_enum!(
    /// A node kind of the grid-management tree.
    AreaKind { District => "district", Street => "street", Community => "community", Grid => "grid", }
);

impl AreaKind {
    /// The kind a parent of this kind must have (`None`: a root is allowed).
    pub fn parent_kinds(self) -> &'static [AreaKind] {
        match self {
            AreaKind::District => &[],
            AreaKind::Street => &[AreaKind::District],
            AreaKind::Community => &[AreaKind::Street],
            AreaKind::Grid => &[AreaKind::Community],
        }
    }

    pub fn may_be_root(self) -> bool {
        matches!(self, AreaKind::District | AreaKind::Street)
    }
}

db_enum!(
    /// Who handles a category's tickets.
    HandlingLevel { Grid => "grid", Community => "community", Street => "street", }
);

db_enum!(
    /// How a category's SLA is counted.
    SlaMode { Calendar => "calendar", Working => "working", }
);

db_enum!(
    /// A staff member's role in an area.
    StaffRole {
        GridWorker => "grid_worker",
        GridAssistant => "grid_assistant",
        CommunityAdmin => "community_admin",
        StreetAdmin => "street_admin",
        Department => "department",
        SystemAdmin => "system_admin",
    }
);

impl StaffRole {
    /// The area kind this role is held in (`None`: no area, system-wide).
    pub fn area_kind(self) -> Option<AreaKind> {
        match self {
            StaffRole::GridWorker | StaffRole::GridAssistant => Some(AreaKind::Grid),
            StaffRole::CommunityAdmin => Some(AreaKind::Community),
            StaffRole::StreetAdmin | StaffRole::Department => Some(AreaKind::Street),
            StaffRole::SystemAdmin => None,
        }
    }
}

db_enum!(
    /// Whether a staff member works: routing skips those on leave; those who left cannot log in.
    StaffStatus { Active => "active", OnLeave => "on_leave", Left => "left", }
);

db_enum!(
    /// What a resident hands in.
    TicketKind { Suggestion => "suggestion", Complaint => "complaint", Consultation => "consultation", Praise => "praise", }
);

db_enum!(
    /// How a ticket came in.
    Channel { MiniProgram => "mini_program", DoorKnock => "door_knock", Hotline => "hotline", Counter => "counter", Open311 => "open311", Staff => "staff", }
);

db_enum!(Priority { Normal => "normal", High => "high", Urgent => "urgent", });

db_enum!(
    /// A resident's verdict on a resolution.
    RatingLevel { Satisfied => "satisfied", BasicallySatisfied => "basically_satisfied", Unsatisfied => "unsatisfied", }
);

db_enum!(
    /// What a return visit (回访) found.
    ReturnVisitOutcome {
        Satisfied => "satisfied",
        BasicallySatisfied => "basically_satisfied",
        Unsatisfied => "unsatisfied",
        Unreachable => "unreachable",
    }
);

db_enum!(
    /// Who made a timeline event.
    ActorKind { Resident => "resident", Staff => "staff", System => "system", }
);

db_enum!(
    /// Who may see an event or a photo: residents see only public ones.
    Visibility { Public => "public", Internal => "internal", }
);

db_enum!(
    /// Why a rating of 不满意 or 基本满意 was given (issue 20).
    DissatisfactionReason {
        NotSolved => "not_solved",
        TooSlow => "too_slow",
        Attitude => "attitude",
        NoContact => "no_contact",
        DisagreeResult => "disagree_result",
        Other => "other",
    }
);

db_enum!(
    /// Why staff hold a ticket unreasonable (甄别): a malicious or repeated complaint, one
    /// outside the office's duties, or a demand no law or policy supports.
    AppealReason {
        Malicious => "malicious",
        Repeated => "repeated",
        OutsideDuties => "outside_duties",
        NoLegalBasis => "no_legal_basis",
    }
);

db_enum!(
    /// Why a worker sends a ticket back to the dispatcher (退单): the place is in another grid,
    /// the matter is another body's duty, the category is wrong, or another reason.
    ReturnReason {
        NotMyGrid => "not_my_grid",
        NotMyDuty => "not_my_duty",
        WrongCategory => "wrong_category",
        Other => "other",
    }
);

db_enum!(
    /// Where an appeal stands.
    AppealStatus { Pending => "pending", Approved => "approved", Denied => "denied", }
);

db_enum!(
    /// What an assignee asks for: more time (延期), or a pause while a third party acts (挂账).
    ExtensionKind { Extension => "extension", Suspension => "suspension", }
);

db_enum!(
    /// Where a request for more time stands; `cancelled`: the ticket was resolved or closed
    /// before anyone decided.
    ExtensionStatus {
        Pending => "pending",
        Approved => "approved",
        Refused => "refused",
        Cancelled => "cancelled",
    }
);

db_enum!(
    /// How a supervision (督办) ended: the ticket resolved by its deadline, the deadline
    /// missed (the ticket escalated), a later supervision took its place, or the ticket was
    /// rejected or withdrawn.
    SupervisionOutcome {
        Met => "met",
        Missed => "missed",
        Superseded => "superseded",
        Closed => "closed",
    }
);

db_enum!(
    /// Where a 每月一题 topic stands: `open` while its owner works on it, `closed` once done
    /// (its open tickets resolved with the closing note).
    TopicStatus {
        Open => "open",
        Closed => "closed",
    }
);
