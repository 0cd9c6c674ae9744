//! Building the service from settings: the one place the parts are wired together.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use service_kit::db::SchemaCheck;
use service_kit::health::{Gauges, NotReady, Probes, Readiness};
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
use crate::keys::ring::KeyRing;
use crate::keys::{KeyPolicy, SigningKeys};
use crate::limits::{LoginLimiter, RateLimits};
use crate::reset::PasswordResets;
use crate::reset::webhook::ResetDelivery;
use crate::revocations::RevocationLog;
use crate::revocations::publisher::{FeedIdentity, Publisher};
use crate::safeguards::Safeguards;
use crate::sessions::Sessions;
use crate::sessions::tokens::{TokenIssuer, TokenPolicy};
use crate::store::migrations::Migrator;

/// Why the service, or an operator command, did not start. Each says what to fix.
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
    #[error("key-encryption key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("signing keys: {0}")]
    SigningKeys(#[source] crate::error::Error),
    #[error("password hashing: {0}")]
    PasswordHasher(#[source] crate::error::Error),
    #[error("bootstrap admin: {0}")]
    BootstrapAdmin(#[source] crate::error::Error),
    #[error("revocation feed: {0}")]
    RevocationFeed(#[source] crate::error::Error),
    #[error("the reset webhook's HTTP client: {0}")]
    WebhookClient(#[from] reqwest::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("reading the password from stdin: {0}")]
    PasswordInput(#[source] std::io::Error),
    #[error("give the password on stdin with --password-stdin, or in AUTH_USER_PASSWORD")]
    NoPassword,
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
    let key_error = |source| StartError::KeyFile {
        path: path.clone(),
        source,
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

pub fn signing_keys(
    settings: &Settings,
    db: DatabaseConnection,
    missing: KekFile,
) -> Result<SigningKeys, StartError> {
    let kek = key_encryption_key(settings, missing)?;
    Ok(SigningKeys::new(
        db,
        kek,
        KeyPolicy {
            rsa_bits: settings.rsa_bits,
            pre_publish_secs: settings.signing_key_pre_publish_secs,
            longest_token_ttl_secs: settings.longest_token_ttl_secs(),
            rotation_interval_secs: settings.key_rotation_interval_secs,
        },
    ))
}

struct AuthReadiness {
    db: DatabaseConnection,
    ring: Arc<KeyRing>,
    schema: SchemaCheck<Migrator>,
}

impl Gauges for AuthReadiness {
    fn sample(&self) {
        service_kit::metrics::sample_pool(&self.db);
    }
}

impl Readiness for AuthReadiness {
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), NotReady>> + Send + '_>> {
        Box::pin(async move {
            service_kit::db::ping(&self.db).await?;
            self.schema.check(&self.db).await?;
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
    /// `AUTH_MANAGEMENT_ADDR`: health and metrics only.
    management: Option<(Server, axum::Router)>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    publisher: Publisher,
}

impl App {
    /// Everything the service needs, in order: settings, database, signing keys, accounts,
    /// the domain services and their HTTP routes, background tasks, the listener.
    pub async fn build(mut settings: Settings) -> Result<App, StartError> {
        settings.load_secret_files()?;
        settings.validate()?;
        service_kit::metrics::install_with_build_info();
        crate::metrics::describe();
        let settings = Arc::new(settings);
        let db = database(&settings).await?;
        let keys = signing_keys(&settings, db.clone(), KekFile::GenerateIfMissing)?;
        keys.start().await.map_err(StartError::SigningKeys)?;
        let accounts = Accounts::new(db.clone(), password_hasher(&settings)?);
        bootstrap_admin(&settings, &accounts).await?;
        let domain = Domain::build(&settings, &db, accounts, keys.ring())?;
        let feed_tasks = domain
            .publisher
            .start()
            .await
            .map_err(StartError::RevocationFeed)?;
        let readiness = Arc::new(AuthReadiness {
            db: db.clone(),
            ring: keys.ring(),
            schema: SchemaCheck::new(),
        });
        let http = HttpConfig {
            cors_origins: service_kit::settings::parse_origins(&settings.cors_origins).map_err(
                |reason| SettingsError {
                    name: "AUTH_CORS_ORIGINS",
                    reason,
                },
            )?,
            ..HttpConfig::default()
        };
        let mut tasks = vec![
            keys.spawn_maintenance(Duration::from_secs(settings.key_refresh_secs)),
            spawn_housekeeping(db, domain.login_limiter.clone(), Arc::clone(&domain.rates)),
        ];
        tasks.extend(feed_tasks);
        let publisher = domain.publisher.clone();
        let router = crate::http::router(
            domain.into_state(&settings),
            Probes::new(Arc::clone(&readiness)),
            &http,
        );
        let management = match settings.management_addr {
            Some(addr) => Some((
                Server::bind(addr)
                    .await
                    .map_err(|source| StartError::Listen { addr, source })?,
                service_kit::serve::management_router(Probes::new(readiness)),
            )),
            None => None,
        };
        let server =
            Server::bind(settings.listen_addr)
                .await
                .map_err(|source| StartError::Listen {
                    addr: settings.listen_addr,
                    source,
                })?;
        tracing::info!(addr = %server.local_addr(), issuer = %settings.issuer, "auth-service listening");
        Ok(App {
            server,
            router,
            management,
            tasks,
            publisher,
        })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Where health and metrics are also served, when `AUTH_MANAGEMENT_ADDR` is set.
    pub fn management_addr(&self) -> Option<SocketAddr> {
        self.management
            .as_ref()
            .map(|(server, _)| server.local_addr())
    }

    /// Serves until `shutdown` completes, then drains in-flight requests (the revocation
    /// feed's streams end at once: subscribers reconnect to another replica).
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send) {
        let publisher = self.publisher.clone();
        let shutdown = async move {
            shutdown.await;
            publisher.close();
        };
        let mut servers = vec![(self.server, self.router)];
        servers.extend(self.management);
        service_kit::serve::serve_all(servers, shutdown).await;
        for task in self.tasks {
            task.abort();
        }
    }
}

/// The argon2id hasher the settings describe: one per process, shared by every path that
/// hashes or verifies a password.
pub fn password_hasher(settings: &Settings) -> Result<PasswordHasher, StartError> {
    let concurrency = settings.argon2_concurrency.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    PasswordHasher::new(
        settings.argon2_params()?,
        concurrency,
        settings.argon2_max_queue,
    )
    .map_err(StartError::PasswordHasher)
}

/// Creates `AUTH_BOOTSTRAP_ADMIN_EMAIL` as an admin if no account has that email.
async fn bootstrap_admin(settings: &Settings, accounts: &Accounts) -> Result<(), StartError> {
    if let (Some(email), Some(password)) = (
        &settings.bootstrap_admin_email,
        &settings.bootstrap_admin_password,
    ) {
        accounts
            .ensure_admin(email, password.clone())
            .await
            .map_err(StartError::BootstrapAdmin)?;
    }
    Ok(())
}

/// The domain services, wired to one another.
struct Domain {
    accounts: Accounts,
    sessions: Sessions,
    resets: PasswordResets,
    admin: Admin,
    audit: AuditLog,
    ring: Arc<KeyRing>,
    rates: Arc<RateLimits>,
    login_limiter: LoginLimiter,
    authenticator: Arc<Authenticator>,
    publisher: Publisher,
}

impl Domain {
    fn build(
        settings: &Settings,
        db: &DatabaseConnection,
        accounts: Accounts,
        ring: Arc<KeyRing>,
    ) -> Result<Domain, StartError> {
        let audit = AuditLog::new(db.clone());
        let revocations = RevocationLog::new(secs(settings.access_token_ttl_secs));
        // The issuer verifies its own access tokens as any API would, against its published
        // keys, with no leeway, refusing what its own feed publishes.
        let authenticator = Arc::new(Authenticator::with_local_keys(
            VerifierConfig::new(settings.issuer.clone(), settings.audience.clone(), 0),
            ring.published(),
        ));
        let publisher = Publisher::new(
            db.clone(),
            Arc::clone(&ring),
            FeedIdentity {
                issuer: settings.issuer.clone(),
                audience: settings.audience.clone(),
            },
            Arc::clone(authenticator.revocations()),
            revocations.committed_signal(),
        );
        let rates = Arc::new(RateLimits::from_settings(settings));
        let login_limiter = LoginLimiter::new(
            db.clone(),
            settings.login_max_failures,
            settings.login_max_failures_per_addr,
            settings.login_failure_window_secs,
        );
        let guards = Safeguards {
            login_limiter: login_limiter.clone(),
            rates: Arc::clone(&rates),
            audit: audit.clone(),
            revocations: revocations.clone(),
        };
        let sessions = Sessions::new(
            db.clone(),
            accounts.clone(),
            TokenIssuer::new(Arc::clone(&ring), token_policy(settings)),
            Arc::clone(&ring),
            guards.clone(),
        );
        if let Some(url) = &settings.reset_webhook_url {
            service_kit::settings::warn_if_plaintext_remote("AUTH_RESET_WEBHOOK_URL", url);
        }
        let resets = PasswordResets::new(
            db.clone(),
            accounts.clone(),
            ResetDelivery::start(
                settings.reset_webhook_url.clone(),
                settings.reset_webhook_secret()?,
            )?,
            guards,
            settings.reset_token_ttl_secs,
        );
        Ok(Domain {
            admin: Admin::new(db.clone(), audit.clone(), revocations),
            accounts,
            sessions,
            resets,
            audit,
            ring,
            rates,
            login_limiter,
            authenticator,
            publisher,
        })
    }

    /// What the handlers share.
    fn into_state(self, settings: &Arc<Settings>) -> AppState {
        AppState {
            discovery: Arc::new(crate::http::well_known::discovery_document(settings)),
            settings: Arc::clone(settings),
            accounts: self.accounts,
            sessions: self.sessions,
            resets: self.resets,
            admin: self.admin,
            audit: self.audit,
            ring: self.ring,
            rates: self.rates,
            authenticator: self.authenticator,
            publisher: self.publisher,
        }
    }
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn token_policy(settings: &Settings) -> TokenPolicy {
    TokenPolicy {
        issuer: settings.issuer.clone(),
        audience: settings.audience.clone(),
        access_ttl_secs: secs(settings.access_token_ttl_secs),
        refresh_ttl_secs: secs(settings.refresh_token_ttl_secs),
        session_max_lifetime_secs: secs(settings.session_max_lifetime_secs),
    }
}

/// Purges expired sessions, refresh and reset tokens, revocations no token can outlive, and
/// login counters; trims rate limiters.
fn spawn_housekeeping(
    db: DatabaseConnection,
    limiter: LoginLimiter,
    rates: Arc<RateLimits>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(300));
        loop {
            ticker.tick().await;
            let cutoff = Timestamp::now();
            let purged = async {
                let sessions = crate::store::sessions::purge_expired(&db, cutoff).await?;
                let resets = crate::store::reset_tokens::purge_expired(&db, cutoff).await?;
                let revocations = crate::store::revocations::purge(&db, cutoff).await?;
                Ok::<_, sea_orm::DbErr>(sessions + resets + revocations)
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
            .map_err(StartError::PasswordInput)?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        return Ok(SecretString::from(password));
    }
    std::env::var("AUTH_USER_PASSWORD")
        .map(SecretString::from)
        .map_err(|_| StartError::NoPassword)
}
