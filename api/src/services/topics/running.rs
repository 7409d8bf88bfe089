//! Running a topic: progress notes to its residents, closing it (its open tickets resolved),
//! and new tickets joining an open one at submission.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{TopicView, reading, runs, tell_residents, within};
use crate::{
    domain::{
        access::StaffScope,
        hotspots::{self, Projection},
        inputs::Text,
    },
    error::Code,
    services::{Caller, Ctx, ServiceError, ServiceResult},
};
use entity::{enums::TopicStatus, ticket, topic, topic_update};

/// A topic its caller runs (an administrator over its owner area), or 404/403.
async fn run(ctx: &Ctx<'_>, scope: &StaffScope, id: Uuid) -> ServiceResult<topic::Model> {
    let t = topic::Entity::find_by_id(id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !reading::may_read(ctx, &Caller::Staff(scope.clone()), &t).await? {
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
    let txn = crate::services::write_txn(ctx.db).await?;
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
    reading::view(ctx, t).await
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
    let mut open = ticket::Entity::find()
        .select_only()
        .columns([ticket::Column::Id, ticket::Column::CategoryId])
        .filter(ticket::Column::TopicId.eq(t.id))
        .filter(crate::services::ticket_status_in(
            &crate::domain::lifecycle::Status::OPEN,
        ));
    // Closed already: only the tickets a close that stopped halfway left untouched since, not
    // those reopened after it (a dissatisfied resident's) or taken up by their handler.
    if let Some(at) = t.closed_at {
        open = open.filter(ticket::Column::UpdatedAt.lt(at));
    }
    let open: Vec<(Uuid, Uuid)> = open.into_tuple().all(ctx.db).await?;
    // A category that asks for a photo of the fix is resolved with one, ticket by ticket.
    let dir = ctx.dir().await?;
    if let Some(c) = open
        .iter()
        .filter_map(|(_, c)| dir.category(*c))
        .find(|c| c.requires_resolution_photo)
    {
        return Err(ServiceError::rejected(
            Code::ResolutionPhotoRequired,
            "note",
            crate::error::bi(
                format_args!(
                    "「{}」类工单办结须附整改照片，请先逐件办结再结束每月一题",
                    c.name
                ),
                format_args!(
                    "{} tickets need a photo of the fix: resolve them one by one first",
                    c.name
                ),
            ),
        ));
    }
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
    // Closed already: a close that stopped halfway (a restart, a failed ticket) is finished by
    // closing again, with the note it was closed with; with nothing left, 409.
    let note = match (flipped.rows_affected, t.closing_note) {
        (0, _) if open.is_empty() => return Err(closed()),
        (0, Some(first)) => first,
        _ => note,
    };
    let caller = Caller::Staff(scope.clone());
    for (ticket_id, _) in open {
        // One retry when the ticket changed under us; a ticket resolved meanwhile is left.
        let first = crate::services::tickets::topics::resolve_for_topic(
            ctx, &caller, ticket_id, &t.title, &note,
        )
        .await;
        if let Err(ServiceError::ConcurrentUpdate) = first {
            crate::services::tickets::topics::resolve_for_topic(
                ctx, &caller, ticket_id, &t.title, &note,
            )
            .await?;
        } else {
            first?;
        }
    }
    let t = topic::Entity::find_by_id(id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    reading::view(ctx, t).await
}

/// Links a newly submitted ticket to the open topic of its category whose outline it lies
/// within `hotspots.radius_meters` of (and whose owner area it was routed into), and tells its
/// resident; the topic, if any.
pub async fn link_new(ctx: &Ctx<'_>, t: &ticket::Model) -> ServiceResult<Option<topic::Model>> {
    if t.kind == crate::domain::TicketKind::Praise {
        return Ok(None);
    }
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
    let txn = crate::services::write_txn(ctx.db).await?;
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
