//! Prometheus metrics: one process-wide recorder, rendered at `/metrics`, with the metrics every
//! service has (HTTP, process, build, database pool). Each crate describes its own metrics
//! (`# HELP`) beside the code that records them.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{DatabaseConnection, DbBackend};

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

struct Recorder {
    handle: PrometheusHandle,
    process: metrics_process::Collector,
}

/// The recorder, installed on first use. Several apps in one process (tests) share it.
fn recorder() -> Option<&'static Recorder> {
    static RECORDER: OnceLock<Option<Recorder>> = OnceLock::new();
    RECORDER
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe_common();
            let process = metrics_process::Collector::default();
            process.describe();
            Some(Recorder { handle, process })
        })
        .as_ref()
}

/// Installs the recorder if it is not yet installed; `false` if another one was.
pub fn install() -> bool {
    recorder().is_some()
}

/// The Prometheus text exposition of every metric recorded so far.
pub fn render() -> String {
    match recorder() {
        Some(recorder) => {
            recorder.process.collect();
            recorder.handle.run_upkeep();
            recorder.handle.render()
        }
        None => String::new(),
    }
}

fn describe_common() {
    describe_counter!(
        "http_requests_total",
        Unit::Count,
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time from a request's arrival to its answer, by method and route template"
    );
    describe_gauge!(
        "build_info",
        "Always 1; the labels say which version and commit this process runs"
    );
    describe_gauge!(
        "db_pool_connections",
        Unit::Count,
        "Database connections this process holds, by state (in_use, idle)"
    );
    describe_gauge!(
        "db_pool_max_connections",
        Unit::Count,
        "The most database connections this process may hold"
    );
}

/// The version this binary reports: `BUILD_VERSION` at build time (the images pass their tag),
/// else (unset or empty) the crate version.
pub const BUILD_VERSION: &str = match option_env!("BUILD_VERSION") {
    Some(version) if !version.is_empty() => version,
    _ => env!("CARGO_PKG_VERSION"),
};

/// The commit this binary was built from: `BUILD_COMMIT` at build time, else `unknown`.
pub const BUILD_COMMIT: &str = match option_env!("BUILD_COMMIT") {
    Some(commit) if !commit.is_empty() => commit,
    _ => "unknown",
};

/// Installs the recorder, describes the common metrics and records `build_info{version,
/// commit}` (1): which build each replica runs.
pub fn install_with_build_info() {
    install();
    metrics::gauge!("build_info", "version" => BUILD_VERSION, "commit" => BUILD_COMMIT).set(1.0);
}

/// Sets the pool gauges from the pool's current state (call it when scraped).
pub fn sample_pool(db: &DatabaseConnection) {
    // The backend says which pool the connection holds (the getters panic on the other one).
    let (size, idle, max) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        _ => return,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    let in_use = size.saturating_sub(idle);
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(f64::from(in_use));
    metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("db_pool_max_connections").set(f64::from(max));
}

pub fn record_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => method.to_owned(),
        "route" => route.to_owned()
    )
    .record(elapsed.as_secs_f64());
}
