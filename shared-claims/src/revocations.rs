//! What the issuer has ended, held by every verifier and consulted on every authentication —
//! a token seen before included — at the cost of two hash lookups. Entries expire by
//! themselves once no token they refuse could still be accepted.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::{PoisonError, RwLock};

use crate::claims::AccessClaims;

/// One thing the issuer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// Every token of session `sid` (logout, refresh-token reuse, a password change for the
    /// user's other sessions).
    Session {
        /// The session (`sid` claim).
        sid: String,
        /// When no token of it can be valid any more (microseconds since the epoch).
        until_us: i64,
    },
    /// Every token of user `sub` issued before `not_before_us` (logout everywhere, a reset, a
    /// deactivation, a role change).
    User {
        /// The user (`sub` claim).
        sub: String,
        /// Tokens issued before this instant (microseconds since the epoch) are refused.
        not_before_us: i64,
        /// When no token it refuses can be valid any more (microseconds since the epoch).
        until_us: i64,
    },
}

/// An id as a 128-bit key: a UUID is its own bits (what the issuer uses for `sub` and `sid`);
/// anything else is hashed to 128 bits. 24–40 bytes an entry, whatever the id's length.
type Key = u128;

#[derive(Debug, Clone, Copy)]
struct UserEntry {
    not_before_us: i64,
    until_us: i64,
}

#[derive(Debug, Default)]
struct Entries {
    /// Session key → until.
    sessions: HashMap<Key, i64>,
    users: HashMap<Key, UserEntry>,
}

/// The revocations a verifier holds.
#[derive(Debug)]
pub struct RevocationSet {
    entries: RwLock<Entries>,
    hashing: (RandomState, RandomState),
}

impl Default for RevocationSet {
    fn default() -> Self {
        RevocationSet {
            entries: RwLock::default(),
            hashing: (RandomState::new(), RandomState::new()),
        }
    }
}

