//! Settings: every one a `--flag` and a `TODO_*` environment variable (`--help` names each),
//! with the contract's defaults.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use clap::builder::BoolishValueParser;
use secrecy::{ExposeSecret, SecretString};
use service_kit::db::DbConfig;
use service_kit::layers::HttpConfig;
use service_kit::settings::{LogFormat, parse_origins};
use shared_claims::{JwksConfig, VerifierConfig};

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free one.
    #[arg(
        long,
        env = "TODO_LISTEN_ADDR",
        default_value = "127.0.0.1:8081",
        global = true
    )]
    pub listen_addr: SocketAddr,

    /// A second address serving only /healthz, /readyz and /metrics (they stay on the main
    /// address too): for probes and scraping that no ingress routes.
    #[arg(long, env = "TODO_MANAGEMENT_ADDR", global = true)]
    pub management_addr: Option<SocketAddr>,

    /// `postgres://…` or `sqlite:…` (this service's own database).
    #[arg(
        long,
        env = "TODO_DATABASE_URL",
        default_value = "sqlite://data/todo.db?mode=rwc",
        hide_env_values = true,
        global = true
    )]
    pub database_url: SecretString,

    /// Read TODO_DATABASE_URL from this file (a mounted secret) instead.
    #[arg(
        long,
        env = "TODO_DATABASE_URL_FILE",
        conflicts_with = "database_url",
        global = true
    )]
    pub database_url_file: Option<std::path::PathBuf>,

    /// Apply pending migrations when serving starts.
    #[arg(long, env = "TODO_AUTO_MIGRATE", default_value = "true", value_parser = BoolishValueParser::new(),
        action = clap::ArgAction::Set, global = true)]
    pub auto_migrate: bool,

    /// Connections in the PostgreSQL pool (SQLite always uses one).
    #[arg(long, env = "TODO_DB_MAX_CONNECTIONS", default_value_t = service_kit::db::DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub db_max_connections: u32,

    /// Seconds a request waits for a database connection before it is answered 503.
    #[arg(long, env = "TODO_DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub db_acquire_timeout_secs: u64,

    /// The `iss` every access token must carry, exactly.
    #[arg(
        long,
        env = "TODO_ISSUER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub issuer: String,

    /// The audience an access token's `aud` must contain.
    #[arg(long, env = "TODO_AUDIENCE", default_value = "todo-api", global = true)]
    pub audience: String,

    /// Where the signing keys are published [default: {issuer}/.well-known/jwks.json].
    #[arg(long, env = "TODO_JWKS_URL", global = true)]
    pub jwks_url: Option<String>,

    /// Cool-down, in seconds, between JWKS fetches triggered by an unknown `kid`.
    #[arg(long, env = "TODO_JWKS_MIN_REFRESH_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub jwks_min_refresh_secs: u64,

    /// Seconds after the last successful JWKS fetch that the keys held keep serving while the
    /// auth host is unreachable.
    #[arg(long, env = "TODO_JWKS_MAX_STALE_SECS", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub jwks_max_stale_secs: u64,

    /// Clock skew, in seconds, allowed on `exp` and `nbf`; at most 300 (revocations are kept
    /// only as long as a token could be accepted with that much leeway).
    #[arg(long, env = "TODO_LEEWAY_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(..=300), global = true)]
    pub leeway_secs: u64,

    /// Comma-separated origins allowed by CORS; none by default.
    #[arg(long, env = "TODO_CORS_ORIGINS", default_value = "", value_parser = parse_cors_origins, global = true)]
    pub cors_origins: CorsOrigins,

    /// Base URL of the auth-service that the web client under `/app` calls (and that its
    /// Content-Security-Policy allows) [default: the issuer].
    #[arg(long, env = "TODO_WEB_AUTH_URL", global = true)]
    pub web_auth_url: Option<String>,

    /// Log lines as `pretty` text or `json` objects (`RUST_LOG` filters).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
}

/// The CORS origins, parsed and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins(pub Vec<String>);

fn parse_cors_origins(value: &str) -> Result<CorsOrigins, String> {
    parse_origins(value).map(CorsOrigins)
}

impl Settings {
    /// The settings with every default and no environment: a base for tests and tools.
    pub fn defaults() -> Settings {
        match service_kit::settings::defaults() {
            Ok(settings) => settings,
            // startup: the defaults are literals that parse.
            #[expect(clippy::panic, reason = "the defaults are literals; a typo is a bug")]
            Err(e) => panic!("default settings do not parse: {e}"),
        }
    }

    /// `TODO_JWKS_URL`, or the issuer's well-known JWKS path.
    pub fn jwks_url(&self) -> String {
        match &self.jwks_url {
            Some(url) if !url.trim().is_empty() => url.trim().to_owned(),
            _ => format!(
                "{}/.well-known/jwks.json",
                self.issuer.trim_end_matches('/')
            ),
        }
    }

    /// Reads `TODO_DATABASE_URL_FILE` into the setting it stands for (once; idempotent).
    pub fn load_secret_files(&mut self) -> Result<(), String> {
        if let Some(path) = self.database_url_file.take() {
            self.database_url = service_kit::settings::read_secret_file(&path)
                .map_err(|e| format!("TODO_DATABASE_URL_FILE: {e}"))?;
        }
        Ok(())
    }

