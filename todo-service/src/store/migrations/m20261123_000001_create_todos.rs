//! `todos`, with the indexes behind every list: `(user_id, created_at, id)` for a user's own
//! list (and the admin list filtered by user), `(created_at, id)` for the admin list.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Todos {
    Table,
    Id,
    UserId,
    Title,
    Description,
    Completed,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Ids order lists (ties) and reports: compare them bytewise, whatever the database's
        // locale (SQLite's default collation already is).
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        let text_key = |name: Todos| {
            let mut column = ColumnDef::new(name);
            column.text().not_null();
            if postgres {
                column.extra("COLLATE \"C\"");
            }
            column
        };
        manager
            .create_table(
                Table::create()
                    .table(Todos::Table)
                    .if_not_exists()
                    .col(text_key(Todos::Id).primary_key())
                    .col(text_key(Todos::UserId))
                    .col(ColumnDef::new(Todos::Title).text().not_null())
                    .col(ColumnDef::new(Todos::Description).text().not_null())
                    .col(ColumnDef::new(Todos::Completed).boolean().not_null())
                    .col(ColumnDef::new(Todos::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Todos::UpdatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("todos_user_created_id")
                    .table(Todos::Table)
                    .col(Todos::UserId)
                    .col(Todos::CreatedAt)
                    .col(Todos::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("todos_created_id")
                    .table(Todos::Table)
                    .col(Todos::CreatedAt)
                    .col(Todos::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Todos::Table).to_owned())
            .await
    }
}
