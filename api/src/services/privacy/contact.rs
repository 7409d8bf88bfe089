//! Contact data behind a reveal, with a log (PIPL Art. 51): every staff view shows a resident's
//! phone masked, the assignee's included; the assignee or an administrator over the ticket may
//! reveal it for a stated reason, and each reveal is a `personal_data_access` row (and an
//! `audit_log` row) the resident's copy of their data lists.
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::services::{Ctx, ServiceError, ServiceResult};

/// What a reveal shows: the ticket's contact phone and the numbers its resident typed into it.
pub struct Revealed {
    pub contact_phone: Option<String>,
    pub phones_in_text: Vec<String>,
}

/// A resident's contact phone on a ticket, revealed to the staff member who handles it (its
/// assignee, or an administrator over its place) for a stated reason, and logged in
/// `personal_data_access` (who, whose, which field, why, which request, when). Anyone else, or
/// a ticket outside the caller's sight: `404`. An anonymous reporter stays hidden from those
/// who may not see them.
pub async fn reveal_contact(
    ctx: &Ctx<'_>,
    scope: &crate::domain::access::StaffScope,
    reference: &str,
    reason: &str,
) -> ServiceResult<Revealed> {
    let reason = crate::domain::inputs::Text::parse("reason", reason, 200)?;
    if reason.as_str().chars().count() < 2 {
        return Err(ServiceError::rejected(
            crate::error::Code::InvalidField,
            "reason",
            crate::error::bi("请说明查看理由", "say why the number is needed"),
        ));
    }
    let request_id = crate::services::audit::request_id();
    let caller = crate::services::Caller::Staff(scope.clone());
    let view = crate::services::tickets::get(ctx, &caller, reference).await?;
    let dir = ctx.dir().await?;
    let t = &view.ticket;
    let place = view.placement();
    let entitled = t.assignee_id == Some(scope.staff_id) || scope.is_admin_over(&dir.tree, &place);
    let hidden = t.anonymous && !scope.sees_anonymous_reporter(&dir.tree, &place);
    if !entitled || hidden {
        return Err(ServiceError::NotFound);
    }
    let txn = crate::services::write_txn(ctx.db).await?;
    let reason = reason.into_inner();
    crate::services::audit::record(
        &txn,
        "contact.reveal",
        crate::services::audit::Target::new("ticket", t.id),
        serde_json::json!({"number": t.number, "field": "contact_phone", "reason": reason}),
        ctx.now(),
    )
    .await?;
    entity::personal_data_access::ActiveModel {
        id: Set(Uuid::new_v4()),
        staff_id: Set(scope.staff_id),
        resident_id: Set(t.resident_id),
        ticket_id: Set(t.id),
        field: Set("contact_phone".to_owned()),
        reason: Set(reason),
        request_id: Set(request_id),
        at: Set(ctx.now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    // The view masks what the resident typed; the numbers in it come from the ticket as stored.
    let stored = crate::services::tickets::find(ctx.db, &t.id.to_string()).await?;
    let mut in_text: Vec<String> = [
        Some(&stored.description),
        stored.title.as_ref(),
        stored.address_text.as_ref(),
    ]
    .into_iter()
    .flatten()
    .flat_map(|s| crate::domain::redact::phones_in(s))
    .collect();
    in_text.dedup();
    Ok(Revealed {
        contact_phone: stored.contact_phone,
        phones_in_text: in_text,
    })
}

/// The access log, newest first, filtered by staff member, resident and time.
pub async fn access_log(
    ctx: &Ctx<'_>,
    staff_id: Option<Uuid>,
    resident_id: Option<Uuid>,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
    limit: u64,
) -> ServiceResult<Vec<entity::personal_data_access::Model>> {
    use entity::personal_data_access::{Column, Entity};
    use sea_orm::{QueryOrder, QuerySelect};
    let mut q = Entity::find().order_by_desc(Column::At).limit(limit);
    if let Some(s) = staff_id {
        q = q.filter(Column::StaffId.eq(s));
    }
    if let Some(r) = resident_id {
        q = q.filter(Column::ResidentId.eq(r));
    }
    if let Some(f) = from {
        q = q.filter(Column::At.gte(f));
    }
    if let Some(t) = to {
        q = q.filter(Column::At.lt(t));
    }
    Ok(q.all(ctx.db).await?)
}
