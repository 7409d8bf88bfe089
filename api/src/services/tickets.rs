//! Tickets: submission with routing, every lifecycle transition, timelines and listings.
//!
//! Each state change is one transaction: the ticket row is updated with
//! `WHERE version = <read version>` (a loser of a race gets `ConcurrentUpdate`, a 409) and its
//! timeline events are inserted beside it.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult, IntoActiveModel, QueryFilter, QuerySelect, QueryTrait, Set,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};
use uuid::Uuid;

use super::{
    ServiceError, ServiceResult,
    attachments::{self, Attachment, Owner},
    directory::{Directory, DirectoryCache},
    notify,
    routing::{self, Destination},
    safety::{self, Moderation},
    sla,
    timelines::TimelineCache,
};
use crate::{
    config::Settings,
    domain::{
        ActorKind, AreaKind, Channel, Priority, RatingLevel, TicketKind, Visibility,
        access::{Placement, StaffScope},
        inputs::{GeoPoint, Phone, Text},
        lifecycle::{Action, Status, next},
        redact::mask_personal,
    },
    error::Code,
};
use entity::{rating, ticket, ticket_event};

/// Who is asking.
#[derive(Clone, Debug)]
pub enum Caller {
    Resident(Uuid),
    Staff(StaffScope),
}

impl Caller {
    fn actor(&self) -> (ActorKind, Option<Uuid>) {
        match self {
            Caller::Resident(id) => (ActorKind::Resident, Some(*id)),
            Caller::Staff(s) => (ActorKind::Staff, Some(s.staff_id)),
        }
    }
}

/// What the services need from the running app.
pub struct Ctx<'a> {
    pub db: &'a DatabaseConnection,
    pub cache: &'a dyn crate::cache::Cache,
    pub clock: &'a dyn crate::clock::Clock,
    pub wechat: &'a crate::clients::wechat::WechatClient,
    pub calendar: &'a crate::domain::calendar::WorkCalendar,
    pub directory: &'a DirectoryCache,
    pub timelines: &'a TimelineCache,
    pub work_lists: &'a super::work_lists::WorkListCache,
    pub settings: &'a Settings,
    pub passwords: &'a super::passwords::PasswordHasher,
    /// The directory as this request first saw it (see [`Ctx::dir`]).
    pub seen: std::sync::OnceLock<Arc<Directory>>,
}

impl Ctx<'_> {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The directory, checked against the database once per request (a `Ctx` lives for one
    /// request or one scheduler pass): authentication and the service share one check.
    pub async fn dir(&self) -> ServiceResult<Arc<Directory>> {
        self.dir_in(self.db).await
    }

    /// [`Ctx::dir`] read on `db`: inside a transaction, pass the transaction (a second pooled
    /// connection there can starve the pool).
    pub async fn dir_in(&self, db: &impl ConnectionTrait) -> ServiceResult<Arc<Directory>> {
        if let Some(dir) = self.seen.get() {
            return Ok(dir.clone());
        }
        let dir = self.directory.get(db).await?;
        Ok(self.seen.get_or_init(|| dir).clone())
    }

    /// Makes the directory as of `generation`, read by this request beside a row it needed anyway,
    /// the request's directory check: [`Ctx::dir`] then reads nothing.
    pub(super) async fn dir_at(&self, generation: i64) -> ServiceResult<Arc<Directory>> {
        if let Some(dir) = self.seen.get() {
            return Ok(dir.clone());
        }
        let dir = self.directory.at(self.db, generation).await?;
        Ok(self.seen.get_or_init(|| dir).clone())
    }
}

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
}

/// A ticket with everything a response shows, already filtered for the viewer.
pub struct TicketView {
    pub ticket: ticket::Model,
    pub category: Option<entity::category::Model>,
    pub grid_name: Option<String>,
    pub handling_area: Option<(String, AreaKind)>,
    pub assignee_name: Option<String>,
    /// The resident's id and phone as the viewer may see them (`None`: hidden).
    pub reporter_id: Option<Uuid>,
    pub contact_phone: Option<String>,
    pub events: Option<Vec<ticket_event::Model>>,
    pub ratings: Vec<rating::Model>,
    /// Photos (single-ticket responses only).
    pub attachments: Vec<entity::attachment::Model>,
    pub timing: Timing,
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
        let open = Status::parse(&t.status).is_some_and(|s| Status::OPEN.contains(&s));
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

struct EventDraft {
    action: &'static str,
    from: Option<Status>,
    to: Option<Status>,
    note: Option<String>,
    visibility: Visibility,
    moderation: Option<Moderation>,
}

impl EventDraft {
    fn transition(action: Action, from: Status, to: Status, note: Option<String>) -> Self {
        EventDraft::named(action.name(), from, to, note)
    }

