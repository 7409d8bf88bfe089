//! 每月一题 topics: an office turns a hot spot or a hand-picked set of tickets into one piece
//! of work with an owner and a due date; its progress notes reach every resident of its
//! tickets; closing it resolves its open tickets with the closing note, and the residents'
//! ratings make its satisfaction. While it is open, a new ticket of its category told near its
//! outline joins it at submission.
use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::{Caller, Ctx, ServiceError, ServiceResult, directory::Directory};
use crate::{
    domain::{
        RatingLevel,
        access::{Placement, StaffScope},
        hotspots::{self, Projection},
        inputs::Text,
    },
    error::Code,
};
use entity::{enums::TopicStatus, rating, ticket, topic, topic_update};

/// The most tickets a hand-picked topic takes.
pub const MAX_TICKETS: usize = 1000;

/// What a topic is made of.
pub enum Source {
    Tickets(Vec<Uuid>),
    /// A hot spot's id (`GET /stats/hotspots`).
    Hotspot(String),
}

pub struct NewTopic {
    pub title: Text,
    pub description: Text,
    pub source: Source,
    pub owner_area_id: Uuid,
    pub due: DateTime<Utc>,
}

/// A topic with what it gathered.
pub struct TopicView {
    pub topic: topic::Model,
    pub owner_name: String,
    pub category: Option<(String, String)>,
    pub tickets: Vec<ticket::Model>,
    pub updates: Vec<topic_update::Model>,
    pub satisfaction: Satisfaction,
}

/// The residents' ratings of the topic's tickets (each ticket's latest).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Satisfaction {
    pub rated: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub unsatisfied: u64,
    /// The mean of the ratings (satisfied 1, basically `stats.basically_satisfied_weight`,
    /// unsatisfied 0); none before a rating.
    pub mean: Option<f64>,
}

fn area_placement(area: Uuid) -> Placement<'static> {
    Placement {
        grid_id: None,
        handling_area_id: Some(area),
        assignee_id: None,
        category_group: "",
    }
}

/// Administrators over the owner area may make and run its topics.
fn runs(scope: &StaffScope, dir: &Directory, area: Uuid) -> bool {
    scope.is_admin_over(&dir.tree, &area_placement(area))
}

fn placement<'a>(t: &ticket::Model, dir: &'a Directory) -> Placement<'a> {
    Placement {
        grid_id: t.grid_id,
        handling_area_id: t.handling_area_id,
        assignee_id: t.assignee_id,
        category_group: dir
            .category(t.category_id)
            .map_or("", |c| c.group_name.as_str()),
    }
}

fn within(t: &ticket::Model, dir: &Directory, area: Uuid) -> bool {
    [t.grid_id, t.handling_area_id]
        .into_iter()
        .flatten()
        .any(|a| dir.tree.is_within(a, area))
}

fn tickets_invalid() -> ServiceError {
    ServiceError::rejected(
        Code::InvalidField,
        "ticket_ids",
        crate::error::bi(
            "工单不存在，或不在该区域、您的职责范围内",
            "a ticket does not exist, or is outside the area or your scope",
        ),
    )
}

/// A due date as asked for: an RFC 3339 instant, or a date meaning the end of that Beijing day.
pub fn due(raw: &str) -> Result<DateTime<Utc>, ServiceError> {
    let bad = || {
        ServiceError::rejected(
            Code::InvalidField,
            "due",
            crate::error::bi(
                "due 须为日期（2026-12-31）或 RFC 3339 时间",
                "`due` is a date (2026-12-31) or an RFC 3339 instant",
            ),
        )
    };
    use crate::domain::rates::Bound;
    match Bound::parse(raw).ok_or_else(bad)? {
        Bound::Instant(at) => Ok(at),
        Bound::Day(day) => day
            .and_hms_opt(23, 59, 59)
            .and_then(|t| {
                t.and_local_timezone(crate::domain::calendar::beijing())
                    .single()
            })
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(bad),
    }
}

