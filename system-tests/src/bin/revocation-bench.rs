//! The revocation benchmark (run by `scripts/bench.sh` against release binaries):
//!
//! 1. logout → refusal: log in, let every todo replica accept the token, log out, poll each
//!    replica until it answers 401; the time from sending the logout to the refusal, per
//!    replica, over `--logouts` logouts;
//! 2. fan-out: `--subscribers` feed subscribers on one auth replica (standing in for that many
//!    verifier replicas), then `--events` logouts: the time from sending each logout to its
//!    arrival at each subscriber; the auth replica's memory and CPU per subscriber.
//!
//! Prints one JSON object. Exits non-zero if a refusal or a delivery never happens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

// mimalloc, as the services use.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PASSWORD: &str = "correct horse battery staple";

struct Args {
    auth: String,
    auth_pid: u32,
    todos: Vec<String>,
    logouts: usize,
    subscribers: usize,
    events: usize,
}

fn args() -> Args {
    let mut args = Args {
        auth: String::new(),
        auth_pid: 0,
        todos: Vec::new(),
        logouts: 200,
        subscribers: 1_000,
        events: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--auth" => args.auth = value,
            "--auth-pid" => args.auth_pid = value.parse().unwrap(),
            "--todo" => args.todos.push(value),
            "--logouts" => args.logouts = value.parse().unwrap(),
            "--subscribers" => args.subscribers = value.parse().unwrap(),
            "--events" => args.events = value.parse().unwrap(),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        !args.auth.is_empty() && !args.todos.is_empty(),
        "--auth and --todo are required"
    );
    args
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    if values.is_empty() {
        return f64::NAN;
    }
    values[((values.len() as f64 * p) as usize).min(values.len() - 1)]
}