    /// What clap cannot check on a single value.
    pub fn validate(&self) -> Result<(), String> {
        if self.issuer.trim().is_empty() {
            return Err("TODO_ISSUER must not be empty".into());
        }
        if self.audience.trim().is_empty() {
            return Err("TODO_AUDIENCE must not be empty".into());
        }
        let jwks = self.jwks_url();
        match url::Url::parse(&jwks) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {}
            _ => return Err(format!("the JWKS URL `{jwks}` is not an http(s) URL")),
        }
        if self.leeway_secs > 300 {
            return Err("TODO_LEEWAY_SECS must be at most 300".into());
        }
        if self.jwks_min_refresh_secs == 0 || self.jwks_max_stale_secs == 0 {
            return Err(
                "TODO_JWKS_MIN_REFRESH_SECS and TODO_JWKS_MAX_STALE_SECS must be at least 1".into(),
            );
        }
        if self.db_max_connections == 0 || self.db_acquire_timeout_secs == 0 {
            return Err(
                "TODO_DB_MAX_CONNECTIONS and TODO_DB_ACQUIRE_TIMEOUT_SECS must be at least 1"
                    .into(),
            );
        }
        let url = self.database_url.expose_secret();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err("TODO_DATABASE_URL must be a postgres:// or sqlite: URL".into());
        }
        Ok(())
    }

    pub fn db_config(&self) -> DbConfig {
        let mut config = DbConfig::new(self.database_url.expose_secret());
        config.max_connections = self.db_max_connections;
        config.acquire_timeout = Duration::from_secs(self.db_acquire_timeout_secs);
        config
    }

    pub fn verifier_config(&self) -> VerifierConfig {
        VerifierConfig::new(self.issuer.clone(), self.audience.clone(), self.leeway_secs)
    }

    pub fn jwks_config(&self) -> JwksConfig {
        let mut config = JwksConfig::new(self.jwks_url());
        config.min_refresh = Duration::from_secs(self.jwks_min_refresh_secs);
        config.max_stale = Duration::from_secs(self.jwks_max_stale_secs);
        config
    }

    pub fn http_config(&self) -> HttpConfig {
        HttpConfig {
            cors_origins: self.cors_origins.0.clone(),
            ..HttpConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;
    use crate::cli::Cli;

    /// Settings as the binary parses them from `args` (the binary's name first).
    fn parse(args: &[&str]) -> Result<Settings, clap::Error> {
        Cli::try_parse_from(args).map(|cli| cli.settings)
    }

    #[test]
    fn defaults_are_the_contract_s() {
        let parsed = parse(&["todo-service"]).unwrap();
        let defaults = Settings::defaults();
        assert_eq!(parsed.listen_addr, defaults.listen_addr);
        assert_eq!(
            parsed.database_url.expose_secret(),
            "sqlite://data/todo.db?mode=rwc"
        );
        assert!(parsed.auto_migrate);
        assert_eq!(parsed.issuer, "http://127.0.0.1:8080");
        assert_eq!(parsed.audience, "todo-api");
        assert_eq!(
            parsed.jwks_url(),
            "http://127.0.0.1:8080/.well-known/jwks.json"
        );
        assert_eq!(parsed.jwks_min_refresh_secs, 10);
        assert_eq!(parsed.jwks_max_stale_secs, 86_400);
        assert_eq!(parsed.leeway_secs, 30);
        assert_eq!(parsed.cors_origins, CorsOrigins::default());
        assert_eq!(parsed.log_format, LogFormat::Pretty);
        assert_eq!(
            parsed.db_max_connections,
            service_kit::db::DEFAULT_MAX_CONNECTIONS
        );
        assert_eq!(parsed.db_acquire_timeout_secs, 3);
        assert!(parsed.validate().is_ok());
    }

    #[test]
    fn flags_override_and_are_checked() {
        let parsed = parse(&[
            "todo-service",
            "--issuer",
            "https://auth.example/",
            "--auto-migrate",
            "false",
            "--cors-origins",
            "https://a.example, https://b.example",
            "--jwks-min-refresh-secs",
            "2",
        ])
        .unwrap();
        assert_eq!(
            parsed.jwks_url(),
            "https://auth.example/.well-known/jwks.json"
        );
        assert!(!parsed.auto_migrate);
        assert_eq!(parsed.cors_origins.0.len(), 2);
        assert_eq!(parsed.jwks_config().min_refresh, Duration::from_secs(2));
        assert!(parse(&["todo-service", "--jwks-max-stale-secs", "0"]).is_err());
        assert!(parse(&["todo-service", "--cors-origins", "ftp://x"]).is_err());
        assert!(parse(&["todo-service", "--listen-addr", "nowhere"]).is_err());
        assert!(parse(&["todo-service", "--leeway-secs", "300"]).is_ok());
        assert!(parse(&["todo-service", "--leeway-secs", "301"]).is_err());
        let mut bad = Settings::defaults();
        bad.jwks_url = Some("not a url".into());
        assert!(bad.validate().is_err());
        bad = Settings::defaults();
        bad.database_url = SecretString::from("mysql://x".to_owned());
        assert!(bad.validate().is_err());
    }

    #[test]
    fn help_names_every_environment_variable() {
        let help = Cli::command().render_long_help().to_string();
        for var in [
            "TODO_LISTEN_ADDR",
            "TODO_DATABASE_URL",
            "TODO_AUTO_MIGRATE",
            "TODO_DB_MAX_CONNECTIONS",
            "TODO_DB_ACQUIRE_TIMEOUT_SECS",
            "TODO_ISSUER",
            "TODO_AUDIENCE",
            "TODO_JWKS_URL",
            "TODO_JWKS_MIN_REFRESH_SECS",
            "TODO_JWKS_MAX_STALE_SECS",
            "TODO_LEEWAY_SECS",
            "TODO_CORS_ORIGINS",
            "TODO_WEB_AUTH_URL",
            "LOG_FORMAT",
        ] {
            assert!(help.contains(var), "--help does not name {var}");
        }
    }

    #[test]
    fn the_database_url_is_not_printed() {
        let mut settings = Settings::defaults();
        settings.database_url = SecretString::from("postgres://u:hunter2@db/todo".to_owned());
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
