//! The built binaries as separate processes on loopback.

// Tests fail loudly by design: unwrap, expect and panic are how a test says "this must hold".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod faults;
mod files;
mod flood;
mod helpers;
mod logs;
mod memory;
mod process;
mod recorder;
mod replicas;
mod revocation;
mod schema;
mod shutdown;
mod traces;
