//! Descriptions (`# HELP`) of the metrics the auth-service records, beside one another so that
//! `/metrics` and docs/OPERATIONS.md can be read against one list.

use metrics::{Unit, describe_counter, describe_gauge};

pub fn describe() {
    // Its bearer routes verify tokens with the shared verifier, which counts its rejections.
    shared_claims::describe_metrics();
    describe_counter!(
        "logins_total",
        Unit::Count,
        "Login attempts, by outcome (succeeded, failed, deactivated, limited)"
    );
    describe_counter!(
        "refreshes_total",
        Unit::Count,
        "Refresh attempts, by outcome (succeeded, invalid, revoked, reuse_detected)"
    );
    describe_counter!(
        "password_changes_total",
        Unit::Count,
        "Password changes, by outcome (changed, wrong_password)"
    );
    describe_gauge!(
        "argon2_queue_depth",
        Unit::Count,
        "Password hashes waiting for or holding a hashing slot"
    );
    describe_counter!(
        "argon2_rejected_total",
        Unit::Count,
        "Requests answered 503 because the hashing queue was full"
    );
    describe_counter!(
        "audit_write_failures_total",
        Unit::Count,
        "Audit events that could not be written"
    );
    describe_counter!(
        "key_refresh_failures_total",
        Unit::Count,
        "Failed reloads of the signing keys from the database"
    );
    describe_counter!(
        "reset_requests_dropped_total",
        Unit::Count,
        "Reset requests refused because the request queue was full"
    );
    describe_counter!(
        "reset_requests_failed_total",
        Unit::Count,
        "Reset requests the worker could not handle (e.g. the database failed)"
    );
    describe_counter!(
        "reset_webhook_deliveries_total",
        Unit::Count,
        "Reset tokens delivered to the webhook"
    );
    describe_counter!(
        "reset_webhook_failures_total",
        Unit::Count,
        "Reset tokens never delivered, by stage (queue_full, delivery)"
    );
    describe_counter!(
        "revocation_feed_events_total",
        Unit::Count,
        "Revocations published on this replica's feed"
    );
    describe_counter!(
        "revocation_feed_failures_total",
        Unit::Count,
        "Failed reads of new revocations from the database"
    );
    describe_counter!(
        "revocation_feed_subscriptions_total",
        Unit::Count,
        "Subscriptions to this replica's revocation feed"
    );
    describe_gauge!(
        "revocation_feed_subscribers",
        Unit::Count,
        "Verifiers following this replica's revocation feed now"
    );
}
