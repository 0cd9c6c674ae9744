//! What both services do the same way, written once: settings helpers, problem+json and JSON
//! extraction, request ids and request spans, metrics, health and readiness, the database
//! connection and locked migrations, serving with timeouts and a graceful drain, the binaries'
//! start.

pub mod client_addr;
pub mod db;
pub mod field;
pub mod health;
pub mod json;
pub mod json_log;
pub mod layers;
pub mod log_writer;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod private_fs;
pub mod probe;
pub mod problem;
pub mod serve;
pub mod settings;
pub mod startup;
pub mod telemetry;
#[cfg(feature = "test-util")]
pub mod test_cli;
#[cfg(feature = "test-util")]
pub mod test_db;
#[cfg(feature = "test-util")]
pub mod test_http;
pub mod text;
pub mod timestamp;
pub mod trace;

pub use shared_claims::{FieldError, Problem};
