//! Delivery of reset tokens: a POST of `{email, token, expires_at}` to the configured webhook,
//! off the request path (the 202 never waits for it), with a timeout and a few retries. A
//! failure is logged and counted; it is never silent. Without a webhook (development), the
//! token is written to the log instead, as the contract allows.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use service_kit::timestamp::Timestamp;
use tokio::sync::{Semaphore, mpsc};

const QUEUE: usize = 1_024;
const PARALLEL_DELIVERIES: usize = 16;
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub struct ResetMessage {
    pub user_id: String,
    pub email: String,
    pub token: SecretString,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct ResetDelivery {
    sender: Option<mpsc::Sender<ResetMessage>>,
}

impl ResetDelivery {
    /// Starts the delivery worker for `url`; `None` logs tokens instead (development only).
    pub fn start(url: Option<String>) -> Result<Self, reqwest::Error> {
        let Some(url) = url else {
            return Ok(ResetDelivery { sender: None });
        };
        // Tokens go to exactly the configured URL: a redirect must not carry them elsewhere, and
        // no proxy taken from the environment sits in the middle.
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(client, Arc::from(url), receiver));
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

async fn run(client: reqwest::Client, url: Arc<str>, mut receiver: mpsc::Receiver<ResetMessage>) {
    let parallel = Arc::new(Semaphore::new(PARALLEL_DELIVERIES));
    while let Some(message) = receiver.recv().await {
        let Ok(permit) = Arc::clone(&parallel).acquire_owned().await else {
            return;
        };
        let (client, url) = (client.clone(), Arc::clone(&url));
        tokio::spawn(async move {
            deliver(&client, &url, message).await;
            drop(permit);
        });
    }
}

async fn deliver(client: &reqwest::Client, url: &str, message: ResetMessage) {
    let body = json!({
        "email": message.email,
        "token": message.token.expose_secret(),
        "expires_at": message.expires_at,
    });
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let outcome = client.post(url).json(&body).send().await;
        let error = match outcome {
            Ok(response) if response.status().is_success() => {
                metrics::counter!("reset_webhook_deliveries_total").increment(1);
                tracing::info!(user_id = %message.user_id, attempt, "reset token delivered");
                return;
            }
            Ok(response) => format!("webhook answered {}", response.status()),
            Err(e) => e.without_url().to_string(),
        };
        if attempt == ATTEMPTS {
            metrics::counter!("reset_webhook_failures_total", "stage" => "delivery").increment(1);
            tracing::error!(user_id = %message.user_id, attempts = ATTEMPTS, %error, "reset token could not be delivered");
            return;
        }
        tracing::warn!(user_id = %message.user_id, attempt, %error, "reset delivery failed; retrying");
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
}
