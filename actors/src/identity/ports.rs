//! What identity needs from outside: password hashing (CPU-heavy, kept off
//! the async runtime), a mailer, and fresh secrets.

use crate::error::{Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::BoxFuture;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Semaphore;

use super::model::SecretHash;

/// A plaintext password on its way to the hasher. Its `Debug` never shows
/// it, so a logged command cannot leak one.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Plaintext(String);

impl Plaintext {
    pub fn new(text: &str) -> Self {
        Self(text.to_string())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Plaintext(<redacted>)")
    }
}

pub use crate::ports::{Clock, SystemClock, system_now};

/// argon2id cost. The default is OWASP's recommendation (19 MiB, 2 passes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes and verifies passwords with argon2id on tokio's blocking pool,
/// at most one job per core at a time, so sign-ins never stall the runtime
/// and a burst of them queues instead of exhausting memory.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Arc<Argon2<'static>>,
    slots: Arc<Semaphore>,
    /// Hashings running or waiting; when full, more are shed at once.
    queue: Arc<Semaphore>,
    /// A hash of a random password, verified when the login is unknown so
    /// that unknown logins cost as much time as wrong passwords.
    decoy: Arc<String>,
}

impl PasswordHasher {
    /// Waiting hashings allowed per core before more are shed.
    pub const QUEUE_PER_CORE: usize = 8;

    pub fn new(cost: HashCost) -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_queue(cost, cores * Self::QUEUE_PER_CORE)
    }

    /// A hasher that lets at most `queue` hashings run or wait at once.
    pub fn with_queue(cost: HashCost, queue: usize) -> Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| Error::internal(format!("argon2 parameters: {e}")))?;
        let argon = Arc::new(Argon2::new(Algorithm::Argon2id, Version::V0x13, params));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let decoy = hash_with(&argon, &secret_token())?;
        Ok(Self {
            argon,
            slots: Arc::new(Semaphore::new(cores)),
            queue: Arc::new(Semaphore::new(queue.max(cores))),
            decoy: Arc::new(decoy),
        })
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_string();
        self.blocking(move |argon| hash_with(argon, &password)).await?
    }

    /// Whether `password` matches `hash`; a malformed hash never matches.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool> {
        let (password, hash) = (password.to_string(), hash.to_string());
        self.blocking(move |argon| {
            PasswordHash::new(&hash).is_ok_and(|parsed| argon.verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
    }

    /// Spends the time of a verification for a login that does not exist.
    pub async fn verify_decoy(&self, password: &str) -> Result<()> {
        let decoy = self.decoy.clone();
        self.verify(password, &decoy).await.map(|_| ())
    }

    /// Runs `job` on a blocking thread, one per core at a time. When the
    /// queue is full the request is shed at once (503 with Retry-After)
    /// rather than left to wait into a timeout.
    async fn blocking<T: Send + 'static>(&self, job: impl FnOnce(&Argon2<'static>) -> T + Send + 'static) -> Result<T> {
        let _queued = self
            .queue
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::unavailable("busy", "too many sign-ins at once; retry shortly", 1))?;
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| Error::internal("hasher closed"))?;
        let argon = self.argon.clone();
        tokio::task::spawn_blocking(move || job(&argon))
            .await
            .map_err(|e| Error::internal(format!("hashing task: {e}")))
    }
}

fn hash_with(argon: &Argon2<'static>, password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::internal(format!("salt: {e}")))?;
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("hashing: {e}")))
}

/// 256 random bits, URL-safe.
pub fn secret_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_secret(secret: &str) -> SecretHash {
    Sha256::digest(secret.as_bytes()).into()
}

/// Tokens handed to users name their user so they can be routed to it
/// without an index: `<user id>.<secret>`. Only the secret's hash is stored.
pub fn user_token(user_id: &str) -> (String, SecretHash) {
    let secret = secret_token();
    let hash = hash_secret(&secret);
    (format!("{user_id}.{secret}"), hash)
}

/// Splits a user token into its user id and the hash of its secret.
pub fn parse_user_token(token: &str) -> Option<(String, SecretHash)> {
    let (user, secret) = token.trim().split_once('.')?;
    if user.is_empty() || secret.len() < 40 {
        return None;
    }
    Some((user.to_string(), hash_secret(secret)))
}

/// An e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

pub trait Mailer: Send + Sync {
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<()>>;
}

fn build_message(from: &str, mail: &Mail) -> Result<lettre::Message> {
    lettre::Message::builder()
        .from(from.parse().map_err(|e| Error::internal(format!("mail from: {e}")))?)
        .to(mail.to.parse().map_err(|e| Error::internal(format!("mail to: {e}")))?)
        .subject(mail.subject.clone())
        .body(mail.body.clone())
        .map_err(|e| Error::internal(format!("mail: {e}")))
}

/// The default mailer: writes each message as an `.eml` file in a folder
/// (`<data>/outbox/`), for a relay or an operator to pick up.
pub struct FileOutbox {
    dir: PathBuf,
    from: String,
}

impl FileOutbox {
    pub fn new(dir: PathBuf, from: String) -> Result<Self> {
        crate::ports::private_dir(&dir).map_err(|e| Error::internal(format!("outbox {}: {e}", dir.display())))?;
        Ok(Self { dir, from })
    }
}

impl Mailer for FileOutbox {
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let bytes = build_message(&self.from, &mail)?.formatted();
            let name = format!("{}.eml", ulid::Ulid::new());
            let (tmp, path) = (self.dir.join(format!(".{name}.tmp")), self.dir.join(name));
            // Write then rename, so a reader never sees half a message.
            crate::ports::write_private(&tmp, bytes)
                .await
                .map_err(|e| Error::internal(format!("outbox write: {e}")))?;
            tokio::fs::rename(&tmp, &path)
                .await
                .map_err(|e| Error::internal(format!("outbox rename: {e}")))
        })
    }
}

/// Sends through an SMTP relay (plain SMTP, optionally authenticated).
pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: String,
}

impl SmtpMailer {
    pub fn new(host: &str, port: u16, credentials: Option<(String, String)>, from: String) -> Self {
        let mut builder = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(host).port(port);
        if let Some((user, password)) = credentials {
            builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                user, password,
            ));
        }
        Self {
            transport: builder.build(),
            from,
        }
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            use lettre::AsyncTransport;
            let message = build_message(&self.from, &mail)?;
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| Error::internal(format!("smtp: {e}")))
        })
    }
}

#[cfg(test)]
#[path = "ports_tests.rs"]
mod tests;
