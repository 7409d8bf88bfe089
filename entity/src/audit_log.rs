//! The `audit_log` table: every administrator's action (areas, staff, categories, keys,
//! reveals, imports) and every staff login, appended; the database refuses to change or delete
//! a row.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    /// Who acted; none for a failed login to an unknown account.
    pub actor_staff_id: Option<Uuid>,
    /// Their login when they acted (kept as it was, should it change).
    pub actor_login: String,
    /// What was done: `staff.create`, `area.update`, `contact.reveal`, `login.failed`…
    pub action: String,
    /// What it was done to: `staff`, `area`, `category`, `open311_key`, `ticket`…
    pub target_kind: String,
    pub target_id: Option<String>,
    /// What changed, as JSON; never a password, token or key.
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    /// The request's `x-request-id`.
    pub request_id: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
