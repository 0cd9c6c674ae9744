//! Times are stored as microseconds since the epoch (an exact, portable, sortable integer in
//! both PostgreSQL and SQLite) and shown as RFC 3339 UTC.

use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        Timestamp(i64::try_from(now.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX))
    }

    pub fn from_unix_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000))
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn unix_secs(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    pub fn plus_secs(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_add(secs.saturating_mul(1_000_000)))
    }

    /// RFC 3339 in UTC with microseconds, e.g. `2026-11-23T11:16:33.123456Z`.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default()
    }
}

/// Stored as its microseconds, whatever the database.
impl From<Timestamp> for sea_orm::Value {
    fn from(value: Timestamp) -> Self {
        value.0.into()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rfc3339_utc() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp(1_700_000_000_123_456).to_rfc3339(),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(Timestamp::from_unix_secs(5).unix_secs(), 5);
    }
}
