//! Running the services as real processes, for the tests that need several of them.
//!
//! The processes run this package's `auth-service-under-test` and `todo-service-under-test`
//! binaries: the services' own `main`s, built by Cargo together with these tests, so a test
//! never runs a stale binary.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The service binary `name` (`auth-service` or `todo-service`) as built with these tests.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join(format!("{name}-under-test"));
    assert!(path.exists(), "{} not found", path.display());
    path
}

/// A port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A base64 key-encryption key for tests (never used outside them).
pub const TEST_KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A service process listening on its own port.
pub struct Service {
    pub name: String,
    pub base: String,
    child: Child,
}

impl Service {
    /// Starts `bin` with `envs` on a free port (`<PREFIX>_LISTEN_ADDR`), without waiting.
    pub fn spawn(bin: &str, listen_var: &str, envs: &[(&str, String)]) -> Service {
        Self::spawn_logging(bin, listen_var, envs, None)
    }

    /// Like [`Service::spawn`], with stdout and stderr appended to `log` when given (a
    /// `RUST_LOG` in `envs` then sets the level).
    pub fn spawn_logging(
        bin: &str,
        listen_var: &str,
        envs: &[(&str, String)],
        log: Option<&std::path::Path>,
    ) -> Service {
        Self::start(bin, Command::new(binary(bin)), listen_var, envs, log)
    }

    /// Like [`Service::spawn_logging`], with the process's umask set to `umask` (octal) first.
    pub fn spawn_with_umask(
        bin: &str,
        umask: &str,
        listen_var: &str,
        envs: &[(&str, String)],
        log: Option<&std::path::Path>,
    ) -> Service {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\""))
            .arg(binary(bin));
        Self::start(bin, command, listen_var, envs, log)
    }

    fn start(
        bin: &str,
        mut command: Command,
        listen_var: &str,
        envs: &[(&str, String)],
        log: Option<&std::path::Path>,
    ) -> Service {
        let port = free_port();
        command
            .env(listen_var, format!("127.0.0.1:{port}"))
            .env(
                "RUST_LOG",
                std::env::var("SYSTEM_TEST_LOG").unwrap_or_else(|_| "error".into()),
            )
            .stdin(Stdio::null());
        if let Some(path) = log {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap();
            command.stdout(file.try_clone().unwrap()).stderr(file);
        } else if std::env::var_os("SYSTEM_TEST_LOG").is_none() {
            command.stdout(Stdio::null()).stderr(Stdio::null());
        }
        for (key, value) in envs {
            command.env(key, value);
        }
        let child = command.spawn().unwrap();
        Service {
            name: bin.to_owned(),
            base: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&mut self, within: Duration) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < within {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited during start: {status}", self.name);
            }
            if let Ok(response) = client.get(self.url("/readyz")).send().await
                && response.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} was not ready within {within:?}", self.name);
    }

    /// The process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, up to `within`.
    pub async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{} did not exit within {within:?}", self.name);
    }

    /// Peak resident memory so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmHWM:")
    }

    /// Resident memory now (`VmRSS`), in KiB.
    pub fn rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmRSS:")
    }
}

fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `bin` with `args` and `envs` to completion; returns (success, stdout).
pub fn run(bin: &str, args: &[&str], envs: &[(&str, String)]) -> (bool, String) {
    let mut command = Command::new(binary(bin));
    command.args(args).env("RUST_LOG", "error");
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// A TCP proxy the test can cut: the database unreachable, then back.
pub struct CuttableProxy {
    pub port: u16,
    upstream: std::net::SocketAddr,
    running: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl CuttableProxy {
    pub async fn start(upstream: std::net::SocketAddr) -> CuttableProxy {
        let proxy = CuttableProxy {
            port: free_port(),
            upstream,
            running: std::sync::Mutex::new(None),
        };
        proxy.restore().await;
        proxy
    }

    /// Accepts connections again, on the same port.
    pub async fn restore(&self) {
        let listener = loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let upstream = self.upstream;
        let task = tokio::spawn(async move {
            let mut pipes = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                pipes.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
            // Dropping the set aborts every pipe: established connections die too.
            drop(pipes);
        });
        *self.running.lock().unwrap() = Some(task);
    }

    /// Refuses new connections and kills the established ones.
    pub async fn cut(&self) {
        let task = self.running.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }
}
