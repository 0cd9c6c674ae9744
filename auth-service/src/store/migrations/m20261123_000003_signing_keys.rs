//! Signing keys: `next` (published, not signing) → `active` (signing) → `retired` (published
//! until every token it signed has expired) → deleted. The private key is stored only
//! encrypted. A partial unique index lets at most one key be active, which is what makes
//! replicas starting together on an empty database end with exactly one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    State,
    Bits,
    PublicN,
    PublicE,
    PrivateKeyEncrypted,
    CreatedAt,
    ActivatesAt,
    RetiredAt,
    DeleteAfter,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .if_not_exists()
                    .col(string_len(SigningKeys::Kid, 64).primary_key())
                    .col(string_len(SigningKeys::State, 16))
                    .col(integer(SigningKeys::Bits))
                    .col(text(SigningKeys::PublicN))
                    .col(text(SigningKeys::PublicE))
                    .col(text(SigningKeys::PrivateKeyEncrypted))
                    .col(big_integer(SigningKeys::CreatedAt))
                    .col(big_integer(SigningKeys::ActivatesAt))
                    .col(big_integer_null(SigningKeys::RetiredAt))
                    .col(big_integer_null(SigningKeys::DeleteAfter))
                    .to_owned(),
            )
            .await?;
        // Same SQL on PostgreSQL and SQLite; sea-query has no builder for partial indexes.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS signing_keys_one_active \
                 ON signing_keys (state) WHERE state = 'active'",
            )
            .await?;
        Ok(())
    }
}
