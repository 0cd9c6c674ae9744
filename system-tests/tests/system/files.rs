//! Files the services create hold password hashes, sealed keys, audit addresses and todos: they
//! are readable by their owner only, whatever the umask the process was started with.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::helpers::*;
use crate::process::Service;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_umask_022_both_services_create_owner_only_files() {
    let _serial = SERIAL.lock().await;
    let root = tempfile_dir();
    let auth_dir = root.join("auth-data");
    let todo_dir = root.join("todo-data/nested");
    let auth_db = auth_dir.join("auth.db");
    let todo_db = todo_dir.join("todo.db");
    let log = root.join("auth.log");

    // No AUTH_KEY_ENCRYPTION_KEY: on SQLite the service generates one beside the database.
    let auth_env = vec![
        (
            "AUTH_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", auth_db.display()),
        ),
        ("AUTH_ISSUER", ISSUER.to_owned()),
    ];
    let mut auth =
        Service::spawn_with_umask("auth-service", "022", "AUTH_LISTEN_ADDR", &auth_env, None);
    auth.wait_ready(START).await;
    let client = reqwest::Client::new();
    register(&client, &auth.base, "owner@example.com").await;
    let todo_env = vec![
        (
            "TODO_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", todo_db.display()),
        ),
        ("TODO_ISSUER", ISSUER.to_owned()),
        ("TODO_JWKS_URL", auth.url("/.well-known/jwks.json")),
    ];
    let mut todo =
        Service::spawn_with_umask("todo-service", "022", "TODO_LISTEN_ADDR", &todo_env, None);
    todo.wait_ready(START).await;

    for dir in [&auth_dir, &root.join("todo-data"), &todo_dir] {
        assert_eq!(mode(dir), 0o700, "{}", dir.display());
    }
    for db in [&auth_db, &todo_db] {
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{}{suffix}", db.display());
            assert_eq!(mode(Path::new(&file)), 0o600, "{file}");
        }
    }
    assert_eq!(mode(&auth_dir.join("auth.kek")), 0o600);

    // An existing key-encryption key file someone made readable is used, with a warning.
    drop(auth);
    std::fs::set_permissions(
        auth_dir.join("auth.kek"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let mut warn_env = auth_env.clone();
    warn_env.push(("RUST_LOG", "warn".to_owned()));
    let mut auth = Service::spawn_with_umask(
        "auth-service",
        "022",
        "AUTH_LISTEN_ADDR",
        &warn_env,
        Some(&log),
    );
    auth.wait_ready(START).await;
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("key-encryption key file is accessible to other users"),
        "{logged}"
    );
    drop(auth);
    drop(todo);
    std::fs::remove_dir_all(&root).unwrap();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
