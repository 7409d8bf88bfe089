//! A new ticket: checked, routed (SPEC §4) and recorded with its `submit` and `route` events,
//! its rollups and its notification in one transaction; once per idempotency key.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};
use uuid::Uuid;

use super::{
    EventDraft, Shown, TicketView, assemble, category_of, event_row, praise, rejected, view::view,
};
use crate::{
    domain::{
        ActorKind, Channel, Priority, TicketKind, Visibility,
        inputs::{GeoPoint, Phone, Text},
        lifecycle::{Action, Status, next},
    },
    error::Code,
    services::{
        Caller, Ctx, ServiceError, ServiceResult,
        attachments::{self, Attachment, Owner},
        directory::Directory,
        notify,
        routing::{self, Destination},
        safety::{self, Moderation},
        sla, write_txn,
    },
};
use entity::{ticket, ticket_event};

pub struct NewTicket {
    pub kind: TicketKind,
    pub category_code: String,
    pub title: Option<Text>,
    pub description: Text,
    pub location: Option<GeoPoint>,
    pub building_id: Option<Uuid>,
    pub address_text: Option<Text>,
    pub anonymous: bool,
    pub contact_phone: Option<Phone>,
    pub channel: Channel,
    /// Photos the resident uploaded first (`POST /attachments`).
    pub attachment_ids: Vec<Uuid>,
    /// Set by content safety screening before submission.
    pub moderation: Option<Moderation>,
    /// The door-knock visit that recorded it.
    pub visit_id: Option<Uuid>,
    /// Who should take it if routing allows (the worker who recorded it on a visit).
    pub prefer_assignee: Option<Uuid>,
    /// A public suggestion (listed on the public board, open to "me too").
    pub public: bool,
    /// Praise: the worker it thanks.
    pub praised_staff_id: Option<Uuid>,
    /// Praise: the resident's earlier ticket it thanks for.
    pub follows_ticket_id: Option<Uuid>,
    /// Entered by staff for a caller: the name they gave.
    pub caller_name: Option<Text>,
}

impl NewTicket {
    /// What staff record for a resident (a call, a counter visit, a door-knock visit): the
    /// resident's words in `category` by `channel`, nothing else yet.
    pub fn told(
        kind: TicketKind,
        category_code: String,
        description: Text,
        channel: Channel,
    ) -> Self {
        NewTicket {
            kind,
            category_code,
            title: None,
            description,
            location: None,
            building_id: None,
            address_text: None,
            anonymous: false,
            contact_phone: None,
            channel,
            attachment_ids: vec![],
            moderation: None,
            visit_id: None,
            prefer_assignee: None,
            public: false,
            praised_staff_id: None,
            follows_ticket_id: None,
            caller_name: None,
        }
    }
}

/// `QM-20261122-000123`: the Beijing date and that day's sequence, drawn in the transaction.
async fn next_number(db: &impl ConnectionTrait, at: DateTime<Utc>) -> ServiceResult<String> {
    let day = crate::services::rollups::day_of(at)
        .format("%Y%m%d")
        .to_string();
    let stmt = Query::insert()
        .into_table("ticket_number_seq")
        .columns(["day", "last"])
        .values_panic([day.clone().into(), 1i64.into()])
        .on_conflict(
            OnConflict::column("day")
                .value("last", Expr::col(("ticket_number_seq", "last")).add(1))
                .to_owned(),
        )
        .returning_col("last")
        .to_owned();
    let row = db
        .query_one(&stmt)
        .await?
        .ok_or_else(|| ServiceError::Internal("no sequence row".into()))?;
    let n: i64 = row.try_get("", "last")?;
    Ok(format!("QM-{day}-{n:06}"))
}

/// A client's `Idempotency-Key` with the hash of the request it came with.
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

pub enum Submission {
    Created(TicketView),
    /// The same key was used before with the same request: the first ticket.
    Replayed(TicketView),
}

fn idempotency_cache_key(resident_id: Uuid, key: &str) -> String {
    format!("idem:{resident_id}:{key}")
}

