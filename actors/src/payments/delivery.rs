//! The sandbox's webhook sender: what the sandbox's books announce is
//! signed (as `signature.rs` checks) and POSTed to the platform's webhook
//! endpoint, asynchronously, like a processor does. With
//! `duplicate_webhooks` every event goes twice and each batch is shuffled,
//! so the platform is tested against repeats and disorder. A delivery that
//! fails is retried a few times, then dropped: the charges' reconcile
//! sweep finds what a lost webhook would have said.

use super::processors::Secret;
use super::signature;
use crate::ports::Clock;
use rand::seq::SliceRandom;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;

/// How many times one webhook is tried.
const ATTEMPTS: u32 = 5;

/// Where webhooks go, known once the node listens.
pub type Endpoint = Arc<OnceLock<String>>;

/// Starts the sender; answers the outbox the sandbox writes to.
pub fn start(endpoint: Endpoint, secret: Secret, duplicate: bool, clock: Arc<dyn Clock>) -> super::sandbox::Outbox {
    let (outbox, mut events) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        while let Some(first) = events.recv().await {
            // What arrived together goes out together (shuffled if asked).
            let mut batch = vec![first];
            tokio::time::sleep(Duration::from_millis(5)).await;
            while let Ok(more) = events.try_recv() {
                batch.push(more);
            }
            if duplicate {
                batch.extend(batch.clone());
                batch.shuffle(&mut rand::thread_rng());
            }
            let Some(url) = endpoint.get().cloned() else {
                tracing::warn!("sandbox webhooks dropped: the node does not listen yet");
                continue;
            };
            for body in batch {
                let client = client.clone();
                let url = url.clone();
                let secret = secret.clone();
                let clock = clock.clone();
                tokio::spawn(async move { deliver(&client, &url, &secret, clock.as_ref(), body).await });
            }
        }
    });
    outbox
}

async fn deliver(client: &reqwest::Client, url: &str, secret: &Secret, clock: &dyn Clock, body: Vec<u8>) {
    for attempt in 1..=ATTEMPTS {
        let t = clock.now() / 1000;
        let Ok(header) = signature::sign(secret.expose(), t, &body) else {
            return;
        };
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .header("stripe-signature", header)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(res) if res.status().is_success() => return,
            Ok(res) => tracing::warn!(status = %res.status(), attempt, "sandbox webhook refused"),
            Err(error) => tracing::warn!(%error, attempt, "sandbox webhook not delivered"),
        }
        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
    }
}
