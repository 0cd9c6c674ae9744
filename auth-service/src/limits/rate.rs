//! Request rates per address and per account, in memory (GCRA from `governor`).

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use service_kit::client_addr::limit_key;

use crate::config::Settings;
use crate::error::{Error, Result};

#[derive(Debug, Default)]
pub struct RateLimits {
    register_by_addr: Option<DefaultKeyedRateLimiter<String>>,
    refresh_by_addr: Option<DefaultKeyedRateLimiter<String>>,
    refresh_by_account: Option<DefaultKeyedRateLimiter<String>>,
    forgot_by_addr: Option<DefaultKeyedRateLimiter<String>>,
    forgot_by_account: Option<DefaultKeyedRateLimiter<String>>,
}

fn per_minute(n: u32) -> Option<DefaultKeyedRateLimiter<String>> {
    NonZeroU32::new(n).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

fn per_hour(n: u32) -> Option<DefaultKeyedRateLimiter<String>> {
    NonZeroU32::new(n).map(|n| RateLimiter::keyed(Quota::per_hour(n)))
}

/// `Ok` if `key` may go ahead, else 429 with the wait. A limit of 0 is off.
fn check(limiter: &Option<DefaultKeyedRateLimiter<String>>, key: String) -> Result<()> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter.check_key(&key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        Error::RateLimited {
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    })
}

impl RateLimits {
    pub fn from_settings(settings: &Settings) -> Self {
        RateLimits {
            register_by_addr: per_minute(settings.register_per_addr_per_min),
            refresh_by_addr: per_minute(settings.refresh_per_addr_per_min),
            refresh_by_account: per_minute(settings.refresh_per_account_per_min),
            forgot_by_addr: per_minute(settings.forgot_per_addr_per_min),
            forgot_by_account: per_hour(settings.forgot_per_account_per_hour),
        }
    }

    /// 429 if `addr` registers faster than its rate.
    pub fn check_register(&self, addr: Option<std::net::IpAddr>) -> Result<()> {
        addr.map_or(Ok(()), |ip| check(&self.register_by_addr, limit_key(ip)))
    }

    /// 429 if `addr` refreshes faster than its rate.
    pub fn check_refresh_from(&self, addr: Option<std::net::IpAddr>) -> Result<()> {
        addr.map_or(Ok(()), |ip| check(&self.refresh_by_addr, limit_key(ip)))
    }

    /// 429 if the account refreshes faster than its rate.
    pub fn check_refresh_for(&self, user_id: &str) -> Result<()> {
        check(&self.refresh_by_account, user_id.to_owned())
    }

    /// 429 if `addr` or the email asks for resets faster than their rates.
    pub fn check_forgot(&self, addr: Option<std::net::IpAddr>, email: &str) -> Result<()> {
        if let Some(ip) = addr {
            check(&self.forgot_by_addr, limit_key(ip))?;
        }
        check(&self.forgot_by_account, email.to_owned())
    }

    /// Forgets keys whose limits are back to full, so memory follows the active clients.
    pub fn shrink(&self) {
        for limiter in [
            &self.register_by_addr,
            &self.refresh_by_addr,
            &self.refresh_by_account,
            &self.forgot_by_addr,
            &self.forgot_by_account,
        ]
        .into_iter()
        .flatten()
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}
