//! The binary: subcommands, `--help`, bootstrap admin.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use serde_json::json;
use service_kit::test_db::TestDb;

use crate::helpers::*;

const BIN: &str = env!("CARGO_BIN_EXE_auth-service");
const KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn command(db: &TestDb) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTH_DATABASE_URL", &db.url)
        .env("AUTH_KEY_ENCRYPTION_KEY", KEK)
        .env("AUTH_ISSUER", "http://auth.test")
        .env("RUST_LOG", "error");
    command
}

#[test]
fn help_names_every_env_var() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for var in [
        "AUTH_LISTEN_ADDR",
        "AUTH_DATABASE_URL",
        "AUTH_ISSUER",
        "AUTH_AUDIENCE",
        "AUTH_ACCESS_TOKEN_TTL_SECS",
        "AUTH_REFRESH_TOKEN_TTL_SECS",
        "AUTH_ARGON2_MEMORY_KIB",
        "AUTH_ARGON2_ITERATIONS",
        "AUTH_ARGON2_PARALLELISM",
        "AUTH_BOOTSTRAP_ADMIN_EMAIL",
        "AUTH_BOOTSTRAP_ADMIN_PASSWORD",
        "AUTH_RESET_TOKEN_TTL_SECS",
        "AUTH_RESET_WEBHOOK_URL",
        "AUTH_KEY_ENCRYPTION_KEY",
        "AUTH_INSECURE_DEV",
        "AUTH_SIGNING_KEY_PRE_PUBLISH_SECS",
        "AUTH_CORS_ORIGINS",
        "AUTH_TRUST_FORWARDED_FOR",
        "AUTH_LOGIN_MAX_FAILURES",
        "AUTH_LOGIN_MAX_FAILURES_PER_ADDR",
        "AUTH_LOGIN_FAILURE_WINDOW_SECS",
        "AUTH_KEY_REFRESH_SECS",
        "AUTH_RSA_BITS",
        "AUTH_AUTO_MIGRATE",
        "LOG_FORMAT",
    ] {
        assert!(help.contains(var), "--help does not name {var}");
    }
    assert!(help.contains("migrate") && help.contains("keys") && help.contains("users"));
}

