//! Settings: every one an env var with a flag equivalent (`--help` names the env var).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args};
use secrecy::{ExposeSecret, SecretString};
use service_kit::settings::LogFormat;

use crate::reset::signature::WebhookSecret;

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(
        long,
        env = "AUTH_LISTEN_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen_addr: SocketAddr,

    /// A second address serving only /healthz, /readyz and /metrics (they stay on the main
    /// address too): for probes and scraping that no ingress routes.
    #[arg(long, env = "AUTH_MANAGEMENT_ADDR", global = true)]
    pub management_addr: Option<SocketAddr>,

    /// `postgres://…` (production) or `sqlite:…` (the embedded default).
    #[arg(
        long,
        env = "AUTH_DATABASE_URL",
        default_value = "sqlite://data/auth.db?mode=rwc",
        global = true,
        hide_env_values = true
    )]
    pub database_url: SecretString,

    /// Read AUTH_DATABASE_URL from this file (a mounted secret) instead.
    #[arg(
        long,
        env = "AUTH_DATABASE_URL_FILE",
        conflicts_with = "database_url",
        global = true
    )]
    pub database_url_file: Option<PathBuf>,

    /// Apply migrations at start.
    #[arg(long, env = "AUTH_AUTO_MIGRATE", default_value_t = true, action = ArgAction::Set, global = true)]
    pub auto_migrate: bool,

    /// Pool size on PostgreSQL.
    #[arg(
        long,
        env = "AUTH_DB_MAX_CONNECTIONS",
        default_value_t = service_kit::db::DEFAULT_MAX_CONNECTIONS,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub db_max_connections: u32,

    /// Seconds a request waits for a database connection before it is answered 503.
    #[arg(
        long,
        env = "AUTH_DB_ACQUIRE_TIMEOUT_SECS",
        default_value_t = 3,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub db_acquire_timeout_secs: u64,

    /// `iss` of every token, and the base of the discovery document's URLs.
    #[arg(
        long,
        env = "AUTH_ISSUER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub issuer: String,

    /// `aud` of access tokens.
    #[arg(long, env = "AUTH_AUDIENCE", default_value = "todo-api", global = true)]
    pub audience: String,

    #[arg(
        long,
        env = "AUTH_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 900,
        global = true
    )]
    pub access_token_ttl_secs: u64,

    /// A refresh token's lifetime: a session not refreshed within it ends (the idle limit).
    #[arg(
        long,
        env = "AUTH_REFRESH_TOKEN_TTL_SECS",
        default_value_t = 2_592_000,
        global = true
    )]
    pub refresh_token_ttl_secs: u64,

    /// A session's absolute lifetime, counted from its login: no token of it outlives it, however
    /// often it is refreshed.
    #[arg(
        long,
        env = "AUTH_SESSION_MAX_LIFETIME_SECS",
        default_value_t = 7_776_000,
        global = true
    )]
    pub session_max_lifetime_secs: u64,

    /// argon2id memory per hash (OWASP: 19 MiB with 2 iterations).
    #[arg(
        long,
        env = "AUTH_ARGON2_MEMORY_KIB",
        default_value_t = 19_456,
        global = true
    )]
    pub argon2_memory_kib: u32,

    #[arg(
        long,
        env = "AUTH_ARGON2_ITERATIONS",
        default_value_t = 2,
        global = true
    )]
    pub argon2_iterations: u32,

    #[arg(
        long,
        env = "AUTH_ARGON2_PARALLELISM",
        default_value_t = 1,
        global = true
    )]
    pub argon2_parallelism: u32,

    /// Hashes running at once (default: one per core); more requests wait in a bounded queue.
    #[arg(long, env = "AUTH_ARGON2_CONCURRENCY", global = true)]
    pub argon2_concurrency: Option<usize>,

    /// Requests waiting for a hash beyond this many are answered 503 with `Retry-After`.
    #[arg(
        long,
        env = "AUTH_ARGON2_MAX_QUEUE",
        default_value_t = 2_048,
        global = true
    )]
    pub argon2_max_queue: usize,

    /// Create this admin at start if absent (idempotent).
    #[arg(long, env = "AUTH_BOOTSTRAP_ADMIN_EMAIL", global = true)]
    pub bootstrap_admin_email: Option<String>,

    #[arg(
        long,
        env = "AUTH_BOOTSTRAP_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub bootstrap_admin_password: Option<SecretString>,

    /// Read AUTH_BOOTSTRAP_ADMIN_PASSWORD from this file instead.
    #[arg(
        long,
        env = "AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE",
        conflicts_with = "bootstrap_admin_password",
        global = true
    )]
    pub bootstrap_admin_password_file: Option<PathBuf>,

    #[arg(
        long,
        env = "AUTH_RESET_TOKEN_TTL_SECS",
        default_value_t = 900,
        global = true
    )]
    pub reset_token_ttl_secs: u64,

    /// Reset tokens are POSTed here as `{email, token, expires_at}`; unset, the reset link is
    /// written to the log (development only).
    #[arg(long, env = "AUTH_RESET_WEBHOOK_URL", global = true)]
    pub reset_webhook_url: Option<String>,

    /// Signs each reset delivery (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`): `whsec_` and the base64 of 24 to 64 random bytes. Unset, deliveries
    /// are unsigned (a warning at start).
    #[arg(
        long,
        env = "AUTH_RESET_WEBHOOK_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub reset_webhook_secret: Option<SecretString>,

    /// Read AUTH_RESET_WEBHOOK_SECRET from this file instead.
    #[arg(
        long,
        env = "AUTH_RESET_WEBHOOK_SECRET_FILE",
        conflicts_with = "reset_webhook_secret",
        global = true
    )]
    pub reset_webhook_secret_file: Option<PathBuf>,

    /// Base64 of 32 random bytes; encrypts private keys at rest. Required on PostgreSQL unless
    /// AUTH_INSECURE_DEV=true.
    #[arg(
        long,
        env = "AUTH_KEY_ENCRYPTION_KEY",
        hide_env_values = true,
        global = true
    )]
    pub key_encryption_key: Option<SecretString>,

    /// Read AUTH_KEY_ENCRYPTION_KEY from this file instead.
    #[arg(
        long,
        env = "AUTH_KEY_ENCRYPTION_KEY_FILE",
        conflicts_with = "key_encryption_key",
        global = true
    )]
    pub key_encryption_key_file: Option<PathBuf>,

    /// Without AUTH_KEY_ENCRYPTION_KEY (SQLite, or AUTH_INSECURE_DEV), the key-encryption key is
    /// generated into this file [default: `auth.kek` beside the SQLite file, else `data/auth.kek`].
    #[arg(long, env = "AUTH_DEV_KEY_FILE", global = true)]
    pub dev_key_file: Option<PathBuf>,

    /// Allow PostgreSQL without AUTH_KEY_ENCRYPTION_KEY (development only).
    #[arg(long, env = "AUTH_INSECURE_DEV", default_value_t = false, action = ArgAction::Set, global = true)]
    pub insecure_dev: bool,

    /// A new key is published at once and signs only this long after its creation.
    #[arg(
        long,
        env = "AUTH_SIGNING_KEY_PRE_PUBLISH_SECS",
        default_value_t = 600,
        global = true
    )]
    pub signing_key_pre_publish_secs: u64,

    /// Publish a new signing key when the newest is this old (0: off). At most one replica acts;
    /// the key signs after AUTH_SIGNING_KEY_PRE_PUBLISH_SECS, the old one retires.
    #[arg(
        long,
        env = "AUTH_KEY_ROTATION_INTERVAL_SECS",
        default_value_t = 0,
        global = true
    )]
    pub key_rotation_interval_secs: u64,

    /// How often a replica re-reads key states from the database.
    #[arg(
        long,
        env = "AUTH_KEY_REFRESH_SECS",
        default_value_t = 30,
        global = true
    )]
    pub key_refresh_secs: u64,

    #[arg(long, env = "AUTH_RSA_BITS", default_value_t = 2048, global = true)]
    pub rsa_bits: usize,

    /// Comma-separated origins allowed by CORS.
    #[arg(long, env = "AUTH_CORS_ORIGINS", default_value = "", global = true)]
    pub cors_origins: String,

    /// Take the client address from the right-most `X-Forwarded-For` entry.
    #[arg(long, env = "AUTH_TRUST_FORWARDED_FOR", default_value_t = false, action = ArgAction::Set, global = true)]
    pub trust_forwarded_for: bool,

    /// Failed logins per account within the window before 429.
    #[arg(
        long,
        env = "AUTH_LOGIN_MAX_FAILURES",
        default_value_t = 10,
        global = true
    )]
    pub login_max_failures: u32,

    /// Failed logins per client address within the window before 429.
    #[arg(
        long,
        env = "AUTH_LOGIN_MAX_FAILURES_PER_ADDR",
        default_value_t = 100,
        global = true
    )]
    pub login_max_failures_per_addr: u32,

    #[arg(
        long,
        env = "AUTH_LOGIN_FAILURE_WINDOW_SECS",
        default_value_t = 900,
        global = true
    )]
    pub login_failure_window_secs: u64,

    /// Registrations per client address per minute.
    #[arg(
        long,
        env = "AUTH_REGISTER_PER_ADDR_PER_MIN",
        default_value_t = 300,
        global = true
    )]
    pub register_per_addr_per_min: u32,

    /// Refreshes per client address per minute.
    #[arg(
        long,
        env = "AUTH_REFRESH_PER_ADDR_PER_MIN",
        default_value_t = 1_200,
        global = true
    )]
    pub refresh_per_addr_per_min: u32,

    /// Refreshes per account per minute.
    #[arg(
        long,
        env = "AUTH_REFRESH_PER_ACCOUNT_PER_MIN",
        default_value_t = 120,
        global = true
    )]
    pub refresh_per_account_per_min: u32,

    /// Password-reset requests per client address per minute.
    #[arg(
        long,
        env = "AUTH_FORGOT_PER_ADDR_PER_MIN",
        default_value_t = 60,
        global = true
    )]
    pub forgot_per_addr_per_min: u32,

    /// Password-reset requests per email address per hour.
    #[arg(
        long,
        env = "AUTH_FORGOT_PER_ACCOUNT_PER_HOUR",
        default_value_t = 10,
        global = true
    )]
    pub forgot_per_account_per_hour: u32,

    /// `pretty` or `json`.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {reason}")]