impl RevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(&self, id: &str) -> Key {
        if let Some(uuid) = uuid_bits(id) {
            return uuid;
        }
        let half = |state: &RandomState| {
            let mut hasher = state.build_hasher();
            hasher.write(id.as_bytes());
            u128::from(hasher.finish())
        };
        // Never a UUID's bits in practice, and a collision between two foreign ids would need
        // both 64-bit halves to collide.
        (half(&self.hashing.0) << 64) | half(&self.hashing.1)
    }

    /// Adds `revocation` (idempotent: a later or wider one of the same subject wins).
    pub fn apply(&self, revocation: &Revocation) {
        let mut entries = self.write();
        match revocation {
            Revocation::Session { sid, until_us } => {
                let until = entries.sessions.entry(self.key(sid)).or_insert(*until_us);
                *until = (*until).max(*until_us);
            }
            Revocation::User {
                sub,
                not_before_us,
                until_us,
            } => {
                let entry = entries.users.entry(self.key(sub)).or_insert(UserEntry {
                    not_before_us: *not_before_us,
                    until_us: *until_us,
                });
                entry.not_before_us = entry.not_before_us.max(*not_before_us);
                entry.until_us = entry.until_us.max(*until_us);
            }
        }
    }

    /// Whether a token with these claims was ended: its session was, or its user's tokens
    /// issued before an instant after its own issue time were.
    pub fn refuses(&self, claims: &AccessClaims) -> bool {
        let entries = self.read();
        if entries.sessions.is_empty() && entries.users.is_empty() {
            return false;
        }
        if entries.sessions.contains_key(&self.key(&claims.sid)) {
            return true;
        }
        entries
            .users
            .get(&self.key(&claims.sub))
            .is_some_and(|user| claims.issued_at_micros() < user.not_before_us)
    }

    /// Forgets the entries no token can outlive any more; returns how many.
    pub fn purge(&self, now_us: i64) -> usize {
        let mut entries = self.write();
        let before = entries.sessions.len() + entries.users.len();
        entries.sessions.retain(|_, until| *until > now_us);
        entries.users.retain(|_, user| user.until_us > now_us);
        before - entries.sessions.len() - entries.users.len()
    }

    /// Entries held: (sessions, users).
    pub fn len(&self) -> (usize, usize) {
        let entries = self.read();
        (entries.sessions.len(), entries.users.len())
    }

    /// The bytes the entries' tables take: each slot (key and value) and its control byte, for
    /// the slots allocated (a hash table keeps some free).
    pub fn footprint_bytes(&self) -> usize {
        let entries = self.read();
        entries.sessions.capacity() * (std::mem::size_of::<(Key, i64)>() + 1)
            + entries.users.capacity() * (std::mem::size_of::<(Key, UserEntry)>() + 1)
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The 128 bits of a UUID in its hyphenated form, without allocating.
fn uuid_bits(id: &str) -> Option<u128> {
    let bytes = id.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut value: u128 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b != b'-' {
                return None;
            }
            continue;
        }
        let digit = (b as char).to_digit(16)?;
        value = (value << 4) | u128::from(digit);
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{Audience, Role};

    fn claims(sub: &str, sid: &str, iat_us: i64) -> AccessClaims {
        AccessClaims {
            iss: "i".into(),
            sub: sub.into(),
            aud: Audience::One("a".into()),
            exp: iat_us / 1_000_000 + 900,
            iat: iat_us / 1_000_000,
            nbf: iat_us / 1_000_000,
            jti: "j".into(),
            role: Role::User,
            email: "e@example.com".into(),
            sid: sid.into(),
            iat_us: Some(iat_us),
        }
    }

    const SUB: &str = "0192d1f0-0000-7000-8000-000000000001";
    const SID: &str = "0192d1f0-0000-7000-8000-0000000000aa";
    const OTHER_SID: &str = "0192d1f0-0000-7000-8000-0000000000bb";

    #[test]
    fn a_session_revocation_refuses_every_token_of_that_session_only() {
        let set = RevocationSet::new();
        set.apply(&Revocation::Session {
            sid: SID.into(),
            until_us: 10_000_000,
        });
        assert!(set.refuses(&claims(SUB, SID, 5_000_000)));
        assert!(set.refuses(&claims(SUB, SID, 9_000_000)));
        assert!(!set.refuses(&claims(SUB, OTHER_SID, 5_000_000)));
    }

    #[test]
    fn a_user_revocation_refuses_tokens_issued_before_it_even_in_the_same_second() {
        let set = RevocationSet::new();
        let at = 1_700_000_000_500_000;
        set.apply(&Revocation::User {
            sub: SUB.into(),
            not_before_us: at,
            until_us: at + 1_000_000_000,
        });
        assert!(set.refuses(&claims(SUB, SID, at - 1)));
        assert!(!set.refuses(&claims(SUB, SID, at)));
        assert!(!set.refuses(&claims(SUB, SID, at + 1)));
        assert!(!set.refuses(&claims("someone-else", SID, at - 1)));
        // A token without iat_us counts from the start of its second: refused when the
        // revocation falls within that second.
        let mut old = claims(SUB, SID, at + 200_000);
        old.iat_us = None;
        assert!(set.refuses(&old));
    }

    #[test]
    fn entries_expire_and_a_later_revocation_widens_an_earlier_one() {
        let set = RevocationSet::new();
        set.apply(&Revocation::User {
            sub: SUB.into(),
            not_before_us: 100,
            until_us: 1_000,
        });
        set.apply(&Revocation::User {
            sub: SUB.into(),
            not_before_us: 50,
            until_us: 2_000,
        });
        assert!(set.refuses(&claims(SUB, SID, 99)));
        set.apply(&Revocation::Session {
            sid: "not a uuid".into(),
            until_us: 500,
        });
        assert!(set.refuses(&claims(SUB, "not a uuid", 5_000)));
        assert_eq!(set.len(), (1, 1));
        assert_eq!(set.purge(1_500), 1);
        assert_eq!(set.len(), (0, 1));
        assert_eq!(set.purge(2_000), 1);
        assert!(set.is_empty());
    }

    #[test]
    fn uuids_are_read_as_their_bits() {
        assert_eq!(uuid_bits("00000000-0000-0000-0000-00000000000f"), Some(15));
        assert_eq!(uuid_bits("0000000000000000000000000000000f"), None);
        assert_eq!(uuid_bits("zzzzzzzz-0000-0000-0000-00000000000f"), None);
    }
}
