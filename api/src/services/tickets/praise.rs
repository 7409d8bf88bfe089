//! Praise (`kind: praise`, 表扬): a thank-you, not a request. It has no deadlines and no queue;
//! it is closed on arrival, counted as `praise_received` where it belongs, and the worker it
//! thanks is told. It thanks the worker it names (`praised_staff_id`), else the worker who
//! handled the resident's earlier ticket it follows (`follows_ticket_id`); it counts at that
//! worker's grid, else the followed ticket's place, else where its place puts it.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::{NewTicket, Reporter, rejected};
use crate::{
    domain::{AreaKind, StaffStatus, TicketKind},
    error::Code,
    services::{ServiceError, ServiceResult, directory::Directory, routing::Destination},
};

/// Refuses praise targets on a ticket that is not praise.
pub(super) fn check_kind(new: &NewTicket) -> ServiceResult<()> {
    let targeted = new.praised_staff_id.is_some() || new.follows_ticket_id.is_some();
    if targeted && new.kind != TicketKind::Praise {
        let field = match new.praised_staff_id {
            Some(_) => "praised_staff_id",
            None => "follows_ticket_id",
        };
        return Err(rejected(
            Code::InvalidField,
            field,
            crate::error::bi("仅适用于表扬（praise）", "only for kind `praise`"),
        ));
    }
    Ok(())
}

/// The first grid a staff member is assigned to, else their first area.
fn home_area_of(dir: &Directory, staff_id: Uuid) -> Option<Uuid> {
    let person = dir.person(staff_id)?;
    let areas = person.roles.iter().filter_map(|r| r.assignment.area_id);
    let grid = areas
        .clone()
        .find(|a| dir.tree.get(*a).is_some_and(|n| n.kind == AreaKind::Grid));
    grid.or_else(|| areas.clone().next())
}

/// One thank-you a day from a resident to a worker: praise counts in the figures and sends the
/// worker a message, so it is neither inflated nor a way to pester someone.
async fn thanked_lately(
    db: &impl ConnectionTrait,
    resident: Uuid,
    worker: Uuid,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    use entity::ticket::Column as T;
    let earlier = entity::ticket::Entity::find()
        .filter(T::ResidentId.eq(resident))
        .filter(T::AssigneeId.eq(worker))
        .filter(T::Kind.eq(TicketKind::Praise))
        .filter(T::SubmittedAt.gt(at - Duration::hours(24)))
        .count(db)
        .await?;
    if earlier > 0 {
        return Err(ServiceError::Rejected {
            code: Code::AlreadyExists,
            field: Some("praised_staff_id".into()),
            detail: Some(crate::error::bi(
                "24 小时内您已表扬过这位工作人员",
                "you thanked this worker within the last 24 hours",
            )),
        });
    }
    Ok(())
}

/// Whom a praise thanks and where it counts; `routed` is where its place alone would put it.
pub(super) async fn destination(
    db: &impl ConnectionTrait,
    dir: &Directory,
    by: Reporter,
    new: &NewTicket,
    routed: Destination,
    at: DateTime<Utc>,
) -> ServiceResult<Destination> {
    let followed = match new.follows_ticket_id {
        Some(id) => {
            let t = entity::ticket::Entity::find_by_id(id).one(db).await?;
            // Only the resident's own ticket: anything else answers as if it did not exist.
            let own = t.filter(|t| by.resident().is_some_and(|r| t.resident_id == Some(r)));
            Some(own.ok_or(ServiceError::NotFound)?)
        }
        None => None,
    };
    let worker = match new.praised_staff_id {
        Some(id) => {
            let known = dir
                .person(id)
                .is_some_and(|p| p.status != StaffStatus::Left);
            if !known {
                return Err(rejected(
                    Code::UnknownStaff,
                    "praised_staff_id",
                    crate::error::bi("没有这位工作人员", "no such staff member"),
                ));
            }
            Some(id)
        }
        None => followed.as_ref().and_then(|t| t.assignee_id),
    };
    if let (Some(w), Some(r)) = (worker, by.resident()) {
        thanked_lately(db, r, w, at).await?;
    }
    if let Some(area) = new.praised_staff_id.and_then(|w| home_area_of(dir, w)) {
        let is_grid = dir.tree.get(area).is_some_and(|n| n.kind == AreaKind::Grid);
        return Ok(Destination {
            grid_id: is_grid.then_some(area),
            handling_area_id: Some(area),
            assignee_id: worker,
        });
    }
    if let Some(t) = &followed {
        return Ok(Destination {
            grid_id: t.grid_id,
            handling_area_id: t.handling_area_id,
            assignee_id: worker,
        });
    }
    Ok(Destination {
        assignee_id: worker,
        ..routed
    })
}