fn proc_field(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// User + system CPU time of `pid`, seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which may hold spaces): state is the 3rd, utime the 14th.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

async fn login(client: &reqwest::Client, auth: &str, email: &str) -> String {
    let body: Value = client
        .post(format!("{auth}/api/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().expect("a token").to_owned()
}

async fn status(client: &reqwest::Client, todo: &str, token: &str) -> u16 {
    client
        .get(format!("{todo}/api/todos"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn logout(client: &reqwest::Client, auth: &str, token: &str) {
    let response = client
        .post(format!("{auth}/api/auth/logout"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

/// Logout → refusal at every todo replica, `n` times: milliseconds per (logout, replica).
async fn refusal_latency(args: &Args, client: &reqwest::Client, email: &str) -> Vec<f64> {
    let mut samples = Vec::new();
    for _ in 0..args.logouts {
        let token = login(client, &args.auth, email).await;
        for todo in &args.todos {
            assert_eq!(status(client, todo, &token).await, 200);
        }
        let sent = Instant::now();
        logout(client, &args.auth, &token).await;
        let waits = args.todos.iter().map(|todo| {
            let (client, token, todo) = (client.clone(), token.clone(), todo.clone());
            async move {
                loop {
                    if status(&client, &todo, &token).await == 401 {
                        return sent.elapsed();
                    }
                    assert!(sent.elapsed() < Duration::from_secs(10), "never refused");
                    tokio::time::sleep(Duration::from_micros(500)).await;
                }
            }
        });
        for took in futures_join(waits).await {
            samples.push(took.as_secs_f64() * 1e3);
        }
    }
    samples
}

async fn futures_join<F: std::future::Future<Output = Duration> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<Duration> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

/// One subscriber: when each event (by sequence number) arrived; `synced` flips once the
/// backlog is through.
#[derive(Default)]
struct Arrivals {
    synced: bool,
    events: Vec<(i64, Instant)>,
}

async fn subscribe(client: reqwest::Client, url: String, arrivals: Arc<Mutex<Arrivals>>) {
    let mut response = client
        .get(url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let mut text = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let now = Instant::now();
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let mut arrivals = arrivals.lock().unwrap();
            if block.contains("event: synced") {
                arrivals.synced = true;
            } else if block.contains("event: revocation")
                && let Some(id) = block
                    .lines()
                    .find_map(|l| l.strip_prefix("id: "))
                    .and_then(|id| id.parse::<i64>().ok())
            {
                arrivals.events.push((id, now));
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let args = args();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let email = format!(
        "revbench-{}@example.com",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    let registered = client
        .post(format!("{}/api/auth/register", args.auth))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);

    // 1. logout → refusal at each todo replica.
    let mut refusals = refusal_latency(&args, &client, &email).await;
    let refusal = json!({
        "samples": refusals.len(),
        "p50_ms": percentile(&mut refusals, 0.50),
        "p99_ms": percentile(&mut refusals, 0.99),
        "max_ms": percentile(&mut refusals, 1.0),
    });

    // 2. fan-out to many subscribers on one auth replica.
    let feed_url = format!("{}/.well-known/revocations", args.auth);
    let rss_before = proc_field(args.auth_pid, "VmRSS:");
    let subscriber_client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let all: Vec<Arc<Mutex<Arrivals>>> = (0..args.subscribers)
        .map(|_| Arc::new(Mutex::new(Arrivals::default())))
        .collect();
    let mut tasks = Vec::new();
    for arrivals in &all {
        tasks.push(tokio::spawn(subscribe(
            subscriber_client.clone(),
            feed_url.clone(),
            Arc::clone(arrivals),
        )));
    }
    let started = Instant::now();
    while !all.iter().all(|a| a.lock().unwrap().synced) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "subscribers never synced"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_connected = proc_field(args.auth_pid, "VmRSS:");
    let cpu_idle_start = cpu_secs(args.auth_pid);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let cpu_idle = cpu_secs(args.auth_pid) - cpu_idle_start;
    let baseline: Vec<usize> = all.iter().map(|a| a.lock().unwrap().events.len()).collect();

    // Log in first: an argon2id hash per login must not count as the feed's CPU.
    let mut tokens = Vec::new();
    for _ in 0..args.events {
        tokens.push(login(&client, &args.auth, &email).await);
    }
    let cpu_events_start = cpu_secs(args.auth_pid);
    let mut sent_at = Vec::new();
    for token in tokens {
        let sent = Instant::now();
        logout(&client, &args.auth, &token).await;
        sent_at.push(sent);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let started = Instant::now();
    loop {
        let done = all
            .iter()
            .zip(&baseline)
            .all(|(a, base)| a.lock().unwrap().events.len() >= base + args.events);
        if done {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "deliveries missing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu_events = cpu_secs(args.auth_pid) - cpu_events_start;
    let mut deliveries = Vec::new();
    for (arrivals, base) in all.iter().zip(&baseline) {
        let arrivals = arrivals.lock().unwrap();
        // The k-th new event is the k-th logout: nothing else writes meanwhile.
        for (k, (_, at)) in arrivals.events[*base..*base + args.events]
            .iter()
            .enumerate()
        {
            deliveries.push(at.duration_since(sent_at[k]).as_secs_f64() * 1e3);
        }
    }
    for task in tasks {
        task.abort();
    }
    let subscribers = args.subscribers as f64;
    let fanout = json!({
        "subscribers": args.subscribers,
        "events": args.events,
        "deliveries": deliveries.len(),
        "connect_and_sync_secs": connect_secs,
        "p50_ms": percentile(&mut deliveries, 0.50),
        "p99_ms": percentile(&mut deliveries, 0.99),
        "max_ms": percentile(&mut deliveries, 1.0),
        "rss_kib_before": rss_before,
        "rss_kib_connected": rss_connected,
        "kib_per_subscriber": (rss_connected.saturating_sub(rss_before)) as f64 / subscribers,
        "idle_cpu_ms_per_subscriber_per_s": cpu_idle * 1e3 / subscribers / 10.0,
        "cpu_us_per_delivery": cpu_events * 1e6 / (subscribers * args.events as f64),
    });
    println!("{}", json!({"refusal": refusal, "fanout": fanout}));
}
