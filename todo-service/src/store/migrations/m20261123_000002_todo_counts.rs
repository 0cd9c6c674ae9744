//! Per-owner counts, kept in step with `todos` by every write: a list's `total` and the report
//! then cost one primary-key read or one scan of owners, never a count over a user's todos (a
//! user with 100,000 todos pages as fast as one with ten).

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TodoCounts {
    Table,
    UserId,
    Total,
    Completed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut user_id = ColumnDef::new(TodoCounts::UserId);
        user_id.text().not_null().primary_key();
        // Reports order by owner: bytewise, as the todos' ids and owners are.
        if manager.get_database_backend() == DbBackend::Postgres {
            user_id.extra("COLLATE \"C\"");
        }
        manager
            .create_table(
                Table::create()
                    .table(TodoCounts::Table)
                    .if_not_exists()
                    .col(&mut user_id)
                    .col(ColumnDef::new(TodoCounts::Total).big_integer().not_null())
                    .col(
                        ColumnDef::new(TodoCounts::Completed)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Existing todos are counted once, here.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO todo_counts (user_id, total, completed) \
                 SELECT user_id, COUNT(*), SUM(CASE WHEN completed THEN 1 ELSE 0 END) \
                 FROM todos GROUP BY user_id",
            )
            .await?;
        Ok(())
    }
}