    /// A public event that is not one of the lifecycle's actions (`merge`, `follow`).
    fn named(action: &'static str, from: Status, to: Status, note: Option<String>) -> Self {
        EventDraft {
            action,
            from: Some(from),
            to: Some(to),
            note,
            visibility: Visibility::Public,
            moderation: None,
        }
    }
}

fn status_of(t: &ticket::Model) -> ServiceResult<Status> {
    Status::parse(&t.status)
        .ok_or_else(|| ServiceError::Internal(format!("bad stored status {}", t.status)))
}

async fn insert_events(
    db: &impl ConnectionTrait,
    ticket_id: Uuid,
    first_seq: i32,
    actor: (ActorKind, Option<Uuid>),
    events: Vec<EventDraft>,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let rows: Vec<ticket_event::ActiveModel> = events
        .into_iter()
        .enumerate()
        .map(|(i, e)| event_row(ticket_id, first_seq + i as i32, actor, e, at))
        .collect();
    if !rows.is_empty() {
        ticket_event::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

fn event_row(
    ticket_id: Uuid,
    seq: i32,
    actor: (ActorKind, Option<Uuid>),
    e: EventDraft,
    at: DateTime<Utc>,
) -> ticket_event::ActiveModel {
    ticket_event::ActiveModel {
        id: Set(Uuid::new_v4()),
        ticket_id: Set(ticket_id),
        seq: Set(seq),
        actor_kind: Set(actor.0.as_str().to_owned()),
        actor_id: Set(actor.1),
        action: Set(e.action.to_owned()),
        from_status: Set(e.from.map(|s| s.as_str().to_owned())),
        to_status: Set(e.to.map(|s| s.as_str().to_owned())),
        note: Set(e.note),
        visibility: Set(e.visibility.as_str().to_owned()),
        created_at: Set(at),
        moderation: Set(e.moderation.as_ref().map(|m| m.status.to_owned())),
        moderation_label: Set(e.moderation.and_then(|m| m.label)),
    }
}

/// Writes the changed ticket if nobody changed it since `read`, its events and the statistics
/// rollups with it.
async fn save(
    db: &impl ConnectionTrait,
    read: &ticket::Model,
    am: ticket::ActiveModel,
    actor: (ActorKind, Option<Uuid>),
    events: Vec<EventDraft>,
    at: DateTime<Utc>,
) -> ServiceResult<ticket::Model> {
    save_rated(db, read, am, actor, events, at, false).await
}

/// [`save`], for a change that recorded a rating at `at`.
async fn save_rated(
    db: &impl ConnectionTrait,
    read: &ticket::Model,
    mut am: ticket::ActiveModel,
    actor: (ActorKind, Option<Uuid>),
    events: Vec<EventDraft>,
    at: DateTime<Utc>,
    rated: bool,
) -> ServiceResult<ticket::Model> {
    am.version = Set(read.version + 1);
    am.event_count = Set(read.event_count + events.len() as i32);
    am.updated_at = Set(at);
    let updated = ticket::Entity::update(am)
        .validate()?
        .filter(ticket::Column::Version.eq(read.version))
        .exec(db)
        .await
        .map_err(|e| match e {
            DbErr::RecordNotUpdated => ServiceError::ConcurrentUpdate,
            other => ServiceError::Db(other),
        })?;
    insert_events(db, read.id, read.event_count + 1, actor, events, at).await?;
    super::rollups::ticket_changed(db, Some(read), &updated, rated.then_some(at)).await?;
    Ok(updated)
}

/// A change the system makes (the scheduler), with its one event.
#[allow(clippy::too_many_arguments)]
pub async fn save_system(
    db: &impl ConnectionTrait,
    read: &ticket::Model,
    am: ticket::ActiveModel,
    action: Action,
    from: Status,
    to: Status,
    note: Option<String>,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let event = EventDraft::transition(action, from, to, note);
    save(db, read, am, (ActorKind::System, None), vec![event], at)
        .await
        .map(|_| ())
}

/// `QM-20261122-000123`: the Beijing date and that day's sequence, drawn in the transaction.
async fn next_number(db: &impl ConnectionTrait, at: DateTime<Utc>) -> ServiceResult<String> {
    let day = super::rollups::day_of(at).format("%Y%m%d").to_string();
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

fn rejected(code: Code, field: &str, detail: impl Into<String>) -> ServiceError {
    ServiceError::rejected(code, field, detail)
}

/// Submits a ticket: validates references, routes it, and records `submit` and `route`.
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
            "this key was used with a different request body",
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
    match submit(ctx, Some(resident_id), None, new, idem.as_ref()).await {
        Ok(view) => {
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

pub async fn submit(
    ctx: &Ctx<'_>,
    resident_id: Option<Uuid>,
    staff_id: Option<Uuid>,
    new: NewTicket,
    idem: Option<&Idempotency>,
) -> ServiceResult<TicketView> {
    // On PostgreSQL the day's number is drawn before the transaction, in its own, so
    // concurrent submissions do not queue on the counter row for each other's whole
    // transaction (one that fails later leaves a gap in the day's numbers, never a duplicate).
    // SQLite has one writer and one connection: the number comes from the transaction.
    let drawn = match ctx.db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => Some(next_number(ctx.db, ctx.now()).await?),
        _ => None,
    };
    let with_photos = !new.attachment_ids.is_empty();
    let txn = super::write_txn(ctx.db).await?;
    let model = create_in(&txn, ctx, resident_id, staff_id, new, idem, drawn).await?;
    txn.commit().await?;
    let dir = ctx.dir().await?;
    let viewer = match resident_id {
        Some(r) => Caller::Resident(r),
        None => Caller::Resident(Uuid::nil()),
    };
    // A new ticket has no ratings, and photos only if it was sent some.
    let shown = Shown {
        attachments: match with_photos {
            true => attachments::for_ticket(ctx.db, model.id).await?,
            false => vec![],
        },
        ..Shown::default()
    };
    let category = category_of(&dir, &model)?.clone();
    Ok(assemble(
        &dir,
        &viewer,
        model,
        Some(category),
        shown,
        ctx.now(),
    ))
}

/// Creates and routes a ticket inside the caller's transaction (a visit makes several at once).
pub async fn create_in(
    txn: &sea_orm::DatabaseTransaction,
    ctx: &Ctx<'_>,
    resident_id: Option<Uuid>,
    staff_id: Option<Uuid>,
    new: NewTicket,
    idem: Option<&Idempotency>,
    drawn: Option<String>,
) -> ServiceResult<ticket::Model> {
    let dir = ctx.dir_in(txn).await?;
    let category = dir
        .category_by_reference(&new.category_code)
        .filter(|c| c.active)
        .cloned()
        .ok_or_else(|| {
            rejected(
                Code::UnknownCategory,
                "category",
                format!("no active category `{}`", new.category_code),
            )
        })?;
    let building = match new.building_id {
        Some(id) => Some(
            entity::building::Entity::find_by_id(id)
                .one(txn)
                .await?
                .ok_or_else(|| {
                    rejected(Code::UnknownBuilding, "building_id", "no such building")
                })?,
        ),
        None => None,
    };
    let resident = match resident_id {
        Some(rid) => entity::resident::Entity::find_by_id(rid).one(txn).await?,
        None => None,
    };
    // Without a contact phone on the ticket, the resident's bound phone (POST /me/phone) serves.
    let contact_phone = match new.contact_phone.as_ref() {
        Some(p) => Some(p.as_str().to_owned()),
        None => resident.as_ref().and_then(|r| r.phone.clone()),
    };
    let building_grid = building.as_ref().map(|b| b.grid_id);
    // The resident's home grid is read only when the building and the point find none.
    let grid_id = match routing::find_grid(&dir, building_grid, new.location, None) {
        Some(grid) => Some(grid),
        None => home_grid(txn, resident.as_ref()).await?,
    };
    let dest = routing::route(
        txn,
        &dir,
        &category,
        grid_id,
        new.location,
        ctx.settings.routing.nearest_grid_max_meters,
    )
    .await?;
    // A worker recording a suggestion on a visit normally handles it, when the grid handles it
    // and they are active staff of that grid.
    let mut dest = dest;
    if let (Some(worker), Some(grid)) = (new.prefer_assignee, dest.grid_id)
        && dest.handling_area_id == Some(grid)
        && routing::candidates(txn, &dir, grid)
            .await?
            .iter()
            .any(|c| c.staff_id == worker && c.status == crate::domain::StaffStatus::Active)
    {
        dest.assignee_id = Some(worker);
    }
    let at = ctx.now();
    let response_due = sla::response_deadline(&category, at, ctx.calendar);
    let number = match drawn {
        Some(n) => n,
        None => next_number(txn, at).await?,
    };
    let routed = next(
        Status::Submitted,
        Action::Route {
            found: dest.assignee_id.is_some(),
        },
    )?;
    let model = ticket::ActiveModel {
        id: Set(Uuid::new_v4()),
        number: Set(number),
        kind: Set(new.kind.as_str().to_owned()),
        category_id: Set(category.id),
        title: Set(new.title.map(Text::into_inner)),
        description: Set(new.description.into_inner()),
        lat: Set(new.location.map(|p| p.lat)),
        lng: Set(new.location.map(|p| p.lng)),
        coord_system: Set(new.location.map(|p| p.given_in.as_str().to_owned())),
        address_text: Set(new
            .address_text
            .map(Text::into_inner)
            .or_else(|| building.as_ref().and_then(|b| b.address.clone()))),
        building_id: Set(new.building_id),
        grid_id: Set(dest.grid_id),
        handling_area_id: Set(dest.handling_area_id),
        assignee_id: Set(dest.assignee_id),
        status: Set(routed.as_str().to_owned()),
        priority: Set(Priority::Normal.as_str().to_owned()),
        anonymous: Set(new.anonymous),
        contact_phone: Set(contact_phone),
        channel: Set(new.channel.as_str().to_owned()),
        resident_id: Set(resident_id),
        created_by_staff_id: Set(staff_id),
        response_due_at: Set(Some(response_due)),
        resolution_due_at: Set(Some(sla::resolution_deadline(&category, at, ctx.calendar))),
        next_response_check_at: Set((routed != Status::InProgress).then_some(response_due)),
        resolution_overdue: Set(false),
        return_visit_at: Set(None),
        return_visit_outcome: Set(None),
        return_visit_note: Set(None),
        moderation: Set(new.moderation.as_ref().map(|m| m.status.to_owned())),
        moderation_label: Set(new.moderation.as_ref().and_then(|m| m.label)),
        visit_id: Set(new.visit_id),
        public: Set(new.public),
        support_count: Set(0),
        submitted_at: Set(at),
        accepted_at: Set(None),
        resolved_at: Set(None),
        closed_at: Set(None),
        reopen_count: Set(0),
        return_visit_required: Set(false),
        duplicate_of: Set(None),
        reject_reason: Set(None),
        event_count: Set(2),
        version: Set(1),
        idempotency_key: Set(idem.map(|i| i.key.clone())),
        request_hash: Set(idem.map(|i| i.request_hash.clone())),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(txn)
    .await?;
    let actor = match (resident_id, staff_id) {
        (Some(r), _) => (ActorKind::Resident, Some(r)),
        (None, Some(s)) => (ActorKind::Staff, Some(s)),
        _ => (ActorKind::System, None),
    };
    let submit = EventDraft {
        action: Action::Submit.name(),
        from: None,
        to: Some(Status::Submitted),
        note: None,
        visibility: Visibility::Public,
        moderation: None,
    };
    let route = EventDraft::transition(
        Action::Route { found: true },
        Status::Submitted,
        routed,
        Some(route_note(&dir, &dest)),
    );
    ticket_event::Entity::insert_many([
        event_row(model.id, 1, actor, submit, at),
        event_row(model.id, 2, (ActorKind::System, None), route, at),
    ])
    .exec(txn)
    .await?;
    super::rollups::ticket_created(txn, &model).await?;
    if let Some(assignee) = model.assignee_id {
        notify::staff(txn, assignee, notify::Event::Assigned, &model, at).await?;
    }
    if let Some(r) = resident_id {
        let owner = Owner {
            kind: ActorKind::Resident.as_str(),
            id: r,
        };
        attachments::attach(
            txn,
            &new.attachment_ids,
            owner,
            Attachment {
                ticket_id: model.id,
                purpose: "ticket",
                visibility: Visibility::Public,
            },
            ctx.settings.media.max_per_ticket,
        )
        .await?;
    }
    Ok(model)
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

fn category_of<'d>(
    dir: &'d Directory,
    t: &ticket::Model,
) -> ServiceResult<&'d entity::category::Model> {
    dir.category(t.category_id)
        .ok_or_else(|| ServiceError::Internal("ticket without category".into()))
}

/// Parses a ticket reference: its UUID or its public number.
pub(crate) async fn find(
    db: &impl ConnectionTrait,
    reference: &str,
) -> ServiceResult<ticket::Model> {
    by_reference(reference)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)
}

fn by_reference(reference: &str) -> sea_orm::Select<ticket::Entity> {
    match Uuid::parse_str(reference) {
        Ok(id) => ticket::Entity::find_by_id(id),
        Err(_) => ticket::Entity::find().filter(ticket::Column::Number.eq(reference)),
    }
}

fn placement<'a>(t: &ticket::Model, group: &'a str) -> Placement<'a> {
    Placement {
        grid_id: t.grid_id,
        handling_area_id: t.handling_area_id,
        assignee_id: t.assignee_id,
        category_group: group,
    }
}

/// Loads a ticket the caller may see; anything else is `NotFound` (no existence leak).
async fn visible(
    db: &impl ConnectionTrait,
    dir: &Directory,
    caller: &Caller,
    reference: &str,
) -> ServiceResult<(ticket::Model, entity::category::Model)> {
    let t = find(db, reference).await?;
    let category = category_of(dir, &t)?.clone();
    if may_see(dir, caller, &t, &category) {
        Ok((t, category))
    } else {
        Err(ServiceError::NotFound)
    }
}

/// A ticket named in a request's body (`duplicate_of`, `into`): one the caller may not see
/// answers exactly as one that does not exist, `404 not_found` naming the field, so a reference
/// reveals nothing about tickets outside the caller's scope.
async fn referenced(
    db: &impl ConnectionTrait,
    dir: &Directory,
    caller: &Caller,
    reference: &str,
    field: &'static str,
) -> ServiceResult<(ticket::Model, entity::category::Model)> {
    match visible(db, dir, caller, reference).await {
        Err(ServiceError::NotFound) => Err(ServiceError::Rejected {
            code: Code::NotFound,
            field: Some(field.to_owned()),
            detail: None,
        }),
        other => other,
    }
}

fn may_see(
    dir: &Directory,
    caller: &Caller,
    t: &ticket::Model,
    category: &entity::category::Model,
) -> bool {
    match caller {
        Caller::Resident(id) => t.resident_id == Some(*id),
        Caller::Staff(scope) => scope.can_see(&dir.tree, &placement(t, &category.group_name)),
    }
}

/// Loads a ticket the staff member may act on: outside their sight `NotFound`, within sight
/// but not theirs to work `NotAssignee`.
async fn actable(
    db: &impl ConnectionTrait,
    dir: &Directory,
    scope: &StaffScope,
    reference: &str,
) -> ServiceResult<ticket::Model> {
    let (t, category) = visible(db, dir, &Caller::Staff(scope.clone()), reference).await?;
    if !scope.handles(&dir.tree, &placement(&t, &category.group_name)) {
        return Err(ServiceError::NotAssignee);
    }
    Ok(t)
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
        .expr_as(super::directory::generation_expr(), "directory_generation")
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
async fn view(
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
    let events = with_events.then(|| {
        timeline
            .events
            .iter()
            .filter(|e| !resident || e.visibility == Visibility::Public.as_str())
            .cloned()
            .collect()
    });
    let shown = Shown {
        events,
        ratings: timeline.ratings.clone(),
        attachments: timeline
            .attachments
            .iter()
            .filter(|a| !resident || attachments::shown_to_residents(a))
            .cloned()
            .collect(),
    };
    Ok(assemble(dir, caller, t, Some(category), shown, ctx.now()))
}

/// What a response shows beside the ticket row (pages show none of it).
#[derive(Default)]
pub(super) struct Shown {
    events: Option<Vec<ticket_event::Model>>,
    ratings: Vec<rating::Model>,
    attachments: Vec<entity::attachment::Model>,
}

pub(super) fn assemble(
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
    if let Caller::Staff(scope) = caller
        && !scope.handles(&dir.tree, &placement(&t, group))
    {
        mask_free_text(&mut t, &mut shown);
    }
    let (reporter_id, contact_phone) = match caller {
        Caller::Resident(_) => (t.resident_id, t.contact_phone.clone()),
        Caller::Staff(scope) => {
            let place = placement(&t, group);
            if t.anonymous && !scope.sees_anonymous_reporter(&dir.tree, &place) {
                (None, None)
            } else if t.assignee_id == Some(scope.staff_id) {
                (t.resident_id, t.contact_phone.clone())
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
        reporter_id,
        contact_phone,
        category,
        events: shown.events,
        ratings: shown.ratings,
        attachments: shown.attachments,
        timing: Timing::of(&t, now),
        ticket: t,
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
    for e in shown.events.iter_mut().flatten() {
        e.note.iter_mut().for_each(mask);
    }
    for r in &mut shown.ratings {
        r.comment.iter_mut().for_each(mask);
    }
}

/// What a staff member asks to do to a ticket.
pub enum StaffCommand {
    Accept,
    Resolve {
        note: Text,
        attachment_ids: Vec<Uuid>,
    },
    Transfer {
        to: TransferTarget,
        reason: Text,
    },
    Escalate {
        reason: Text,
    },
    Reject {
        reason: Text,
        duplicate_of: Option<String>,
    },
    Assign {
        staff_id: Uuid,
    },
}

pub enum TransferTarget {
    Staff(Uuid),
    Grid(Uuid),
}

async fn active_staff(
    db: &impl ConnectionTrait,
    id: Uuid,
    field: &str,
) -> ServiceResult<entity::staff::Model> {
    entity::staff::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|s| s.status == crate::domain::StaffStatus::Active.as_str())
        .ok_or_else(|| {
            rejected(
                Code::UnknownStaff,
                field,
                "no active staff member with that id",
            )
        })
}

/// The area a person takes a ticket in: their assignment nearest above the ticket's grid, else
/// their first one.
async fn home_area_of(
    db: &impl ConnectionTrait,
    dir: &Directory,
    staff_id: Uuid,
    grid: Option<Uuid>,
) -> ServiceResult<Option<Uuid>> {
    let areas: Vec<Uuid> = super::staff::assignments(db, staff_id)
        .await?
        .into_iter()
        .filter_map(|a| a.area_id)
        .collect();
    let within = grid.and_then(|g| {
        dir.tree
            .ancestors_inclusive(g)
            .map(|n| n.id)
            .find(|id| areas.contains(id))
    });
    Ok(within.or_else(|| areas.first().copied()))
}

pub async fn act(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    reference: &str,
    command: StaffCommand,
) -> ServiceResult<TicketView> {
    let txn = super::write_txn(ctx.db).await?;
    let dir = ctx.dir_in(&txn).await?;
    let caller = Caller::Staff(scope.clone());
    let (t, category) = visible(&txn, &dir, &caller, reference).await?;
    let place = placement(&t, &category.group_name);
    let admin = scope.is_admin_over(&dir.tree, &place);
    let allowed = match command {
        StaffCommand::Assign { .. } => admin,
        _ => scope.handles(&dir.tree, &place),
    };
    if !allowed {
        return Err(ServiceError::NotAssignee);
    }
    let from = status_of(&t)?;
    let mut am = t.clone().into_active_model();
    let at = ctx.now();
    let (action, note) = match command {
        StaffCommand::Accept => {
            if t.accepted_at.is_none() {
                am.accepted_at = Set(Some(at));
            }
            (Action::Accept, None)
        }
        StaffCommand::Resolve {
            note,
            attachment_ids,
        } => {
            if category.requires_resolution_photo && attachment_ids.is_empty() {
                return Err(ServiceError::rejected(
                    Code::ResolutionPhotoRequired,
                    "attachment_ids",
                    format!("{} needs a photo of the fix", category.name),
                ));
            }
            let owner = Owner {
                kind: ActorKind::Staff.as_str(),
                id: scope.staff_id,
            };
            attachments::attach(
                &txn,
                &attachment_ids,
                owner,
                Attachment {
                    ticket_id: t.id,
                    purpose: "resolution",
                    visibility: Visibility::Public,
                },
                ctx.settings.media.max_per_ticket,
            )
            .await?;
            am.resolved_at = Set(Some(at));
            (Action::Resolve, Some(note.into_inner()))
        }
        StaffCommand::Transfer { to, reason } => {
            let dest = match to {
                TransferTarget::Staff(id) => {
                    active_staff(&txn, id, "staff_id").await?;
                    Destination {
                        grid_id: t.grid_id,
                        handling_area_id: home_area_of(&txn, &dir, id, t.grid_id).await?,
                        assignee_id: Some(id),
                    }
                }
                TransferTarget::Grid(grid) => {
                    if dir.tree.get(grid).map(|a| a.kind) != Some(AreaKind::Grid) {
                        return Err(rejected(
                            Code::NotAGrid,
                            "grid_id",
                            "transfer to a grid needs a grid's id",
                        ));
                    }
                    let person = routing::person_in(&txn, &dir, grid, &category).await?;
                    Destination {
                        grid_id: Some(grid),
                        handling_area_id: Some(grid),
                        assignee_id: person,
                    }
                }
            };
            apply_destination(&mut am, dest);
            (
                Action::Transfer {
                    found: dest.assignee_id.is_some(),
                },
                Some(reason.into_inner()),
            )
        }
        StaffCommand::Escalate { reason } => {
            let up =
                routing::level_above(&dir, t.handling_area_id, t.grid_id).ok_or_else(|| {
                    rejected(
                        Code::CannotEscalate,
                        "reason",
                        "already handled at street level",
                    )
                })?;
            let person = routing::person_in(&txn, &dir, up, &category).await?;
            apply_destination(
                &mut am,
                Destination {
                    grid_id: t.grid_id,
                    handling_area_id: Some(up),
                    assignee_id: person,
                },
            );
            (
                Action::Escalate {
                    found: person.is_some(),
                },
                Some(reason.into_inner()),
            )
        }
        StaffCommand::Reject {
            reason,
            duplicate_of,
        } => {
            if let Some(dup) = duplicate_of {
                let (original, _) = referenced(&txn, &dir, &caller, &dup, "duplicate_of").await?;
                if original.id == t.id {
                    return Err(rejected(
                        Code::InvalidField,
                        "duplicate_of",
                        "a ticket cannot duplicate itself",
                    ));
                }
                am.duplicate_of = Set(Some(original.id));
            }
            am.reject_reason = Set(Some(reason.as_str().to_owned()));
            am.closed_at = Set(Some(at));
            (Action::Reject, Some(reason.into_inner()))
        }
        StaffCommand::Assign { staff_id } => {
            active_staff(&txn, staff_id, "staff_id").await?;
            let area = home_area_of(&txn, &dir, staff_id, t.grid_id)
                .await?
                .or(t.handling_area_id);
            apply_destination(
                &mut am,
                Destination {
                    grid_id: t.grid_id,
                    handling_area_id: area,
                    assignee_id: Some(staff_id),
                },
            );
            (Action::Assign, None)
        }
    };
    let to = next(from, action)?;
    am.status = Set(to.as_str().to_owned());
    response_window(&mut am, to, &category, ctx, at);
    let saved = save(
        &txn,
        &t,
        am,
        caller.actor(),
        vec![EventDraft::transition(action, from, to, note)],
        at,
    )
    .await?;
    notify_transition(&txn, &t, &saved, action, at).await?;
    follow_main(&txn, &saved, action, at).await?;
    txn.commit().await?;
    view(ctx, &dir, &caller, saved, None, true).await
}

/// Makes a merged ticket mirror its main one: status, holder, and the milestones that matter.
fn mirror(am: &mut ticket::ActiveModel, follower: &ticket::Model, main: &ticket::Model) {
    am.status = Set(main.status.clone());
    am.assignee_id = Set(main.assignee_id);
    am.handling_area_id = Set(main.handling_area_id);
    am.accepted_at = Set(follower.accepted_at.or(main.accepted_at));
    am.resolved_at = Set(main.resolved_at);
    am.next_response_check_at = Set(None);
}

/// Tickets merged into `main` follow its status: each gets the same status and holder, an event,
/// and its reporter hears what the main ticket's reporter hears.
async fn follow_main(
    db: &impl ConnectionTrait,
    main: &ticket::Model,
    action: Action,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let followers = ticket::Entity::find()
        .filter(ticket::Column::DuplicateOf.eq(main.id))
        .filter(ticket::Column::Status.ne(Status::Rejected.as_str()))
        .all(db)
        .await?;
    for f in followers {
        let from = status_of(&f)?;
        let to = status_of(main)?;
        if from.is_terminal() {
            continue;
        }
        let mut am = f.clone().into_active_model();
        mirror(&mut am, &f, main);
        let event = EventDraft::named(
            "follow",
            from,
            to,
            Some(format!("随主工单{}：{}", main.number, action.name())),
        );
        let saved = save(db, &f, am, (ActorKind::System, None), vec![event], at).await?;
        if let Some(r) = saved.resident_id {
            let event = match action {
                Action::Accept => Some(notify::Event::Accepted),
                Action::Resolve => Some(notify::Event::Resolved),
                Action::Reject => Some(notify::Event::Rejected),
                Action::Escalate { .. } => Some(notify::Event::Escalated),
                _ => None,
            };
            if let Some(e) = event {
                notify::resident(db, r, e, &saved, at).await?;
            }
        }
    }
    Ok(())
}

/// Merges a ticket into another (its main one): from then on it follows the main ticket's status,
/// and its supporters (and its reporter) count as the main ticket's, none lost, none twice.
pub async fn merge(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    reference: &str,
    into: &str,
) -> ServiceResult<TicketView> {
    let txn = super::write_txn(ctx.db).await?;
    let dir = ctx.dir_in(&txn).await?;
    let caller = Caller::Staff(scope.clone());
    let t = actable(&txn, &dir, scope, reference).await?;
    let (main, _) = referenced(&txn, &dir, &caller, into, "into").await?;
    if main.id == t.id || main.duplicate_of.is_some() || t.duplicate_of.is_some() {
        return Err(rejected(
            Code::InvalidField,
            "into",
            "merge into another ticket that is not itself merged",
        ));
    }
    let (from, to) = (status_of(&t)?, status_of(&main)?);
    if from.is_terminal() || to.is_terminal() {
        return Err(ServiceError::InvalidTransition {
            current: if from.is_terminal() { from } else { to },
            action: "merge",
        });
    }
    let at = ctx.now();
    // Supporters carry over: everyone behind the merged ticket now backs the main one, once.
    let mut backers: Vec<Uuid> = entity::ticket_support::Entity::find()
        .filter(entity::ticket_support::Column::TicketId.eq(t.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| s.resident_id)
        .collect();
    backers.extend(t.resident_id);
    for resident in backers {
        let have = entity::ticket_support::Entity::find_by_id((main.id, resident))
            .one(&txn)
            .await?
            .is_some();
        if !have && main.resident_id != Some(resident) {
            entity::ticket_support::ActiveModel {
                ticket_id: Set(main.id),
                resident_id: Set(resident),
                created_at: Set(at),
            }
            .insert(&txn)
            .await?;
        }
    }
    let count = entity::ticket_support::Entity::find()
        .filter(entity::ticket_support::Column::TicketId.eq(main.id))
        .all(&txn)
        .await?
        .len();
    let mut main_am = main.clone().into_active_model();
    main_am.support_count = Set(count as i32);
    let main_event = EventDraft::named("merge", to, to, Some(format!("合并{}", t.number)));
    let main = save(&txn, &main, main_am, caller.actor(), vec![main_event], at).await?;
    let mut am = t.clone().into_active_model();
    am.duplicate_of = Set(Some(main.id));
    mirror(&mut am, &t, &main);
    let event = EventDraft::named("merge", from, to, Some(format!("并入{}", main.number)));
    let saved = save(&txn, &t, am, caller.actor(), vec![event], at).await?;
    txn.commit().await?;
    view(ctx, &dir, &caller, saved, None, true).await
}

/// Waiting for someone to accept starts a new response window at that level; anything else
/// stops the response clock.
fn response_window(
    am: &mut ticket::ActiveModel,
    to: Status,
    category: &entity::category::Model,
    ctx: &Ctx<'_>,
    at: DateTime<Utc>,
) {
    let waiting = matches!(to, Status::Assigned | Status::PendingDispatch);
    am.next_response_check_at =
        Set(waiting.then(|| sla::response_deadline(category, at, ctx.calendar)));
}

/// The notification records a transition calls for, in its transaction.
async fn notify_transition(
    db: &impl ConnectionTrait,
    before: &ticket::Model,
    after: &ticket::Model,
    action: Action,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    use notify::Event;
    if let Some(assignee) = after.assignee_id {
        let event = match action {
            Action::Rate(RatingLevel::Unsatisfied) => Some(Event::Reopened),
            _ if before.assignee_id != Some(assignee) => Some(Event::Assigned),
            _ => None,
        };
        if let Some(e) = event {
            notify::staff(db, assignee, e, after, at).await?;
        }
    }
    if let Some(resident) = after.resident_id {
        let event = match action {
            Action::Accept => Some(Event::Accepted),
            Action::Resolve => Some(Event::Resolved),
            Action::Reject => Some(Event::Rejected),
            Action::Escalate { .. } | Action::RateEscalate { .. } => Some(Event::Escalated),
            _ => None,
        };
        if let Some(e) = event {
            notify::resident(db, resident, e, after, at).await?;
        }
    }
    Ok(())
}

fn apply_destination(am: &mut ticket::ActiveModel, dest: Destination) {
    am.grid_id = Set(dest.grid_id);
    am.handling_area_id = Set(dest.handling_area_id);
    am.assignee_id = Set(dest.assignee_id);
}

pub async fn withdraw(
    ctx: &Ctx<'_>,
    resident_id: Uuid,
    reference: &str,
) -> ServiceResult<TicketView> {
    let txn = super::write_txn(ctx.db).await?;
    let dir = ctx.dir_in(&txn).await?;
    let caller = Caller::Resident(resident_id);
    let (t, _) = visible(&txn, &dir, &caller, reference).await?;
    let from = status_of(&t)?;
    let to = next(from, Action::Withdraw)?;
    let mut am = t.clone().into_active_model();
    am.status = Set(to.as_str().to_owned());
    let at = ctx.now();
    am.closed_at = Set(Some(at));
    am.next_response_check_at = Set(None);
    let saved = save(
        &txn,
        &t,
        am,
        caller.actor(),
        vec![EventDraft::transition(Action::Withdraw, from, to, None)],
        at,
    )
    .await?;
    txn.commit().await?;
    view(ctx, &dir, &caller, saved, None, true).await
}

pub struct NewRating {
    pub level: RatingLevel,
    pub score: Option<i16>,
    pub comment: Option<Text>,
}

/// Rates a resolved ticket: satisfied closes it; unsatisfied reopens it to the same assignee, or,
/// past the reopen limit, escalates it to the community and flags a return visit.
pub async fn rate(
    ctx: &Ctx<'_>,
    resident_id: Uuid,
    reference: &str,
    new: NewRating,
) -> ServiceResult<TicketView> {
    let txn = super::write_txn(ctx.db).await?;
    let dir = ctx.dir_in(&txn).await?;
    let caller = Caller::Resident(resident_id);
    let (t, category) = visible(&txn, &dir, &caller, reference).await?;
    let from = status_of(&t)?;
    let mut am = t.clone().into_active_model();
    let at = ctx.now();
    let mut action = Action::Rate(new.level);
    let mut note = new.comment.as_ref().map(|c| c.as_str().to_owned());
    match new.level {
        RatingLevel::Satisfied | RatingLevel::BasicallySatisfied => am.closed_at = Set(Some(at)),
        RatingLevel::Unsatisfied if t.reopen_count < ctx.settings.lifecycle.max_reopen => {
            am.reopen_count = Set(t.reopen_count + 1);
            am.resolved_at = Set(None);
        }
        RatingLevel::Unsatisfied => {
            let community = t
                .grid_id
                .and_then(|g| dir.tree.enclosing(g, AreaKind::Community))
                .map(|a| a.id);
            let target =
                community.or_else(|| routing::level_above(&dir, t.handling_area_id, t.grid_id));
            let person = match target {
                Some(area) => routing::person_in(&txn, &dir, area, &category).await?,
                None => None,
            };
            apply_destination(
                &mut am,
                Destination {
                    grid_id: t.grid_id,
                    handling_area_id: target.or(t.handling_area_id),
                    assignee_id: person,
                },
            );
            am.return_visit_required = Set(true);
            am.resolved_at = Set(None);
            action = Action::RateEscalate {
                found: person.is_some(),
            };
            note = Some(format!(
                "多次不满意，升级社区并安排回访{}",
                note.map(|n| format!("：{n}")).unwrap_or_default()
            ));
        }
    }
    let to = next(from, action)?;
    am.status = Set(to.as_str().to_owned());
    rating::ActiveModel {
        id: Set(Uuid::new_v4()),
        ticket_id: Set(t.id),
        round: Set(t.reopen_count),
        resident_id: Set(resident_id),
        level: Set(new.level.as_str().to_owned()),
        score: Set(new.score),
        comment: Set(new.comment.map(Text::into_inner)),
        created_at: Set(at),
    }
    .insert(&txn)
    .await?;
    response_window(&mut am, to, &category, ctx, at);
    let event = EventDraft::transition(action, from, to, note);
    let saved = save_rated(&txn, &t, am, caller.actor(), vec![event], at, true).await?;
    notify_transition(&txn, &t, &saved, action, at).await?;
    txn.commit().await?;
    view(ctx, &dir, &caller, saved, None, true).await
}

/// Screens a resident's text with WeChat content safety (see `safety`).
async fn screen_resident(
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

/// Adds a comment (a resident adding information, or staff noting progress). Comments change no
/// status, so a comment that loses a race with a transition is simply retried.
pub async fn comment(
    ctx: &Ctx<'_>,
    caller: &Caller,
    reference: &str,
    text: Text,
    internal: bool,
    attachment_ids: &[Uuid],
) -> ServiceResult<TicketView> {
    let visibility = match caller {
        Caller::Staff(_) if internal => Visibility::Internal,
        _ => Visibility::Public,
    };
    let moderation = match caller {
        Caller::Resident(id) => {
            screen_resident(ctx, *id, text.as_str(), safety::SCENE_COMMENT).await?
        }
        Caller::Staff(_) => None,
    };
    for _ in 0..3 {
        let txn = super::write_txn(ctx.db).await?;
        let dir = ctx.dir_in(&txn).await?;
        let (t, _) = visible(&txn, &dir, caller, reference).await?;
        let status = status_of(&t)?;
        next(status, Action::Comment)?;
        let event = EventDraft {
            action: Action::Comment.name(),
            from: Some(status),
            to: Some(status),
            note: Some(text.as_str().to_owned()),
            visibility,
            moderation: moderation.clone(),
        };
        match save(
            &txn,
            &t,
            t.clone().into_active_model(),
            caller.actor(),
            vec![event],
            ctx.now(),
        )
        .await
        {
            Ok(saved) => {
                let (kind, id) = caller.actor();
                let owner = Owner {
                    kind: kind.as_str(),
                    id: id.unwrap_or_default(),
                };
                attachments::attach(
                    &txn,
                    attachment_ids,
                    owner,
                    Attachment {
                        ticket_id: saved.id,
                        purpose: "comment",
                        visibility,
                    },
                    ctx.settings.media.max_per_ticket,
                )
                .await?;
                txn.commit().await?;
                return view(ctx, &dir, caller, saved, None, true).await;
            }
            Err(ServiceError::ConcurrentUpdate) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ServiceError::ConcurrentUpdate)
}

/// Records the return visit (回访) a ticket was flagged for after repeated dissatisfaction.
pub async fn record_return_visit(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    reference: &str,
    outcome: crate::domain::ReturnVisitOutcome,
    note: Option<Text>,
) -> ServiceResult<TicketView> {
    let txn = super::write_txn(ctx.db).await?;
    let dir = ctx.dir_in(&txn).await?;
    let caller = Caller::Staff(scope.clone());
    let t = actable(&txn, &dir, scope, reference).await?;
    if !t.return_visit_required || t.return_visit_at.is_some() {
        return Err(ServiceError::rejected(
            Code::ReturnVisitNotDue,
            "outcome",
            "no return visit is due for this ticket",
        ));
    }
    let at = ctx.now();
    let status = status_of(&t)?;
    let mut am = t.clone().into_active_model();
    am.return_visit_at = Set(Some(at));
    am.return_visit_outcome = Set(Some(outcome.as_str().to_owned()));
    am.return_visit_note = Set(note.as_ref().map(|n| n.as_str().to_owned()));
    let text = format!(
        "回访：{}{}",
        outcome.as_str(),
        note.map(|n| format!("，{}", n.as_str()))
            .unwrap_or_default()
    );
    let event = EventDraft::transition(Action::ReturnVisit, status, status, Some(text));
    let saved = save(&txn, &t, am, caller.actor(), vec![event], at).await?;
    txn.commit().await?;
    view(ctx, &dir, &caller, saved, None, true).await
}

/// Open tickets by status, for `/metrics`: read off the `(status, …)` index for the open
/// statuses only, so a scrape costs the open work, not the year's tickets.
pub async fn count_open_by_status(db: &impl ConnectionTrait) -> ServiceResult<Vec<(String, i64)>> {
    Ok(ticket::Entity::find()
        .filter(super::ticket_status_in(&Status::OPEN))
        .select_only()
        .column(ticket::Column::Status)
        .column_as(Expr::col(ticket::Column::Id).count(), "n")
        .group_by(ticket::Column::Status)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?)
}
