//! Serving: HTTP/1.1 on a bound listener, slow clients cut off, SIGTERM drains then exits.
//!
//! `axum::serve` has no header-read timeout, so a client dribbling its headers a byte at a time
//! could hold a connection forever; this loop sets one on hyper and keeps the graceful drain.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Headers must arrive within this long of the connection's start (or of the previous response).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// In-flight requests get this long to finish after shutdown is asked for.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A bound listener; binding separately from serving lets tests learn the port first.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    header_read_timeout: Duration,
}

impl Server {
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        Ok(Server {
            listener,
            local_addr,
            header_read_timeout: HEADER_READ_TIMEOUT,
        })
    }

    /// How long a client may take to send its request headers.
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// Serves `router` until `shutdown` completes, then stops accepting, lets in-flight requests
    /// finish (up to [`DRAIN_TIMEOUT`]) and returns.
    pub async fn serve(self, router: Router, shutdown: impl Future<Output = ()> + Send) {
        let graceful = GracefulShutdown::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_buf_size(64 * 1024);
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(error) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let router = router.clone();
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(req.map(axum::body::Body::new))
            });
            let connection = http.serve_connection(TokioIo::new(stream), service);
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, %peer, "connection ended with an error");
                }
            });
        }
        drop(self.listener);
        tracing::info!("shutting down: draining in-flight requests");
        if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("drain timed out; closing the remaining connections");
        }
    }
}

/// Serves each `(server, router)` until `shutdown` completes, then drains them all: the main
/// listener and a management listener stop together.
pub async fn serve_all(servers: Vec<(Server, Router)>, shutdown: impl Future<Output = ()> + Send) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut serving = tokio::task::JoinSet::new();
    for (server, router) in servers {
        let mut stopped = stopped.clone();
        serving.spawn(server.serve(router, async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }));
    }
    shutdown.await;
    let _ = stop.send(true);
    while serving.join_next().await.is_some() {}
}

/// The management listener's routes: `/healthz`, `/readyz` and `/metrics` behind the shared
/// middleware (request ids, `nosniff`), nothing else.
pub fn management_router(probes: crate::health::Probes) -> Router {
    crate::layers::apply(
        crate::health::router(probes),
        &crate::layers::HttpConfig::default(),
    )
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
