//! The login-failure window: after `max` failures for an account (existing or not) or from an
//! address within the window, further attempts get 429 until the window has passed, even with
//! the right password.
//!
//! The counts live in the database, so every replica counts together. A failure is recorded
//! with one conditional upsert that never takes a count past `max`; an attempt that fails once
//! the limit is reached answers 429, like a right password would, so attempts past the limit
//! learn nothing. Concurrent correct logins never count against each other.

use std::net::IpAddr;

use sea_orm::DatabaseConnection;
use service_kit::timestamp::Timestamp;

use crate::error::{Error, Result};
use crate::store::login_failures as store;

/// Whether an account has failed attempts counted in the current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailuresOnRecord(pub bool);

#[derive(Debug, Clone)]
pub struct LoginLimiter {
    db: DatabaseConnection,
    max_per_account: u32,
    max_per_addr: u32,
    window_secs: i64,
}

impl LoginLimiter {
    pub fn new(
        db: DatabaseConnection,
        max_per_account: u32,
        max_per_addr: u32,
        window_secs: u64,
    ) -> Self {
        LoginLimiter {
            db,
            max_per_account,
            max_per_addr,
            window_secs: i64::try_from(window_secs).unwrap_or(i64::MAX),
        }
    }

    fn buckets(&self, account_email: &str, addr: Option<IpAddr>) -> Vec<(String, u32)> {
        let mut buckets = vec![(format!("account:{account_email}"), self.max_per_account)];
        if let Some(ip) = addr {
            buckets.push((
                format!("addr:{}", service_kit::client_addr::limit_key(ip)),
                self.max_per_addr,
            ));
        }
        buckets
    }

    /// 429 if the account or the address has used up its failures in the current window;
    /// else whether the account has failures on record, which a success then clears (one query
    /// for both).
    pub async fn ensure_not_limited(
        &self,
        account_email: &str,
        addr: Option<IpAddr>,
    ) -> Result<FailuresOnRecord> {
        let now = Timestamp::now();
        let buckets = self.buckets(account_email, addr);
        let keys: Vec<String> = buckets.iter().map(|(key, _)| key.clone()).collect();
        let rows = store::counts(&self.db, &keys).await?;
        for (key, count, started) in &rows {
            let max = buckets
                .iter()
                .find_map(|(k, max)| (k == key).then_some(*max))
                .unwrap_or(u32::MAX);
            if self.in_window(*started, now) && *count >= i64::from(max) {
                return Err(self.limited(*started, now));
            }
        }
        Ok(FailuresOnRecord(
            rows.iter().any(|(key, _, _)| *key == keys[0]),
        ))
    }

    /// Records a failed attempt; 429 if the limit was already reached (the attempt is then not
    /// counted, and its answer is the same as a right password's would be).
    pub async fn failed(&self, account_email: &str, addr: Option<IpAddr>) -> Result<()> {
        let now = Timestamp::now();
        let window = self.window_secs.saturating_mul(1_000_000);
        let mut limited = None;
        for (bucket, max) in self.buckets(account_email, addr) {
            if store::record(&self.db, &bucket, max, window, now)
                .await?
                .is_none()
            {
                let started = store::count(&self.db, &bucket)
                    .await?
                    .map_or(now.micros(), |(_, started)| started);
                limited.get_or_insert(self.limited(started, now));
            }
        }
        limited.map_or(Ok(()), Err)
    }

    /// A successful login clears the account's count.
    pub async fn clear_account(&self, account_email: &str) -> Result<()> {
        Ok(store::clear(&self.db, &format!("account:{account_email}")).await?)
    }

    fn in_window(&self, started: i64, now: Timestamp) -> bool {
        Timestamp(started).plus_secs(self.window_secs) > now
    }

    fn limited(&self, started: i64, now: Timestamp) -> Error {
        let ends = Timestamp(started).plus_secs(self.window_secs);
        let wait_micros = ends.micros().saturating_sub(now.micros());
        Error::RateLimited {
            retry_after_secs: u64::try_from(wait_micros)
                .unwrap_or(0)
                .div_ceil(1_000_000)
                .max(1),
        }
    }

    /// Drops counters whose window has passed.
    pub async fn purge(&self) -> Result<u64> {
        let cutoff = Timestamp::now().plus_secs(-self.window_secs);
        Ok(store::purge(&self.db, cutoff).await?)
    }
}
