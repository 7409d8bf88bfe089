//! 每月一题 topics: an office turns a hot spot or a hand-picked set of tickets into one piece
//! of work with an owner and a due date; its progress notes reach every resident of its
//! tickets; closing it resolves its open tickets with the closing note, and the residents'
//! ratings make its satisfaction. While it is open, a new ticket of its category told near its
//! outline joins it at submission.
use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::{Ctx, ServiceError, ServiceResult, directory::Directory};
use crate::{
    domain::{
        AreaKind,
        access::{Placement, StaffScope},
        inputs::Text,
    },
    error::Code,
};
use entity::{enums::TopicStatus, ticket, topic, topic_update};

mod reading;
mod running;

pub use reading::{list, of_ticket, read};
pub use running::{add_update, close, link_new};

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

/// The tickets a topic is made of, their category when they share one, and (from a hot spot)
/// its outline and id.
struct Gathered {
    members: Vec<ticket::Model>,
    category: Option<Uuid>,
    outline: Option<String>,
    hotspot: Option<String>,
}

/// Picked tickets must all exist, be seen by the caller and lie in the owner area (422 alike
/// otherwise); a hot spot's are those of it in the owner area.
async fn gather(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    dir: &Directory,
    source: Source,
    owner: Uuid,
) -> ServiceResult<Gathered> {
    Ok(match source {
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
                scope.can_see(&dir.tree, &placement(t, dir)) && within(t, dir, owner)
            };
            if rows.len() != ids.len() || !rows.iter().all(fits) {
                return Err(tickets_invalid());
            }
            let categories: HashSet<Uuid> = rows.iter().map(|t| t.category_id).collect();
            let category = (categories.len() == 1).then(|| rows[0].category_id);
            Gathered {
                members: rows,
                category,
                outline: None,
                hotspot: None,
            }
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
            let rows: Vec<ticket::Model> =
                rows.into_iter().filter(|t| within(t, dir, owner)).collect();
            if rows.is_empty() {
                return Err(tickets_invalid());
            }
            let ring = serde_json::to_string(&spot.ring).unwrap_or_default();
            Gathered {
                members: rows,
                category: Some(spot.category_id),
                outline: Some(ring),
                hotspot: Some(id),
            }
        }
    })
}

/// Makes a topic. The owner area must be one the caller administers (404 otherwise, as any
/// area outside their scope); its tickets must lie within it and be ones they may see.
pub async fn create(ctx: &Ctx<'_>, scope: &StaffScope, new: NewTopic) -> ServiceResult<TopicView> {
    let dir = ctx.dir().await?;
    let Some(owner) = dir.tree.get(new.owner_area_id) else {
        return Err(ServiceError::NotFound);
    };
    if !matches!(owner.kind, AreaKind::Community | AreaKind::Street) {
        return Err(ServiceError::rejected(
            Code::InvalidField,
            "owner_area_id",
            crate::error::bi(
                "责任区域须为社区或街道",
                "the owner is a community or a street",
            ),
        ));
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
    let Gathered {
        members,
        category,
        outline,
        hotspot,
    } = gather(ctx, scope, &dir, new.source, new.owner_area_id).await?;
    // A ticket stays in the topic it joined first, open or closed (a closed topic keeps its
    // record); a hot spot's others make the new one, picked ones must all be free.
    let taken = members.iter().filter(|t| t.topic_id.is_some()).count();
    if (hotspot.is_none() && taken > 0) || taken == members.len() {
        return Err(ServiceError::rejected(
            Code::TicketInTopic,
            "ticket_ids",
            crate::error::bi(
                "工单已纳入另一个每月一题",
                "a ticket already belongs to another topic",
            ),
        ));
    }
    let members: Vec<ticket::Model> = members
        .into_iter()
        .filter(|t| t.topic_id.is_none())
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
                "工单已纳入另一个每月一题",
                "a ticket already belongs to another topic",
            ),
        ));
    }
    txn.commit().await?;
    reading::view(ctx, row).await
}

/// Puts the tickets no topic holds into a topic and tells each resident once; how many.
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
            .filter(ticket::Column::TopicId.is_null())
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
