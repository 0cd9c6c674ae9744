use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub state: KeyState,
    pub bits: i32,
    pub public_n: String,
    pub public_e: String,
    pub private_key_encrypted: String,
    pub created_at: i64,
    pub activates_at: i64,
    pub retired_at: Option<i64>,
    pub delete_after: Option<i64>,
}

/// A key's place in its life: `next` (published, not signing) → `active` (signing) →
/// `retired` (published while its tokens live) → deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum KeyState {
    #[sea_orm(string_value = "next")]
    Next,
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "retired")]
    Retired,
}

impl KeyState {
    /// `next`, `active` or `retired`, as `keys list` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
