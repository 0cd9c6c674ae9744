//! A fresh database per test (feature `test-util`): PostgreSQL when `TEST_DATABASE_URL` is set
//! (a new database on that server, so tests run in parallel), else a SQLite file in a temp dir.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use sea_orm::{ConnectionTrait, Database};

#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// Prefix of every database the tests create; `.ci/run` drops leftovers by it.
pub const TEST_DB_PREFIX: &str = "t_";

impl TestDb {
    pub async fn new() -> TestDb {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(base) if !base.trim().is_empty() => Self::postgres(base.trim()).await,
            _ => Self::sqlite(),
        }
    }

    /// SQLite whatever the environment says (for tests of the embedded default itself).
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
        TestDb {
            url,
            _dir: Some(dir),
        }
    }

    async fn postgres(base: &str) -> TestDb {
        let name = format!("{TEST_DB_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(base)
            .await
            .expect("connect to TEST_DATABASE_URL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        admin.close().await.expect("close");
        let mut url = url::Url::parse(base).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        TestDb {
            url: url.to_string(),
            _dir: None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }
}
