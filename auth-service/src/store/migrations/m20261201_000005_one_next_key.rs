//! At most one `next` key: two `keys rotate` run at once both used to publish one. Extra
//! waiting keys left by that race are retired (still published, so anything they signed keeps
//! verifying, then deleted in a year) before a partial unique index makes a second impossible.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Same SQL on PostgreSQL and SQLite: keep the earliest waiting key.
        db.execute_unprepared(
            "UPDATE signing_keys SET state = 'retired', \
               retired_at = activates_at, delete_after = activates_at + 31536000000000 \
             WHERE state = 'next' AND kid <> (SELECT kid FROM signing_keys WHERE state = 'next' \
               ORDER BY created_at, kid LIMIT 1)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS signing_keys_one_next \
             ON signing_keys (state) WHERE state = 'next'",
        )
        .await?;
        Ok(())
    }
}
