//! The request context: who is asking, and what the services need from the running app for
//! one request (or one scheduler pass): the database, the cache, the clock, the directory as this
//! request first saw it, and the in-memory layers.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use super::{
    ServiceResult,
    directory::{Directory, DirectoryCache},
    timelines::TimelineCache,
};
use crate::{
    config::Settings,
    domain::{ActorKind, access::StaffScope},
};

/// Who is asking.
#[derive(Clone, Debug)]
pub enum Caller {
    Resident(Uuid),
    Staff(StaffScope),
}

impl Caller {
    pub fn actor(&self) -> (ActorKind, Option<Uuid>) {
        match self {
            Caller::Resident(id) => (ActorKind::Resident, Some(*id)),
            Caller::Staff(s) => (ActorKind::Staff, Some(s.staff_id)),
        }
    }
}

/// What the services need from the running app.
pub struct Ctx<'a> {
    pub db: &'a DatabaseConnection,
    pub cache: &'a dyn crate::cache::Cache,
    pub clock: &'a dyn crate::clock::Clock,
    pub wechat: &'a crate::clients::wechat::WechatClient,
    pub wecom: &'a crate::clients::wecom::WecomClient,
    pub calendar: &'a crate::domain::calendar::WorkCalendar,
    pub notice: &'a crate::config::PrivacyNotice,
    pub directory: &'a DirectoryCache,
    pub timelines: &'a TimelineCache,
    pub work_lists: &'a super::work_lists::WorkListCache,
    pub settings: &'a Settings,
    pub passwords: &'a super::passwords::PasswordHasher,
    pub metrics: &'a crate::metrics::Metrics,
    pub media: &'a dyn crate::storage::MediaStore,
    pub texts: &'a super::text_models::TextModels,
    /// The directory as this request first saw it (see [`Ctx::dir`]).
    pub seen: std::sync::OnceLock<Arc<Directory>>,
}

impl Ctx<'_> {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The directory, checked against the database once per request (a `Ctx` lives for one
    /// request or one scheduler pass): authentication and the service share one check.
    pub async fn dir(&self) -> ServiceResult<Arc<Directory>> {
        self.dir_in(self.db).await
    }

    /// [`Ctx::dir`] read on `db`: inside a transaction, pass the transaction (a second pooled
    /// connection there can starve the pool).
    pub async fn dir_in(&self, db: &impl ConnectionTrait) -> ServiceResult<Arc<Directory>> {
        if let Some(dir) = self.seen.get() {
            return Ok(dir.clone());
        }
        let dir = self.directory.get(db).await?;
        Ok(self.seen.get_or_init(|| dir).clone())
    }

    /// Makes the directory as of `generation`, read by this request beside a row it needed anyway,
    /// the request's directory check: [`Ctx::dir`] then reads nothing.
    pub(crate) async fn dir_at(&self, generation: i64) -> ServiceResult<Arc<Directory>> {
        if let Some(dir) = self.seen.get() {
            return Ok(dir.clone());
        }
        let dir = self.directory.at(self.db, generation).await?;
        Ok(self.seen.get_or_init(|| dir).clone())
    }
}
