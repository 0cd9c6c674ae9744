//! Times are stored as microseconds since the epoch (an exact, portable, sortable integer in
//! both PostgreSQL and SQLite) and shown as RFC 3339 UTC.

use serde::{Serialize, Serializer};
use time::OffsetDateTime;

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
        self.rfc3339().as_str().to_owned()
    }

    /// The same text without an allocation: a list response renders forty of them, and the
    /// generic formatter of `time` cost a tenth of such a request's instructions.
    pub fn rfc3339(self) -> Rfc3339Text {
        let mut text = Rfc3339Text {
            bytes: [0; RFC3339_MAX],
            len: 0,
        };
        let Some(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .ok()
            .filter(|t| (0..=9999).contains(&t.year()))
        else {
            // RFC 3339 has no year outside 0000–9999; no stored time is there.
            return text;
        };
        let (year, month, day) = t.to_calendar_date();
        let out = &mut text.bytes;
        put_digits(&mut out[0..4], u32::try_from(year).unwrap_or(0));
        out[4] = b'-';
        put_digits(&mut out[5..7], u32::from(u8::from(month)));
        out[7] = b'-';
        put_digits(&mut out[8..10], u32::from(day));
        out[10] = b'T';
        put_digits(&mut out[11..13], u32::from(t.hour()));
        out[13] = b':';
        put_digits(&mut out[14..16], u32::from(t.minute()));
        out[16] = b':';
        put_digits(&mut out[17..19], u32::from(t.second()));
        let mut len = 19;
        // As `time`'s RFC 3339: a fraction only when there is one, without trailing zeros.
        let mut micros = t.microsecond();
        if micros != 0 {
            let mut digits = 6;
            while micros % 10 == 0 {
                micros /= 10;
                digits -= 1;
            }
            out[len] = b'.';
            put_digits(&mut out[len + 1..len + 1 + digits], micros);
            len += 1 + digits;
        }
        out[len] = b'Z';
        text.len = len + 1;
        text
    }
}

const RFC3339_MAX: usize = "0000-00-00T00:00:00.000000Z".len();

/// A rendered [`Timestamp`], on the stack.
pub struct Rfc3339Text {
    bytes: [u8; RFC3339_MAX],
    len: usize,
}

impl Rfc3339Text {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// Writes `value` as exactly `out.len()` decimal digits, zero-padded.
fn put_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
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
        serializer.serialize_str(self.rfc3339().as_str())
    }
}

#[cfg(test)]
mod tests {
    use time::format_description::well_known::Rfc3339;

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

    /// What `time` renders, the reference the hand-written digits must match.
    fn reference(t: Timestamp) -> String {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0) * 1_000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default()
    }

    #[test]
    fn renders_as_times_rfc3339_does_across_its_range() {
        let edges = [
            0,
            1,
            10,
            120_000,
            999_999,
            1_000_000,
            -1,
            -62_167_219_200_000_000, // 0000-01-01T00:00:00Z
            253_402_300_799_999_999, // 9999-12-31T23:59:59.999999Z
            253_402_300_800_000_000, // year 10000: none
            -62_167_219_200_000_001, // year -1: none
            951_782_400_000_000,     // 2000-02-29
            4_107_542_400_000_000,   // 2100-03-01
        ];
        // A deterministic walk over the range, every step a different fraction.
        let mut value: i64 = -62_167_219_200_000_000;
        let mut walk = Vec::new();
        while value < 253_402_300_799_999_999 {
            walk.push(value);
            value += 3_155_760_000_123_457 / 7 + (value.rem_euclid(1_000_003));
        }
        for micros in edges.into_iter().chain(walk) {
            let t = Timestamp(micros);
            assert_eq!(t.rfc3339().as_str(), reference(t), "{micros}");
        }
    }
}
