//! Work lists read newest first within a scope and a status: `(scope column, status,
//! created_at, id)` lets each arm of a work list (a worker's own tickets, a grid's, an area's)
//! be read in page order straight off the index, a page's worth at a time, instead of every
//! open ticket of the scope being fetched and sorted. They replace the `(column, status)`
//! indexes, which are their prefixes, as `(category_id, status)` already covers
//! `(category_id)`: fewer indexes for every insert to update and every query to plan.
//! `duplicate_of` gets the index every staff action needs to find a ticket's followers (and a
//! delete needs for the foreign key).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (old index and its columns, new index and its leading columns; `created_at, id` follow).
type Replaced = (
    (&'static str, &'static [&'static str]),
    (&'static str, &'static [&'static str]),
);

const REPLACED: [Replaced; 4] = [
    (
        ("idx_ticket_assignee_id_status", &["assignee_id", "status"]),
        (
            "idx_ticket_assignee_status_created",
            &["assignee_id", "status"],
        ),
    ),
    (
        ("idx_ticket_grid_id_status", &["grid_id", "status"]),
        ("idx_ticket_grid_status_created", &["grid_id", "status"]),
    ),
    (
        (
            "idx_ticket_handling_area_id_status",
            &["handling_area_id", "status"],
        ),
        (
            "idx_ticket_area_status_created",
            &["handling_area_id", "status"],
        ),
    ),
    (
        ("idx_ticket_status_created_at", &["status", "created_at"]),
        ("idx_ticket_status_created", &["status"]),
    ),
];

fn create(name: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table("ticket");
    for col in cols {
        stmt.col(*col);
    }
    stmt.take()
}

fn drop(name: &'static str) -> IndexDropStatement {
    Index::drop().name(name).table("ticket").to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for ((old, _), (new, lead)) in REPLACED {
            let cols: Vec<&'static str> =
                lead.iter().copied().chain(["created_at", "id"]).collect();
            manager.create_index(create(new, &cols)).await?;
            manager.drop_index(drop(old)).await?;
        }
        manager.drop_index(drop("idx_ticket_category_id")).await?;
        manager
            .create_index(create("idx_ticket_duplicate_of", &["duplicate_of"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(drop("idx_ticket_duplicate_of")).await?;
        manager
            .create_index(create("idx_ticket_category_id", &["category_id"]))
            .await?;
        for ((old, cols), (new, _)) in REPLACED {
            manager.create_index(create(old, cols)).await?;
            manager.drop_index(drop(new)).await?;
        }
        Ok(())
    }
}
