//! Sessions (one per login) and their refresh tokens (single use), and password-reset tokens.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    RevokedReason,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Jti,
    SessionId,
    UserId,
    IssuedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum ResetTokens {
    Table,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .if_not_exists()
                    .col(string_len(Sessions::Id, 36).primary_key())
                    .col(string_len(Sessions::UserId, 36))
                    .col(big_integer(Sessions::CreatedAt))
                    .col(big_integer(Sessions::ExpiresAt))
                    .col(big_integer_null(Sessions::RevokedAt))
                    .col(string_len_null(Sessions::RevokedReason, 32))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("sessions_user", Sessions::UserId),
            ("sessions_expires", Sessions::ExpiresAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Sessions::Table)
                        .col(col)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .if_not_exists()
                    .col(string_len(RefreshTokens::Jti, 36).primary_key())
                    .col(string_len(RefreshTokens::SessionId, 36))
                    .col(string_len(RefreshTokens::UserId, 36))
                    .col(big_integer(RefreshTokens::IssuedAt))
                    .col(big_integer(RefreshTokens::ExpiresAt))
                    .col(big_integer_null(RefreshTokens::UsedAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("refresh_tokens_session", RefreshTokens::SessionId),
            ("refresh_tokens_expires", RefreshTokens::ExpiresAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(RefreshTokens::Table)
                        .col(col)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ResetTokens::Table)
                    .if_not_exists()
                    .col(string_len(ResetTokens::TokenHash, 64).primary_key())
                    .col(string_len(ResetTokens::UserId, 36))
                    .col(big_integer(ResetTokens::CreatedAt))
                    .col(big_integer(ResetTokens::ExpiresAt))
                    .col(big_integer_null(ResetTokens::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reset_tokens_user")
                    .table(ResetTokens::Table)
                    .col(ResetTokens::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
