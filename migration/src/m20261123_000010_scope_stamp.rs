//! A change counter per holder of tickets (a grid, a handling area, an assignee), raised by the
//! database itself whenever a ticket held by it is inserted, changed or deleted, on the ticket's
//! holders before and after the change. A work list kept in memory is still current while the
//! sum of its holders' counters is what it was when the list was read: one small read instead
//! of the list's query, and no write path can forget to raise it, since a trigger does.
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// PostgreSQL: one function for the three kinds of change, the holders raised in id order so
/// that two transactions raising the same holders take their row locks in the same order.
const POSTGRES_UP: &str = r#"
CREATE FUNCTION scope_stamp_raise() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  holders uuid[] := '{}';
BEGIN
  IF TG_OP <> 'DELETE' THEN
    holders := holders || ARRAY[NEW.grid_id, NEW.handling_area_id, NEW.assignee_id];
  END IF;
  IF TG_OP <> 'INSERT' THEN
    holders := holders || ARRAY[OLD.grid_id, OLD.handling_area_id, OLD.assignee_id];
  END IF;
  INSERT INTO scope_stamp (holder_id, stamp)
    SELECT DISTINCT h, 1 FROM unnest(holders) AS h WHERE h IS NOT NULL ORDER BY h
  ON CONFLICT (holder_id) DO UPDATE SET stamp = scope_stamp.stamp + 1;
  RETURN NULL;
END
$$;
CREATE TRIGGER ticket_scope_stamp AFTER INSERT OR UPDATE OR DELETE ON ticket
  FOR EACH ROW EXECUTE FUNCTION scope_stamp_raise();
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER IF EXISTS ticket_scope_stamp ON ticket;
DROP FUNCTION IF EXISTS scope_stamp_raise();
"#;

/// SQLite: a trigger per kind of change (`UNION` drops repeated holders; writers are serial).
const SQLITE_UP: [&str; 3] = [
    r#"
CREATE TRIGGER ticket_scope_stamp_insert AFTER INSERT ON ticket BEGIN
  INSERT INTO scope_stamp (holder_id, stamp)
    SELECT h, 1 FROM (SELECT NEW.grid_id AS h UNION SELECT NEW.handling_area_id
      UNION SELECT NEW.assignee_id) WHERE h IS NOT NULL
  ON CONFLICT (holder_id) DO UPDATE SET stamp = stamp + 1;
END"#,
    r#"
CREATE TRIGGER ticket_scope_stamp_update AFTER UPDATE ON ticket BEGIN
  INSERT INTO scope_stamp (holder_id, stamp)
    SELECT h, 1 FROM (SELECT NEW.grid_id AS h UNION SELECT NEW.handling_area_id
      UNION SELECT NEW.assignee_id UNION SELECT OLD.grid_id UNION SELECT OLD.handling_area_id
      UNION SELECT OLD.assignee_id) WHERE h IS NOT NULL
  ON CONFLICT (holder_id) DO UPDATE SET stamp = stamp + 1;
END"#,
    r#"
CREATE TRIGGER ticket_scope_stamp_delete AFTER DELETE ON ticket BEGIN
  INSERT INTO scope_stamp (holder_id, stamp)
    SELECT h, 1 FROM (SELECT OLD.grid_id AS h UNION SELECT OLD.handling_area_id
      UNION SELECT OLD.assignee_id) WHERE h IS NOT NULL
  ON CONFLICT (holder_id) DO UPDATE SET stamp = stamp + 1;
END"#,
];

const SQLITE_DOWN: [&str; 3] = [
    "DROP TRIGGER IF EXISTS ticket_scope_stamp_insert",
    "DROP TRIGGER IF EXISTS ticket_scope_stamp_update",
    "DROP TRIGGER IF EXISTS ticket_scope_stamp_delete",
];

/// Runs the statements written for the connection's backend.
async fn execute(
    manager: &SchemaManager<'_>,
    sqlite: &[&str],
    postgres: &str,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Sqlite => {
            for sql in sqlite {
                db.execute_unprepared(sql).await?;
            }
        }
        DbBackend::Postgres => {
            db.execute_unprepared(postgres).await?;
        }
        other => {
            return Err(DbErr::Migration(format!(
                "no ticket triggers written for {other:?}"
            )));
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("scope_stamp")
                    .col(uuid("holder_id").primary_key())
                    .col(big_integer("stamp"))
                    .take(),
            )
            .await?;
        execute(manager, &SQLITE_UP, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute(manager, &SQLITE_DOWN, POSTGRES_DOWN).await?;
        manager
            .drop_table(Table::drop().table("scope_stamp").take())
            .await
    }
}
