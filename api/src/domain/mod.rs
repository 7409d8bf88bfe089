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

pub use entity::enums::{
    ActorKind, AreaKind, Channel, HandlingLevel, Priority, RatingLevel, ReturnVisitOutcome,
    SlaMode, StaffRole, StaffStatus, TicketKind, Visibility,
};