/// The ticket a resident already made with this key, if any. The same key with another request
/// is refused. The cache only saves the indexed database lookup.
pub async fn replay(
    ctx: &Ctx<'_>,
    resident_id: Uuid,
    idem: &Idempotency,
) -> ServiceResult<Option<TicketView>> {
    let cached = match ctx
        .cache
        .get(&idempotency_cache_key(resident_id, &idem.key))
        .await
    {
        Ok(hit) => hit.and_then(|id| Uuid::parse_str(&id).ok()),
        Err(e) => {
            tracing::warn!(error = %e, "idempotency cache unavailable; using the database");
            None
        }
    };
    let found = match cached {
        Some(id) => ticket::Entity::find_by_id(id).one(ctx.db).await?,
        None => None,
    };
    let found = match found {
        Some(t) => Some(t),
        None => {
            ticket::Entity::find()
                .filter(ticket::Column::ResidentId.eq(resident_id))
                .filter(ticket::Column::IdempotencyKey.eq(idem.key.as_str()))
                .one(ctx.db)
                .await?
        }
    };
    match found {
        None => Ok(None),
        Some(t) if t.request_hash.as_deref() == Some(idem.request_hash.as_str()) => {
            let dir = ctx.dir().await?;
            Ok(Some(
                view(ctx, &dir, &Caller::Resident(resident_id), t, None, false).await?,
            ))
        }
        Some(_) => Err(ServiceError::rejected(
            Code::IdempotencyKeyReused,
            "Idempotency-Key",
            crate::error::bi(
                "该幂等键已用于另一个不同的请求",
                "this key was used with a different request body",
            ),
        )),
    }
}

/// Submits a ticket once per idempotency key: a concurrent twin that loses the race on the
/// database's unique key gets the winner's ticket.
pub async fn submit_once(
    ctx: &Ctx<'_>,
    resident_id: Uuid,
    mut new: NewTicket,
    idem: Option<Idempotency>,
) -> ServiceResult<Submission> {
    let text = format!(
        "{}\n{}",
        new.title.as_ref().map(Text::as_str).unwrap_or_default(),
        new.description.as_str()
    );
    new.moderation = screen_resident(ctx, resident_id, &text, safety::SCENE_FORUM).await?;
    let with_photos = !new.attachment_ids.is_empty();
    let created = create(ctx, Reporter::Resident(resident_id), new, idem.as_ref()).await;
    match created {
        Ok(model) => {
            let view = shown_to_its_reporter(ctx, resident_id, model, with_photos).await?;
            if let Some(i) = &idem {
                let key = idempotency_cache_key(resident_id, &i.key);
                let ttl = std::time::Duration::from_secs(24 * 3600);
                if let Err(e) = ctx.cache.set(&key, &view.ticket.id.to_string(), ttl).await {
                    tracing::warn!(error = %e, "idempotency cache not updated");
                }
            }
            Ok(Submission::Created(view))
        }
        Err(ServiceError::Db(e))
            if idem.is_some()
                && matches!(
                    e.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) =>
        {
            let idem = idem.as_ref().ok_or(ServiceError::Db(DbErr::RecordNotFound(
                "idempotency".into(),
            )))?;
            match replay(ctx, resident_id, idem).await? {
                Some(first) => Ok(Submission::Replayed(first)),
                None => Err(ServiceError::Db(e)),
            }
        }
        Err(e) => Err(e),
    }
}

/// Who hands a ticket in.
#[derive(Clone, Copy, Debug)]
pub enum Reporter {
    Resident(Uuid),
    /// Staff recording it for a resident (a door-knock visit).
    Staff(Uuid),
    /// An Open311 client, on behalf of a resident it does not name.
    Open311,
}

impl Reporter {
    pub(super) fn resident(self) -> Option<Uuid> {
        match self {
            Reporter::Resident(id) => Some(id),
            _ => None,
        }
    }

    fn staff(self) -> Option<Uuid> {
        match self {
            Reporter::Staff(id) => Some(id),
            _ => None,
        }
    }

    fn actor(self) -> (ActorKind, Option<Uuid>) {
        match self {
            Reporter::Resident(id) => (ActorKind::Resident, Some(id)),
            Reporter::Staff(id) => (ActorKind::Staff, Some(id)),
            Reporter::Open311 => (ActorKind::System, None),
        }
    }
}

