//! Public suggestions: "me too" support and the public board. Everything that leaves here is
//! anonymised: no resident, no contact, personal data in the text redacted.
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
    TryInsertResult,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{Ctx, ServiceError, ServiceResult, write_txn};
use crate::domain::{
    Priority, TicketKind,
    lifecycle::{Action, Status},
    redact::redact,
};
use entity::{ticket, ticket_support as support};

/// A ticket as the public board shows it.
pub struct PublicTicket {
    pub id: Uuid,
    pub number: String,
    pub kind: TicketKind,
    pub category_code: String,
    pub category_name: String,
    pub title: Option<String>,
    pub description: String,
    pub status: Status,
    pub support_count: i32,
    pub grid_name: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

async fn supportable(
    db: &impl sea_orm::ConnectionTrait,
    reference: &str,
) -> ServiceResult<ticket::Model> {
    let t = super::tickets::find(db, reference).await?;
    if t.public && !matches!(t.status.as_str(), "withdrawn" | "rejected") {
        Ok(t)
    } else {
        Err(ServiceError::NotFound)
    }
}

/// Adds the resident's "me too" (once; again is a no-op). Returns the support count. The insert
/// itself decides whether this is the first time (`ON CONFLICT DO NOTHING`), so however many
/// copies of the request race, every one succeeds and the count rises once.
pub async fn support(ctx: &Ctx<'_>, resident_id: Uuid, reference: &str) -> ServiceResult<i32> {
    let txn = write_txn(ctx.db).await?;
    let t = supportable(&txn, reference).await?;
    let now = ctx.now();
    let inserted = support::Entity::insert(support::ActiveModel {
        ticket_id: Set(t.id),
        resident_id: Set(resident_id),
        created_at: Set(now),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(&txn)
    .await?;
    if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return current_count(&txn, t.id).await;
    }
    ticket::Entity::update_many()
        .col_expr(
            ticket::Column::SupportCount,
            Expr::col(ticket::Column::SupportCount).add(1),
        )
        .filter(ticket::Column::Id.eq(t.id))
        .exec(&txn)
        .await?;
    // Read after the update, which holds the row until commit: the count and version are
    // current, whoever else supported meanwhile.
    let fresh = ticket::Entity::find_by_id(t.id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let count = fresh.support_count;
    let threshold = ctx.settings.public.support_priority_threshold;
    if count >= threshold && fresh.priority == Priority::Normal {
        let status = fresh.status;
        let mut am = fresh.clone().into_active_model();
        am.priority = Set(Priority::High);
        let note = Some(format!("{count}位居民附议，优先级提升"));
        super::tickets::save_system(
            &txn,
            &fresh,
            am,
            Action::PriorityRaised,
            status,
            status,
            note,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(count)
}

async fn current_count(db: &impl sea_orm::ConnectionTrait, id: Uuid) -> ServiceResult<i32> {
    Ok(ticket::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?
        .support_count)
}

/// Withdraws the resident's "me too", if any. Returns the support count.
pub async fn unsupport(ctx: &Ctx<'_>, resident_id: Uuid, reference: &str) -> ServiceResult<i32> {
    let txn = write_txn(ctx.db).await?;
    let t = supportable(&txn, reference).await?;
    let gone = support::Entity::delete_by_id((t.id, resident_id))
        .exec(&txn)
        .await?;
    if gone.rows_affected == 0 {
        return current_count(&txn, t.id).await;
    }
    ticket::Entity::update_many()
        .col_expr(
            ticket::Column::SupportCount,
            Expr::col(ticket::Column::SupportCount).sub(1),
        )
        .filter(ticket::Column::Id.eq(t.id))
        .exec(&txn)
        .await?;
    let count = current_count(&txn, t.id).await?;
    txn.commit().await?;
    Ok(count)
}

pub struct BoardQuery {
    pub area_id: Uuid,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub by_support: bool,
    pub limit: u64,
}

/// Public suggestions under an area (withdrawn and rejected ones left out unless asked for).
pub async fn board(ctx: &Ctx<'_>, q: BoardQuery) -> ServiceResult<Vec<PublicTicket>> {
    let dir = ctx.dir().await?;
    dir.tree.get(q.area_id).ok_or(ServiceError::NotFound)?;
    let areas = dir.tree.subtree(q.area_id);
    let mut find = ticket::Entity::find()
        .filter(ticket::Column::Public.eq(true))
        .filter(
            ticket::Column::GridId
                .is_in(areas.clone())
                .or(ticket::Column::HandlingAreaId.is_in(areas)),
        );
    find = match q.status.as_deref() {
        Some(s) => find.filter(ticket::Column::Status.eq(s)),
        None => find.filter(ticket::Column::Status.is_not_in(["withdrawn", "rejected"])),
    };
    if let Some(kind) = q.kind.as_deref() {
        find = find.filter(ticket::Column::Kind.eq(kind));
    }
    if q.by_support {
        find = find.order_by_desc(ticket::Column::SupportCount);
    }
    let rows = find
        .order_by_desc(ticket::Column::SubmittedAt)
        .limit(q.limit)
        .all(ctx.db)
        .await?;
    let cats: std::collections::HashMap<Uuid, entity::category::Model> =
        entity::category::Entity::find()
            .all(ctx.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    Ok(rows
        .into_iter()
        .map(|t| PublicTicket {
            id: t.id,
            number: t.number,
            kind: t.kind,
            category_code: cats
                .get(&t.category_id)
                .map(|c| c.code.clone())
                .unwrap_or_default(),
            category_name: cats
                .get(&t.category_id)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            title: t.title.map(|s| redact(&s)),
            description: redact(&t.description),
            status: t.status,
            support_count: t.support_count,
            grid_name: t
                .grid_id
                .and_then(|g| dir.tree.get(g))
                .map(|a| a.name.clone()),
            submitted_at: t.submitted_at,
            resolved_at: t.resolved_at,
        })
        .collect())
}
