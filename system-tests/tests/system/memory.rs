//! mimalloc asks for transparent huge pages, which put 16 MiB of mostly empty 2 MiB pages into
//! an idle service's RSS (the figure a container's memory limit counts): both binaries turn them
//! off for themselves at start, unless `MIMALLOC_ALLOW_THP` is set.

use std::time::Duration;

use service_kit::test_db::TestDb;

use crate::helpers::*;
use crate::process::Service;

/// The kernel's view of the process: `THP_enabled` in `/proc/<pid>/status` (Linux 5.0+).
fn thp_enabled(service: &Service) -> String {
    let status = std::fs::read_to_string(format!("/proc/{}/status", service.pid())).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("THP_enabled:"))
        .unwrap_or_else(|| panic!("no THP_enabled in {status}"))
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_services_run_without_transparent_huge_pages_unless_told_otherwise() {
    let auth_db = TestDb::new().await;
    let mut auth = Service::spawn("auth-service", "AUTH_LISTEN_ADDR", &auth_env(&auth_db));
    auth.wait_ready(Duration::from_secs(30)).await;
    assert_eq!(thp_enabled(&auth), "0");

    let todo_db = TestDb::new().await;
    let mut todo = Service::spawn(
        "todo-service",
        "TODO_LISTEN_ADDR",
        &todo_env(&todo_db, auth.url("/.well-known/jwks.json")),
    );
    todo.wait_ready(Duration::from_secs(30)).await;
    assert_eq!(thp_enabled(&todo), "0");

    let allowed_db = TestDb::new().await;
    let mut env = auth_env(&allowed_db);
    env.push(("MIMALLOC_ALLOW_THP", "1".into()));
    let mut allowed = Service::spawn("auth-service", "AUTH_LISTEN_ADDR", &env);
    allowed.wait_ready(Duration::from_secs(30)).await;
    assert_eq!(thp_enabled(&allowed), "1");
}
