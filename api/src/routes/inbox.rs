//! The in-app inbox (`/me/notifications` for residents, `/staff/me/notifications` for staff):
//! every notification, whichever channel also delivered it; each caller reads and marks their
//! own only.
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};
use uuid::Uuid;

use super::{
    ApiResult, Tag,
    auth::{ResidentAuth, StaffAuth},
};
use crate::{
    error::{ApiError, Code},
    schemas::Time,
    services::{
        self,
        inbox::{Page, Recipient},
    },
    state::SharedState,
};

#[derive(Object)]
pub struct Notification {
    pub id: Uuid,
    #[oai(nullable)]
    pub ticket_id: Option<Uuid>,
    /// What happened: `accepted`, `resolved`, `rejected`, `escalated`, `auto_closed`,
    /// `assigned`, `reopened`, `overdue`, `praised`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub at: Time,
    pub read: bool,
}

#[derive(Object)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    /// Pass back as `cursor` for the next page; `null` on the last.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
    pub unread_count: u64,
}

impl From<Page> for NotificationPage {
    fn from(p: Page) -> Self {
        NotificationPage {
            items: p
                .items
                .into_iter()
                .map(|n| Notification {
                    id: n.id,
                    ticket_id: n.ticket_id,
                    kind: n.kind,
                    title: n.title,
                    body: n.body,
                    at: n.created_at.into(),
                    read: n.read_at.is_some(),
                })
                .collect(),
            next_cursor: p.next_cursor,
            unread_count: p.unread_count,
        }
    }
}

/// Which to mark read: `ids` (up to 100 of the caller's), or `all: true`.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ReadBody {
    pub ids: Option<Vec<Uuid>>,
    pub all: Option<bool>,
}

#[derive(Object)]
pub struct Unread {
    pub unread_count: u64,
}

pub struct InboxApi {
    pub state: SharedState,
}

impl InboxApi {
    async fn page(
        &self,
        to: Recipient,
        unread: Option<bool>,
        cursor: Option<String>,
        limit: Option<u64>,
    ) -> ApiResult<Json<NotificationPage>> {
        let page = services::inbox::list(
            &self.state.db,
            to,
            unread.unwrap_or(false),
            cursor.as_deref(),
            super::page_limit(limit),
        )
        .await?;
        Ok(Json(page.into()))
    }

    async fn read(&self, to: Recipient, body: ReadBody) -> ApiResult<Json<Unread>> {
        let all = body.all.unwrap_or(false);
        let ids = body.ids.unwrap_or_default();
        if (!all && ids.is_empty()) || ids.len() > 100 {
            return Err(ApiError::new(Code::InvalidField)
                .field("ids")
                .detail(crate::error::bi(
                    "请给出 1 至 100 个 ids，或 all: true",
                    "give 1 to 100 ids, or all: true",
                )));
        }
        let unread_count =
            services::inbox::mark_read(&self.state.db, to, &ids, all, self.state.clock.now())
                .await?;
        Ok(Json(Unread { unread_count }))
    }
}

#[OpenApi(tag = "Tag::Me")]
impl InboxApi {
    /// The resident's inbox, newest first (`unread=true`: unread only), with the unread count.
    #[oai(path = "/me/notifications", method = "get")]
    async fn resident_inbox(
        &self,
        auth: ResidentAuth,
        unread: Query<Option<bool>>,
        cursor: Query<Option<String>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<NotificationPage>> {
        self.page(Recipient::Resident(auth.0), unread.0, cursor.0, limit.0)
            .await
    }

    /// Marks the resident's notifications read; answers how many stay unread.
    #[oai(path = "/me/notifications/read", method = "post")]
    async fn resident_read(
        &self,
        auth: ResidentAuth,
        body: Json<ReadBody>,
    ) -> ApiResult<Json<Unread>> {
        self.read(Recipient::Resident(auth.0), body.0).await
    }

    /// The staff member's inbox, newest first, with the unread count.
    #[oai(path = "/staff/me/notifications", method = "get")]
    async fn staff_inbox(
        &self,
        auth: StaffAuth,
        unread: Query<Option<bool>>,
        cursor: Query<Option<String>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<NotificationPage>> {
        self.page(Recipient::Staff(auth.0), unread.0, cursor.0, limit.0)
            .await
    }

    /// Marks the staff member's notifications read; answers how many stay unread.
    #[oai(path = "/staff/me/notifications/read", method = "post")]
    async fn staff_read(&self, auth: StaffAuth, body: Json<ReadBody>) -> ApiResult<Json<Unread>> {
        self.read(Recipient::Staff(auth.0), body.0).await
    }
}
