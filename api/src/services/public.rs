//! "Me too": residents supporting a public suggestion, and the priority it earns.
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set, TryInsertResult,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{Ctx, ServiceError, ServiceResult, write_txn};
use crate::domain::{Priority, lifecycle::Action};
use entity::{ticket, ticket_support as support};

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
