//! The audit log, and the login-failure counters every replica shares.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    Event,
    UserId,
    Ip,
    Detail,
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Bucket,
    WindowStart,
    Count,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .if_not_exists()
                    .col(string_len(AuditEvents::Id, 36).primary_key())
                    .col(big_integer(AuditEvents::At))
                    .col(string_len(AuditEvents::Event, 40))
                    .col(string_len_null(AuditEvents::UserId, 36))
                    .col(string_len_null(AuditEvents::Ip, 45))
                    .col(text(AuditEvents::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_events_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::At)
                    .col(AuditEvents::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_events_user_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::UserId)
                    .col(AuditEvents::At)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .if_not_exists()
                    .col(string_len(LoginFailures::Bucket, 300).primary_key())
                    .col(big_integer(LoginFailures::WindowStart))
                    .col(integer(LoginFailures::Count))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
