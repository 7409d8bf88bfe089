//! The application state every handler shares.
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    cache::Cache,
    clients::wechat::WechatClient,
    config::Settings,
    metrics::Metrics,
    services::{
        Ctx, auth::TokenKeys, directory::DirectoryCache, timelines::TimelineCache,
        work_lists::WorkListCache,
    },
};

pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub directory: DirectoryCache,
    pub timelines: TimelineCache,
    pub work_lists: WorkListCache,
    pub wechat: WechatClient,
    pub wecom: crate::clients::wecom::WecomClient,
    pub tokens: TokenKeys,
    pub cache: Arc<dyn Cache>,
    pub media: Arc<dyn crate::storage::MediaStore>,
    pub clock: Arc<dyn crate::clock::Clock>,
    pub calendar: crate::domain::calendar::WorkCalendar,
    /// The privacy notice residents agree to (`config/privacy.toml`).
    pub notice: crate::config::PrivacyNotice,
    pub metrics: Metrics,
    /// Statistics read whole years of rollups: a few at a time keep memory flat under load
    /// while the others wait their turn.
    pub stats_permits: tokio::sync::Semaphore,
    pub passwords: crate::services::passwords::PasswordHasher,
    /// Word weights and the category model, as this node keeps them.
    pub texts: crate::services::text_models::TextModels,
}

impl AppState {
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            db: &self.db,
            cache: self.cache.as_ref(),
            clock: self.clock.as_ref(),
            wechat: &self.wechat,
            wecom: &self.wecom,
            calendar: &self.calendar,
            notice: &self.notice,
            directory: &self.directory,
            timelines: &self.timelines,
            work_lists: &self.work_lists,
            settings: &self.settings,
            passwords: &self.passwords,
            metrics: &self.metrics,
            media: self.media.as_ref(),
            texts: &self.texts,
            seen: Default::default(),
        }
    }
}

pub type SharedState = Arc<AppState>;
