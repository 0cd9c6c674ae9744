//! Abuse limits: the contract's login-failure window (in the database, so every replica counts
//! together) and per-address / per-account request rates on register, refresh and forgot (in
//! memory, per replica: they shed floods; the login window is the one that must be exact).

pub mod login;
pub mod rate;

pub use login::LoginLimiter;
pub use rate::RateLimits;
