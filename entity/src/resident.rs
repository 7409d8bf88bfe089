//! The `resident` table.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "resident")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub openid: String,
    pub unionid: Option<String>,
    pub phone: Option<String>,
    pub home_building_id: Option<Uuid>,
    /// The resident closed their account (PIPL Art. 47): their tokens stop working.
    pub closed_at: Option<DateTimeUtc>,
    /// When the scheduler anonymises a closed account (after `privacy.deletion_grace_days`).
    pub anonymise_at: Option<DateTimeUtc>,
    /// When it was anonymised: openid, unionid and phone erased, texts masked, photos deleted.
    pub anonymised_at: Option<DateTimeUtc>,
    /// Raised when the account is closed: tokens carry the version they were issued under, so
    /// those from before a closing never work again, even once the account is restored.
    pub token_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
