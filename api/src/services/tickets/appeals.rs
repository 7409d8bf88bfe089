//! Appeals (甄别): staff who handle a ticket may hold it unreasonable (malicious, repeated,
//! outside the office's duties, or a demand no law supports) and ask that it leave the rates.
//! The level above the ticket's handling decides (the community's admins for a grid's ticket,
//! the street's for one handled at the community or street), never the one who appealed. An
//! approval sets `excluded_from_rates` (the rollups follow, and every summary counts it as
//! `appealed_excluded`); filing and deciding are events on the timeline, seen by staff only.
//! Nothing is deleted.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Access, Changing, Decided, EventDraft, change};
use crate::{
    domain::{
        ActorKind, AppealReason, AppealStatus, AreaKind, StaffRole, TicketKind, Visibility,
        access::StaffScope, inputs::Text, lifecycle::Action,
    },
    error::Code,
    services::{
        Caller, Ctx, ServiceError, ServiceResult,
        attachments::{self, Attachment, Owner},
        directory::Directory,
        rollups, routing,
    },
};
use entity::{appeal, ticket};

pub struct NewAppeal {
    pub reason: AppealReason,
    pub note: Text,
    pub attachment_ids: Vec<Uuid>,
}

/// An appeal as shown to staff, with whether the caller may decide it.
pub struct AppealView {
    pub appeal: appeal::Model,
    pub ticket_number: String,
    pub can_decide: bool,
}

/// The area whose admins decide an appeal of `t` filed by `filer`: the level above its
/// handling (the community for a grid's ticket), the street for one handled at the top; one
/// level higher again when the filer could review there themselves, so that no office judges
/// an appeal of its own.
fn reviewer_area(dir: &Directory, t: &ticket::Model, filer: &StaffScope) -> Option<Uuid> {
    let street = |place: Uuid| dir.tree.enclosing(place, AreaKind::Street).map(|a| a.id);
    let area = routing::level_above(dir, t.handling_area_id, t.grid_id)
        .or_else(|| street(t.handling_area_id.or(t.grid_id)?))?;
    if reviews(filer, dir, area) {
        return routing::level_above(dir, Some(area), None).or(Some(area));
    }
    Some(area)
}

/// How many times a ticket may be appealed (a second try after a denial, with new facts).
const MAX_APPEALS: u64 = 2;

/// May decide appeals reviewed at `area`: a community or street admin at or above it, or a
/// system admin.
fn reviews(scope: &StaffScope, dir: &Directory, area: Uuid) -> bool {
    scope.assignments.iter().any(|a| match (a.role, a.area_id) {
        (StaffRole::SystemAdmin, _) => true,
        (StaffRole::CommunityAdmin | StaffRole::StreetAdmin, Some(at)) => {
            dir.tree.is_within(area, at)
        }
        _ => false,
    })
}

fn may_decide(scope: &StaffScope, dir: &Directory, a: &appeal::Model) -> bool {
    a.status == AppealStatus::Pending
        && a.filed_by != scope.staff_id
        && reviews(scope, dir, a.reviewer_area_id)
}

fn internal_event(action: Action, c: &Changing<'_>, note: String) -> EventDraft {
    EventDraft {
        action: action.name(),
        from: Some(c.from),
        to: Some(c.from),
        note: Some(note),
        visibility: Visibility::Internal,
        moderation: None,
        public_note: None,
    }
}

fn conflict(code: Code, detail: &str) -> ServiceError {
    ServiceError::Rejected {
        code,
        field: None,
        detail: Some(detail.to_owned()),
    }
}

