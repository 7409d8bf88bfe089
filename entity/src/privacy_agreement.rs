//! The `privacy_agreement` table: a resident agreed to a version of the privacy notice.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "privacy_agreement")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub resident_id: Uuid,
    /// The notice's `version` (config/privacy.toml).
    pub version: String,
    /// The client that recorded it (its User-Agent, cut to 200 characters).
    pub client: Option<String>,
    pub agreed_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