/// Makes a topic. The owner area must be one the caller administers (404 otherwise, as any
/// area outside their scope); its tickets must lie within it and be ones they may see.
pub async fn create(ctx: &Ctx<'_>, scope: &StaffScope, new: NewTopic) -> ServiceResult<TopicView> {
    let dir = ctx.dir().await?;
    if dir.tree.get(new.owner_area_id).is_none() {
        return Err(ServiceError::NotFound);
    }
    if !runs(scope, &dir, new.owner_area_id) {
        let visible = scope.visible_set(&dir.tree);
        return Err(
            if visible.everything || visible.areas.contains(&new.owner_area_id) {
                ServiceError::Forbidden
            } else {
                ServiceError::NotFound
            },
        );
    }
    let now = ctx.now();
    if new.due <= now || new.due > now + Duration::days(366) {
        return Err(ServiceError::rejected(
            Code::InvalidField,
            "due",
            crate::error::bi(
                "due 须在今后一年之内",
                "`due` must be within the coming year",
            ),
        ));
    }
    let (members, category, outline, hotspot) = match new.source {
        Source::Tickets(ids) => {
            let ids: BTreeSet<Uuid> = ids.into_iter().collect();
            if ids.is_empty() || ids.len() > MAX_TICKETS {
                return Err(ServiceError::rejected(
                    Code::InvalidField,
                    "ticket_ids",
                    crate::error::bi(
                        format_args!("须选 1 到 {MAX_TICKETS} 个工单"),
                        format_args!("pick 1 to {MAX_TICKETS} tickets"),
                    ),
                ));
            }
            let rows = ticket::Entity::find()
                .filter(ticket::Column::Id.is_in(ids.iter().copied()))
                .all(ctx.db)
                .await?;
            let fits = |t: &ticket::Model| {
                scope.can_see(&dir.tree, &placement(t, &dir)) && within(t, &dir, new.owner_area_id)
            };
            if rows.len() != ids.len() || !rows.iter().all(fits) {
                return Err(tickets_invalid());
            }
            let categories: HashSet<Uuid> = rows.iter().map(|t| t.category_id).collect();
            let category = (categories.len() == 1).then(|| rows[0].category_id);
            (rows, category, None, None)
        }
        Source::Hotspot(id) => {
            let spot = crate::services::stats::hotspots::named(ctx, scope, &id)
                .await
                .map_err(|e| match e {
                    ServiceError::NotFound => ServiceError::rejected(
                        Code::InvalidField,
                        "hotspot",
                        crate::error::bi(
                            "热点不存在或已不再是热点",
                            "no such hot spot (or it is one no longer)",
                        ),
                    ),
                    e => e,
                })?;
            let rows = ticket::Entity::find()
                .filter(ticket::Column::Id.is_in(spot.ticket_ids.iter().copied()))
                .all(ctx.db)
                .await?;
            let rows: Vec<ticket::Model> = rows
                .into_iter()
                .filter(|t| within(t, &dir, new.owner_area_id))
                .collect();
            if rows.is_empty() {
                return Err(tickets_invalid());
            }
            let ring = serde_json::to_string(&spot.ring).unwrap_or_default();
            (rows, Some(spot.category_id), Some(ring), Some(id))
        }
    };
    let taken = taken_by_open_topic(ctx, &members).await?;
    if hotspot.is_none() && !taken.is_empty() {
        return Err(ServiceError::rejected(
            Code::TicketInTopic,
            "ticket_ids",
            crate::error::bi(
                "工单已纳入另一个未结束的每月一题",
                "a ticket already belongs to another open topic",
            ),
        ));
    }
    // A hot spot's tickets already in another open topic stay there.
    let members: Vec<ticket::Model> = members
        .into_iter()
        .filter(|t| !taken.contains(&t.id))
        .collect();
    let row = topic::ActiveModel {
        id: Set(Uuid::new_v4()),
        title: Set(new.title.into_inner()),
        description: Set(new.description.into_inner()),
        category_id: Set(category),
        owner_area_id: Set(new.owner_area_id),
        due_at: Set(new.due),
        status: Set(TopicStatus::Open),
        outline: Set(outline),
        hotspot: Set(hotspot),
        created_by: Set(scope.staff_id),
        created_at: Set(now),
        closed_at: Set(None),
        closing_note: Set(None),
        version: Set(1),
    };
    // The topic and its tickets at once: a ticket another topic took meanwhile fails a
    // hand-picked topic whole (a hot spot's keep the rest).
    let txn = super::write_txn(ctx.db).await?;
    let row = row.insert(&txn).await?;
    let linked = link(&txn, &row, &members, now).await?;
    if row.hotspot.is_none() && linked < members.len() {
        return Err(ServiceError::rejected(
            Code::TicketInTopic,
            "ticket_ids",
            crate::error::bi(
                "工单已纳入另一个未结束的每月一题",
                "a ticket already belongs to another open topic",
            ),
        ));
    }
    txn.commit().await?;
    view(ctx, row).await
}

/// Tickets free to join a topic: in none, or in a closed one.
fn free_of_open_topics() -> sea_orm::Condition {
    use sea_orm::sea_query::Query;
    let closed = Query::select()
        .column(topic::Column::Id)
        .from(topic::Entity)
        .and_where(topic::Column::Status.eq(TopicStatus::Closed.as_str()))
        .to_owned();
    sea_orm::Condition::any()
        .add(ticket::Column::TopicId.is_null())
        .add(ticket::Column::TopicId.in_subquery(closed))
}

