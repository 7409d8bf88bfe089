//! The `staff` table.
use sea_orm::entity::prelude::*;

use crate::enums::StaffStatus;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    #[sea_orm(unique)]
    pub login: String,
    pub password_hash: String,
    pub openid: Option<String>,
    /// Their 企业微信 userid: staff messages go there as application messages.
    pub wecom_userid: Option<String>,
    pub status: StaffStatus,
    /// Raised by every password change: tokens carry the version they were issued under.
    pub token_version: i32,
    /// An account an administrator created or reset: its holder must choose a password first.
    pub must_change_password: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
