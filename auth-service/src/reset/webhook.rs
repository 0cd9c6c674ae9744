//! Delivery of reset tokens: a POST of `{email, token, expires_at}` to the configured webhook,
//! off the request path (the 202 never waits for it), signed per Standard Webhooks when a secret
//! is set, with a timeout and retries on exponential backoff with jitter. A failure is logged
//! and counted; it is never silent. Deliveries live in memory only: a process that stops with
//! some queued or between retries loses them (the user asks again). Without a webhook
//! (development), the token is written to the log instead.

use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use service_kit::timestamp::Timestamp;
use service_kit::trace::Carried;
use tokio::sync::{Semaphore, mpsc};
use uuid::Uuid;

use super::signature::WebhookSecret;

const QUEUE: usize = 1_024;
const PARALLEL_DELIVERIES: usize = 16;
/// Retries after the first attempt: about 0.5, 1 and 2 s apart, each plus up to as much again
/// of jitter, so that deliveries failed together do not retry together.
const RETRIES: usize = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub struct ResetMessage {
    pub user_id: String,
    pub email: String,
    pub token: SecretString,
    pub expires_at: Timestamp,
    /// The trace of the request that asked for the reset; the delivery carries it on.
    pub trace: Carried,
}

#[derive(Debug, Clone)]
pub struct ResetDelivery {
    sender: Option<mpsc::Sender<ResetMessage>>,
}

/// Where and how deliveries go.
#[derive(Debug)]
struct Target {
    client: reqwest::Client,
    url: Box<str>,
    secret: Option<WebhookSecret>,
}

impl ResetDelivery {
    /// Starts the delivery worker for `url`; `None` logs tokens instead (development only).
    pub fn start(
        url: Option<String>,
        secret: Option<WebhookSecret>,
    ) -> Result<Self, reqwest::Error> {
        let Some(url) = url else {
            return Ok(ResetDelivery { sender: None });
        };
        if secret.is_none() {
            tracing::warn!(
                "AUTH_RESET_WEBHOOK_SECRET is unset: reset deliveries are not signed, and the \
                 receiver cannot tell them from forged ones"
            );
        }
        // Tokens go to exactly the configured URL: a redirect must not carry them elsewhere, and
        // no proxy taken from the environment sits in the middle.
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        let (sender, receiver) = mpsc::channel(QUEUE);
        let target = Target {
            client,
            url: url.into_boxed_str(),
            secret,
        };
        tokio::spawn(run(Arc::new(target), receiver));
        Ok(ResetDelivery {
            sender: Some(sender),
        })
    }

    /// Hands the message to the worker without waiting for delivery.
    pub fn send(&self, message: ResetMessage) {
        let Some(sender) = &self.sender else {
            tracing::warn!(
                user_id = %message.user_id,
                reset_token = %message.token.expose_secret(),
                "AUTH_RESET_WEBHOOK_URL is unset: the reset token is logged (development only); \
                 POST it with a new password to /api/auth/password/reset"
            );
            return;
        };
        let user_id = message.user_id.clone();
        if sender.try_send(message).is_err() {
            metrics::counter!("reset_webhook_failures_total", "stage" => "queue_full").increment(1);
            tracing::error!(%user_id, "reset delivery queue is full: this reset request was dropped");
        }
    }
}

async fn run(target: Arc<Target>, mut receiver: mpsc::Receiver<ResetMessage>) {
    let parallel = Arc::new(Semaphore::new(PARALLEL_DELIVERIES));
    while let Some(message) = receiver.recv().await {
        let Ok(permit) = Arc::clone(&parallel).acquire_owned().await else {
            return;
        };
        let target = Arc::clone(&target);
        let trace = message.trace.clone();
        tokio::spawn(trace.run(async move {
            deliver(&target, message).await;
            drop(permit);
        }));
    }
}

/// Why one attempt failed, and whether another could succeed.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error("{0}")]
    Transport(String),
    #[error("webhook answered {0}")]
    Status(reqwest::StatusCode),
}

impl AttemptError {
    /// Transport errors and 5xx may pass on a later try, as may 408 and 429; any other answer
    /// (a 4xx, a redirect this client does not follow) would only repeat.
    fn is_transient(&self) -> bool {
        match self {
            AttemptError::Transport(_) => true,
            AttemptError::Status(status) => {
                status.is_server_error()
                    || *status == reqwest::StatusCode::REQUEST_TIMEOUT
                    || *status == reqwest::StatusCode::TOO_MANY_REQUESTS
            }
        }
    }
}

async fn deliver(target: &Target, message: ResetMessage) {
    let body = json!({
        "email": message.email,
        "token": message.token.expose_secret(),
        "expires_at": message.expires_at,
    });
    // Serialised once: the signature covers exactly these bytes.
    let body = body.to_string().into_bytes();
    // One id for every attempt, so that a receiver can drop a retry it already handled.
    let id = format!("msg_{}", Uuid::now_v7().simple());
    let user_id = &message.user_id;
    let mut attempts = 0u32;
    let outcome = (|| {
        attempts += 1;
        attempt(target, &id, &body)
    })
    .retry(
        ExponentialBuilder::default()
            .with_min_delay(FIRST_BACKOFF)
            .with_max_times(RETRIES)
            .with_jitter(),
    )
    .when(AttemptError::is_transient)
    .notify(|error, wait| {
        tracing::warn!(%user_id, %error, retry_in_ms = wait.as_millis(), "reset delivery failed; retrying");
    })
    .await;
    match outcome {
        Ok(()) => {
            metrics::counter!("reset_webhook_deliveries_total").increment(1);
            tracing::info!(%user_id, webhook_id = %id, attempts, "reset token delivered");
        }
        Err(error) => {
            metrics::counter!("reset_webhook_failures_total", "stage" => "delivery").increment(1);
            tracing::error!(%user_id, webhook_id = %id, attempts, %error, "reset token could not be delivered");
        }
    }
}

/// One POST, signed with the time of this attempt (receivers reject stale timestamps).
async fn attempt(target: &Target, id: &str, body: &[u8]) -> Result<(), AttemptError> {
    let mut headers = reqwest::header::HeaderMap::new();
    service_kit::trace::inject_current(&mut headers);
    let mut request = target
        .client
        .post(&*target.url)
        .headers(headers)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec());
    if let Some(secret) = &target.secret {
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        request = request
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp)
            .header("webhook-signature", secret.sign(id, timestamp, body));
    }
    let response = request
        .send()
        .await
        .map_err(|e| AttemptError::Transport(e.without_url().to_string()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(AttemptError::Status(response.status()))
    }
}