/// The ids among `tickets` that an open topic holds already.
async fn taken_by_open_topic(
    ctx: &Ctx<'_>,
    tickets: &[ticket::Model],
) -> ServiceResult<HashSet<Uuid>> {
    let topics: HashSet<Uuid> = tickets.iter().filter_map(|t| t.topic_id).collect();
    if topics.is_empty() {
        return Ok(HashSet::new());
    }
    let open: HashSet<Uuid> = topic::Entity::find()
        .select_only()
        .column(topic::Column::Id)
        .filter(topic::Column::Id.is_in(topics))
        .filter(topic::Column::Status.eq(TopicStatus::Open.as_str()))
        .into_tuple()
        .all(ctx.db)
        .await?
        .into_iter()
        .collect();
    Ok(tickets
        .iter()
        .filter(|t| t.topic_id.is_some_and(|id| open.contains(&id)))
        .map(|t| t.id)
        .collect())
}

/// Puts the tickets no open topic holds into a topic and tells each resident once; how many.
async fn link(
    db: &impl ConnectionTrait,
    t: &topic::Model,
    tickets: &[ticket::Model],
    at: DateTime<Utc>,
) -> ServiceResult<usize> {
    let ids: Vec<Uuid> = tickets.iter().map(|x| x.id).collect();
    let mut linked = 0;
    for chunk in ids.chunks(500) {
        linked += ticket::Entity::update_many()
            .col_expr(ticket::Column::TopicId, Expr::value(t.id))
            .filter(ticket::Column::Id.is_in(chunk.to_vec()))
            .filter(free_of_open_topics())
            .exec(db)
            .await?
            .rows_affected;
    }
    let note = format!("已纳入每月一题「{}」", t.title);
    tell_residents(db, "topic_linked", tickets, &note, at).await?;
    Ok(usize::try_from(linked).unwrap_or(usize::MAX))
}

/// One message per resident (of their first ticket among `tickets`), inbox and WeChat.
async fn tell_residents(
    db: &impl ConnectionTrait,
    event: &str,
    tickets: &[ticket::Model],
    note: &str,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let mut told: HashSet<Uuid> = HashSet::new();
    for t in tickets {
        if let Some(r) = t.resident_id
            && told.insert(r)
        {
            crate::services::notify::resident_about(db, r, event, t, note, at).await?;
        }
    }
    Ok(())
}

