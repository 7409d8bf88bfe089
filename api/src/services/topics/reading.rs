//! Reading topics: who may, what they read (a resident their own tickets of it), and the
//! satisfaction their tickets' ratings make.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{Satisfaction, TopicView};
use crate::{
    domain::RatingLevel,
    services::{Caller, Ctx, ServiceError, ServiceResult},
};
use entity::{enums::TopicStatus, rating, ticket, topic, topic_update};

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
        // Residents read their own tickets of it, not their neighbours' (nor the hot spot's
        // id, which names one of them).
        v.tickets.retain(|x| x.resident_id == Some(*me));
        v.topic.hotspot = None;
    }
    Ok(v)
}

pub(super) async fn may_read(
    ctx: &Ctx<'_>,
    caller: &Caller,
    t: &topic::Model,
) -> ServiceResult<bool> {
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
            v.topic.hotspot = None;
        }
        out.push(v);
    }
    Ok(out)
}

pub(super) async fn view(ctx: &Ctx<'_>, t: topic::Model) -> ServiceResult<TopicView> {
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
