//! What a caller is shown of a ticket: the row, its timeline (events, ratings, photos) from
//! memory by version, filtered for the viewer (residents never see internal events or photos),
//! and masked for staff who may see it but do not handle it.
use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{by_reference, category_of, find, may_see, placement};
use crate::{
    domain::{
        AreaKind, Visibility,
        lifecycle::Status,
        redact::{mask_contacts, mask_personal},
    },
    services::{Caller, Ctx, ServiceError, ServiceResult, attachments, directory::Directory},
};
use entity::{rating, ticket, ticket_event};

/// A ticket with everything a response shows, already filtered for the viewer.
pub struct TicketView {
    pub ticket: ticket::Model,
    pub category: Option<entity::category::Model>,
    pub grid_name: Option<String>,
    pub handling_area: Option<(String, AreaKind)>,
    pub assignee_name: Option<String>,
    /// Who supervises it (督办), for staff.
    pub supervisor_name: Option<String>,
    /// The resident's id and phone as the viewer may see them (`None`: hidden).
    pub reporter_id: Option<Uuid>,
    pub contact_phone: Option<String>,
    pub events: Option<Vec<ticket_event::Model>>,
    pub ratings: Vec<rating::Model>,
    /// Photos (single-ticket responses only).
    pub attachments: Vec<entity::attachment::Model>,
    pub timing: Timing,
    /// Who the staff acting in `events` are, as the viewer may know them.
    pub actors: std::collections::HashMap<Uuid, EventActor>,
    /// Each photo's and its thumbnail's URL, signed for the viewer.
    pub media_urls: std::collections::HashMap<Uuid, (String, String)>,
}

impl TicketView {
    /// Where the ticket stands for access checks: its grid, handling area, assignee and
    /// category group.
    pub fn placement(&self) -> crate::domain::access::Placement<'_> {
        let group = self
            .category
            .as_ref()
            .map(|c| c.group_name.as_str())
            .unwrap_or_default();
        placement(&self.ticket, group)
    }
}

/// A staff member acting in a timeline: their name (hidden from residents unless
/// `privacy.show_staff_names`) and the role they hold first.
#[derive(Clone, Debug)]
pub struct EventActor {
    pub name: Option<String>,
    pub role: Option<crate::domain::StaffRole>,
}

/// Actions whose note is a staff member's reason: residents read the event's `public_note`.
const INTERNAL_REASONS: [&str; 9] = [
    "recategorise",
    "relocate",
    "transfer",
    "escalate",
    "return",
    "refuse_return",
    "extension_approved",
    "suspend",
    "resume",
];

/// The timeline as a resident sees it: public events only, numbered without gaps, with the
/// public note in place of an internal reason.
fn for_resident(events: &[ticket_event::Model]) -> Vec<ticket_event::Model> {
    events
        .iter()
        .filter(|e| e.visibility == Visibility::Public)
        .enumerate()
        .map(|(i, e)| {
            let mut e = e.clone();
            e.seq = i32::try_from(i + 1).unwrap_or(i32::MAX);
            if INTERNAL_REASONS.contains(&e.action.as_str()) {
                e.note = e.public_note.take();
            }
            e
        })
        .collect()
}

fn actors(
    dir: &Directory,
    events: &[ticket_event::Model],
    names: bool,
) -> std::collections::HashMap<Uuid, EventActor> {
    events
        .iter()
        .filter(|e| e.actor_kind == crate::domain::ActorKind::Staff)
        .filter_map(|e| {
            let id = e.actor_id?;
            let person = dir.person(id)?;
            Some((
                id,
                EventActor {
                    name: names.then(|| person.name.clone()),
                    role: person.roles.first().map(|r| r.assignment.role),
                },
            ))
        })
        .collect()
}

/// Whether each deadline was met, as of now.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timing {
    /// `Some(true)`: accepted in time; `Some(false)`: late, or still waiting past the deadline;
    /// `None`: still waiting within it (or no deadline).
    pub response_met: Option<bool>,
    pub resolution_met: Option<bool>,
    /// Open with a deadline passed.
    pub overdue: bool,
}

impl Timing {
    pub fn of(t: &ticket::Model, now: DateTime<Utc>) -> Timing {
        let open = t.status.is_open();
        let met = |done: Option<DateTime<Utc>>, due: Option<DateTime<Utc>>, waiting: bool| match (
            done, due,
        ) {
            (_, None) => None,
            (Some(d), Some(due)) => Some(d <= due),
            (None, Some(due)) if waiting && now > due => Some(false),
            (None, Some(_)) => None,
        };
        let response_met = met(t.accepted_at, t.response_due_at, open);
        let resolution_met = met(t.resolved_at, t.resolution_due_at, open);
        let response_late = t.accepted_at.is_none() && response_met == Some(false);
        let overdue = open && (response_late || resolution_met == Some(false));
        Timing {
            response_met,
            resolution_met,
            overdue,
        }
    }
}