/// A topic the caller may read: staff over its owner area (or who may see the area), a
/// resident one of whose tickets it holds. 404 otherwise.
pub async fn read(ctx: &Ctx<'_>, caller: &Caller, id: Uuid) -> ServiceResult<TopicView> {
    let t = topic::Entity::find_by_id(id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !may_read(ctx, caller, &t).await? {
        return Err(ServiceError::NotFound);
    }
    let mut v = view(ctx, t).await?;
    if let Caller::Resident(me) = caller {
        // Residents read their own tickets of it, not their neighbours'.
        v.tickets.retain(|x| x.resident_id == Some(*me));
    }
    Ok(v)
}

async fn may_read(ctx: &Ctx<'_>, caller: &Caller, t: &topic::Model) -> ServiceResult<bool> {
    Ok(match caller {
        Caller::Staff(scope) => {
            let dir = ctx.dir().await?;
            let seen = scope.visible_set(&dir.tree);
            seen.everything || seen.areas.contains(&t.owner_area_id)
        }
        Caller::Resident(me) => ticket::Entity::find()
            .filter(ticket::Column::TopicId.eq(t.id))
            .filter(ticket::Column::ResidentId.eq(*me))
            .one(ctx.db)
            .await?
            .is_some(),
    })
}

/// The topics the caller may read, newest first; `status` narrows.
pub async fn list(
    ctx: &Ctx<'_>,
    caller: &Caller,
    status: Option<TopicStatus>,
) -> ServiceResult<Vec<TopicView>> {
    let mut q = topic::Entity::find().order_by_desc(topic::Column::CreatedAt);
    if let Some(s) = status {
        q = q.filter(topic::Column::Status.eq(s.as_str()));
    }
    match caller {
        Caller::Staff(scope) => {
            let dir = ctx.dir().await?;
            let seen = scope.visible_set(&dir.tree);
            if !seen.everything {
                q = q.filter(topic::Column::OwnerAreaId.is_in(seen.areas));
            }
        }
        Caller::Resident(me) => {
            let mine: Vec<Uuid> = ticket::Entity::find()
                .select_only()
                .column(ticket::Column::TopicId)
                .filter(ticket::Column::ResidentId.eq(*me))
                .filter(ticket::Column::TopicId.is_not_null())
                .into_tuple::<Option<Uuid>>()
                .all(ctx.db)
                .await?
                .into_iter()
                .flatten()
                .collect();
            q = q.filter(topic::Column::Id.is_in(mine));
        }
    }
    let rows = q.limit(200).all(ctx.db).await?;
    let mut out = Vec::with_capacity(rows.len());
    for t in rows {
        let mut v = view(ctx, t).await?;
        if let Caller::Resident(me) = caller {
            v.tickets.retain(|x| x.resident_id == Some(*me));
        }
        out.push(v);
    }
    Ok(out)
}

async fn view(ctx: &Ctx<'_>, t: topic::Model) -> ServiceResult<TopicView> {
    let dir = ctx.dir().await?;
    let tickets = ticket::Entity::find()
        .filter(ticket::Column::TopicId.eq(t.id))
        .order_by_asc(ticket::Column::SubmittedAt)
        .all(ctx.db)
        .await?;
    let updates = topic_update::Entity::find()
        .filter(topic_update::Column::TopicId.eq(t.id))
        .order_by_asc(topic_update::Column::CreatedAt)
        .all(ctx.db)
        .await?;
    let satisfaction = satisfaction(ctx, &tickets).await?;
    Ok(TopicView {
        owner_name: dir
            .tree
            .get(t.owner_area_id)
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        category: t
            .category_id
            .and_then(|c| dir.category(c))
            .map(|c| (c.code.clone(), c.name.clone())),
        topic: t,
        tickets,
        updates,
        satisfaction,
    })
}

async fn satisfaction(ctx: &Ctx<'_>, tickets: &[ticket::Model]) -> ServiceResult<Satisfaction> {
    let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
    let mut latest: std::collections::HashMap<Uuid, (i32, RatingLevel)> = Default::default();
    for chunk in ids.chunks(500) {
        let rows = rating::Entity::find()
            .filter(rating::Column::TicketId.is_in(chunk.to_vec()))
            .all(ctx.db)
            .await?;
        for r in rows {
            let e = latest.entry(r.ticket_id).or_insert((r.round, r.level));
            if r.round >= e.0 {
                *e = (r.round, r.level);
            }
        }
    }
    let weight = ctx.settings.stats.basically_satisfied_weight;
    let mut s = Satisfaction::default();
    let mut sum = 0.0;
    for (_, level) in latest.values() {
        s.rated += 1;
        match level {
            RatingLevel::Satisfied => {
                s.satisfied += 1;
                sum += 1.0;
            }
            RatingLevel::BasicallySatisfied => {
                s.basically_satisfied += 1;
                sum += weight;
            }
            RatingLevel::Unsatisfied => s.unsatisfied += 1,
        }
    }
    s.mean = (s.rated > 0).then(|| ((sum / s.rated as f64) * 1000.0).round() / 1000.0);
    Ok(s)
}

/// A topic its caller runs (an administrator over its owner area), or 404/403.
async fn run(ctx: &Ctx<'_>, scope: &StaffScope, id: Uuid) -> ServiceResult<topic::Model> {
    let t = topic::Entity::find_by_id(id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !may_read(ctx, &Caller::Staff(scope.clone()), &t).await? {
        return Err(ServiceError::NotFound);
    }
    let dir = ctx.dir().await?;
    if !runs(scope, &dir, t.owner_area_id) {
        return Err(ServiceError::Forbidden);
    }
    Ok(t)
}

fn closed() -> ServiceError {
    ServiceError::rejected(
        Code::TopicClosed,
        "status",
        crate::error::bi("该每月一题已结束", "the topic is closed"),
    )
}

/// A progress note: kept on the topic and sent to every resident of its tickets.
pub async fn add_update(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    id: Uuid,
    note: Text,
) -> ServiceResult<TopicView> {
    let t = run(ctx, scope, id).await?;
    if t.status != TopicStatus::Open {
        return Err(closed());
    }
    let note = note.into_inner();
    let at = ctx.now();
    // The note and its messages at once.
    let txn = super::write_txn(ctx.db).await?;
    topic_update::ActiveModel {
        id: Set(Uuid::new_v4()),
        topic_id: Set(t.id),
        staff_id: Set(scope.staff_id),
        note: Set(note.clone()),
        created_at: Set(at),
    }
    .insert(&txn)
    .await?;
    let tickets = ticket::Entity::find()
        .filter(ticket::Column::TopicId.eq(t.id))
        .all(&txn)
        .await?;
    let told = format!("「{}」{note}", t.title);
    tell_residents(&txn, "topic_update", &tickets, &told, at).await?;
    txn.commit().await?;
    view(ctx, t).await
}

/// Closes a topic: once (a second close is 409 topic_closed); each open ticket is resolved with
/// the note and its resident asked to rate it.
pub async fn close(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    id: Uuid,
    note: Text,
) -> ServiceResult<TopicView> {
    let t = run(ctx, scope, id).await?;
    let note = note.into_inner();
    let now = ctx.now();
    let flipped = topic::Entity::update_many()
        .col_expr(
            topic::Column::Status,
            Expr::value(TopicStatus::Closed.as_str()),
        )
        .col_expr(topic::Column::ClosedAt, Expr::value(now))
        .col_expr(topic::Column::ClosingNote, Expr::value(note.clone()))
        .col_expr(topic::Column::Version, Expr::value(t.version + 1))
        .filter(topic::Column::Id.eq(t.id))
        .filter(topic::Column::Status.eq(TopicStatus::Open.as_str()))
        .exec(ctx.db)
        .await?;
    if flipped.rows_affected == 0 {
        return Err(closed());
    }
    let open: Vec<Uuid> = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::Id)
        .filter(ticket::Column::TopicId.eq(t.id))
        .filter(super::ticket_status_in(
            &crate::domain::lifecycle::Status::OPEN,
        ))
        .into_tuple()
        .all(ctx.db)
        .await?;
    let caller = Caller::Staff(scope.clone());
    for ticket_id in open {
        // One retry when the ticket changed under us; a ticket resolved meanwhile is left.
        let first =
            super::tickets::topics::resolve_for_topic(ctx, &caller, ticket_id, &t.title, &note)
                .await;
        if let Err(ServiceError::ConcurrentUpdate) = first {
            super::tickets::topics::resolve_for_topic(ctx, &caller, ticket_id, &t.title, &note)
                .await?;
        } else {
            first?;
        }
    }
    let t = topic::Entity::find_by_id(id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    view(ctx, t).await
}

/// Links a newly submitted ticket to the open topic of its category whose outline it lies
/// within `hotspots.radius_meters` of (and whose owner area it was routed into), and tells its
/// resident; the topic, if any.
pub async fn link_new(ctx: &Ctx<'_>, t: &ticket::Model) -> ServiceResult<Option<topic::Model>> {
    let Some((lat, lng)) = t.lat.zip(t.lng) else {
        return Ok(None);
    };
    let open = topic::Entity::find()
        .filter(topic::Column::Status.eq(TopicStatus::Open.as_str()))
        .filter(topic::Column::CategoryId.eq(t.category_id))
        .filter(topic::Column::Outline.is_not_null())
        .order_by_asc(topic::Column::CreatedAt)
        .limit(100)
        .all(ctx.db)
        .await?;
    let dir = ctx.dir().await?;
    let proj = Projection::around(lat, lng);
    let here = proj.to_xy(lat, lng);
    let near = open.into_iter().find(|topic| {
        if !within(t, &dir, topic.owner_area_id) {
            return false;
        }
        let ring: Vec<Vec<f64>> = topic
            .outline
            .as_deref()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or_default();
        let points: Vec<[f64; 2]> = ring
            .iter()
            .filter(|c| c.len() == 2)
            .map(|c| proj.to_xy(c[1], c[0]))
            .collect();
        points.len() >= 3
            && hotspots::near(
                &hotspots::outline(&points, 0.0),
                here,
                ctx.settings.hotspots.radius_meters,
            )
    });
    let Some(topic) = near else {
        return Ok(None);
    };
    let txn = super::write_txn(ctx.db).await?;
    ticket::Entity::update_many()
        .col_expr(ticket::Column::TopicId, Expr::value(topic.id))
        .filter(ticket::Column::Id.eq(t.id))
        .exec(&txn)
        .await?;
    let note = format!("您反映的问题已有每月一题「{}」在办理", topic.title);
    tell_residents(
        &txn,
        "topic_linked",
        std::slice::from_ref(t),
        &note,
        ctx.now(),
    )
    .await?;
    txn.commit().await?;
    Ok(Some(topic))
}

/// The topic a ticket belongs to, as the ticket shows it.
pub async fn of_ticket(
    ctx: &Ctx<'_>,
    id: Option<Uuid>,
) -> ServiceResult<Option<crate::schemas::tickets::TopicRef>> {
    let Some(id) = id else { return Ok(None) };
    Ok(topic::Entity::find_by_id(id)
        .one(ctx.db)
        .await?
        .map(Into::into))
}