/// Files an appeal of a ticket the caller handles.
pub async fn file(
    ctx: &Ctx<'_>,
    scope: StaffScope,
    reference: &str,
    new: NewAppeal,
) -> ServiceResult<AppealView> {
    let id = Uuid::new_v4();
    let filer = scope.staff_id;
    let caller = Caller::Staff(scope);
    let max = ctx.settings.media.max_per_ticket;
    change(
        ctx,
        &caller,
        reference,
        Access::Handles,
        async |c: &Changing<'_>| {
            let t = c.ticket;
            if t.kind == TicketKind::Praise || t.excluded_from_rates {
                return Err(conflict(
                    Code::NotAppealable,
                    "praise and tickets already excluded are in no rate",
                ));
            }
            let Caller::Staff(filer_scope) = c.caller else {
                return Err(ServiceError::Forbidden);
            };
            let reviewer = reviewer_area(c.dir, t, filer_scope).ok_or_else(|| {
                conflict(Code::NotAppealable, "the ticket has no place to review it")
            })?;
            let earlier = appeal::Entity::find()
                .filter(appeal::Column::TicketId.eq(t.id))
                .count(c.txn)
                .await?;
            if earlier >= MAX_APPEALS {
                return Err(conflict(
                    Code::NotAppealable,
                    "the ticket was appealed twice already",
                ));
            }
            let row = appeal::ActiveModel {
                id: Set(id),
                ticket_id: Set(t.id),
                reason_code: Set(new.reason),
                note: Set(new.note.as_str().to_owned()),
                attachment_ids: Set(join_ids(&new.attachment_ids)),
                status: Set(AppealStatus::Pending),
                filed_by: Set(filer),
                filed_at: Set(c.at),
                reviewer_area_id: Set(reviewer),
                decided_by: Set(None),
                decided_at: Set(None),
                decision_note: Set(None),
            };
            row.insert(c.txn).await.map_err(|e| match e.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => conflict(
                    Code::AppealPending,
                    "this ticket has an appeal waiting for a decision",
                ),
                _ => ServiceError::Db(e),
            })?;
            let owner = Owner {
                kind: ActorKind::Staff.as_str(),
                id: filer,
            };
            let evidence = Attachment {
                ticket_id: t.id,
                purpose: attachments::APPEAL,
                visibility: Visibility::Internal,
            };
            attachments::attach(c.txn, &new.attachment_ids, owner, evidence, max).await?;
            let note = format!(
                "申请甄别（{}）：{}",
                reason_zh(new.reason),
                new.note.as_str()
            );
            let event = internal_event(Action::Appeal, c, note);
            Ok(Decided::in_place(t.clone().into_active_model(), event))
        },
    )
    .await?;
    show(ctx, &caller, id).await
}

/// Approves or denies a pending appeal.
pub async fn decide(
    ctx: &Ctx<'_>,
    scope: StaffScope,
    appeal_id: Uuid,
    approve: bool,
    note: Text,
) -> ServiceResult<AppealView> {
    let found = appeal::Entity::find_by_id(appeal_id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let caller = Caller::Staff(scope);
    let reference = found.ticket_id.to_string();
    change(
        ctx,
        &caller,
        &reference,
        Access::Sees,
        async |c: &Changing<'_>| {
            let Caller::Staff(scope) = c.caller else {
                return Err(ServiceError::Forbidden);
            };
            let current = appeal::Entity::find_by_id(appeal_id)
                .one(c.txn)
                .await?
                .ok_or(ServiceError::NotFound)?;
            if current.status != AppealStatus::Pending {
                return Err(conflict(
                    Code::AppealDecided,
                    "this appeal was decided already",
                ));
            }
            if !may_decide(scope, c.dir, &current) {
                return Err(ServiceError::Forbidden);
            }
            let status = if approve {
                AppealStatus::Approved
            } else {
                AppealStatus::Denied
            };
            // Only a pending appeal changes: of two deciders at once, the second finds it decided.
            let done = appeal::Entity::update_many()
                .col_expr(appeal::Column::Status, status.as_str().into())
                .col_expr(appeal::Column::DecidedBy, scope.staff_id.into())
                .col_expr(appeal::Column::DecidedAt, c.at.into())
                .col_expr(appeal::Column::DecisionNote, note.as_str().into())
                .filter(appeal::Column::Id.eq(appeal_id))
                .filter(appeal::Column::Status.eq(AppealStatus::Pending))
                .exec(c.txn)
                .await?;
            if done.rows_affected != 1 {
                return Err(conflict(
                    Code::AppealDecided,
                    "this appeal was decided already",
                ));
            }
            let mut am = c.ticket.clone().into_active_model();
            if approve {
                am.excluded_from_rates = Set(true);
            }
            let verdict = if approve {
                "甄别通过，不计入考核"
            } else {
                "甄别未通过"
            };
            let event = internal_event(
                Action::AppealDecided { approved: approve },
                c,
                format!("{verdict}：{}", note.as_str()),
            );
            Ok(Decided::in_place(am, event))
        },
    )
    .await?;
    show(ctx, &caller, appeal_id).await
}

