//! Residents' rights and staff sessions (issue 24, parts 3, 4 and 6):
//!
//! - `resident.closed_at` / `anonymise_at` / `anonymised_at`: an account closed by its resident
//!   (tokens stop at once), anonymised by the scheduler after the grace period;
//!   `resident.token_version`, raised by closing, so a restored account's old tokens stay dead.
//! - `ticket.personal_data_removed_at`: the retention job removed the ticket's contact phone,
//!   exact point, room numbers and photos (PIPL Art. 19).
//! - `staff.token_version` / `must_change_password`: a password change ends every token issued
//!   before it; an account an administrator created or reset must choose its own password first.
//! - `audit_log`: every administrator's action, appended; triggers refuse to change or delete a
//!   row on both backends, so not even the application can rewrite it.
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_GUARDS: [&str; 2] = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
];

const POSTGRES_GUARD: &str = "
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "resident",
            vec![
                timestamp_with_time_zone_null("closed_at"),
                timestamp_with_time_zone_null("anonymise_at"),
                timestamp_with_time_zone_null("anonymised_at"),
                integer("token_version").default(0).take(),
            ],
        )
        .await?;
        add_columns(
            manager,
            "ticket",
            vec![timestamp_with_time_zone_null("personal_data_removed_at")],
        )
        .await?;
        add_columns(
            manager,
            "staff",
            vec![
                integer("token_version").default(0).take(),
                boolean("must_change_password").default(false).take(),
            ],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_resident_anonymise_at")
                    .table("resident")
                    .col("anonymise_at")
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_closed_at")
                    .table("ticket")
                    .col("closed_at")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(uuid("id").primary_key())
                    .col(timestamp_with_time_zone("at"))
                    .col(uuid_null("actor_staff_id"))
                    .col(string("actor_login"))
                    .col(string("action"))
                    .col(string("target_kind"))
                    .col(string_null("target_id"))
                    .col(text("detail"))
                    .col(string_null("request_id"))
                    .take(),
            )
            .await?;
        for (name, col) in [
            ("idx_audit_log_at", "at"),
            ("idx_audit_log_actor", "actor_staff_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("audit_log")
                        .col(col)
                        .take(),
                )
                .await?;
        }
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(POSTGRES_GUARD).await?;
            }
            _ => {
                for sql in SQLITE_GUARDS {
                    db.execute_unprepared(sql).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("audit_log").to_owned())
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION audit_log_append_only()")
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_ticket_closed_at")
                    .table("ticket")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_resident_anonymise_at")
                    .table("resident")
                    .to_owned(),
            )
            .await?;
        drop_columns(manager, "staff", &["token_version", "must_change_password"]).await?;
        drop_columns(manager, "ticket", &["personal_data_removed_at"]).await?;
        drop_columns(
            manager,
            "resident",
            &[
                "closed_at",
                "anonymise_at",
                "anonymised_at",
                "token_version",
            ],
        )
        .await
    }
}
