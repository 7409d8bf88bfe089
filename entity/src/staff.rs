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
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
