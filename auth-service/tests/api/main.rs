//! One test binary: the real service on a random port, spoken to over HTTP, on SQLite or (with
//! `TEST_DATABASE_URL`) PostgreSQL, a fresh database per test.

// Tests fail loudly by design: unwrap, expect and panic are how a test says "this must hold".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod admin;
mod basics;
mod cli;
mod feed;
mod helpers;
mod keys;
mod limits;
mod reset;
mod safety;
mod sessions;
