//! The `category_model` table: a trained category model (naive Bayes over words, as JSON);
//! every node serves the newest.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "category_model")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub trained_at: DateTimeUtc,
    /// Texts it learnt from, and how many of them were the deployment's closed tickets.
    pub texts: i64,
    pub tickets: i64,
    pub categories: i32,
    #[sea_orm(column_type = "Text")]
    pub model: String,
}

impl ActiveModelBehavior for ActiveModel {}
