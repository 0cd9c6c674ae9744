//! The service over HTTP: started on a free port against a fresh database (SQLite, or
//! PostgreSQL when `TEST_DATABASE_URL` is set) and a JWKS server the test controls.
//! One test binary, one file per area.

// Tests fail loudly by design: unwrap, expect and panic are how a test says "this must hold".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod auth;
mod counts;
mod end_to_end;
mod helpers;
mod isolation;
mod pagination;
mod revocation;
mod service;
mod stack;
mod storage;
mod todos;
mod validation;
