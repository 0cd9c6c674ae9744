use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revocations")]
pub struct Model {
    /// The feed's order: commit order (see `store::revocations::insert`).
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub kind: RevocationKind,
    /// The session id (`session`) or the user id (`user`).
    pub subject: String,
    pub user_id: String,
    pub reason: String,
    /// After a role change, the role now held.
    pub role: Option<String>,
    /// Tokens of the user issued before this instant are refused (`user`); when the session
    /// ended (`session`).
    pub not_before: i64,
    pub at: i64,
    /// After this, no token it refuses can be valid: purged.
    pub expires_at: i64,
}

/// What a revocation ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RevocationKind {
    /// Every token of one session.
    #[sea_orm(string_value = "session")]
    Session,
    /// Every token of a user issued before an instant.
    #[sea_orm(string_value = "user")]
    User,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
