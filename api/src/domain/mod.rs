//! Pure domain logic: no HTTP, no database. Services feed it data and act on its answers.
pub mod access;
pub mod areas;
pub mod calendar;
pub mod category_model;
pub mod columns;
pub mod coords;
pub mod hotspots;
pub mod inputs;
pub mod lifecycle;
pub mod open311;
pub mod photos;
pub mod promise;
#[cfg(test)]
mod quality;
pub mod rates;
pub mod redact;
pub mod routing;
pub mod sampling;
pub mod similarity;
pub mod terms;
pub mod thumbnails;
pub mod wechat_push;

/// A closed set of snake_case strings the API speaks but does not store (those it stores are
/// `entity::enums`).
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $s:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, poem_openapi::Enum)]
        #[oai(rename_all = "snake_case")]
        pub enum $name { $($variant,)* }

        entity::string_set!($name { $($variant => $s,)* });
    };
}
pub(crate) use string_enum;

pub use entity::enums::{
    ActorKind, AppealReason, AppealStatus, AreaKind, Channel, DissatisfactionReason, ExtensionKind,
    ExtensionStatus, HandlingLevel, Priority, RatingLevel, ReturnReason, ReturnVisitOutcome,
    SlaMode, StaffRole, StaffStatus, SupervisionOutcome, TicketKind, Visibility,
};