pub struct SettingsError {
    pub name: &'static str,
    pub reason: String,
}

fn invalid(name: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError {
        name,
        reason: reason.into(),
    }
}

impl Settings {
    /// Defaults, as if no env var or flag were given; for tests and tools.
    pub fn defaults() -> Settings {
        match service_kit::settings::defaults() {
            Ok(settings) => settings,
            // startup: the defaults above are literals that parse.
            #[expect(clippy::panic, reason = "the defaults are literals; a typo is a bug")]
            Err(e) => panic!("default settings do not parse: {e}"),
        }
    }

    /// Reads every `*_FILE` setting into the setting it stands for (once; idempotent).
    pub fn load_secret_files(&mut self) -> Result<(), SettingsError> {
        let read = |name: &'static str, path: &std::path::Path| {
            service_kit::settings::read_secret_file(path).map_err(|reason| invalid(name, reason))
        };
        if let Some(path) = self.database_url_file.take() {
            self.database_url = read("AUTH_DATABASE_URL_FILE", &path)?;
        }
        if let Some(path) = self.key_encryption_key_file.take() {
            self.key_encryption_key = Some(read("AUTH_KEY_ENCRYPTION_KEY_FILE", &path)?);
        }
        if let Some(path) = self.bootstrap_admin_password_file.take() {
            self.bootstrap_admin_password =
                Some(read("AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE", &path)?);
        }
        if let Some(path) = self.reset_webhook_secret_file.take() {
            self.reset_webhook_secret = Some(read("AUTH_RESET_WEBHOOK_SECRET_FILE", &path)?);
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        url::Url::parse(&self.issuer).map_err(|e| invalid("AUTH_ISSUER", e.to_string()))?;
        if self.audience.is_empty() {
            return Err(invalid("AUTH_AUDIENCE", "must not be empty"));
        }
        if self.audience == self.issuer {
            return Err(invalid(
                "AUTH_AUDIENCE",
                "must differ from AUTH_ISSUER (refresh tokens are for the issuer)",
            ));
        }
        if self.rsa_bits < 2048 || self.rsa_bits > 8192 {
            return Err(invalid("AUTH_RSA_BITS", "must be between 2048 and 8192"));
        }
        if self.access_token_ttl_secs == 0 || self.refresh_token_ttl_secs == 0 {
            return Err(invalid("AUTH_*_TOKEN_TTL_SECS", "must be positive"));
        }
        if self.session_max_lifetime_secs == 0 {
            return Err(invalid(
                "AUTH_SESSION_MAX_LIFETIME_SECS",
                "must be positive",
            ));
        }
        if self.reset_token_ttl_secs == 0 {
            return Err(invalid("AUTH_RESET_TOKEN_TTL_SECS", "must be positive"));
        }
        if self.key_refresh_secs == 0 {
            return Err(invalid("AUTH_KEY_REFRESH_SECS", "must be positive"));
        }
        if self.login_max_failures == 0 || self.login_max_failures_per_addr == 0 {
            return Err(invalid("AUTH_LOGIN_MAX_FAILURES*", "must be positive"));
        }
        if self.login_failure_window_secs == 0 {
            return Err(invalid(
                "AUTH_LOGIN_FAILURE_WINDOW_SECS",
                "must be positive",
            ));
        }
        self.argon2_params()?;
        if let Some(url) = &self.reset_webhook_url {
            let parsed = url::Url::parse(url)
                .map_err(|e| invalid("AUTH_RESET_WEBHOOK_URL", e.to_string()))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(invalid("AUTH_RESET_WEBHOOK_URL", "must be an http(s) URL"));
            }
        }
        self.reset_webhook_secret()?;
        let url = self.database_url.expose_secret();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "AUTH_DATABASE_URL",
                "must be a postgres:// or sqlite: URL",
            ));
        }
        service_kit::settings::parse_origins(&self.cors_origins)
            .map_err(|e| invalid("AUTH_CORS_ORIGINS", e))?;
        Ok(())
    }

    /// The key that signs reset deliveries, from `AUTH_RESET_WEBHOOK_SECRET`.
    pub fn reset_webhook_secret(&self) -> Result<Option<WebhookSecret>, SettingsError> {
        self.reset_webhook_secret
            .as_ref()
            .map(|secret| {
                WebhookSecret::parse(secret.expose_secret())
                    .map_err(|e| invalid("AUTH_RESET_WEBHOOK_SECRET", e.to_string()))
            })
            .transpose()
    }

    /// The argon2id parameters of `AUTH_ARGON2_*`.
    pub fn argon2_params(&self) -> Result<argon2::Params, SettingsError> {
        argon2::Params::new(
            self.argon2_memory_kib,
            self.argon2_iterations,
            self.argon2_parallelism,
            None,
        )
        .map_err(|e| invalid("AUTH_ARGON2_*", e.to_string()))
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose_secret().starts_with("sqlite:")
    }

    /// The issuer without a trailing slash, for building URLs under it.
    pub fn issuer_base(&self) -> &str {
        self.issuer.trim_end_matches('/')
    }

    pub fn db_config(&self) -> service_kit::db::DbConfig {
        let mut config = service_kit::db::DbConfig::new(self.database_url.expose_secret());
        config.max_connections = self.db_max_connections;
        config.acquire_timeout = std::time::Duration::from_secs(self.db_acquire_timeout_secs);
        config
    }

    /// Longest a token we signed can live: a retired key stays published this long.
    pub fn longest_token_ttl_secs(&self) -> u64 {
        // Every token is cut at its session's end.
        self.access_token_ttl_secs
            .max(self.refresh_token_ttl_secs)
            .min(self.session_max_lifetime_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_url_is_never_printed() {
        let mut settings = Settings::defaults();
        settings.database_url = SecretString::from("postgres://auth:hunter2@db/auth".to_owned());
        assert!(!format!("{settings:?}").contains("hunter2"));
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn a_session_lifetime_of_zero_or_a_strange_database_is_refused() {
        let mut settings = Settings::defaults();
        settings.session_max_lifetime_secs = 0;
        assert!(settings.validate().is_err());
        let mut settings = Settings::defaults();
        settings.database_url = SecretString::from("mysql://x".to_owned());
        assert!(settings.validate().is_err());
        assert_eq!(Settings::defaults().session_max_lifetime_secs, 7_776_000);
    }
}
