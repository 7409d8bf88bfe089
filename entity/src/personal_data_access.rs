//! The `personal_data_access` table: a staff member revealed a resident's contact data (PIPL
//! Art. 51): who, whose, which field, why, in which request, when. Appended, never changed.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "personal_data_access")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub staff_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub ticket_id: Uuid,
    /// `contact_phone`.
    pub field: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    /// The request's `x-request-id`.
    pub request_id: Option<String>,
    pub at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
