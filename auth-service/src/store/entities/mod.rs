//! sea-orm entities, one per table. Times are microseconds since the epoch.

pub mod audit_event;
pub mod refresh_token;
pub mod reset_token;
pub mod revocation;
pub mod session;
pub mod signing_key;
pub mod user;
