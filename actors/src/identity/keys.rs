//! The JWT signing key ring of this node.
//!
//! Ed25519 keys (EdDSA JWTs), kept in a node-local tree that is never handed
//! off, so private keys never leave the node. The newest key signs; a key
//! rotated out is still published in the JWKS until every token it signed
//! has expired. Private keys are never logged or rendered (no `Debug`).
//!
//! Verifying a signature costs tens of microseconds, so verified tokens are
//! cached by their SHA-256 until they expire.

use super::model::Millis;
use crate::error::{Error, Result};
use crate::runtime::{Storage, decode, encode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use futures::future::BoxFuture;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The session (refresh-token family) the token was issued for.
    pub sid: String,
    pub roles: Vec<String>,
    pub perms: Vec<String>,
    pub quotas: BTreeMap<String, u64>,
}

impl AccessClaims {
    pub fn has(&self, permission: &str) -> bool {
        self.perms.iter().any(|p| p == permission)
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    created_at: Millis,
    retired_at: Option<Millis>,
    pkcs8: Vec<u8>,
    public: [u8; 32],
}

struct LiveKey {
    stored: StoredKey,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl LiveKey {
    fn new(stored: StoredKey) -> Self {
        Self {
            encoding: EncodingKey::from_ed_der(&stored.pkcs8),
            decoding: DecodingKey::from_ed_der(&stored.public),
            stored,
        }
    }
}

/// Most verified tokens remembered; the cache is cleared when full.
const CACHE_LIMIT: usize = 100_000;
const LEEWAY_SECS: u64 = 30;

/// Whether a peer's key learned at `learned_at` may still verify a live
/// token: it signs for at most a rotation period after it was made (which
/// is before it was learned), and its tokens live `token_ttl` after that.
fn peer_key_needed(learned_at: Millis, now: Millis, rotate_every: Millis, token_ttl: Millis) -> bool {
    now - learned_at <= rotate_every + token_ttl + LEEWAY_SECS as Millis * 1000
}

/// Where public keys of other nodes come from (the cluster's gateways).
pub trait KeySource: Send + Sync {
    fn fetch(&self) -> BoxFuture<'_, Vec<(String, [u8; 32])>>;
}

pub struct KeyRing {
    storage: Storage,
    tree: sled::Tree,
    keys: RwLock<Vec<LiveKey>>,
    /// Public keys of other nodes of the cluster, by kid; also kept in
    /// `peer_keys`, so a restart (or the issuer being down) never makes
    /// this node refuse a valid token it could verify before.
    foreign: RwLock<HashMap<String, DecodingKey>>,
    peer_keys: sled::Tree,
    source: std::sync::OnceLock<Arc<dyn KeySource>>,
    /// When the last refresh of the peers' keys ended; held during one,
    /// so that concurrent callers wait for it instead of failing.
    last_fetch: tokio::sync::Mutex<Option<std::time::Instant>>,
    rotate_every: Millis,
    token_ttl: Millis,
    verified: Mutex<HashMap<[u8; 32], AccessClaims>>,
}

impl KeyRing {
    /// Loads the node's keys, creating the first one if there is none.
    pub async fn open(storage: &Storage, rotate_every_secs: u64, token_ttl_secs: u64) -> Result<Self> {
        let tree = storage.node_tree("keyring")?;
        let peer_keys = storage.node_tree("peer-keys")?;
        let rotate_every = rotate_every_secs.max(1) as Millis * 1000;
        let token_ttl = token_ttl_secs as Millis * 1000;
        let now = super::ports::system_now();
        let mut foreign = HashMap::new();
        for item in peer_keys.iter() {
            let (kid, value) = item.map_err(|e| Error::internal(format!("peer keys read: {e}")))?;
            let (public, learned_at) = decode::<([u8; 32], Millis)>(&value)?;
            match peer_key_needed(learned_at, now, rotate_every, token_ttl) {
                true => {
                    foreign.insert(
                        String::from_utf8_lossy(&kid).into_owned(),
                        DecodingKey::from_ed_der(&public),
                    );
                }
                false => {
                    let _ = peer_keys.remove(kid);
                }
            }
        }
        let mut keys = Vec::new();
        for item in tree.iter() {
            let (_, value) = item.map_err(|e| Error::internal(format!("keyring read: {e}")))?;
            keys.push(LiveKey::new(decode::<StoredKey>(&value)?));
        }
        keys.sort_by_key(|k| k.stored.created_at);
        let ring = Self {
            storage: storage.clone(),
            tree,
            keys: RwLock::new(keys),
            foreign: RwLock::new(foreign),
            peer_keys,
            source: std::sync::OnceLock::new(),
            last_fetch: tokio::sync::Mutex::new(None),
            rotate_every,
            token_ttl,
            verified: Mutex::new(HashMap::new()),
        };
        ring.rotate_if_due(super::ports::system_now()).await?;
        Ok(ring)
    }

    pub fn token_ttl_secs(&self) -> u64 {
        (self.token_ttl / 1000) as u64
    }

    /// Rotates when the signing key is older than the rotation period, and
    /// forgets retired keys no live token can need. Returns whether it rotated.
    pub async fn rotate_if_due(&self, now: Millis) -> Result<bool> {
        let due = self
            .read()
            .last()
            .is_none_or(|k| now - k.stored.created_at >= self.rotate_every);
        if due {
            self.rotate(now).await?;
        }
        Ok(due)
    }

