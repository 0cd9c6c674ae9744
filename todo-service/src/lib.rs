//! todo-service: each user's todos, behind access tokens verified locally against the auth
//! service's published keys (no call to the auth host per request).
//!
//! - [`config`]: the settings; [`cli`]: the command line; [`commands`]: what it runs.
//! - [`app`]: start-up ([`App::build`]) and serving ([`App::run_until_stopped`]).
//! - [`http`]: routes, handlers, the one error type, the OpenAPI document.
//! - [`todos`]: the domain (validation, pagination, reports), free of HTTP and SQL.
//! - [`store`]: sea-orm entities, migrations and owner-scoped queries.

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod http;
pub mod store;
pub mod todos;

pub use app::{App, StartError};
pub use config::Settings;
