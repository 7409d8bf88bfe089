//! Database migrations for Qiaomen. Each runs on SQLite and PostgreSQL, up and down.
pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_core_tables;
mod m20261122_000002_idempotency_and_attachments;
mod m20261122_000003_sla_scheduler;
mod m20261122_000004_outbox_sending_and_moderation;
mod m20261122_000005_open311;
mod m20261122_000006_visits;
mod m20261122_000007_public_support;
mod m20261122_000008_stat_day;
mod m20261123_000009_work_list_order;
mod m20261123_000010_scope_stamp;
mod m20261128_000011_photo_visibility_and_nearby_index;
mod m20261128_000012_fair_rates;
mod m20261128_000013_read_side;
mod m20261128_000014_inbox_and_claims;
mod m20261128_000015_dashboard_categories;
mod m20261128_000016_privacy_agreement;
mod m20261128_000017_privacy_rights;
mod m20261128_000018_returns;
mod m20261128_000019_supervision_and_extensions;
mod m20261128_000020_intake_and_call_backs;
mod m20261128_000021_topics_and_category_model;

mod columns;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_core_tables::Migration),
            Box::new(m20261122_000002_idempotency_and_attachments::Migration),
            Box::new(m20261122_000003_sla_scheduler::Migration),
            Box::new(m20261122_000004_outbox_sending_and_moderation::Migration),
            Box::new(m20261122_000005_open311::Migration),
            Box::new(m20261122_000006_visits::Migration),
            Box::new(m20261122_000007_public_support::Migration),
            Box::new(m20261122_000008_stat_day::Migration),
            Box::new(m20261123_000009_work_list_order::Migration),
            Box::new(m20261123_000010_scope_stamp::Migration),
            Box::new(m20261128_000011_photo_visibility_and_nearby_index::Migration),
            Box::new(m20261128_000012_fair_rates::Migration),
            Box::new(m20261128_000013_read_side::Migration),
            Box::new(m20261128_000014_inbox_and_claims::Migration),
            Box::new(m20261128_000015_dashboard_categories::Migration),
            Box::new(m20261128_000016_privacy_agreement::Migration),
            Box::new(m20261128_000017_privacy_rights::Migration),
            Box::new(m20261128_000018_returns::Migration),
            Box::new(m20261128_000019_supervision_and_extensions::Migration),
            Box::new(m20261128_000020_intake_and_call_backs::Migration),
            Box::new(m20261128_000021_topics_and_category_model::Migration),
        ]
    }
}
