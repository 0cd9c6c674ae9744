//! The login-failure window: after `max` failures for an account (existing or not) or from an
//! address within the window, further attempts get 429 until the window has passed.

use std::net::IpAddr;

use sea_orm::DatabaseConnection;
use service_kit::timestamp::Timestamp;

use crate::error::{Error, Result};
use crate::store::login_failures as store;

#[derive(Debug, Clone)]
pub struct LoginLimiter {
    db: DatabaseConnection,
    max_per_account: u32,
    max_per_addr: u32,
    window_secs: i64,
}

/// The slots an attempt holds while its password is checked.
#[derive(Debug)]
pub struct LoginSlot {
    account: String,
    addr: Option<String>,
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

    /// Takes a slot for the account and one for the address, or answers 429. Every attempt
    /// counts until proven a success, so concurrent attempts cannot exceed the limit.
    pub async fn reserve(&self, account_email: &str, addr: Option<IpAddr>) -> Result<LoginSlot> {
        let account = format!("account:{account_email}");
        self.take(&account, self.max_per_account).await?;
        let addr = addr.map(|ip| format!("addr:{ip}"));
        if let Some(addr_key) = &addr
            && let Err(limited) = self.take(addr_key, self.max_per_addr).await
        {
            store::release(&self.db, &account).await?;
            return Err(limited);
        }
        Ok(LoginSlot { account, addr })
    }

    async fn take(&self, key: &str, max: u32) -> Result<()> {
        let now = Timestamp::now();
        let window = self.window_secs.saturating_mul(1_000_000);
        if store::reserve(&self.db, key, max, window, now.micros())
            .await?
            .is_some()
        {
            return Ok(());
        }
        let started = store::window_start(&self.db, key)
            .await?
            .unwrap_or(now.micros());
        let ends = Timestamp(started).plus_secs(self.window_secs);
        let retry_after_secs = u64::try_from((ends.micros() - now.micros() + 999_999) / 1_000_000)
            .unwrap_or(1)
            .max(1);
        Err(Error::RateLimited { retry_after_secs })
    }

    /// The password was right: the account's count is cleared, the address keeps no failure.
    pub async fn succeeded(&self, slot: LoginSlot) -> Result<()> {
        store::clear(&self.db, &slot.account).await?;
        if let Some(addr) = &slot.addr {
            store::release(&self.db, addr).await?;
        }
        Ok(())
    }

    /// The attempt was not a failure (a deactivated account with the right password).
    pub async fn not_a_failure(&self, slot: LoginSlot) -> Result<()> {
        store::release(&self.db, &slot.account).await?;
        if let Some(addr) = &slot.addr {
            store::release(&self.db, addr).await?;
        }
        Ok(())
    }

    /// Forgets the failures of an account (after its password was reset).
    pub async fn clear_account(&self, account_email: &str) -> Result<()> {
        Ok(store::clear(&self.db, &format!("account:{account_email}")).await?)
    }

    /// Drops counters whose window has passed.
    pub async fn purge(&self) -> Result<u64> {
        let cutoff = Timestamp::now().plus_secs(-self.window_secs).micros();
        Ok(store::purge(&self.db, cutoff).await?)
    }
}
