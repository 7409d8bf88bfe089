//! Adding and dropping columns one statement at a time (SQLite alters one column per
//! statement).
use sea_orm_migration::prelude::*;

pub(crate) async fn add_columns(
    manager: &SchemaManager<'_>,
    table: &str,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    for column in columns {
        manager
            .alter_table(
                Table::alter()
                    .table(table.to_owned())
                    .add_column(column)
                    .take(),
            )
            .await?;
    }
    Ok(())
}

pub(crate) async fn drop_columns(
    manager: &SchemaManager<'_>,
    table: &str,
    columns: &[&str],
) -> Result<(), DbErr> {
    for column in columns {
        manager
            .alter_table(
                Table::alter()
                    .table(table.to_owned())
                    .drop_column(Alias::new(*column))
                    .take(),
            )
            .await?;
    }
    Ok(())
}
