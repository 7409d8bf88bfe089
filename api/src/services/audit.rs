//! The audit log (等保 2.0 安全审计; SPEC §11): every administrator's action (areas, buildings,
//! staff and their roles and passwords, categories, Open311 keys, reveals of contact data) and
//! every staff login, appended to `audit_log`, which the database refuses to change or delete.
//!
//! Services record their own actions, so the API and the console log alike. Who acted and in
//! which request come from the request itself: the edge starts each request inside
//! [`in_request`], and authentication (a bearer token or a console session) names the staff
//! member with [`set_actor`]. Outside a request (the CLI, the scheduler) the actor is `system`.
use std::{future::Future, sync::OnceLock};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;
use uuid::Uuid;

use super::ServiceResult;
use entity::audit_log;

struct RequestInfo {
    id: String,
    actor: OnceLock<(Uuid, String)>,
}

tokio::task_local! {
    static REQUEST: RequestInfo;
}

/// Runs a request's handling with its id, so actions it records name it.
pub fn in_request<F: Future>(request_id: String, handling: F) -> impl Future<Output = F::Output> {
    REQUEST.scope(
        RequestInfo {
            id: request_id,
            actor: OnceLock::new(),
        },
        handling,
    )
}

/// Names the staff member making this request (once their credentials checked out).
pub fn set_actor(staff_id: Uuid, login: &str) {
    let _ = REQUEST.try_with(|r| r.actor.set((staff_id, login.to_owned())));
}

fn current() -> (Option<Uuid>, String, Option<String>) {
    REQUEST
        .try_with(|r| match r.actor.get() {
            Some((id, login)) => (Some(*id), login.clone(), Some(r.id.clone())),
            None => (None, "anonymous".to_owned(), Some(r.id.clone())),
        })
        .unwrap_or((None, "system".to_owned(), None))
}

/// The request's id (`x-request-id`), within a request.
pub fn request_id() -> Option<String> {
    current().2
}

/// What an action was done to.
pub struct Target<'a> {
    pub kind: &'a str,
    pub id: Option<String>,
}

impl<'a> Target<'a> {
    pub fn new(kind: &'a str, id: impl ToString) -> Self {
        Target {
            kind,
            id: Some(id.to_string()),
        }
    }
}

/// Appends one row: `action` (`staff.create`, `area.update`…) on `target`, with `detail` (what
/// changed; never a password, token or key), by the request's actor.
pub async fn record(
    db: &impl ConnectionTrait,
    action: &str,
    target: Target<'_>,
    detail: Value,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let (actor, login, request_id) = current();
    record_as(db, (actor, &login), action, target, detail, request_id, at).await
}

/// [`record`] for a named actor (a login, before any token exists).
pub async fn record_as(
    db: &impl ConnectionTrait,
    actor: (Option<Uuid>, &str),
    action: &str,
    target: Target<'_>,
    detail: Value,
    request_id: Option<String>,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let request_id = request_id.or_else(|| current().2);
    audit_log::ActiveModel {
        id: Set(Uuid::new_v4()),
        at: Set(at),
        actor_staff_id: Set(actor.0),
        actor_login: Set(actor.1.chars().take(64).collect()),
        action: Set(action.to_owned()),
        target_kind: Set(target.kind.to_owned()),
        target_id: Set(target.id),
        detail: Set(detail.to_string()),
        request_id: Set(request_id),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Which rows to read.
#[derive(Default)]
pub struct Filter {
    pub actor: Option<Uuid>,
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Rows older than this one (its `at`, then its id), for the next page.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u64,
}

/// The log, newest first.
pub async fn list(db: &impl ConnectionTrait, f: Filter) -> ServiceResult<Vec<audit_log::Model>> {
    use audit_log::{Column, Entity};
    use sea_orm::sea_query::{Expr, ExprTrait};
    let mut q = Entity::find()
        .order_by_desc(Column::At)
        .order_by_desc(Column::Id)
        .limit(f.limit);
    if let Some(a) = f.actor {
        q = q.filter(Column::ActorStaffId.eq(a));
    }
    if let Some(a) = f.action {
        q = q.filter(Column::Action.eq(a));
    }
    if let Some(t) = f.target_id {
        q = q.filter(Column::TargetId.eq(t));
    }
    if let Some(from) = f.from {
        q = q.filter(Column::At.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(Column::At.lt(to));
    }
    if let Some((at, id)) = f.before {
        q = q.filter(
            Expr::col(Column::At).lt(at).or(Expr::col(Column::At)
                .eq(at)
                .and(Expr::col(Column::Id).lt(id))),
        );
    }
    Ok(q.all(db).await?)
}
