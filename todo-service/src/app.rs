//! Start-up and serving: `App::build` binds, migrates, connects and starts the key cache;
//! `run_until_stopped` serves until its shutdown future completes, then drains.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use sea_orm::{DatabaseConnection, DbErr};
use service_kit::db::{DbConfig, SchemaCheck};
use service_kit::health::{Gauges, NotReady, Probes, Readiness};
use service_kit::serve::Server;
use shared_claims::{Authenticator, BuildError};
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::http;
use crate::store::{Migrator, TodoStore};

/// Name of the PostgreSQL advisory lock replicas take while migrating.
const MIGRATION_LOCK: &str = "todo-service";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid settings: {0}")]
    Settings(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(DbErr),
    #[error("cannot connect to the database: {0}")]
    Database(DbErr),
    #[error(transparent)]
    Authenticator(#[from] BuildError),
}

/// A built service: listening, migrated, connected, fetching keys; not yet serving.
pub struct App {
    server: Server,
    router: Router,
    /// `TODO_MANAGEMENT_ADDR`: health and metrics only.
    management: Option<(Server, Router)>,
    /// The key cache's refresher and the revocation feed's follower.
    background: Vec<JoinHandle<()>>,
    db: DatabaseConnection,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("local_addr", &self.server.local_addr())
            .finish_non_exhaustive()
    }
}

impl App {
    pub async fn build(mut settings: Settings) -> Result<App, StartError> {
        settings.load_secret_files().map_err(StartError::Settings)?;
        settings.validate().map_err(StartError::Settings)?;
        let web = http::web::WebConfig::from_settings(&settings).map_err(StartError::Settings)?;
        // The recorder must exist before the key cache counts its first fetch.
        service_kit::metrics::install_with_build_info();
        shared_claims::describe_metrics();
        let server =
            Server::bind(settings.listen_addr)
                .await
                .map_err(|source| StartError::Bind {
                    addr: settings.listen_addr,
                    source,
                })?;
        let db_config = settings.db_config();
        if settings.auto_migrate {
            migrate_with(&db_config).await?;
        }
        let db = service_kit::db::connect(&db_config)
            .await
            .map_err(StartError::Database)?;
        let authenticator = Arc::new(Authenticator::new(
            settings.verifier_config(),
            settings.jwks_config(),
        )?);
        service_kit::settings::warn_if_plaintext_remote("TODO_JWKS_URL", &settings.jwks_url());
        let background = authenticator.start();
        tracing::info!(
            issuer = %settings.issuer,
            audience = %settings.audience,
            jwks_url = %settings.jwks_url(),
            jwks_min_refresh_secs = settings.jwks_min_refresh_secs,
            jwks_max_stale_secs = settings.jwks_max_stale_secs,
            leeway_secs = settings.leeway_secs,
            "verifying access tokens against the issuer's JWKS"
        );
        let readiness = Arc::new(Ready {
            db: db.clone(),
            authenticator: Arc::clone(&authenticator),
            schema: SchemaCheck::new(),
        });
        let router = http::router(
            TodoStore::new(db.clone()),
            Arc::clone(&authenticator),
            Probes::new(Arc::clone(&readiness)),
            &settings.http_config(),
            &web,
        );
        let management = match settings.management_addr {
            Some(addr) => Some((
                Server::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
                service_kit::serve::management_router(Probes::new(readiness)),
            )),
            None => None,
        };
        Ok(App {
            server,
            router,
            management,
            background,
            db,
        })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Where health and metrics are also served, when `TODO_MANAGEMENT_ADDR` is set.
    pub fn management_addr(&self) -> Option<SocketAddr> {
        self.management
            .as_ref()
            .map(|(server, _)| server.local_addr())
    }

    /// Serves until `shutdown` completes, lets in-flight requests finish, then stops the key
    /// refresher and the revocation feed, and closes the database.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send) {
        let App {
            server,
            router,
            management,
            background,
            db,
        } = self;
        let mut servers = vec![(server, router)];
        servers.extend(management);
        service_kit::serve::serve_all(servers, shutdown).await;
        for task in background {
            task.abort();
        }
        if let Err(error) = db.close().await {
            tracing::warn!(%error, "closing the database failed");
        }
    }
}

/// The `migrate` subcommand: applies pending migrations and returns.
pub async fn migrate(settings: &Settings) -> Result<(), StartError> {
    settings.validate().map_err(StartError::Settings)?;
    migrate_with(&settings.db_config()).await
}

async fn migrate_with(config: &DbConfig) -> Result<(), StartError> {
    service_kit::db::migrate::<Migrator>(config, MIGRATION_LOCK)
        .await
        .map_err(StartError::Migrate)?;
    tracing::info!("database migrations applied");
    Ok(())
}

/// Ready when a token could be verified now and the database answers.
struct Ready {
    db: DatabaseConnection,
    authenticator: Arc<Authenticator>,
    schema: SchemaCheck<Migrator>,
}

impl Gauges for Ready {
    fn sample(&self) {
        service_kit::metrics::sample_pool(&self.db);
        self.authenticator.sample_gauges();
    }
}

impl Readiness for Ready {
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), NotReady>> + Send + '_>> {
        Box::pin(async move {
            if !self.authenticator.holds_keys() {
                return Err(NotReady::new(
                    "no_signing_keys",
                    "no signing keys held: the JWKS has not been fetched, or is stale",
                ));
            }
            service_kit::db::ping(&self.db).await?;
            self.schema.check(&self.db).await
        })
    }
}
