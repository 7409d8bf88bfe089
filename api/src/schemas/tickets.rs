//! Bodies of the ticket endpoints.
use crate::schemas::Str;
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use super::admin::{LocationInput, Point};
use crate::{
    domain::{
        ActorKind, AreaKind, Channel, DissatisfactionReason, Priority, RatingLevel,
        ReturnVisitOutcome, TicketKind, Visibility, lifecycle::Status,
    },
    services::tickets::TicketView,
};

/// Staff correct a ticket's category or point (`PATCH /tickets/{id}`).
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct TicketCorrection {
    /// The right category's code.
    pub category: Option<Str>,
    /// The right point (WGS-84 by default, or GCJ-02 with `coord_system`).
    pub location: Option<LocationInput>,
    /// With a new location, its address (up to 200 characters).
    pub address_text: Option<Str>,
    /// Why (1–500 characters); for staff, the resident reads what changed.
    pub reason: Str,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct TicketCreate {
    pub kind: TicketKind,
    /// A category code from `GET /categories` (its id works too).
    pub category: Str,
    /// 1–2000 characters.
    pub description: Str,
    /// Up to 60 characters.
    pub title: Option<Str>,
    pub location: Option<LocationInput>,
    pub building_id: Option<Uuid>,
    /// Up to 200 characters.
    pub address_text: Option<Str>,
    /// Hide the reporter from grid staff (community admins and above still see them).
    pub anonymous: Option<bool>,
    pub contact_phone: Option<Str>,
    /// Photos uploaded first with `POST /attachments` (at most 9 per ticket).
    pub attachment_ids: Option<Vec<Uuid>>,
    /// Make it a public suggestion: shown (redacted) on the public board, others may "me too".
    pub public: Option<bool>,
    /// Praise only: the worker it thanks (a ticket's `assignee.id`). They are told, and it
    /// counts as `praise_received` for them and their grid.
    pub praised_staff_id: Option<Uuid>,
    /// Praise only: the resident's own earlier ticket it thanks for; its assignee is thanked.
    pub follows_ticket_id: Option<Uuid>,
}

#[derive(Object)]
pub struct Ref {
    pub id: Uuid,
    pub name: String,
}

#[derive(Object)]
pub struct AreaRef {
    pub id: Uuid,
    pub name: String,
    pub kind: AreaKind,
}

#[derive(Object)]
pub struct CategoryRef {
    pub code: String,
    pub name: String,
}

/// Who acted in a timeline event.
#[derive(Object)]
pub struct Actor {
    /// `resident`, `staff` or `system`.
    pub kind: ActorKind,
    /// A staff member's display name (residents see it where the street shows staff names).
    #[oai(skip_serializing_if_is_none)]
    pub name: Option<String>,
    /// A staff member's role.
    #[oai(skip_serializing_if_is_none)]
    pub role: Option<crate::domain::StaffRole>,
}

#[derive(Object)]
pub struct Event {
    /// 1, 2, 3… in what the viewer sees (a resident's timeline has no gaps where internal
    /// events were left out).
    pub seq: i32,
    pub action: String,
    #[oai(nullable)]
    pub from_status: Option<Status>,
    #[oai(nullable)]
    pub to_status: Option<Status>,
    /// `resident`, `staff` or `system` (as `actor.kind`).
    pub actor_kind: ActorKind,
    pub actor: Actor,
    /// For residents, a transfer's or escalation's `public_note` (its reason is internal).
    #[oai(nullable)]
    pub note: Option<String>,
    /// `public` or `internal` (staff only).
    pub visibility: Visibility,
    /// Content safety flag of a comment: `review` or `unchecked`.
    #[oai(nullable)]
    pub moderation: Option<String>,
    pub at: crate::schemas::Time,
}

#[derive(Object)]
pub struct AttachmentRef {
    pub id: Uuid,
    pub content_type: String,
    pub size_bytes: i64,
    /// `ticket`, `comment` or `resolution`.
    #[oai(nullable)]
    pub purpose: Option<String>,
    /// The photo, for `<image src>`: signed for the caller, valid for `media.url_ttl_seconds`
    /// (default an hour), no header needed (`GET /attachments/{id}` takes the bearer token).
    pub url: String,
    /// Its thumbnail (longest side 320 px), signed the same way.
    pub thumbnail_url: String,
}

impl AttachmentRef {
    /// `urls`: the photo's and its thumbnail's signed URLs.
    pub fn of(a: entity::attachment::Model, urls: (String, String)) -> Self {
        AttachmentRef {
            url: urls.0,
            thumbnail_url: urls.1,
            id: a.id,
            content_type: a.content_type,
            size_bytes: a.size_bytes,
            purpose: a.purpose,
        }
    }
}

#[derive(Object)]
pub struct Rating {
    pub round: i32,
    pub level: RatingLevel,
    #[oai(nullable)]
    pub score: Option<i16>,
    #[oai(nullable)]
    pub comment: Option<String>,
    /// Why not (fully) satisfied, as the resident ticked them.
    pub reasons: Vec<DissatisfactionReason>,
    pub at: crate::schemas::Time,
}

#[derive(Object)]
pub struct Ticket {
    pub id: Uuid,
    /// Public number, e.g. `QM-20261122-000123` (Beijing date and that day's sequence).
    pub number: String,
    pub kind: TicketKind,
    #[oai(nullable)]
    pub category: Option<CategoryRef>,
    #[oai(nullable)]
    pub title: Option<String>,
    pub description: String,
    /// submitted, pending_dispatch, assigned, in_progress, resolved, closed, withdrawn, rejected.
    pub status: Status,
    pub priority: Priority,
    pub anonymous: bool,
    pub channel: Channel,
    /// WGS-84 (converted from GCJ-02 if it arrived so), or GCJ-02 when the request asked
    /// `coord_system=gcj02`.
    #[oai(nullable)]
    pub location: Option<Point>,
    #[oai(nullable)]
    pub address_text: Option<String>,
    #[oai(nullable)]
    pub building_id: Option<Uuid>,
    #[oai(nullable)]
    pub grid: Option<Ref>,
    /// Where the ticket is handled (its grid, community or street) or queued.
    #[oai(nullable)]
    pub handling_area: Option<AreaRef>,
    #[oai(nullable)]
    pub assignee: Option<Ref>,
    /// The reporter; null where the viewer may not see them (anonymous tickets below community admin).
    #[oai(nullable)]
    pub resident_id: Option<Uuid>,
    /// Masked (`138****1234`) for staff other than the assignee.
    #[oai(nullable)]
    pub contact_phone: Option<String>,
    pub reopen_count: i32,
    pub return_visit_required: bool,
    #[oai(nullable)]
    pub duplicate_of: Option<Uuid>,
    /// For the resident whose ticket was rejected as a duplicate: the original as they may see
    /// it (single-ticket responses only).
    #[oai(skip_serializing_if_is_none)]
    pub duplicate_original: Option<super::public::DuplicateOriginal>,
    #[oai(nullable)]
    pub reject_reason: Option<String>,
    /// When someone must accept it by (the category's response SLA from submission).
    #[oai(nullable)]
    pub response_due_at: Option<crate::schemas::Time>,
    /// When it must be resolved by.
    #[oai(nullable)]
    pub resolution_due_at: Option<crate::schemas::Time>,
    /// true: accepted in time; false: accepted late, or still unaccepted past the deadline;
    /// null: still within it.
    #[oai(nullable)]
    pub response_met: Option<bool>,
    /// As `response_met`, for resolution.
    #[oai(nullable)]
    pub resolution_met: Option<bool>,
    /// Open with a deadline passed.
    pub overdue: bool,
    /// The resolution deadline passed while open (marked by the scheduler).
    pub resolution_overdue: bool,
    /// Content safety flag: `review` or `unchecked` (null when the text passed).
    #[oai(nullable)]
    pub moderation: Option<String>,
    /// A return visit (回访) is due after repeated dissatisfaction; see `return_visit`.
    #[oai(nullable)]
    pub return_visit: Option<ReturnVisit>,
    /// Entered by staff for a caller (hotline, counter, visit): the name the caller gave.
    #[oai(skip_serializing_if_is_none)]
    pub caller_name: Option<String>,
    /// Staff who handle it: the code the caller claims it with in the mini-program
    /// (`POST /tickets/claim`); gone once claimed.
    #[oai(skip_serializing_if_is_none)]
    pub claim_code: Option<String>,
    /// Staff: the standing supervision (督办), supervised tickets come first in work lists.
    #[oai(nullable)]
    pub supervision: Option<Supervision>,
    /// Staff: 类别可能有误 — the category model finds another category far more likely for
    /// the ticket's text (at least 70 %, its own below 30 %), with its suggestions.
    #[oai(skip_serializing_if_is_none)]
    pub category_doubt: Option<CategoryDoubt>,
    /// The 每月一题 topic that covers it.
    #[oai(skip_serializing_if_is_none)]
    pub topic: Option<TopicRef>,
    /// A suspension (挂账, status `suspended`): the resolution clock stopped since `since`;
    /// it resumes by itself at `until` when that was given.
    #[oai(nullable)]
    pub suspension: Option<Suspension>,
    /// Likely duplicates nearby (same category, close in time, similar text). In the response to
    /// a resident's submission: public open ones, so they can say "me too" instead. In a staff
    /// member's `GET /tickets/{id}`: every one they may see, whatever its status or visibility.
    #[oai(skip_serializing_if_is_none)]
    pub possible_duplicates: Option<Vec<PossibleDuplicate>>,
    /// A public suggestion, and how many residents said "me too".
    pub public: bool,
    pub support_count: i32,
    pub submitted_at: crate::schemas::Time,
    #[oai(nullable)]
    pub accepted_at: Option<crate::schemas::Time>,
    #[oai(nullable)]
    pub resolved_at: Option<crate::schemas::Time>,
    #[oai(nullable)]
    pub closed_at: Option<crate::schemas::Time>,
    pub updated_at: crate::schemas::Time,
    /// The timeline, oldest first (single-ticket responses only).
    #[oai(skip_serializing_if_is_none)]
    pub events: Option<Vec<Event>>,
    pub ratings: Vec<Rating>,
    /// Photos of the report, comments and resolution (single-ticket responses only).
    pub attachments: Vec<AttachmentRef>,
    /// The notification templates (keys of `notifications.templates`) worth asking the resident
    /// to grant now, for `wx.requestSubscribeMessage`: after submission `accepted` and
    /// `resolved`, while in progress `resolved`, none once it is done.
    pub suggest_subscribe: Vec<String>,
    /// Staff reading one ticket: its notifications, newest first, each with the channel tried
    /// and its answer (`wechat`, `wecom`, or `inbox` alone).
    #[oai(skip_serializing_if_is_none)]
    pub notifications: Option<Vec<crate::schemas::admin::OutboxMessage>>,
}

/// The category model's doubt about a ticket's category.
#[derive(Object)]
pub struct CategoryDoubt {
    /// 类别可能有误
    pub message: String,
    pub suggestions: Vec<crate::routes::categories::CategorySuggestion>,
}

/// A topic a ticket belongs to.
#[derive(Object)]
pub struct TopicRef {
    pub id: Uuid,
    pub title: String,
    /// open or closed.
    pub status: entity::enums::TopicStatus,
}

impl From<entity::topic::Model> for TopicRef {
    fn from(t: entity::topic::Model) -> Self {
        TopicRef {
            id: t.id,
            title: t.title,
            status: t.status,
        }
    }
}

/// A supervision (督办): the supervisor's deadline and note.
#[derive(Object)]
pub struct Supervision {
    pub deadline: crate::schemas::Time,
    pub note: String,
    #[oai(nullable)]
    pub supervisor: Option<Ref>,
}

#[derive(Object)]
pub struct Suspension {
    pub since: crate::schemas::Time,
    #[oai(nullable)]
    pub until: Option<crate::schemas::Time>,
}

impl Ticket {
    /// The ticket with its location in `coords` (stored and shown by default in WGS-84).
    pub fn in_datum(mut self, coords: super::places::CoordSystem) -> Self {
        self.location = self.location.map(|p| coords.point(p.lat, p.lng));
        self
    }
}

impl TicketPage {
    pub fn in_datum(mut self, coords: super::places::CoordSystem) -> Self {
        self.items = self.items.into_iter().map(|t| t.in_datum(coords)).collect();
        self
    }
}

/// The messages still to come for a ticket in `status`: the templates worth granting now.
pub fn suggest_subscribe(kind: TicketKind, status: Status) -> Vec<String> {
    if kind == TicketKind::Praise {
        return vec![];
    }
    let keys: &[&str] = match status {
        Status::Submitted | Status::PendingDispatch | Status::Assigned => &["accepted", "resolved"],
        Status::InProgress => &["resolved"],
        _ => &[],
    };
    keys.iter().map(|k| (*k).to_owned()).collect()
}

impl From<TicketView> for Ticket {
    fn from(v: TicketView) -> Self {
        let t = v.ticket;
        let suggest_subscribe = suggest_subscribe(t.kind, t.status);
        Ticket {
            suggest_subscribe,
            notifications: None,
            id: t.id,
            number: t.number,
            kind: t.kind,
            category: v.category.map(|c| CategoryRef {
                code: c.code,
                name: c.name,
            }),
            title: t.title,
            description: t.description,
            status: t.status,
            priority: t.priority,
            anonymous: t.anonymous,
            channel: t.channel,
            location: t.lat.zip(t.lng).map(|(lat, lng)| Point { lat, lng }),
            address_text: t.address_text,
            building_id: t.building_id,
            grid: t
                .grid_id
                .zip(v.grid_name)
                .map(|(id, name)| Ref { id, name }),
            handling_area: t
                .handling_area_id
                .zip(v.handling_area)
                .map(|(id, (name, kind))| AreaRef { id, name, kind }),
            assignee: t
                .assignee_id
                .zip(v.assignee_name)
                .map(|(id, name)| Ref { id, name }),
            resident_id: v.reporter_id,
            contact_phone: v.contact_phone,
            reopen_count: t.reopen_count,
            return_visit_required: t.return_visit_required,
            duplicate_of: t.duplicate_of,
            duplicate_original: None,
            reject_reason: t.reject_reason,
            response_due_at: t.response_due_at.map(Into::into),
            resolution_due_at: t.resolution_due_at.map(Into::into),
            response_met: v.timing.response_met,
            resolution_met: v.timing.resolution_met,
            overdue: v.timing.overdue,
            resolution_overdue: t.resolution_overdue,
            moderation: t.moderation.clone(),
            possible_duplicates: None,
            category_doubt: None,
            topic: None,
            public: t.public,
            support_count: t.support_count,
            caller_name: t.caller_name.clone(),
            claim_code: t.claim_code.clone(),
            supervision: t.supervised_until.map(|deadline| Supervision {
                deadline: deadline.into(),
                note: t.supervision_note.clone().unwrap_or_default(),
                supervisor: t
                    .supervised_by
                    .zip(v.supervisor_name.clone())
                    .map(|(id, name)| Ref { id, name }),
            }),
            suspension: t.suspended_at.map(|since| Suspension {
                since: since.into(),
                until: t.suspended_until.map(Into::into),
            }),
            return_visit: t.return_visit_required.then(|| ReturnVisit {
                at: t.return_visit_at.map(Into::into),
                outcome: t.return_visit_outcome,
                note: t.return_visit_note.clone(),
                cause: t.return_visit_cause.clone(),
                reasons: t
                    .return_visit_reasons
                    .as_deref()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(crate::domain::DissatisfactionReason::parse)
                    .collect(),
            }),
            submitted_at: t.submitted_at.into(),
            accepted_at: t.accepted_at.map(Into::into),
            resolved_at: t.resolved_at.map(Into::into),
            closed_at: t.closed_at.map(Into::into),
            updated_at: t.updated_at.into(),
            events: v.events.map(|es| {
                es.into_iter()
                    .map(|e| Event {
                        actor: {
                            let who = e.actor_id.and_then(|id| v.actors.get(&id));
                            Actor {
                                kind: e.actor_kind,
                                name: who.and_then(|a| a.name.clone()),
                                role: who.and_then(|a| a.role),
                            }
                        },
                        seq: e.seq,
                        action: e.action,
                        from_status: e.from_status,
                        to_status: e.to_status,
                        actor_kind: e.actor_kind,
                        note: e.note,
                        visibility: e.visibility,
                        moderation: e.moderation,
                        at: e.created_at.into(),
                    })
                    .collect()
            }),
            attachments: v
                .attachments
                .into_iter()
                .map(|a| {
                    let urls = v.media_urls.get(&a.id).cloned().unwrap_or_default();
                    AttachmentRef::of(a, urls)
                })
                .collect(),
            ratings: v
                .ratings
                .into_iter()
                .map(|r| Rating {
                    round: r.round,
                    level: r.level,
                    score: r.score,
                    reasons: crate::services::rollups::parse_reasons(r.reasons.as_deref()),
                    comment: r.comment,
                    at: r.created_at.into(),
                })
                .collect(),
        }
    }
}

#[derive(Object)]
pub struct PossibleDuplicate {
    pub id: Uuid,
    pub number: String,
    pub status: Status,
    /// Redacted as on the public board for residents; for staff, phones, ID numbers and plates
    /// masked.
    pub description: String,
    /// To the nearest 10 m.
    pub distance_meters: f64,
    /// 0–1.
    pub similarity: f64,
    pub public: bool,
    pub support_count: i32,
}

impl From<crate::services::duplicates::Duplicate> for PossibleDuplicate {
    fn from(d: crate::services::duplicates::Duplicate) -> Self {
        PossibleDuplicate {
            description: d.description,
            id: d.ticket.id,
            number: d.ticket.number,
            status: d.ticket.status,
            distance_meters: d.distance_meters,
            similarity: (d.similarity * 1000.0).round() / 1000.0,
            public: d.ticket.public,
            support_count: d.ticket.support_count,
        }
    }
}

#[derive(Object)]
pub struct ReturnVisit {
    /// null until the visit is recorded.
    #[oai(nullable)]
    pub at: Option<crate::schemas::Time>,
    #[oai(nullable)]
    pub outcome: Option<ReturnVisitOutcome>,
    #[oai(nullable)]
    pub note: Option<String>,
    /// Why it is due: `dissatisfied` (repeated dissatisfaction), `sample`
    /// (`return_visits.sample_rate` of rated complaints) or `unrated` (closed without a rating).
    #[oai(nullable)]
    pub cause: Option<String>,
    /// The structured reasons the visit heard.
    pub reasons: Vec<crate::domain::DissatisfactionReason>,
}

#[derive(Object)]
pub struct TicketPage {
    pub items: Vec<Ticket>,
    /// Pass as `cursor` for the next page; null on the last one.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

impl From<crate::services::listing::Page> for TicketPage {
    fn from(p: crate::services::listing::Page) -> Self {
        TicketPage {
            items: p.items.into_iter().map(Ticket::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct CommentCreate {
    /// 1–1000 characters.
    pub text: Str,
    /// Staff only: hide the comment from the resident.
    pub internal: Option<bool>,
    pub attachment_ids: Option<Vec<Uuid>>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ResolveBody {
    /// What was done (1–1000 characters).
    pub note: Str,
    /// Photos of the fix; required when the category says so.
    pub attachment_ids: Option<Vec<Uuid>>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct TransferBody {
    /// Exactly one of `staff_id` and `grid_id`.
    pub staff_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
    /// Why (staff only; up to 500 characters).
    pub reason: Str,
    /// What the resident reads of it (up to 200 characters); without it they see only that
    /// the ticket moved.
    pub public_note: Option<Str>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct EscalateBody {
    /// Why (staff only; up to 500 characters).
    pub reason: Str,
    /// What the resident reads of it (up to 200 characters).
    pub public_note: Option<Str>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct RejectBody {
    /// Why (invalid, out of scope, duplicate…), shown to the resident.
    pub reason: Str,
    /// The ticket this one duplicates: its id or number.
    pub duplicate_of: Option<Str>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ReturnVisitBody {
    pub outcome: crate::domain::ReturnVisitOutcome,
    /// Up to 1000 characters.
    pub note: Option<Str>,
    /// What the resident found wanting, as a rating's reasons (not with `satisfied`).
    pub reasons: Option<Vec<crate::domain::DissatisfactionReason>>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct MergeBody {
    /// The main ticket: its id or number.
    pub into: Str,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct AssignBody {
    pub staff_id: Uuid,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct RatingCreate {
    pub level: RatingLevel,
    /// 1–5.
    pub score: Option<i64>,
    /// Up to 500 characters.
    pub comment: Option<Str>,
    /// With `unsatisfied` or `basically_satisfied` only: why, from the fixed list (each once).
    pub reasons: Option<Vec<DissatisfactionReason>>,
}

/// The order of a work list: `newest` (default) or `due` (soonest standing deadline first).
#[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum WorkSortParam {
    #[default]
    Newest,
    Due,
}

/// The mini-program's tabs of a resident's own tickets.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum OwnTab {
    /// Being handled: submitted, waiting for dispatch, assigned or in progress.
    Open,
    /// Resolved, waiting for the resident's rating.
    ToRate,
    /// Closed, withdrawn or rejected.
    Done,
}

impl OwnTab {
    pub fn statuses(self) -> &'static [Status] {
        match self {
            OwnTab::Open => &Status::OPEN,
            OwnTab::ToRate => &[Status::Resolved],
            OwnTab::Done => &[Status::Closed, Status::Withdrawn, Status::Rejected],
        }
    }
}
