//! Test keys, a token minter and a JWKS server the test controls (feature `test-util`).
//!
//! Not for production: keys are generated in memory and tokens are minted with any claims.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

use crate::thumbprint::rsa_thumbprint;
use crate::verifier::now_unix;

/// An RSA key pair with its JWK, as an issuer would publish it.
#[derive(Clone)]
pub struct TestKey {
    /// Its RFC 7638 thumbprint.
    pub kid: String,
    /// The modulus, base64url.
    pub n: String,
    /// The exponent, base64url.
    pub e: String,
    /// The public key as PEM (for algorithm-confusion tests).
    pub public_pem: String,
    encoding: EncodingKey,
}

impl std::fmt::Debug for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKey").field("kid", &self.kid).finish()
    }
}

impl TestKey {
    /// A new 2048-bit key.
    pub fn generate() -> TestKey {
        Self::generate_bits(2048)
    }

    /// A new key of `bits` bits.
    pub fn generate_bits(bits: usize) -> TestKey {
        let private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits).expect("RSA keygen");
        let public = private.to_public_key();
        let n = URL_SAFE_NO_PAD.encode(public.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_bytes_be());
        let der = private.to_pkcs1_der().expect("PKCS#1 DER");
        TestKey {
            kid: rsa_thumbprint(&n, &e),
            public_pem: public.to_public_key_pem(LineEnding::LF).expect("PEM"),
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            n,
            e,
        }
    }

    /// The JWK as the contract publishes it.
    pub fn jwk(&self) -> Value {
        self.jwk_with_alg("RS256")
    }

    /// The JWK, naming `alg` instead of RS256.
    pub fn jwk_with_alg(&self, alg: &str) -> Value {
        json!({"kty": "RSA", "use": "sig", "alg": alg, "kid": self.kid, "n": self.n, "e": self.e})
    }

    /// Signs `claims` with RS256 under `header` (whose `alg` is forced to RS256).
    pub fn sign(&self, mut header: Header, claims: &Value) -> String {
        header.alg = Algorithm::RS256;
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }

    /// A valid access token for `issuer`/`audience` with `claims` merged over the defaults.
    pub fn access_token(&self, issuer: &str, audience: &str, overrides: Value) -> String {
        self.sign(
            access_header(&self.kid),
            &access_claims(issuer, audience, overrides),
        )
    }
}

/// `{alg: RS256, typ: at+jwt, kid}`.
pub fn access_header(kid: &str) -> Header {
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid.into());
    header
}

/// The claims of a valid access token, then `overrides` (a `null` removes a claim).
pub fn access_claims(issuer: &str, audience: &str, overrides: Value) -> Value {
    let now = now_unix();
    let mut claims = json!({
        "iss": issuer, "sub": uuid_like(), "aud": audience,
        "exp": now + 900, "iat": now, "nbf": now, "jti": uuid_like(),
        "role": "user", "email": "user@example.com", "sid": uuid_like(),
    });
    if let (Some(target), Value::Object(changes)) = (claims.as_object_mut(), overrides) {
        for (k, v) in changes {
            if v.is_null() {
                target.remove(&k);
            } else {
                target.insert(k, v);
            }
        }
    }
    claims
}

/// Unsigned JWS `header.payload.` for `alg: none` attacks.
pub fn unsigned_token(header: &Value, claims: &Value) -> String {
    let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    let c = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    format!("{h}.{c}.")
}

/// HS256 over `claims` with `secret` as the HMAC key (the key-confusion attack).
pub fn hmac_token(kid: &str, secret: &[u8], claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn uuid_like() -> String {
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Debug)]
struct ServerState {
    keys: Mutex<Vec<Value>>,
    cache_control: Mutex<String>,
    delay: Mutex<Duration>,
    hits: AtomicUsize,
    feed: Mutex<String>,
}

/// A JWKS endpoint the test controls: the keys it serves, its `Cache-Control`, a delay per
/// answer, and a count of requests. `stop` closes it (connections are then refused).
#[derive(Debug)]
pub struct JwksServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl JwksServer {
    /// Serves `keys` on a free loopback port.
    pub async fn start(keys: Vec<Value>) -> JwksServer {
        Self::start_on("127.0.0.1:0".parse().unwrap(), keys).await
    }

    /// Serves `keys` on `addr`.
    pub async fn start_on(addr: SocketAddr, keys: Vec<Value>) -> JwksServer {
        let state = Arc::new(ServerState {
            keys: Mutex::new(keys),
            cache_control: Mutex::new("public, max-age=300".into()),
            delay: Mutex::new(Duration::ZERO),
            hits: AtomicUsize::new(0),
            feed: Mutex::new(String::new()),
        });
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/.well-known/jwks.json", get(serve_jwks))
            .route("/moved", get(redirect_to_jwks))
            .route("/.well-known/revocations", get(serve_feed))
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        JwksServer {
            addr,
            state,
            task: Some(task),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The JWKS URL.
    pub fn url(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.addr)
    }

    /// A URL on the same server that answers 302 to the JWKS.
    pub fn redirecting_url(&self) -> String {
        format!("http://{}/moved", self.addr)
    }

    /// Requests served so far.
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    /// Serves `keys` from now.
    pub fn set_keys(&self, keys: Vec<Value>) {
        *self.state.keys.lock().unwrap() = keys;
    }

    /// Answers with this `Cache-Control` from now.
    pub fn set_cache_control(&self, value: &str) {
        *self.state.cache_control.lock().unwrap() = value.into();
    }

    /// Serves this `text/event-stream` body at `/.well-known/revocations` (beside the JWKS),
    /// then ends the stream.
    pub fn set_feed(&self, body: String) {
        *self.state.feed.lock().unwrap() = body;
    }

    /// Waits this long before each answer from now.
    pub fn set_delay(&self, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    /// Stops serving; the port is closed.
    pub async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn redirect_to_jwks() -> impl IntoResponse {
    (
        axum::http::StatusCode::FOUND,
        [(header::LOCATION, "/.well-known/jwks.json")],
    )
}

async fn serve_feed(State(state): State<Arc<ServerState>>) -> impl IntoResponse {
    let body = state.feed.lock().unwrap().clone();
    (
        [(header::CONTENT_TYPE, "text/event-stream".to_owned())],
        body,
    )
}

async fn serve_jwks(State(state): State<Arc<ServerState>>) -> impl IntoResponse {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let keys = state.keys.lock().unwrap().clone();
    let cache_control = state.cache_control.lock().unwrap().clone();
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CACHE_CONTROL, cache_control),
        ],
        serde_json::to_string(&json!({ "keys": keys })).unwrap(),
    )
}
