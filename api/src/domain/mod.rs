//! Pure domain logic: no HTTP, no database. Services feed it data and act on its answers.
pub mod access;
pub mod areas;
pub mod calendar;
pub mod columns;
pub mod coords;
pub mod inputs;
pub mod lifecycle;
pub mod open311;
pub mod photos;
pub mod rates;
pub mod redact;
pub mod routing;
pub mod similarity;

/// A closed set of snake_case strings stored in the database and spoken by the API.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $s:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, poem_openapi::Enum)]
        #[oai(rename_all = "snake_case")]
        pub enum $name { $($variant,)* }

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
pub(crate) use string_enum;

string_enum!(
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

string_enum!(
    /// Who handles a category's tickets.
    HandlingLevel { Grid => "grid", Community => "community", Street => "street", }
);

string_enum!(
    /// How a category's SLA is counted.
    SlaMode { Calendar => "calendar", Working => "working", }
);

string_enum!(
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

string_enum!(StaffStatus { Active => "active", OnLeave => "on_leave", Left => "left", });

string_enum!(TicketKind { Suggestion => "suggestion", Complaint => "complaint", Consultation => "consultation", Praise => "praise", });

string_enum!(Channel { MiniProgram => "mini_program", DoorKnock => "door_knock", Hotline => "hotline", Open311 => "open311", Staff => "staff", });

string_enum!(Priority { Normal => "normal", High => "high", Urgent => "urgent", });

string_enum!(RatingLevel { Satisfied => "satisfied", BasicallySatisfied => "basically_satisfied", Unsatisfied => "unsatisfied", });

string_enum!(
    /// What a return visit (回访) found.
    ReturnVisitOutcome {
        Satisfied => "satisfied",
        BasicallySatisfied => "basically_satisfied",
        Unsatisfied => "unsatisfied",
        Unreachable => "unreachable",
    }
);

string_enum!(ActorKind { Resident => "resident", Staff => "staff", System => "system", });

string_enum!(Visibility { Public => "public", Internal => "internal", });