/// Creates and routes a ticket in a transaction of its own.
pub async fn create(
    ctx: &Ctx<'_>,
    by: Reporter,
    new: NewTicket,
    idem: Option<&Idempotency>,
) -> ServiceResult<ticket::Model> {
    // On PostgreSQL the day's number is drawn before the transaction, in its own, so
    // concurrent submissions do not queue on the counter row for each other's whole
    // transaction (one that fails later leaves a gap in the day's numbers, never a duplicate).
    // SQLite has one writer and one connection: the number comes from the transaction.
    // A point outside the service area is refused before a number is drawn.
    if let (None, Some(point)) = (new.building_id, new.location) {
        let max = ctx.settings.routing.nearest_grid_max_meters;
        routing::served(&*ctx.dir().await?, point, max)?;
    }
    let drawn = match ctx.db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => Some(next_number(ctx.db, ctx.now()).await?),
        _ => None,
    };
    let txn = write_txn(ctx.db).await?;
    let model = create_in(&txn, ctx, by, new, idem, drawn).await?;
    txn.commit().await?;
    Ok(model)
}

/// What the resident who just submitted `model` is shown of it: a new ticket has no ratings,
/// and photos only if it was sent some.
async fn shown_to_its_reporter(
    ctx: &Ctx<'_>,
    resident_id: Uuid,
    model: ticket::Model,
    with_photos: bool,
) -> ServiceResult<TicketView> {
    let dir = ctx.dir().await?;
    let shown = Shown {
        attachments: match with_photos {
            true => attachments::for_ticket(ctx.db, model.id).await?,
            false => vec![],
        },
        ..Shown::default()
    };
    let category = category_of(&dir, &model)?.clone();
    let caller = Caller::Resident(resident_id);
    let mut view = assemble(&dir, &caller, model, Some(category), shown, ctx.now());
    super::view::sign_photos(ctx, &caller, &mut view);
    Ok(view)
}

/// Creates and routes a ticket inside the caller's transaction (a visit makes several at once).
pub async fn create_in(
    txn: &sea_orm::DatabaseTransaction,
    ctx: &Ctx<'_>,
    by: Reporter,
    new: NewTicket,
    idem: Option<&Idempotency>,
    drawn: Option<String>,
) -> ServiceResult<ticket::Model> {
    praise::check_kind(&new)?;
    let dir = ctx.dir_in(txn).await?;
    let category = dir
        .category_by_reference(&new.category_code)
        .filter(|c| c.active)
        .cloned()
        .ok_or_else(|| {
            rejected(
                Code::UnknownCategory,
                "category",
                crate::error::bi(
                    format_args!("没有启用的类别「{}」", new.category_code),
                    format_args!("no active category `{}`", new.category_code),
                ),
            )
        })?;
    let building = match new.building_id {
        Some(id) => Some(
            entity::building::Entity::find_by_id(id)
                .one(txn)
                .await?
                .ok_or_else(|| {
                    rejected(
                        Code::UnknownBuilding,
                        "building_id",
                        crate::error::bi("没有这个楼栋", "no such building"),
                    )
                })?,
        ),
        None => None,
    };
    let resident = match by.resident() {
        Some(rid) => entity::resident::Entity::find_by_id(rid).one(txn).await?,
        None => None,
    };
    let place = Place {
        category: &category,
        building: building.as_ref(),
        resident: resident.as_ref(),
    };
    let praise = new.kind == TicketKind::Praise;
    let mut dest = destination(txn, ctx, &dir, &place, &new).await?;
    if praise {
        dest = praise::destination(txn, &dir, by, &new, dest, ctx.now()).await?;
    }
    let at = ctx.now();
    let number = match drawn {
        Some(n) => n,
        None => next_number(txn, at).await?,
    };
    // Praise is closed on arrival: nobody owes it an answer.
    let second = match praise {
        true => Action::Acknowledge,
        false => Action::Route {
            found: dest.assignee_id.is_some(),
        },
    };
    let routed = next(Status::Submitted, second)?;
    let attachment_ids = new.attachment_ids.clone();
    let arrival = Arrival {
        number,
        by,
        dest,
        routed,
        idem,
        at,
    };
    let mut row = new_row(ctx, &place, new, arrival);
    crate::services::rollups::stamp_moments(None, &mut row, at)?;
    let model = row.insert(txn).await?;
    let submit = EventDraft {
        action: Action::Submit.name(),
        from: None,
        to: Some(Status::Submitted),
        note: None,
        visibility: Visibility::Public,
        moderation: None,
        public_note: None,
    };
    let note = match praise {
        true => praise_note(&dir, &dest),
        false => route_note(&dir, &dest),
    };
    let route = EventDraft::transition(second, Status::Submitted, routed, Some(note));
    ticket_event::Entity::insert_many([
        event_row(model.id, 1, by.actor(), submit, at),
        event_row(model.id, 2, (ActorKind::System, None), route, at),
    ])
    .exec(txn)
    .await?;
    crate::services::rollups::ticket_created(txn, &model).await?;
    if let Some(assignee) = model.assignee_id {
        let event = match praise {
            true => notify::Event::Praised,
            false => notify::Event::Assigned,
        };
        notify::staff(txn, assignee, event, &model, at).await?;
    }
    if let Some(r) = by.resident() {
        let owner = Owner {
            kind: ActorKind::Resident.as_str(),
            id: r,
        };
        let photos = Attachment {
            ticket_id: model.id,
            purpose: "ticket",
            visibility: Visibility::Public,
        };
        let max = ctx.settings.media.max_per_ticket;
        attachments::attach(txn, &attachment_ids, owner, photos, max).await?;
    }
    Ok(model)
}