#[tokio::test]
async fn migrate_then_users_create_then_login() {
    let db = Arc::new(TestDb::new().await);
    let status = command(&db).arg("migrate").status().unwrap();
    assert!(status.success());

    let mut child = command(&db)
        .args([
            "users",
            "create",
            "--email",
            "Ops@Example.com",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");

    let output = command(&db)
        .args(["users", "create", "--email", "dev@example.com"])
        .env("AUTH_USER_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");

    let weak = command(&db)
        .args(["users", "create", "--email", "weak@example.com"])
        .env("AUTH_USER_PASSWORD", "password")
        .output()
        .unwrap();
    assert!(!weak.status.success());

    let app = TestApp::start(settings(&db), Arc::clone(&db)).await;
    let admin = app.tokens("ops@example.com", PASSWORD).await;
    assert_eq!(admin.body["user"]["role"], "admin");
    let user = app.tokens("dev@example.com", PASSWORD).await;
    assert_eq!(user.body["user"]["role"], "user");
}

#[tokio::test]
async fn keys_list_and_rotate_print_one_key_a_line() {
    let db = Arc::new(TestDb::new().await);
    let app = TestApp::start(settings(&db), Arc::clone(&db)).await;
    let jwks: serde_json::Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();

    let list = command(&db).args(["keys", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&list.stdout).to_string();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with(&format!("{kid}\tactive")), "{text}");

    let rotate = command(&db).args(["keys", "rotate"]).output().unwrap();
    assert!(rotate.status.success(), "{rotate:?}");
    let list = command(&db).args(["keys", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&list.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines.iter().any(|l| l.contains("\tnext\t")), "{text}");

    let revoke = command(&db)
        .args(["keys", "revoke", &kid])
        .output()
        .unwrap();
    assert!(revoke.status.success(), "{revoke:?}");
    let unknown = command(&db)
        .args(["keys", "revoke", "no-such-kid"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    let list = command(&db).args(["keys", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&list.stdout).to_string();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains("\tactive\t") && !text.contains(&kid),
        "{text}"
    );

    let root = app.admin("root@example.com").await;
    let events = app.audit_events(&root, None).await;
    assert!(events.iter().any(|e| e["event"] == "key_rotated"));
    assert!(events.iter().any(|e| e["event"] == "key_revoked"));
}

#[tokio::test]
async fn the_bootstrap_admin_is_created_once_whatever_the_restarts() {
    let db = Arc::new(TestDb::new().await);
    let bootstrap = |s: &mut auth_service::Settings| {
        s.bootstrap_admin_email = Some("boss@example.com".into());
        s.bootstrap_admin_password = Some(PASSWORD.to_owned().into());
    };
    let mut first_settings = settings(&db);
    bootstrap(&mut first_settings);
    let mut first = TestApp::start(first_settings.clone(), Arc::clone(&db)).await;
    first.stop().await;
    let app = TestApp::start(first_settings, Arc::clone(&db)).await;
    let admin = app.tokens("boss@example.com", PASSWORD).await;
    assert_eq!(admin.body["user"]["role"], "admin");
    let users: serde_json::Value = app
        .get("/api/admin/users", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users["pagination"]["total"], 1);
    let _ = json!({});
}

// Multi-threaded: the blocking child process must not stall the server under test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_exits_zero_against_a_live_service_and_non_zero_otherwise() {
    let app = TestApp::spawn().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let ok = Command::new(BIN)
        .arg("healthcheck")
        .env("AUTH_LISTEN_ADDR", &addr)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = closed.local_addr().unwrap().to_string();
    drop(closed);
    let down = Command::new(BIN)
        .arg("healthcheck")
        .env("AUTH_LISTEN_ADDR", dead)
        .output()
        .unwrap();
    assert!(!down.status.success());
}

// Multi-threaded: the blocking child processes must not stall the server under test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_rotations_at_once_publish_one_next_key_and_the_loser_says_why() {
    let db = Arc::new(TestDb::new().await);
    let app = TestApp::start(settings(&db), Arc::clone(&db)).await;
    drop(app);
    let rotations: Vec<_> = (0..2)
        .map(|_| {
            command(&db)
                .args(["keys", "rotate"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = rotations
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    let won = outputs.iter().filter(|o| o.status.success()).count();
    assert_eq!(won, 1, "{outputs:?}");
    let lost = outputs.iter().find(|o| !o.status.success()).unwrap();
    assert!(
        String::from_utf8_lossy(&lost.stderr).contains("a next key is already published"),
        "{lost:?}"
    );
    let list = command(&db).args(["keys", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&list.stdout).to_string();
    assert_eq!(text.matches("\tnext\t").count(), 1, "{text}");
    // A third, later, is refused the same way.
    let again = command(&db).args(["keys", "rotate"]).output().unwrap();
    assert!(!again.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_commands_with_the_wrong_key_encryption_key_change_nothing() {
    let db = Arc::new(TestDb::new().await);
    let app = TestApp::start(settings(&db), Arc::clone(&db)).await;
    drop(app);
    let keys_before = command(&db).args(["keys", "list"]).output().unwrap();
    assert!(keys_before.status.success());
    let other_kek = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    for args in [
        &["keys", "rotate"][..],
        &["keys", "list"][..],
        &["keys", "revoke", "no-such-kid"][..],
    ] {
        let output = command(&db)
            .env("AUTH_KEY_ENCRYPTION_KEY", other_kek)
            .args(args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}: {output:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("AUTH_KEY_ENCRYPTION_KEY"),
            "{args:?}: {output:?}"
        );
    }
    let keys_after = command(&db).args(["keys", "list"]).output().unwrap();
    assert_eq!(keys_before.stdout, keys_after.stdout, "nothing was written");
    // The service still starts: no key it cannot open was sealed.
    let app = TestApp::start(settings(&db), Arc::clone(&db)).await;
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_settings_come_from_files_and_never_from_both() {
    let db = Arc::new(TestDb::new().await);
    let app = TestApp::start(settings(&db), Arc::clone(&db)).await;
    drop(app);
    let dir = tempfile::tempdir().unwrap();
    let (url_file, kek_file) = (dir.path().join("url"), dir.path().join("kek"));
    std::fs::write(&url_file, format!("{}\n", db.url)).unwrap();
    std::fs::write(&kek_file, format!("{KEK}\n")).unwrap();
    let from_files = || {
        let mut command = command(&db);
        command
            .env_remove("AUTH_DATABASE_URL")
            .env_remove("AUTH_KEY_ENCRYPTION_KEY")
            .env("AUTH_DATABASE_URL_FILE", &url_file)
            .env("AUTH_KEY_ENCRYPTION_KEY_FILE", &kek_file);
        command
    };
    let listed = from_files().args(["keys", "list"]).output().unwrap();
    assert!(listed.status.success(), "{listed:?}");
    assert_eq!(String::from_utf8_lossy(&listed.stdout).lines().count(), 1);

    let both = from_files()
        .env("AUTH_KEY_ENCRYPTION_KEY", KEK)
        .args(["keys", "list"])
        .output()
        .unwrap();
    assert!(!both.status.success());
    assert!(
        String::from_utf8_lossy(&both.stderr).contains("cannot be used with"),
        "{both:?}"
    );

    let missing = from_files()
        .env("AUTH_DATABASE_URL_FILE", dir.path().join("no-such-file"))
        .args(["keys", "list"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("AUTH_DATABASE_URL_FILE"),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_malformed_webhook_secret_stops_the_start() {
    let db = TestDb::new().await;
    let output = command(&db)
        .env("AUTH_LISTEN_ADDR", "127.0.0.1:0")
        .env("AUTH_RESET_WEBHOOK_URL", "http://127.0.0.1:9/hook")
        .env("AUTH_RESET_WEBHOOK_SECRET", "whsec_CHANGE-ME")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("AUTH_RESET_WEBHOOK_SECRET") && !stderr.contains("CHANGE-ME"),
        "names the setting, never its value: {stderr}"
    );
}

/// The configuration reference documents every setting the binary accepts, subcommands' included.
#[test]
fn every_setting_in_help_is_in_the_configuration_reference() {
    service_kit::test_cli::assert_settings_documented(
        BIN.as_ref(),
        include_str!("../../../docs/CONFIGURATION.md"),
        "AUTH_USER_PASSWORD",
    );
}
