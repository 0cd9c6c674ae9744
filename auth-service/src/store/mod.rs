//! Persistence: sea-orm entities, migrations, and the queries the domain needs. Nothing above
//! this module writes SQL.

pub mod audit;
pub mod entities;
pub mod keys;
pub mod login_failures;
pub mod migrations;
pub mod reset_tokens;
pub mod revocations;
pub mod sessions;
pub mod users;

pub(crate) use service_kit::db::statement;
