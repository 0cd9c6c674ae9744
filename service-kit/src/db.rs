//! The database: PostgreSQL in production, SQLite as the embedded default, one code path.

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, RuntimeErr,
    SqlErr, Statement, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

/// Pool size per replica on PostgreSQL. Small on purpose: a pool much larger than about twice
/// the database's cores only queues inside PostgreSQL (on this 2-core machine, 8 connections
/// served `GET /api/todos` 20 % faster than 32; `docs/BENCHMARKS.md`), and replicas multiply it
/// against PostgreSQL's `max_connections` (100 by default).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

#[derive(Debug, Clone)]
pub struct DbConfig {
    pub url: String,
    pub max_connections: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub acquire_timeout: Duration,
}

impl DbConfig {
    pub fn new(url: impl Into<String>) -> Self {
        DbConfig {
            url: url.into(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: Duration::from_secs(3),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }
}

/// Connects. SQLite gets its directory created, WAL, and a single connection: writes to one
/// file serialise anyway, and one connection rules out "database is locked" between our own
/// transactions.
pub async fn connect(config: &DbConfig) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(config.url.clone());
    options
        .acquire_timeout(config.acquire_timeout)
        .connect_timeout(config.acquire_timeout)
        .sqlx_logging(false)
        .test_before_acquire(false);
    if config.is_sqlite() {
        prepare_sqlite_file(&config.url);
        options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
            });
    } else {
        options
            .max_connections(config.max_connections)
            .min_connections(1)
            .idle_timeout(Duration::from_secs(300));
    }
    Database::connect(options).await
}

/// The file of a `sqlite:` URL, unless the database lives in memory.
pub fn sqlite_path(url: &str) -> Option<&std::path::Path> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| std::path::Path::new(path))
}

/// Creates the database file (mode 0600) and its directory (0700) before SQLite opens it, so
/// the umask cannot make them readable by others; SQLite gives its `-wal` and `-shm` files the
/// database file's mode. An existing file is left as it is, with a warning if it is exposed.
fn prepare_sqlite_file(url: &str) {
    let Some(path) = sqlite_path(url) else {
        return;
    };
    match crate::private_fs::create_new_file(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            crate::private_fs::warn_if_exposed(path, "the SQLite database");
        }
        // SQLite reports the same problem with its own words when it opens the file.
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot create the SQLite file")
        }
    }
}

/// Applies pending migrations, once however many replicas start together: on PostgreSQL under
/// a session advisory lock taken on a connection of its own; on SQLite inside one transaction
/// whose first statement is a write, so it holds the database's write lock from the start (its
/// DDL is transactional): a second process waits, then finds nothing pending.
pub async fn migrate<M: MigratorTrait>(config: &DbConfig, lock_name: &str) -> Result<(), DbErr> {
    if config.is_sqlite() {
        let db = connect(config).await?;
        let txn = db.begin().await?;
        // Any write takes the lock; this one changes nothing we use.
        txn.execute_unprepared("PRAGMA user_version = 1").await?;
        M::up(&txn, None).await?;
        txn.commit().await?;
        db.close().await?;
        return Ok(());
    }
    let mut options = ConnectOptions::new(config.url.clone());
    options
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(60))
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    let key = advisory_key(lock_name);
    let lock = |sql: &str| Statement::from_sql_and_values(DbBackend::Postgres, sql, [key.into()]);
    db.execute_raw(lock("SELECT pg_advisory_lock($1)")).await?;
    let result = M::up(&db, None).await;
    let unlocked = db.execute_raw(lock("SELECT pg_advisory_unlock($1)")).await;
    db.close().await?;
    result.and(unlocked.map(|_| ()))
}

/// A stable 64-bit key for `pg_advisory_lock` from a name (FNV-1a).
pub fn advisory_key(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// A raw statement written with PostgreSQL's `$1` placeholders; SQLite reads them as `?1`.
pub fn statement(backend: DbBackend, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    let sql = match backend {
        DbBackend::Sqlite => sql.replace('$', "?"),
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Readiness: every migration this binary knows has been applied. A pod running against an
/// older schema (its migration not run yet) must never take traffic. Once current, a schema
/// stays current (migrations are never undone), so the answer is then kept.
#[derive(Debug, Default)]
pub struct SchemaCheck<M> {
    current: std::sync::atomic::AtomicBool,
    migrator: std::marker::PhantomData<fn() -> M>,
}

impl<M: MigratorTrait> SchemaCheck<M> {
    pub fn new() -> Self {
        SchemaCheck {
            current: std::sync::atomic::AtomicBool::new(false),
            migrator: std::marker::PhantomData,
        }
    }

    pub async fn check(&self, db: &DatabaseConnection) -> Result<(), crate::health::NotReady> {
        use std::sync::atomic::Ordering;
        if self.current.load(Ordering::Acquire) {
            return Ok(());
        }
        let pending = M::get_pending_migrations_read_only(db)
            .await
            .map_err(|e| crate::health::NotReady::new("database_unreachable", e.to_string()))?;
        if pending.is_empty() {
            self.current.store(true, Ordering::Release);
            return Ok(());
        }
        let names: Vec<&str> = pending.iter().map(|m| m.name()).collect();
        Err(crate::health::NotReady::new(
            "schema_behind",
            format!(
                "{} migration(s) not applied yet: {}; run `migrate`",
                names.len(),
                names.join(", ")
            ),
        ))
    }
}

/// Readiness: the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), crate::health::NotReady> {
    db.ping()
        .await
        .map_err(|e| crate::health::NotReady::new("database_unreachable", e.to_string()))
}

/// What a database error means for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFailure {
    /// A unique constraint refused the write: a conflict the caller can name.
    UniqueViolation,
    /// The database cannot be reached or no connection was free in time: retry later (503).
    Unavailable,
    /// Anything else: a bug or a broken database (500).
    Other,
}

pub fn classify(error: &DbErr) -> DbFailure {
    if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        return DbFailure::UniqueViolation;
    }
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => DbFailure::Unavailable,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))
            if is_unavailable(e) =>
        {
            DbFailure::Unavailable
        }
        _ => DbFailure::Other,
    }
}

fn is_unavailable(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_)
    ) || matches!(error, sqlx::Error::Database(e) if e.code().is_some_and(|c| c.starts_with("57P") || c.starts_with("08")))
}
