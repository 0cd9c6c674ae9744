//! argon2id off the async runtime, at most `concurrency` hashes at once, in memory that is
//! allocated once and reused.
//!
//! A login flood then costs at most `concurrency × memory` of argon2 memory (the buffers are
//! pooled, never freed and re-allocated, so the allocator cannot scatter them), never stalls
//! the runtime's workers (so `/healthz` and the JWKS stay fast), and past `max_queue` waiting
//! requests is refused with 503 instead of queueing without bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand_core::RngCore;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// The stored hash was made with other parameters than today's: rehash on success.
    pub outdated: bool,
}

/// Memory buffers for argon2, one per permit at most.
#[derive(Debug, Default)]
struct BlockPool {
    free: Mutex<Vec<Vec<Block>>>,
}

impl BlockPool {
    fn take(&self, blocks: usize) -> Vec<Block> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        match free.iter().position(|b| b.len() >= blocks) {
            Some(i) => free.swap_remove(i),
            None => vec![Block::default(); blocks],
        }
    }

    fn give_back(&self, buffer: Vec<Block>, keep_at_most: usize) {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        if free.len() < keep_at_most {
            free.push(buffer);
        }
    }
}

#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    concurrency: usize,
    permits: Arc<Semaphore>,
    queued: Arc<AtomicUsize>,
    max_queue: usize,
    pool: Arc<BlockPool>,
    /// A hash of nothing anyone knows, verified against when the email is unknown, so that an
    /// unknown email costs the same time as a wrong password.
    dummy_hash: Arc<str>,
}

fn phc(params: &Params, salt: &[u8], output: &[u8]) -> Result<String> {
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(Error::internal)?,
        salt: Some(Salt::new(salt).map_err(Error::internal)?),
        hash: Some(Output::new(output).map_err(Error::internal)?),
    };
    Ok(hash.to_string())
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand_core::OsRng.fill_bytes(&mut bytes);
    bytes
}

impl PasswordHasher {
    pub fn new(params: Params, concurrency: usize, max_queue: usize) -> Result<Self> {
        // The dummy needs today's parameters, not a real computation: its output is random.
        let dummy_hash = phc(&params, &random::<SALT_BYTES>(), &random::<OUTPUT_BYTES>())?;
        let concurrency = concurrency.max(1);
        Ok(PasswordHasher {
            params,
            concurrency,
            permits: Arc::new(Semaphore::new(concurrency)),
            queued: Arc::new(AtomicUsize::new(0)),
            max_queue,
            pool: Arc::default(),
            dummy_hash: Arc::from(dummy_hash),
        })
    }

    /// A PHC string of `password` with today's parameters.
    pub async fn hash(&self, password: SecretString) -> Result<String> {
        let params = self.params.clone();
        self.run(params.block_count(), move |memory| {
            let salt = random::<SALT_BYTES>();
            let mut output = [0u8; OUTPUT_BYTES];
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
                .hash_password_into_with_memory(
                    password.expose_secret().as_bytes(),
                    &salt,
                    &mut output,
                    memory,
                )
                .map_err(Error::internal)?;
            phc(&params, &salt, &output)
        })
        .await?
    }

    /// Checks `password` against a stored PHC string, with the parameters it was made with.
    pub async fn verify(&self, password: SecretString, stored: String) -> Result<Verification> {
        let Some(check) = Check::parse(&stored) else {
            return Ok(Verification {
                matches: false,
                outdated: true,
            });
        };
        let outdated = check.algorithm != Algorithm::Argon2id
            || check.version != Version::V0x13
            || check.params.m_cost() != self.params.m_cost()
            || check.params.t_cost() != self.params.t_cost()
            || check.params.p_cost() != self.params.p_cost();
        let blocks = check.params.block_count();
        let matches = self
            .run(blocks, move |memory| {
                check.matches(password.expose_secret().as_bytes(), memory)
            })
            .await?;
        Ok(Verification { matches, outdated })
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

    /// Runs `work` on the blocking pool with a pooled buffer of at least `blocks` blocks, once
    /// a permit is free; refuses when too many already wait.
    async fn run<T: Send + 'static>(
        &self,
        blocks: usize,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T> {
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
        let (pool, keep) = (Arc::clone(&self.pool), self.concurrency);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut memory = pool.take(blocks);
            let result = span.in_scope(|| work(&mut memory));
            pool.give_back(memory, keep);
            result
        })
        .await
        .map_err(Error::internal)
    }

    fn report_queue(&self) {
        metrics::gauge!("argon2_queue_depth").set(self.queue_depth() as f64);
    }
}

/// A stored hash, parsed: what is needed to recompute it.
struct Check {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Vec<u8>,
    expected: Output,
}

impl Check {
    fn parse(stored: &str) -> Option<Check> {
        let hash = PasswordHash::new(stored).ok()?;
        Some(Check {
            algorithm: Algorithm::try_from(hash.algorithm.as_str()).ok()?,
            version: Version::try_from(hash.version?).ok()?,
            params: Params::try_from(&hash).ok()?,
            salt: hash.salt?.as_ref().to_vec(),
            expected: hash.hash?,
        })
    }

    /// Recomputes and compares in constant time.
    fn matches(&self, password: &[u8], memory: &mut [Block]) -> bool {
        let mut output = vec![0u8; self.expected.len()];
        let computed = Argon2::new(self.algorithm, self.version, self.params.clone())
            .hash_password_into_with_memory(password, &self.salt, &mut output, memory);
        computed.is_ok() && Output::new(&output).is_ok_and(|o| o == self.expected)
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
        let old = PasswordHasher::new(params(1024), 1, 8).unwrap();
        let new = PasswordHasher::new(params(2048), 1, 8).unwrap();
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
    async fn hashes_interoperate_with_the_reference_implementation() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let ours = PasswordHasher::new(params(1024), 1, 8).unwrap();
        let phc = ours.hash(SecretString::from("pw-1")).await.unwrap();
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(Argon2::default().verify_password(b"pw-1", &parsed).is_ok());

        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params(1024))
            .hash_password(b"pw-2")
            .unwrap()
            .to_string();
        let verified = ours
            .verify(SecretString::from("pw-2"), theirs)
            .await
            .unwrap();
        assert!(verified.matches);
    }

    #[tokio::test]
    async fn the_dummy_never_matches_and_garbage_never_matches() {
        let hasher = PasswordHasher::new(params(1024), 1, 8).unwrap();
        assert!(hasher.verify_dummy(SecretString::from("")).await.is_ok());
        let garbage = hasher
            .verify(SecretString::from("x"), "not a phc string".into())
            .await
            .unwrap();
        assert!(!garbage.matches);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_instead_of_growing() {
        let hasher = PasswordHasher::new(params(1024), 1, 0).unwrap();
        assert!(matches!(
            hasher.hash(SecretString::from("x")).await,
            Err(Error::Busy)
        ));
    }
}
