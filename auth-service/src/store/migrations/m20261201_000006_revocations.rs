//! The revocation feed's events: what ended, in the order it was committed, kept until no token
//! it refuses can still be valid.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Revocations {
    Table,
    Seq,
    Kind,
    Subject,
    UserId,
    Reason,
    Role,
    NotBefore,
    At,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Revocations::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Revocations::Seq))
                    .col(string_len(Revocations::Kind, 16))
                    .col(string_len(Revocations::Subject, 64))
                    .col(string_len(Revocations::UserId, 36))
                    .col(string_len(Revocations::Reason, 32))
                    .col(string_len_null(Revocations::Role, 16))
                    .col(big_integer(Revocations::NotBefore))
                    .col(big_integer(Revocations::At))
                    .col(big_integer(Revocations::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("revocations_expires", vec![Revocations::ExpiresAt]),
            (
                "revocations_user",
                vec![Revocations::UserId, Revocations::NotBefore],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Revocations::Table).if_not_exists();
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }
}
