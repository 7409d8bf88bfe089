//! Residents' rights and the logs an auditor reads (PIPL; 等保 2.0):
//!
//! - contact data behind a reveal (Art. 51): staff views show the phone masked; `POST
//!   /tickets/{id}/reveal-contact {reason}` returns it to the ticket's assignee or an
//!   administrator over it and logs who, whose, why and when (`GET /admin/access-log`);
//! - a copy of one's data (Art. 45): `GET /me/data`, a ZIP;
//! - leaving (Art. 47): `POST /me/deletion {confirm: true}`;
//! - every administrator's action: `GET /admin/audit-log`.
use poem::Body;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::{Binary, Json},
};
use uuid::Uuid;

use super::{
    ApiResult, Tag,
    auth::{AdminAuth, ResidentAuth, StaffAuth},
};
use crate::{
    schemas::{Str, Time},
    services::{self, ServiceError},
    state::SharedState,
};

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct RevealBody {
    /// Why the number is needed now (kept in the access log), e.g. 「上门前电话确认地址」.
    pub reason: Str,
}

#[derive(Object)]
pub struct Revealed {
    /// The resident's contact phone on this ticket; null when they gave none.
    #[oai(nullable)]
    pub contact_phone: Option<String>,
    /// Phone numbers the resident typed into the ticket's text or address (staff read them
    /// masked there).
    pub phones_in_text: Vec<String>,
}

#[derive(Object)]
pub struct AccessEntry {
    pub id: Uuid,
    pub staff_id: Uuid,
    #[oai(nullable)]
    pub resident_id: Option<Uuid>,
    pub ticket_id: Uuid,
    /// Which datum: `contact_phone`.
    pub field: String,
    pub reason: String,
    #[oai(nullable)]
    pub request_id: Option<String>,
    pub at: Time,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct DeletionBody {
    /// Must be `true`: the resident confirmed they want to leave.
    pub confirm: bool,
}

#[derive(Object)]
pub struct DeletionScheduled {
    /// The account is closed from now: every token stops working.
    pub closed_at: Time,
    /// When its personal information is erased (after `privacy.deletion_grace_days`); until
    /// then logging in with `restore: true` reopens it.
    pub anonymise_at: Time,
}

#[derive(ApiResponse)]
pub enum DataCopy {
    /// A ZIP: `data.json` and `photos/`.
    #[oai(status = 200)]
    Ok(
        Binary<Body>,
        #[oai(header = "Content-Type")] String,
        #[oai(header = "Content-Disposition")] String,
    ),
}

#[derive(Object)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: Time,
    /// Who acted; null for a failed login to an unknown account or the system.
    #[oai(nullable)]
    pub actor_staff_id: Option<Uuid>,
    pub actor_login: String,
    /// `area.create`, `area.update`, `area.delete`, `area.import`, `building.create`,
    /// `staff.create`, `staff.status`, `staff.assign`, `staff.unassign`, `staff.wecom_userid`,
    /// `password.reset`, `password.change`, `category.create`, `category.update`,
    /// `open311_key.create`, `open311_key.revoke`, `contact.reveal`, `login`, `login.failed`.
    pub action: String,
    pub target_kind: String,
    #[oai(nullable)]
    pub target_id: Option<String>,
    /// What changed (JSON); never a password, token or key.
    pub detail: serde_json::Value,
    #[oai(nullable)]
    pub request_id: Option<String>,
}

#[derive(Object)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Pass back as `cursor` for older rows; null on the last page.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

pub struct PrivacyApi {
    pub state: SharedState,
}

