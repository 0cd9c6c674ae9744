//! The verifier's metrics: their descriptions, and the gauges read from its state on a scrape.

use metrics::{Unit, describe_counter, describe_gauge};

use crate::authenticator::Authenticator;

/// Describes (`# HELP`) the metrics this crate records, for whichever recorder is installed:
/// call it once after installing one.
pub fn describe_metrics() {
    describe_counter!(
        "token_rejections_total",
        Unit::Count,
        "Access tokens refused, by reason"
    );
    describe_counter!(
        "jwks_fetches_total",
        Unit::Count,
        "Fetches of the issuer's JWKS, by outcome (ok, error)"
    );
    describe_gauge!(
        "jwks_age_seconds",
        Unit::Seconds,
        "Time since the last successful JWKS fetch; keys are dropped past jwks_max_stale_seconds"
    );
    describe_gauge!(
        "jwks_max_stale_seconds",
        Unit::Seconds,
        "How old the keys held may grow while the issuer is unreachable"
    );
    describe_counter!(
        "revocation_events_total",
        Unit::Count,
        "Security events received on the revocation feed, by outcome (applied, rejected, unknown_type)"
    );
    describe_gauge!(
        "revocation_feed_connected",
        "1 while the revocation feed is connected and synced"
    );
    describe_gauge!(
        "revocation_feed_lag_seconds",
        Unit::Seconds,
        "Time since the revocation feed last proved current (an event or a heartbeat)"
    );
    describe_gauge!(
        "revocation_set_entries",
        Unit::Count,
        "Revocations held, by kind (session, user)"
    );
}

impl Authenticator {
    /// Sets the gauges read from its state: the age of the keys and of the revocation feed, and
    /// the revocations held. Call it when metrics are scraped.
    pub fn sample_gauges(&self) {
        if let Some(jwks) = self.jwks() {
            metrics::gauge!("jwks_age_seconds").set(jwks.age().as_secs_f64());
            metrics::gauge!("jwks_max_stale_seconds").set(jwks.config().max_stale.as_secs_f64());
        }
        if let Some(feed) = self.feed() {
            metrics::gauge!("revocation_feed_lag_seconds").set(feed.lag().as_secs_f64());
        }
        let (sessions, users) = self.revocations().len();
        metrics::gauge!("revocation_set_entries", "kind" => "session").set(sessions as f64);
        metrics::gauge!("revocation_set_entries", "kind" => "user").set(users as f64);
    }
}
