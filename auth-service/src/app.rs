//! Building the service from settings: the one place the parts are wired together.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use argon2::Params;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use service_kit::health::{NotReady, Readiness};
use service_kit::layers::HttpConfig;
use service_kit::serve::Server;
use service_kit::timestamp::Timestamp;
use shared_claims::{Authenticator, VerifierConfig};

use crate::accounts::Accounts;
use crate::accounts::admin::Admin;
use crate::accounts::hasher::PasswordHasher;
use crate::audit::AuditLog;
use crate::config::{Settings, SettingsError};
use crate::http::state::AppState;
use crate::keys::crypto::{KekError, KeyEncryptionKey};
use crate::keys::{KeyManager, KeyPolicy};
use crate::limits::{LoginLimiter, RateLimits};
use crate::reset::PasswordResets;
use crate::reset::webhook::ResetDelivery;
use crate::sessions::Sessions;
use crate::sessions::tokens::{TokenIssuer, TokenPolicy};
use crate::store::migrations::Migrator;

/// Why the service did not start. Each says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    KeyEncryptionKey(#[from] KekError),
    #[error(
        "AUTH_KEY_ENCRYPTION_KEY is required with PostgreSQL (private keys are never stored in clear); set AUTH_INSECURE_DEV=true to generate one into a file for development"
    )]
    KeyEncryptionKeyRequired,
    #[error("key-encryption key file {path}: {error}")]
    KeyFile {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("signing keys: {0}")]
    SigningKeys(String),
    #[error("bootstrap admin: {0}")]
    BootstrapAdmin(String),
    #[error("cannot listen on {addr}: {error}")]
    Listen {
        addr: SocketAddr,
        error: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

/// Connects the database and applies migrations when asked to.
pub async fn database(settings: &Settings) -> Result<DatabaseConnection, StartError> {
    let config = settings.db_config();
    if settings.auto_migrate {
        service_kit::db::migrate::<Migrator>(&config, "auth-service").await?;
    }
    Ok(service_kit::db::connect(&config).await?)
}

/// Whether a missing development key-encryption key file may be generated: when serving, yes;
/// for an operator command, no (it would seal keys no replica can open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KekFile {
    GenerateIfMissing,
    MustExist,
}

/// The key-encryption key: from the setting, else (SQLite or AUTH_INSECURE_DEV) from a file
/// generated on first use (mode 0600). Never replaced once it exists.
pub fn key_encryption_key(
    settings: &Settings,
    missing: KekFile,
) -> Result<KeyEncryptionKey, StartError> {
    if let Some(value) = &settings.key_encryption_key {
        return Ok(KeyEncryptionKey::from_base64(value.expose_secret())?);
    }
    if !settings.is_sqlite() && !settings.insecure_dev {
        return Err(StartError::KeyEncryptionKeyRequired);
    }
    let path = dev_key_file(settings);
    let Some(path) = path else {
        // An in-memory database dies with the process; so may its key.
        return Ok(KeyEncryptionKey::from_base64(
            &KeyEncryptionKey::generate_base64()?,
        )?);
    };
    let key_error = |error| StartError::KeyFile {
        path: path.clone(),
        error,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            service_kit::private_fs::warn_if_exposed(&path, "the key-encryption key file");
            Ok(KeyEncryptionKey::from_base64(&text)?)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && missing == KekFile::MustExist => {
            Err(key_error(e))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let encoded = KeyEncryptionKey::generate_base64()?;
            write_private_file(&path, &encoded).map_err(key_error)?;
            tracing::warn!(path = %path.display(), "generated a key-encryption key for development; set AUTH_KEY_ENCRYPTION_KEY in production");
            Ok(KeyEncryptionKey::from_base64(&encoded)?)
        }
        Err(e) => Err(key_error(e)),
    }
}

fn dev_key_file(settings: &Settings) -> Option<PathBuf> {
    if let Some(path) = &settings.dev_key_file {
        return Some(path.clone());
    }
    if !settings.is_sqlite() {
        return Some(PathBuf::from("data/auth.kek"));
    }
    let path = service_kit::db::sqlite_path(settings.database_url.expose_secret())?;
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    Some(dir.join("auth.kek"))
}

fn write_private_file(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    service_kit::private_fs::create_new_file(path)?.write_all(contents.as_bytes())
}

pub fn key_manager(
    settings: &Settings,
    db: DatabaseConnection,
    missing: KekFile,
) -> Result<KeyManager, StartError> {
    let kek = key_encryption_key(settings, missing)?;
    Ok(KeyManager::new(
        db,
        kek,
        KeyPolicy {
            rsa_bits: settings.rsa_bits,
            pre_publish_secs: settings.signing_key_pre_publish_secs,
            longest_token_ttl_secs: settings.longest_token_ttl_secs(),
        },
    ))
}

struct AuthReadiness {
    db: DatabaseConnection,
    ring: Arc<crate::keys::ring::KeyRing>,
}

impl Readiness for AuthReadiness {
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), NotReady>> + Send + '_>> {
        Box::pin(async move {
            service_kit::db::ping(&self.db).await?;
            if !self.ring.holds_signer(Timestamp::now().micros()) {
                return Err(NotReady::new(
                    "no_signing_key",
                    "no signing key is active at this instant",
                ));
            }
            Ok(())
        })
    }
}

