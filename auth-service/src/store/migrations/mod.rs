//! One migration per file; they run on PostgreSQL and SQLite alike.

use sea_orm_migration::prelude::*;

mod m20261123_000001_accounts;
mod m20261123_000002_sessions;
mod m20261123_000003_signing_keys;
mod m20261123_000004_audit_and_limits;
mod m20261201_000005_one_next_key;
mod m20261201_000006_revocations;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_accounts::Migration),
            Box::new(m20261123_000002_sessions::Migration),
            Box::new(m20261123_000003_signing_keys::Migration),
            Box::new(m20261123_000004_audit_and_limits::Migration),
            Box::new(m20261201_000005_one_next_key::Migration),
            Box::new(m20261201_000006_revocations::Migration),
        ]
    }
}
