//! An HTTP/1.1 server on raw TCP that records every request (method, path, headers, body) and
//! answers what the test says: a webhook receiver, a JWKS stand-in, an OTLP collector.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// An answer: status, extra headers, body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn status(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

type Responder = dyn Fn(&Recorded) -> Answer + Send + Sync;

#[derive(Clone)]
pub struct Recorder {
    pub base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Recorder {
    /// Listens on a free loopback port; each request gets `respond`'s answer.
    pub async fn start(respond: impl Fn(&Recorded) -> Answer + Send + Sync + 'static) -> Recorder {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Responder> = Arc::new(respond);
        let recorded = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (respond, recorded) = (Arc::clone(&respond), Arc::clone(&recorded));
                tokio::spawn(async move { serve(stream, &*respond, &recorded).await });
            }
        });
        Recorder { base, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

/// One request per connection (the answer says `Connection: close`).
async fn serve(
    mut stream: tokio::net::TcpStream,
    respond: &Responder,
    recorded: &Mutex<Vec<Recorded>>,
) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let request = loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(request) = parse(&buffer) {
            break request;
        }
    };
    recorded.lock().unwrap().push(request.clone());
    let answer = respond(&request);
    let mut head = format!(
        "HTTP/1.1 {} X\r\nConnection: close\r\nContent-Length: {}\r\n",
        answer.status,
        answer.body.len()
    );
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&answer.body).await;
}

/// The request, once its head and `Content-Length` bytes of body have arrived.
fn parse(buffer: &[u8]) -> Option<Recorded> {
    let end = buffer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buffer[..end]);
    let mut lines = head.lines();
    let mut request_line = lines.next()?.split(' ');
    let (method, path) = (request_line.next()?, request_line.next()?);
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let body = buffer.get(end + 4..end + 4 + length)?;
    Some(Recorded {
        method: method.to_owned(),
        path: path.to_owned(),
        headers,
        body: body.to_vec(),
    })
}
