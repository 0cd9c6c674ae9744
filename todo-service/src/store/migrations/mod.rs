//! Schema migrations, one per file, applied in order (on start unless `TODO_AUTO_MIGRATE=false`,
//! and by the `migrate` subcommand).

use sea_orm_migration::prelude::*;

mod m20261123_000001_create_todos;
mod m20261123_000002_todo_counts;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_todos::Migration),
            Box::new(m20261123_000002_todo_counts::Migration),
        ]
    }
}
