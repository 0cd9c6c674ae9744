//! The auth service: accounts (argon2id), sessions with single-use refresh tokens, RS256 access
//! tokens, signing keys published as a JWKS before they sign, password reset, admin and audit.
//!
//! `main.rs` parses the command line and calls into here; tests build an [`App`] on port 0.

pub mod accounts;
pub mod app;
pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod http;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod reset;
pub mod revocations;
pub mod safeguards;
pub mod sessions;
pub mod store;

pub use app::{App, StartError};
pub use config::Settings;