/// What a new ticket is about and who sends it, as read for routing.
struct Place<'p> {
    category: &'p entity::category::Model,
    building: Option<&'p entity::building::Model>,
    resident: Option<&'p entity::resident::Model>,
}

/// Where a new ticket goes (SPEC §4): its grid by building, point or the resident's home grid,
/// then the level and person the category calls for; a worker recording a suggestion on a
/// visit normally takes it, when the grid handles it and they are active staff of that grid.
async fn destination(
    txn: &sea_orm::DatabaseTransaction,
    ctx: &Ctx<'_>,
    dir: &Directory,
    place: &Place<'_>,
    new: &NewTicket,
) -> ServiceResult<Destination> {
    let building_grid = place.building.map(|b| b.grid_id);
    let max = ctx.settings.routing.nearest_grid_max_meters;
    // A point outside the service area is refused before anything is written.
    if let (None, Some(point)) = (building_grid, new.location) {
        routing::served(dir, point, max)?;
    }
    // The resident's home grid is read only when the building and the point find none.
    let grid_id = match routing::find_grid(dir, building_grid, new.location, None) {
        Some(grid) => Some(grid),
        None => home_grid(txn, place.resident).await?,
    };
    let mut dest = routing::route(txn, dir, place.category, grid_id, new.location, max).await?;
    if let (Some(worker), Some(grid)) = (new.prefer_assignee, dest.grid_id)
        && dest.handling_area_id == Some(grid)
        && routing::candidates(txn, dir, grid)
            .await?
            .iter()
            .any(|c| c.staff_id == worker && c.status == crate::domain::StaffStatus::Active)
    {
        dest.assignee_id = Some(worker);
    }
    Ok(dest)
}

/// How a new ticket arrives: its number, who sent it, where it goes, when.
struct Arrival<'a> {
    number: String,
    by: Reporter,
    dest: Destination,
    routed: Status,
    idem: Option<&'a Idempotency>,
    at: DateTime<Utc>,
}

