//! The serving loop against hostile clients and a shutdown: slow headers are cut off, large
//! bodies refused before they are read, in-flight requests finish during the drain.

// Tests fail loudly by design: unwrap, expect and panic are how a test says "this must hold".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use service_kit::health::{Gauges, Probes, Readiness};
use service_kit::layers::HttpConfig;
use service_kit::serve::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Ready;

impl Readiness for Ready {
    fn check(
        &self,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<(), service_kit::health::NotReady>> + Send + '_,
        >,
    > {
        Box::pin(async { Ok(()) })
    }
}

impl Gauges for Ready {
    fn sample(&self) {}
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(800)).await;
    "done"
}

async fn echo(
    service_kit::json::ApiJson(body): service_kit::json::ApiJson<serde_json::Value>,
) -> String {
    body.to_string()
}

struct Running {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn serve(header_timeout: Duration) -> Running {
    let router = Router::new()
        .route("/slow", get(slow))
        .route("/echo", post(echo))
        .merge(service_kit::health::router(Probes::new(Arc::new(Ready))));
    let router = service_kit::layers::apply(router, &HttpConfig::default());
    let server = Server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .with_header_read_timeout(header_timeout);
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(router, async {
        let _ = stopped.await;
    }));
    Running { addr, stop, task }
}

#[tokio::test]
async fn a_client_dribbling_its_headers_is_cut_off() {
    let running = serve(Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    let started = Instant::now();
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    let mut cut_off = false;
    for byte in request.iter().chain(b"a".repeat(100).iter()) {
        if stream.write_all(&[*byte]).await.is_err() {
            cut_off = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    if !cut_off {
        // The server may have answered 408 and closed; either way the connection is over.
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut buf)).await;
        cut_off = matches!(read, Ok(Ok(_)) | Ok(Err(_)));
    }
    assert!(cut_off, "the connection stayed open");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "cut off after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_announced_large_body_is_refused_before_it_is_sent() {
    let running = serve(Duration::from_secs(10)).await;
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    let head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    // Not a byte of the 10 MB body is sent; the answer comes anyway.
    let mut buf = vec![0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf))
        .await
        .expect("answered without reading the body")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..read]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("application/problem+json"));
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let running = serve(Duration::from_secs(10)).await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/slow", running.addr);
    let in_flight: Vec<_> = (0..10)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move { client.get(url).send().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.stop.send(()).unwrap();
    for request in in_flight {
        let response = request.await.unwrap().expect("not cut off");
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "done");
    }
    tokio::time::timeout(Duration::from_secs(5), running.task)
        .await
        .expect("the server stops after the drain")
        .unwrap();
    assert!(
        TcpStream::connect(running.addr).await.is_err(),
        "no longer accepting"
    );
}
