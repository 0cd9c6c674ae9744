//! Persistence: sea-orm entities, migrations, and the queries the domain needs. Nothing above
//! this module writes SQL.

pub mod audit;
pub mod entities;
pub mod keys;
pub mod login_failures;
pub mod migrations;
pub mod reset_tokens;
pub mod sessions;
pub mod users;

use sea_orm::{DbBackend, Statement, Value};

/// A raw statement written with PostgreSQL's `$1` placeholders; SQLite reads them as `?1`.
pub(crate) fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Sqlite => sql.replace('$', "?"),
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}