/// A built service, listening, not yet serving.
pub struct App {
    server: Server,
    router: axum::Router,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl App {
    pub async fn build(settings: Settings) -> Result<App, StartError> {
        settings.validate()?;
        let settings = Arc::new(settings);
        let db = database(&settings).await?;

        let keys = key_manager(&settings, db.clone(), KekFile::GenerateIfMissing)?;
        keys.start()
            .await
            .map_err(|e| StartError::SigningKeys(e.to_string()))?;
        let ring = keys.ring();

        let params = Params::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            settings.argon2_parallelism,
            None,
        )
        .map_err(|e| StartError::Other(format!("argon2 parameters: {e}")))?;
        let concurrency = settings.argon2_concurrency.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let hasher = PasswordHasher::new(params, concurrency, settings.argon2_max_queue)
            .map_err(|e| StartError::Other(format!("argon2: {e}")))?;

        let audit = AuditLog::new(db.clone());
        let accounts = Accounts::new(db.clone(), hasher);
        if let (Some(email), Some(password)) = (
            &settings.bootstrap_admin_email,
            &settings.bootstrap_admin_password,
        ) {
            accounts
                .ensure_admin(email, password.clone())
                .await
                .map_err(|e| StartError::BootstrapAdmin(describe(&e)))?;
        }
        let rates = Arc::new(RateLimits::from_settings(&settings));
        let login_limiter = LoginLimiter::new(
            db.clone(),
            settings.login_max_failures,
            settings.login_max_failures_per_addr,
            settings.login_failure_window_secs,
        );
        let issuer = TokenIssuer::new(
            Arc::clone(&ring),
            TokenPolicy {
                issuer: settings.issuer.clone(),
                audience: settings.audience.clone(),
                access_ttl_secs: i64::try_from(settings.access_token_ttl_secs).unwrap_or(i64::MAX),
                refresh_ttl_secs: i64::try_from(settings.refresh_token_ttl_secs)
                    .unwrap_or(i64::MAX),
                session_max_lifetime_secs: i64::try_from(settings.session_max_lifetime_secs)
                    .unwrap_or(i64::MAX),
            },
        );
        let sessions = Sessions::new(
            db.clone(),
            accounts.clone(),
            issuer,
            Arc::clone(&ring),
            login_limiter.clone(),
            Arc::clone(&rates),
            audit.clone(),
        );
        if let Some(url) = &settings.reset_webhook_url {
            service_kit::settings::warn_if_plaintext_remote("AUTH_RESET_WEBHOOK_URL", url);
        }
        let delivery = ResetDelivery::start(settings.reset_webhook_url.clone())
            .map_err(|e| StartError::Other(format!("reset webhook client: {e}")))?;
        let resets = PasswordResets::new(
            db.clone(),
            accounts.clone(),
            delivery,
            login_limiter.clone(),
            Arc::clone(&rates),
            audit.clone(),
            settings.reset_token_ttl_secs,
        );
        // The issuer verifies its own access tokens as any API would, against its published
        // keys, with no leeway.
        let authenticator = Arc::new(Authenticator::with_local_keys(
            VerifierConfig::new(settings.issuer.clone(), settings.audience.clone(), 0),
            ring.published(),
        ));
        let state = AppState::new(crate::http::state::Parts {
            discovery: Arc::new(crate::http::well_known::discovery_document(&settings)),
            settings: Arc::clone(&settings),
            admin: Admin::new(db.clone(), audit.clone()),
            accounts,
            sessions,
            resets,
            audit,
            ring: Arc::clone(&ring),
            rates: Arc::clone(&rates),
            authenticator,
        });
        let http = HttpConfig {
            cors_origins: service_kit::settings::parse_origins(&settings.cors_origins)
                .map_err(StartError::Other)?,
            ..HttpConfig::default()
        };
        let readiness = Arc::new(AuthReadiness {
            db: db.clone(),
            ring: Arc::clone(&ring),
        });
        let router = crate::http::router(state, readiness, &http);

        let tasks = vec![
            keys.spawn_maintenance(Duration::from_secs(settings.key_refresh_secs)),
            spawn_housekeeping(db, login_limiter, rates),
        ];
        let server =
            Server::bind(settings.listen_addr)
                .await
                .map_err(|error| StartError::Listen {
                    addr: settings.listen_addr,
                    error,
                })?;
        tracing::info!(addr = %server.local_addr(), issuer = %settings.issuer, "auth-service listening");
        Ok(App {
            server,
            router,
            tasks,
        })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send) {
        self.server.serve(self.router, shutdown).await;
        for task in self.tasks {
            task.abort();
        }
    }
}

fn describe(error: &crate::error::Error) -> String {
    match error {
        crate::error::Error::Validation(errors) => errors
            .iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Purges expired sessions, refresh and reset tokens and login counters; trims rate limiters.
fn spawn_housekeeping(
    db: DatabaseConnection,
    limiter: LoginLimiter,
    rates: Arc<RateLimits>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(300));
        loop {
            ticker.tick().await;
            let cutoff = Timestamp::now().micros();
            let purged = async {
                let sessions = crate::store::sessions::purge_expired(&db, cutoff).await?;
                let resets = crate::store::reset_tokens::purge_expired(&db, cutoff).await?;
                Ok::<_, sea_orm::DbErr>(sessions + resets)
            }
            .await;
            match purged {
                Ok(n) if n > 0 => tracing::info!(rows = n, "purged expired sessions and tokens"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "purging expired rows failed"),
            }
            if let Err(error) = limiter.purge().await {
                tracing::warn!(%error, "purging login counters failed");
            }
            rates.shrink();
        }
    })
}

/// The password of `users create`: the first line of stdin, or `AUTH_USER_PASSWORD`.
pub fn read_password(from_stdin: bool) -> Result<SecretString, StartError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| StartError::Other(format!("reading the password from stdin: {e}")))?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        return Ok(SecretString::from(password));
    }
    std::env::var("AUTH_USER_PASSWORD")
        .map(SecretString::from)
        .map_err(|_| {
            StartError::Other(
                "give the password on stdin with --password-stdin, or in AUTH_USER_PASSWORD".into(),
            )
        })
}
