//! Bodies of the public board: what anyone may see of a public suggestion.
use poem_openapi::Object;
use uuid::Uuid;

use super::{admin::Point, tickets::AttachmentRef};
use crate::domain::{TicketKind, lifecycle::Status};

/// A public suggestion as anyone may see it: no resident, no contact, personal data redacted.
#[derive(Object)]
pub struct PublicTicket {
    pub id: Uuid,
    pub number: String,
    pub kind: TicketKind,
    pub category: String,
    pub category_name: String,
    #[oai(nullable)]
    pub title: Option<String>,
    pub description: String,
    pub status: Status,
    pub support_count: i32,
    #[oai(nullable)]
    pub grid_name: Option<String>,
    pub submitted_at: crate::schemas::Time,
    #[oai(nullable)]
    pub resolved_at: Option<crate::schemas::Time>,
}

impl From<crate::services::board::PublicTicket> for PublicTicket {
    fn from(t: crate::services::board::PublicTicket) -> Self {
        PublicTicket {
            id: t.id,
            number: t.number,
            kind: t.kind,
            category: t.category_code,
            category_name: t.category_name,
            title: t.title,
            description: t.description,
            status: t.status,
            support_count: t.support_count,
            grid_name: t.grid_name,
            submitted_at: t.submitted_at.into(),
            resolved_at: t.resolved_at.map(Into::into),
        }
    }
}

#[derive(Object)]
pub struct PublicPage {
    pub items: Vec<PublicTicket>,
    /// Pass as `cursor` for the next page; null on the last one.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

/// One public suggestion in detail.
#[derive(Object)]
pub struct PublicTicketDetail {
    #[oai(flatten)]
    pub ticket: PublicTicket,
    /// WGS-84 (or GCJ-02 when asked), a resident's point rounded to about 100 m.
    #[oai(nullable)]
    pub location: Option<Point>,
    /// Photos of the fix, with URLs anyone may load until they expire.
    pub resolution_photos: Vec<AttachmentRef>,
    /// With a resident's token: whether they said "me too"; absent otherwise.
    #[oai(skip_serializing_if_is_none)]
    pub supported_by_me: Option<bool>,
}

/// The ticket a resident's ticket was rejected as a duplicate of, as they may see it: its
/// number, category and status, and its text and support only when it is on the public board.
/// Its progress reaches them as it would the original's reporter.
#[derive(Object)]
pub struct DuplicateOriginal {
    pub id: Uuid,
    pub number: String,
    pub category_name: String,
    pub status: Status,
    pub public: bool,
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
    pub support_count: i32,
}