/// The new ticket's row, its deadlines from the category's SLA.
fn new_row(
    ctx: &Ctx<'_>,
    place: &Place<'_>,
    new: NewTicket,
    a: Arrival<'_>,
) -> ticket::ActiveModel {
    let category = place.category;
    // Praise has no deadlines (and so no SLA clock, no escalation, no place in the rates).
    let praise = new.kind == TicketKind::Praise;
    let response_due = (!praise).then(|| sla::response_deadline(category, a.at, ctx.calendar));
    let resolution_due = (!praise).then(|| sla::resolution_deadline(category, a.at, ctx.calendar));
    // A ticket carries a contact phone only when the resident chose one for it: the bound phone
    // (POST /me/phone) is offered by the front end, never copied here.
    let contact_phone = new.contact_phone.as_ref().map(|p| p.as_str().to_owned());
    ticket::ActiveModel {
        id: Set(Uuid::new_v4()),
        number: Set(a.number),
        kind: Set(new.kind),
        category_id: Set(category.id),
        title: Set(new.title.map(Text::into_inner)),
        description: Set(new.description.into_inner()),
        lat: Set(new.location.map(|p| p.lat)),
        lng: Set(new.location.map(|p| p.lng)),
        coord_system: Set(new.location.map(|p| p.given_in.as_str().to_owned())),
        address_text: Set(new
            .address_text
            .map(Text::into_inner)
            .or_else(|| place.building.and_then(|b| b.address.clone()))),
        building_id: Set(new.building_id),
        grid_id: Set(a.dest.grid_id),
        handling_area_id: Set(a.dest.handling_area_id),
        assignee_id: Set(a.dest.assignee_id),
        status: Set(a.routed),
        priority: Set(Priority::Normal),
        anonymous: Set(new.anonymous),
        contact_phone: Set(contact_phone),
        channel: Set(new.channel),
        resident_id: Set(a.by.resident()),
        created_by_staff_id: Set(a.by.staff()),
        response_due_at: Set(response_due),
        resolution_due_at: Set(resolution_due),
        next_response_check_at: Set(response_due.filter(|_| a.routed != Status::InProgress)),
        resolution_overdue: Set(false),
        return_visit_at: Set(None),
        return_visit_outcome: Set(None),
        return_visit_note: Set(None),
        moderation: Set(new.moderation.as_ref().map(|m| m.status.to_owned())),
        moderation_label: Set(new.moderation.as_ref().and_then(|m| m.label)),
        visit_id: Set(new.visit_id),
        public: Set(new.public),
        support_count: Set(0),
        submitted_at: Set(a.at),
        accepted_at: Set(None),
        resolved_at: Set(None),
        closed_at: Set(a.routed.is_terminal().then_some(a.at)),
        reopen_count: Set(0),
        return_visit_required: Set(false),
        duplicate_of: Set(None),
        reject_reason: Set(None),
        event_count: Set(2),
        version: Set(1),
        idempotency_key: Set(a.idem.map(|i| i.key.clone())),
        request_hash: Set(a.idem.map(|i| i.request_hash.clone())),
        created_at: Set(a.at),
        updated_at: Set(a.at),
        response_counted_at: Set(None),
        resolution_counted_at: Set(None),
        excluded_from_rates: Set(false),
        praised_staff_id: Set(new.praised_staff_id),
        follows_ticket_id: Set(new.follows_ticket_id),
        response_staff_id: Set(None),
        resolution_staff_id: Set(None),
        personal_data_removed_at: Set(None),
        return_count: Set(0),
        supervised_until: Set(None),
        supervised_by: Set(None),
        supervision_note: Set(None),
        suspended_at: Set(None),
        suspended_until: Set(None),
        suspended_due_at: Set(None),
        caller_name: Set(new.caller_name.as_ref().map(|n| n.as_str().to_owned())),
        claim_code: Set(a.by.staff().map(|_| super::intake::claim_code())),
        return_visit_cause: Set(None),
        return_visit_reasons: Set(None),
        topic_id: Set(None),
    }
}

/// The timeline note of a praise: whom it was passed to.
fn praise_note(dir: &Directory, dest: &Destination) -> String {
    match dest.assignee_id.and_then(|id| dir.staff_name(id)) {
        Some(name) => format!("表扬已转达{name}"),
        None => "已收到表扬".to_owned(),
    }
}

fn route_note(dir: &Directory, dest: &Destination) -> String {
    let name = |id: Option<Uuid>| id.and_then(|i| dir.tree.get(i)).map(|a| a.name.clone());
    match (dest.assignee_id, name(dest.handling_area_id)) {
        (Some(_), Some(area)) => format!("派至{area}"),
        (None, Some(area)) => format!("{area}待派单"),
        (_, None) => "待派单".to_owned(),
    }
}

async fn home_grid(
    db: &impl ConnectionTrait,
    resident: Option<&entity::resident::Model>,
) -> ServiceResult<Option<Uuid>> {
    let Some(building_id) = resident.and_then(|r| r.home_building_id) else {
        return Ok(None);
    };
    Ok(entity::building::Entity::find_by_id(building_id)
        .one(db)
        .await?
        .map(|b| b.grid_id))
}

/// Screens a resident's text with WeChat content safety (see `safety`).
pub(super) async fn screen_resident(
    ctx: &Ctx<'_>,
    resident_id: Uuid,
    text: &str,
    scene: u8,
) -> ServiceResult<Option<Moderation>> {
    if !ctx.settings.content_safety.enabled {
        return Ok(None);
    }
    let openid = entity::resident::Entity::find_by_id(resident_id)
        .one(ctx.db)
        .await?
        .map(|r| r.openid)
        .unwrap_or_default();
    safety::screen(ctx.wechat, true, text, &openid, scene).await
}