pub async fn get(ctx: &Ctx<'_>, caller: &Caller, reference: &str) -> ServiceResult<TicketView> {
    let t = find(ctx.db, reference).await?;
    show(ctx, caller, t).await
}

/// A ticket for its page, read in one statement with the directory's generation, which then
/// serves as the request's directory check ([`Ctx::dir`]): a page whose timeline is in memory
/// costs one round trip to the database. Show it with [`show`] once the caller is known.
pub async fn read_for_page(ctx: &Ctx<'_>, reference: &str) -> ServiceResult<ticket::Model> {
    let stmt = by_reference(reference)
        .expr_as(
            crate::services::directory::generation_expr(),
            "directory_generation",
        )
        .build(ctx.db.get_database_backend());
    let row = ctx
        .db
        .query_one_raw(stmt)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let t = ticket::Model::from_query_result(&row, "")?;
    ctx.dir_at(row.try_get("", "directory_generation")?).await?;
    Ok(t)
}

/// What `caller` may see of `t` with its timeline; outside their sight `NotFound`.
pub async fn show(ctx: &Ctx<'_>, caller: &Caller, t: ticket::Model) -> ServiceResult<TicketView> {
    let dir = ctx.dir().await?;
    let category = category_of(&dir, &t)?.clone();
    if !may_see(&dir, caller, &t, &category) {
        return Err(ServiceError::NotFound);
    }
    view(ctx, &dir, caller, t, Some(category), true).await
}

/// Builds what `caller` may see of a ticket.
pub(super) async fn view(
    ctx: &Ctx<'_>,
    dir: &Directory,
    caller: &Caller,
    t: ticket::Model,
    category: Option<entity::category::Model>,
    with_events: bool,
) -> ServiceResult<TicketView> {
    let category = match category {
        Some(c) => c,
        None => category_of(dir, &t)?.clone(),
    };
    let timeline = ctx.timelines.get(ctx.db, &t).await?;
    let resident = matches!(caller, Caller::Resident(_));
    let events: Option<Vec<ticket_event::Model>> = with_events.then(|| {
        if resident {
            for_resident(&timeline.events)
        } else {
            timeline.events.clone()
        }
    });
    let shown_names = !resident || ctx.settings.privacy.show_staff_names;
    let actors = events
        .as_deref()
        .map(|es| actors(dir, es, shown_names))
        .unwrap_or_default();
    let shown = Shown {
        events,
        ratings: timeline.ratings.clone(),
        attachments: timeline
            .attachments
            .iter()
            .filter(|a| match caller {
                Caller::Resident(me) => attachments::shown_to_residents(a, Some(*me)),
                Caller::Staff(_) => true,
            })
            .cloned()
            .collect(),
    };
    let mut view = assemble(dir, caller, t, Some(category), shown, ctx.now());
    view.actors = actors;
    sign_photos(ctx, caller, &mut view);
    Ok(view)
}

/// Signs each photo of `view` (and its thumbnail) for `caller`.
pub(super) fn sign_photos(ctx: &Ctx<'_>, caller: &Caller, view: &mut TicketView) {
    use crate::services::media_urls::{MediaUrls, Variant, Viewer};
    let urls = MediaUrls::new(ctx.settings);
    let viewer = Viewer::of(caller);
    view.media_urls = view
        .attachments
        .iter()
        .map(|a| {
            let url = |v| urls.url(a.id, v, &viewer, ctx.now());
            (a.id, (url(Variant::Full), url(Variant::Thumb)))
        })
        .collect();
}

/// What a response shows beside the ticket row (pages show none of it).
#[derive(Default)]
pub struct Shown {
    pub events: Option<Vec<ticket_event::Model>>,
    pub ratings: Vec<rating::Model>,
    pub attachments: Vec<entity::attachment::Model>,
}

