//! The `subscription_grant` table: how many one-time subscription messages of a template a
//! resident has granted (in the mini-program) and not yet received.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "subscription_grant")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub resident_id: Uuid,
    pub template_id: String,
    pub remaining: i32,
    pub updated_at: DateTimeUtc,
    /// The resident refused the template (in the popup or in WeChat's settings).
    pub refused_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