#[OpenApi]
impl PrivacyApi {
    /// Reveals the resident's contact phone to the ticket's assignee or an administrator over
    /// it, for a reason of 2–200 characters, and logs it; anyone else gets 404.
    #[oai(
        path = "/tickets/:id/reveal-contact",
        method = "post",
        tag = "Tag::Work"
    )]
    async fn reveal(
        &self,
        auth: StaffAuth,
        id: Path<String>,
        body: Json<RevealBody>,
    ) -> ApiResult<Json<Revealed>> {
        let ctx = self.state.ctx();
        let scope = auth.scope(&ctx).await?;
        let revealed =
            services::privacy::reveal_contact(&ctx, &scope, &id.0, &body.0.reason).await?;
        Ok(Json(Revealed {
            contact_phone: revealed.contact_phone,
            phones_in_text: revealed.phones_in_text,
        }))
    }

    /// Who revealed residents' contact data, newest first (system administrators): filter by
    /// `staff_id`, `resident_id`, and `from`/`to` (RFC 3339).
    #[oai(path = "/admin/access-log", method = "get", tag = "Tag::Admin")]
    async fn access_log(
        &self,
        _auth: AdminAuth,
        staff_id: Query<Option<Uuid>>,
        resident_id: Query<Option<Uuid>>,
        from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        to: Query<Option<chrono::DateTime<chrono::Utc>>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<Vec<AccessEntry>>> {
        let rows = services::privacy::access_log(
            &self.state.ctx(),
            staff_id.0,
            resident_id.0,
            from.0,
            to.0,
            super::page_limit(limit.0),
        )
        .await?;
        Ok(Json(
            rows.into_iter()
                .map(|r| AccessEntry {
                    id: r.id,
                    staff_id: r.staff_id,
                    resident_id: r.resident_id,
                    ticket_id: r.ticket_id,
                    field: r.field,
                    reason: r.reason,
                    request_id: r.request_id,
                    at: r.at.into(),
                })
                .collect(),
        ))
    }

    /// A copy of the caller's data (PIPL Art. 45) as a ZIP: `data.json` with their profile,
    /// privacy agreements, tickets as they read them (public timeline, ratings), supports,
    /// subscriptions, inbox, and who revealed their contact data and when; `photos/` with their
    /// own photos. `privacy.exports_per_day` (3) copies a day (`429 rate_limited` with
    /// `Retry-After` beyond).
    #[oai(path = "/me/data", method = "get", tag = "Tag::Me")]
    async fn data_copy(&self, auth: ResidentAuth) -> ApiResult<DataCopy> {
        let ctx = self.state.ctx();
        let copy = services::privacy::export::gather(&ctx, auth.0).await?;
        let stream =
            services::privacy::export::zip_stream(copy, self.state.media.clone(), ctx.now());
        let day = crate::domain::calendar::beijing_date(ctx.now());
        Ok(DataCopy::Ok(
            Binary(Body::from_bytes_stream(stream)),
            "application/zip".into(),
            format!("attachment; filename=\"qiaomen-my-data-{day}.zip\""),
        ))
    }

    /// Closes the caller's account (PIPL Art. 47): `{confirm: true}`. Every token stops at once;
    /// after `privacy.deletion_grace_days` (15) the scheduler erases the openid, unionid and
    /// phone, masks names and phones in the resident's texts and deletes their photos, keeping
    /// the tickets (redacted) for the street's statistics. Until then, `POST /auth/wechat {code,
    /// restore: true}` reopens the account.
    #[oai(path = "/me/deletion", method = "post", tag = "Tag::Me")]
    async fn close_account(
        &self,
        auth: ResidentAuth,
        body: Json<DeletionBody>,
    ) -> ApiResult<Json<DeletionScheduled>> {
        if !body.confirm {
            return Err(ServiceError::rejected(
                crate::error::Code::InvalidField,
                "confirm",
                crate::error::bi("请确认注销（confirm: true）", "confirm with confirm: true"),
            )
            .into());
        }
        let closed = services::privacy::close(&self.state.ctx(), auth.0).await?;
        Ok(Json(DeletionScheduled {
            closed_at: closed.closed_at.into(),
            anonymise_at: closed.anonymise_at.into(),
        }))
    }

    /// The audit log (system administrators), newest first: every administrator's action and
    /// every staff login. Filter by `actor_id`, `action`, `target_id`, `from`/`to` (RFC 3339);
    /// `cursor` from the previous page. The database refuses to change or delete a row.
    #[oai(path = "/admin/audit-log", method = "get", tag = "Tag::Admin")]
    #[allow(clippy::too_many_arguments)]
    async fn audit_log(
        &self,
        _auth: AdminAuth,
        actor_id: Query<Option<Uuid>>,
        action: Query<Option<String>>,
        target_id: Query<Option<String>>,
        from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        to: Query<Option<chrono::DateTime<chrono::Utc>>>,
        cursor: Query<Option<String>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<AuditPage>> {
        let limit = super::page_limit(limit.0);
        let before = match cursor.0.as_deref() {
            Some(c) => Some(services::cursors::parse_keyset(c)?),
            None => None,
        };
        let rows = services::audit::list(
            &self.state.db,
            services::audit::Filter {
                actor: actor_id.0,
                action: bounded("action", action.0, 64)?,
                target_id: bounded("target_id", target_id.0, 128)?,
                from: from.0,
                to: to.0,
                before,
                limit: limit + 1,
            },
        )
        .await?;
        let more = rows.len() as u64 > limit;
        let items: Vec<AuditEntry> = rows
            .into_iter()
            .take(limit as usize)
            .map(|r| AuditEntry {
                id: r.id,
                at: r.at.into(),
                actor_staff_id: r.actor_staff_id,
                actor_login: r.actor_login,
                action: r.action,
                target_kind: r.target_kind,
                target_id: r.target_id,
                detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
                request_id: r.request_id,
            })
            .collect();
        let next_cursor = more
            .then(|| {
                items
                    .last()
                    .map(|l| services::cursors::keyset_value(l.at.0, l.id))
            })
            .flatten();
        Ok(Json(AuditPage { items, next_cursor }))
    }
}

/// A filter's value, refused (`422`) past `max` characters rather than dropped: a dropped filter
/// would answer with the whole log.
fn bounded(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ServiceError> {
    match value {
        Some(v) if v.chars().count() > max => Err(ServiceError::rejected(
            crate::error::Code::InvalidField,
            field,
            crate::error::bi(
                format_args!("最多 {max} 个字符"),
                format_args!("at most {max} characters"),
            ),
        )),
        other => Ok(other),
    }
}