pub fn assemble(
    dir: &Directory,
    caller: &Caller,
    mut t: ticket::Model,
    category: Option<entity::category::Model>,
    mut shown: Shown,
    now: DateTime<Utc>,
) -> TicketView {
    let group = category
        .as_ref()
        .map(|c| c.group_name.as_str())
        .unwrap_or_default();
    if let Caller::Resident(_) = caller {
        // Supervision is the offices' own business; a claim code is for the caller it was
        // given to, and a claimed ticket has none.
        t.claim_code = None;
        t.supervised_until = None;
        t.supervised_by = None;
        t.supervision_note = None;
    }
    if let Caller::Staff(scope) = caller {
        if scope.handles(&dir.tree, &placement(&t, group)) {
            mask_residents_numbers(&mut t, &mut shown);
        } else {
            mask_free_text(&mut t, &mut shown);
        }
    }
    let (reporter_id, contact_phone) = match caller {
        // A ticket staff entered for a caller is claimed with a code read out over the phone:
        // whoever holds the code reads the number masked and not the caller's name.
        Caller::Resident(_) if t.created_by_staff_id.is_some() => {
            t.caller_name = None;
            (
                t.resident_id,
                t.contact_phone
                    .as_deref()
                    .map(crate::domain::inputs::mask_phone),
            )
        }
        Caller::Resident(_) => (t.resident_id, t.contact_phone.clone()),
        Caller::Staff(scope) => {
            let place = placement(&t, group);
            // Masked for every staff member, the assignee too: the number itself is behind
            // `POST /tickets/{id}/reveal-contact`, which logs who asked and why.
            if t.anonymous && !scope.sees_anonymous_reporter(&dir.tree, &place) {
                (None, None)
            } else {
                (
                    t.resident_id,
                    t.contact_phone
                        .as_deref()
                        .map(crate::domain::inputs::mask_phone),
                )
            }
        }
    };
    let area = |id: Option<Uuid>| id.and_then(|i| dir.tree.get(i));
    TicketView {
        grid_name: area(t.grid_id).map(|a| a.name.clone()),
        handling_area: area(t.handling_area_id).map(|a| (a.name.clone(), a.kind)),
        assignee_name: t
            .assignee_id
            .and_then(|id| dir.staff_name(id))
            .map(str::to_owned),
        supervisor_name: t
            .supervised_by
            .and_then(|id| dir.staff_name(id))
            .map(str::to_owned),
        reporter_id,
        contact_phone,
        category,
        events: shown.events,
        ratings: shown.ratings,
        attachments: shown.attachments,
        timing: Timing::of(&t, now),
        actors: Default::default(),
        media_urls: Default::default(),
        ticket: t,
    }
}

/// Staff who handle a ticket read what its resident wrote (the text, the address, their comments
/// and rating comments) with phone and ID numbers masked: a number the resident typed is behind
/// the logged reveal as the contact phone is (`reveal-contact` lists them).
fn mask_residents_numbers(t: &mut ticket::Model, shown: &mut Shown) {
    let mask = |s: &mut String| *s = mask_contacts(s);
    mask(&mut t.description);
    t.title.iter_mut().for_each(mask);
    t.address_text.iter_mut().for_each(mask);
    for e in shown.events.iter_mut().flatten() {
        if e.actor_kind == crate::domain::ActorKind::Resident {
            e.note.iter_mut().for_each(mask);
        }
    }
    for r in &mut shown.ratings {
        r.comment.iter_mut().for_each(mask);
    }
}

/// Staff who may see a ticket but do not handle it read its free text with phones, ID numbers
/// and plates masked (SPEC §5): the description and title, the address, the reasons and notes
/// on the ticket and its timeline, and rating comments.
fn mask_free_text(t: &mut ticket::Model, shown: &mut Shown) {
    let mask = |s: &mut String| *s = mask_personal(s);
    mask(&mut t.description);
    t.title.iter_mut().for_each(mask);
    t.address_text.iter_mut().for_each(mask);
    t.reject_reason.iter_mut().for_each(mask);
    t.return_visit_note.iter_mut().for_each(mask);
    t.supervision_note.iter_mut().for_each(mask);
    // The caller and their code are for those who handle the ticket.
    t.caller_name = t
        .caller_name
        .as_deref()
        .and_then(|n| n.chars().next())
        .map(|first| format!("{first}*"));
    t.claim_code = None;
    for e in shown.events.iter_mut().flatten() {
        e.note.iter_mut().for_each(mask);
        e.public_note.iter_mut().for_each(mask);
    }
    for r in &mut shown.ratings {
        r.comment.iter_mut().for_each(mask);
    }
}

/// Open tickets by status, for `/metrics`: read off the `(status, …)` index for the open
/// statuses only, so a scrape costs the open work, not the year's tickets.
pub async fn count_open_by_status(db: &impl ConnectionTrait) -> ServiceResult<Vec<(String, i64)>> {
    Ok(ticket::Entity::find()
        .filter(crate::services::ticket_status_in(&Status::OPEN))
        .select_only()
        .column(ticket::Column::Status)
        .column_as(Expr::col(ticket::Column::Id).count(), "n")
        .group_by(ticket::Column::Status)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?)
}