    /// Makes a new signing key now.
    pub async fn rotate(&self, now: Millis) -> Result<()> {
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        let pkcs8 = signing
            .to_pkcs8_der()
            .map_err(|e| Error::internal(format!("key encoding: {e}")))?
            .as_bytes()
            .to_vec();
        let fresh = StoredKey {
            kid: ulid::Ulid::new().to_string().to_lowercase(),
            created_at: now,
            retired_at: None,
            pkcs8,
            public: signing.verifying_key().to_bytes(),
        };
        {
            let mut keys = self.keys.write().map_err(|_| Error::internal("keyring poisoned"))?;
            if let Some(current) = keys.last_mut() {
                current.stored.retired_at = Some(now);
            }
            let expired: Vec<String> = keys
                .iter()
                .filter(|k| k.stored.retired_at.is_some_and(|r| r + self.token_ttl + 60_000 < now))
                .map(|k| k.stored.kid.clone())
                .collect();
            keys.retain(|k| !expired.contains(&k.stored.kid));
            for kid in &expired {
                self.tree
                    .remove(kid)
                    .map_err(|e| Error::internal(format!("keyring: {e}")))?;
            }
            if let Some(current) = keys.last() {
                self.tree
                    .insert(&current.stored.kid, encode(&current.stored)?)
                    .map_err(|e| Error::internal(format!("keyring: {e}")))?;
            }
            self.tree
                .insert(&fresh.kid, encode(&fresh)?)
                .map_err(|e| Error::internal(format!("keyring: {e}")))?;
            keys.push(LiveKey::new(fresh));
        }
        tracing::info!("rotated the token signing key");
        self.storage.flushed().await
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<LiveKey>> {
        self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn sign(&self, claims: &AccessClaims) -> Result<String> {
        let keys = self.read();
        let key = keys.last().ok_or_else(|| Error::internal("no signing key"))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.stored.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding).map_err(|e| Error::internal(format!("signing: {e}")))
    }

    /// Verifies an access token: signature by a published key, expiry.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<AccessClaims> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cached = self.verified.lock().ok().and_then(|c| c.get(&digest).cloned());
        let claims = match cached {
            Some(claims) => claims,
            None => {
                let claims = self.verify_signature(token)?;
                if let Ok(mut cache) = self.verified.lock() {
                    if cache.len() >= CACHE_LIMIT {
                        cache.clear();
                    }
                    cache.insert(digest, claims.clone());
                }
                claims
            }
        };
        if claims.exp + (LEEWAY_SECS as i64) < now_secs {
            return Err(Error::unauthenticated("token_expired", "the access token has expired"));
        }
        Ok(claims)
    }

    fn verify_signature(&self, token: &str) -> Result<AccessClaims> {
        let invalid = || Error::unauthenticated("invalid_token", "the access token is invalid");
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != Algorithm::EdDSA {
            return Err(invalid());
        }
        let kid = header.kid.ok_or_else(invalid)?;
        let keys = self.read();
        let foreign = self.foreign.read().unwrap_or_else(|p| p.into_inner());
        let key = keys
            .iter()
            .find(|k| k.stored.kid == kid)
            .map(|k| &k.decoding)
            .or_else(|| foreign.get(&kid))
            .ok_or_else(|| Error::unauthenticated("unknown_key", "the access token is invalid"))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    Error::unauthenticated("token_expired", "the access token has expired")
                }
                _ => invalid(),
            })
    }

    /// Sets where other nodes' public keys are fetched from. Set once.
    pub fn set_key_source(&self, source: Arc<dyn KeySource>) {
        let _ = self.source.set(source);
    }

    /// Verifies a token; a token signed by a key this node has not seen yet
    /// (another node's, or a freshly rotated one) triggers one refresh of the
    /// peers' public keys — at most one a second; callers arriving during a
    /// refresh wait for it — then one retry.
    pub async fn verify_fetching(&self, token: &str, now_secs: i64) -> Result<AccessClaims> {
        match self.verify(token, now_secs) {
            Err(e) if e.code() == "unknown_key" => {}
            other => return other,
        }
        if let Some(source) = self.source.get() {
            let mut last = self.last_fetch.lock().await;
            // The refresh this caller waited for may have brought the key.
            match self.verify(token, now_secs) {
                Err(e) if e.code() == "unknown_key" => {}
                other => return other,
            }
            if !last.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1)) {
                let fetched = source.fetch().await;
                self.learn(fetched, super::ports::system_now())?;
                *last = Some(std::time::Instant::now());
            }
        }
        self.verify(token, now_secs).map_err(|e| match e.code() {
            "unknown_key" => Error::unauthenticated("invalid_token", "the access token is invalid"),
            _ => e,
        })
    }

    /// Other nodes' public keys, kept (also on disk) while tokens they
    /// signed can still be alive. Keys known already change nothing.
    pub fn learn(&self, keys: Vec<(String, [u8; 32])>, now: Millis) -> Result<()> {
        let mut foreign = self.foreign.write().unwrap_or_else(|p| p.into_inner());
        for (kid, public) in keys {
            if foreign.contains_key(&kid) || self.read().iter().any(|k| k.stored.kid == kid) {
                continue;
            }
            self.peer_keys
                .insert(kid.as_bytes(), encode(&(public, now))?)
                .map_err(|e| Error::internal(format!("peer keys write: {e}")))?;
            foreign.insert(kid, DecodingKey::from_ed_der(&public));
        }
        Ok(())
    }

    /// This node's public keys still needed to verify live tokens.
    pub fn own_public_keys(&self) -> Vec<(String, [u8; 32])> {
        self.read()
            .iter()
            .map(|k| (k.stored.kid.clone(), k.stored.public))
            .collect()
    }

    /// The public keys that verify live tokens, as a JWK set.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .read()
            .iter()
            .rev()
            .map(|k| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "alg": "EdDSA",
                    "use": "sig",
                    "kid": k.stored.kid,
                    "x": URL_SAFE_NO_PAD.encode(k.stored.public),
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
