//! The core schema: the area tree, buildings, people, categories, tickets and their history.
//!
//! Timestamps are `timestamp with time zone` (UTC); ids are UUIDs; enumerated values are short
//! strings checked by the application's domain types.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    from_table: &'static str,
    from_col: &'static str,
    to_table: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(from_table, from_col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .take()
}

fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("idx_{table}_{}", cols.join("_")))
        .table(table);
    for col in cols {
        stmt.col(*col);
    }
    stmt.take()
}

fn created_updated(table: TableCreateStatement) -> TableCreateStatement {
    let mut table = table;
    table
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"));
    table
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                created_updated(
                    Table::create()
                        .table("area")
                        .col(pk_uuid("id"))
                        .col(string_len("kind", 16))
                        .col(string_len("name", 100))
                        .col(uuid_null("parent_id"))
                        .col(string_len_null("code", 64).unique_key())
                        .col(text_null("boundary"))
                        .foreign_key(&mut fk("area", "parent_id", "area"))
                        .take(),
                )
                .take(),
            )
            .await?;
        manager.create_index(index("area", &["parent_id"])).await?;

        // One row whose generation moves whenever an area or building changes, so every API node
        // knows when to rebuild its in-memory routing index.
        manager
            .create_table(
                Table::create()
                    .table("directory_version")
                    .col(integer("id").primary_key())
                    .col(big_integer("generation"))
                    .take(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table("directory_version")
                    .columns(["id", "generation"])
                    .values_panic([1.into(), 0i64.into()])
                    .take(),
            )
            .await?;

        manager
            .create_table(
                created_updated(
                    Table::create()
                        .table("building")
                        .col(pk_uuid("id"))
                        .col(string_len("name", 100))
                        .col(uuid("grid_id"))
                        .col(string_len_null("address", 200))
                        .col(double_null("lat"))
                        .col(double_null("lng"))
                        .foreign_key(&mut fk("building", "grid_id", "area"))
                        .take(),
                )
                .take(),
            )
            .await?;
        manager
            .create_index(index("building", &["grid_id"]))
            .await?;

        manager
            .create_table(
                created_updated(
                    Table::create()
                        .table("resident")
                        .col(pk_uuid("id"))
                        .col(string_len_uniq("openid", 64))
                        .col(string_len_null("unionid", 64))
                        .col(string_len_null("phone", 20))
                        .col(uuid_null("home_building_id"))
                        .foreign_key(&mut fk("resident", "home_building_id", "building"))
                        .take(),
                )
                .take(),
            )
            .await?;

        manager
            .create_table(
                created_updated(
                    Table::create()
                        .table("staff")
                        .col(pk_uuid("id"))
                        .col(string_len("name", 50))
                        .col(string_len_uniq("login", 64))
                        .col(string_len("password_hash", 200))
                        .col(string_len_null("openid", 64).unique_key())
                        .col(string_len("status", 16))
                        .take(),
                )
                .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("staff_assignment")
                    .col(pk_uuid("id"))
                    .col(uuid("staff_id"))
                    // Empty for a system admin, whose scope is everything.
                    .col(uuid_null("area_id"))
                    .col(string_len("role", 32))
                    .col(string_len_null("department", 64))
                    .col(text("skills"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("staff_assignment", "staff_id", "staff"))
                    .foreign_key(&mut fk("staff_assignment", "area_id", "area"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                index("staff_assignment", &["staff_id", "area_id", "role"])
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(index("staff_assignment", &["area_id", "role"]))
            .await?;

        manager
            .create_table(
                created_updated(
                    Table::create()
                        .table("category")
                        .col(pk_uuid("id"))
                        .col(string_len_uniq("code", 32))
                        .col(string_len("name", 50))
                        .col(string_len("group_name", 50))
                        .col(string_len("handling_level", 16))
                        .col(integer("response_minutes"))
                        .col(integer("resolution_hours"))
                        .col(boolean("active"))
                        .take(),
                )
                .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("ticket_number_seq")
                    .col(string_len("day", 8).primary_key())
                    .col(big_integer("last"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                created_updated(
                    Table::create()
                        .table("ticket")
                        .col(pk_uuid("id"))
                        .col(string_len_uniq("number", 32))
                        .col(string_len("kind", 16))
                        .col(uuid("category_id"))
                        .col(string_len_null("title", 100))
                        .col(text("description"))
                        .col(double_null("lat"))
                        .col(double_null("lng"))
                        .col(string_len_null("coord_system", 8))
                        .col(string_len_null("address_text", 200))
                        .col(uuid_null("building_id"))
                        .col(uuid_null("grid_id"))
                        .col(uuid_null("handling_area_id"))
                        .col(uuid_null("assignee_id"))
                        .col(string_len("status", 24))
                        .col(string_len("priority", 16))
                        .col(boolean("anonymous"))
                        .col(string_len_null("contact_phone", 20))
                        .col(string_len("channel", 16))
                        .col(uuid_null("resident_id"))
                        .col(uuid_null("created_by_staff_id"))
                        .col(timestamp_with_time_zone_null("response_due_at"))
                        .col(timestamp_with_time_zone_null("resolution_due_at"))
                        .col(timestamp_with_time_zone("submitted_at"))
                        .col(timestamp_with_time_zone_null("accepted_at"))
                        .col(timestamp_with_time_zone_null("resolved_at"))
                        .col(timestamp_with_time_zone_null("closed_at"))
                        .col(integer("reopen_count"))
                        .col(boolean("return_visit_required"))
                        .col(uuid_null("duplicate_of"))
                        .col(string_len_null("reject_reason", 500))
                        .col(integer("event_count"))
                        .col(integer("version"))
                        .foreign_key(&mut fk("ticket", "category_id", "category"))
                        .foreign_key(&mut fk("ticket", "building_id", "building"))
                        .foreign_key(&mut fk("ticket", "grid_id", "area"))
                        .foreign_key(&mut fk("ticket", "handling_area_id", "area"))
                        .foreign_key(&mut fk("ticket", "assignee_id", "staff"))
                        .foreign_key(&mut fk("ticket", "resident_id", "resident"))
                        .foreign_key(&mut fk("ticket", "duplicate_of", "ticket"))
                        .take(),
                )
                .take(),
            )
            .await?;
        for cols in [
            &["resident_id", "created_at"][..],
            &["assignee_id", "status"],
            &["grid_id", "status"],
            &["handling_area_id", "status"],
            &["status", "created_at"],
            &["category_id"],
        ] {
            manager.create_index(index("ticket", cols)).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("ticket_event")
                    .col(pk_uuid("id"))
                    .col(uuid("ticket_id"))
                    .col(integer("seq"))
                    .col(string_len("actor_kind", 16))
                    .col(uuid_null("actor_id"))
                    .col(string_len("action", 32))
                    .col(string_len_null("from_status", 24))
                    .col(string_len_null("to_status", 24))
                    .col(text_null("note"))
                    .col(string_len("visibility", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("ticket_event", "ticket_id", "ticket"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("ticket_event", &["ticket_id", "seq"]).unique().take())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("rating")
                    .col(pk_uuid("id"))
                    .col(uuid("ticket_id"))
                    .col(integer("round"))
                    .col(uuid("resident_id"))
                    .col(string_len("level", 24))
                    .col(small_integer_null("score"))
                    .col(string_len_null("comment", 500))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("rating", "ticket_id", "ticket"))
                    .foreign_key(&mut fk("rating", "resident_id", "resident"))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("rating", &["ticket_id", "round"]).unique().take())
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "rating",
            "ticket_event",
            "ticket",
            "ticket_number_seq",
            "category",
            "staff_assignment",
            "staff",
            "resident",
            "building",
            "directory_version",
            "area",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
