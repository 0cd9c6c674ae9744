//! argon2id off the async runtime, at most `concurrency` hashes at once, a bounded queue.
//!
//! A login flood then costs at most `concurrency × memory` of argon2 memory, never stalls the
//! runtime's workers (so `/healthz` and the JWKS stay fast), and past `max_queue` waiting
//! requests is refused with 503 instead of queueing without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// The stored hash was made with other parameters than today's: rehash on success.
    pub outdated: bool,
}

#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    queued: Arc<AtomicUsize>,
    max_queue: usize,
    /// A hash of a random password, verified against when the email is unknown, so that an
    /// unknown email costs the same time as a wrong password.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    pub async fn new(params: Params, concurrency: usize, max_queue: usize) -> Result<Self> {
        let mut hasher = PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            queued: Arc::new(AtomicUsize::new(0)),
            max_queue,
            dummy_hash: Arc::from(""),
        };
        let random = uuid::Uuid::new_v4().to_string();
        hasher.dummy_hash = Arc::from(hasher.hash(SecretString::from(random)).await?);
        Ok(hasher)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string of `password` with today's parameters.
    pub async fn hash(&self, password: SecretString) -> Result<String> {
        let argon2 = self.argon2();
        self.run(move || {
            argon2
                .hash_password(password.expose_secret().as_bytes())
                .map(|h| h.to_string())
                .map_err(Error::internal)
        })
        .await?
    }

    /// Checks `password` against a stored PHC string (with the parameters it was made with).
    pub async fn verify(&self, password: SecretString, phc: String) -> Result<Verification> {
        let current = self.params.clone();
        self.run(move || {
            let Ok(parsed) = PasswordHash::new(&phc) else {
                return Verification {
                    matches: false,
                    outdated: true,
                };
            };
            let matches = Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok();
            Verification {
                matches,
                outdated: is_outdated(&parsed, &current),
            }
        })
        .await
    }

    /// Spends the time of one verification and learns nothing: the unknown-email path.
    pub async fn verify_dummy(&self, password: SecretString) -> Result<()> {
        self.verify(password, self.dummy_hash.to_string())
            .await
            .map(|_| ())
    }

    /// How many requests wait for a hash right now.
    pub fn queue_depth(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.max_queue {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!("argon2_rejected_total").increment(1);
            return Err(Error::Busy);
        }
        self.report_queue();
        let permit = Arc::clone(&self.permits).acquire_owned().await;
        self.queued.fetch_sub(1, Ordering::AcqRel);
        self.report_queue();
        let permit = permit.map_err(Error::internal)?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(work)
        })
        .await
        .map_err(Error::internal)
    }

    fn report_queue(&self) {
        metrics::gauge!("argon2_queue_depth").set(self.queue_depth() as f64);
    }
}

fn is_outdated(hash: &PasswordHash, current: &Params) -> bool {
    if hash.algorithm.as_str() != argon2::ARGON2ID_IDENT.as_str() || hash.version != Some(0x13) {
        return true;
    }
    match Params::try_from(hash) {
        Ok(p) => {
            p.m_cost() != current.m_cost()
                || p.t_cost() != current.t_cost()
                || p.p_cost() != current.p_cost()
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(m: u32) -> Params {
        Params::new(m, 1, 1, None).unwrap()
    }

    #[tokio::test]
    async fn verifies_and_flags_hashes_made_with_other_parameters() {
        let old = PasswordHasher::new(params(1024), 1, 8).await.unwrap();
        let new = PasswordHasher::new(params(2048), 1, 8).await.unwrap();
        let phc = old.hash(SecretString::from("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));

        let same = old
            .verify(SecretString::from("correct horse"), phc.clone())
            .await
            .unwrap();
        assert_eq!(
            same,
            Verification {
                matches: true,
                outdated: false
            }
        );
        let upgraded = new
            .verify(SecretString::from("correct horse"), phc.clone())
            .await
            .unwrap();
        assert_eq!(
            upgraded,
            Verification {
                matches: true,
                outdated: true
            }
        );
        let wrong = new.verify(SecretString::from("wrong"), phc).await.unwrap();
        assert!(!wrong.matches);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_instead_of_growing() {
        let hasher = PasswordHasher::new(params(1024), 1, 0).await;
        // With a queue of zero even the dummy hash at construction is refused.
        assert!(matches!(hasher, Err(Error::Busy)));
    }
}