async fn show(ctx: &Ctx<'_>, caller: &Caller, id: Uuid) -> ServiceResult<AppealView> {
    let a = appeal::Entity::find_by_id(id)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let number = number_of(ctx.db, a.ticket_id).await?;
    let dir = ctx.dir().await?;
    let can_decide = matches!(caller, Caller::Staff(s) if may_decide(s, &dir, &a));
    Ok(AppealView {
        appeal: a,
        ticket_number: number,
        can_decide,
    })
}

async fn number_of(db: &impl ConnectionTrait, ticket_id: Uuid) -> ServiceResult<String> {
    Ok(ticket::Entity::find_by_id(ticket_id)
        .select_only()
        .column(ticket::Column::Number)
        .into_tuple::<String>()
        .one(db)
        .await?
        .unwrap_or_default())
}

/// The appeals a staff member deals with, newest first: those on tickets in their sight and
/// those they filed; `status` narrows them.
pub async fn list(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    status: Option<AppealStatus>,
    limit: u64,
) -> ServiceResult<Vec<AppealView>> {
    let dir = ctx.dir().await?;
    let visible = scope.visible_set(&dir.tree);
    let mut query = appeal::Entity::find()
        .join(sea_orm::JoinType::InnerJoin, appeal_ticket())
        .order_by_desc(appeal::Column::FiledAt)
        .order_by_desc(appeal::Column::Id)
        .limit(limit);
    if let Some(s) = status {
        query = query.filter(appeal::Column::Status.eq(s));
    }
    if !visible.everything {
        let areas: Vec<Uuid> = visible.areas.iter().copied().collect();
        let mine = Condition::any()
            .add(rollups::placed_in(&areas))
            .add(appeal::Column::FiledBy.eq(scope.staff_id))
            .add(ticket::Column::AssigneeId.eq(scope.staff_id));
        query = query.filter(mine);
    }
    let rows = query.all(ctx.db).await?;
    let mut out = Vec::with_capacity(rows.len());
    for a in rows {
        let can_decide = may_decide(scope, &dir, &a);
        out.push(AppealView {
            ticket_number: number_of(ctx.db, a.ticket_id).await?,
            appeal: a,
            can_decide,
        });
    }
    Ok(out)
}

fn appeal_ticket() -> sea_orm::RelationDef {
    appeal::Entity::belongs_to(ticket::Entity)
        .from(appeal::Column::TicketId)
        .to(ticket::Column::Id)
        .into()
}

fn join_ids(ids: &[Uuid]) -> String {
    ids.iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The evidence photos' ids as stored.
pub fn attachment_ids(a: &appeal::Model) -> Vec<Uuid> {
    a.attachment_ids
        .split(',')
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect()
}

pub fn reason_zh(r: AppealReason) -> &'static str {
    match r {
        AppealReason::Malicious => "恶意诉求",
        AppealReason::Repeated => "重复诉求",
        AppealReason::OutsideDuties => "超出职责范围",
        AppealReason::NoLegalBasis => "诉求无政策法规依据",
    }
}
