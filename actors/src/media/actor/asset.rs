//! The asset entity: a stored file, its variants and who may see them.

use super::{blocking, holder, release_blobs};
use crate::error::{Error, Result};
use crate::media::acl::{Acl, Action, Link, Rights, expiry, sign, verify};
use crate::media::files::Files;
use crate::media::sniff::MediaType;
use crate::media::variants::{Variant, merge};
use crate::ports::{Clock, Millis};
use crate::runtime::{Entity, EntityContext, Outcome, shard_of};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// An asset: a stored file and who may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    pub id: String,
    pub owner: String,
    pub media_type: MediaType,
    pub size: u64,
    pub sha256: [u8; 32],
    pub acl: Acl,
    pub created_at: Millis,
    /// Signs its links (`acl.rs`); it moves with the asset, so a link works
    /// wherever the asset lives.
    pub link_key: [u8; 32],
    /// Its image variants, by name.
    pub variants: Vec<Variant>,
    /// An image's width and height as seen (EXIF orientation applied),
    /// read from its header; none for a video.
    pub dimensions: Option<(u32, u32)>,
}

impl Asset {
    pub fn variant(&self, name: &str) -> Result<&Variant> {
        self.variants
            .iter()
            .find(|v| v.spec.name == name)
            .ok_or_else(|| Error::not_found("variant"))
    }

    /// The bytes served for `variant` (the original for `None`): their
    /// digest, size and type.
    pub fn served(&self, variant: Option<&str>) -> Result<([u8; 32], u64, &'static str)> {
        Ok(match variant {
            None => (self.sha256, self.size, self.media_type.mime()),
            Some(name) => {
                let v = self.variant(name)?;
                (v.sha256, v.size, v.spec.format.mime())
            }
        })
    }
}

/// An asset as schema 1 wrote it (before variants).
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct AssetV1 {
    id: String,
    owner: String,
    media_type: MediaType,
    size: u64,
    sha256: [u8; 32],
    acl: Acl,
    created_at: Millis,
    link_key: [u8; 32],
}

impl From<AssetV1> for Asset {
    fn from(v1: AssetV1) -> Self {
        Self {
            id: v1.id,
            owner: v1.owner,
            media_type: v1.media_type,
            size: v1.size,
            sha256: v1.sha256,
            acl: v1.acl,
            created_at: v1.created_at,
            link_key: v1.link_key,
            variants: Vec::new(),
            dimensions: None,
        }
    }
}

/// How a request may see an asset: as who it is, or by a signed link.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Access {
    /// `None`: anonymous.
    Caller(Option<String>),
    Link {
        expires: i64,
        acl_version: u64,
        signature: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AssetCommand {
    /// Records the asset (once; a repeat answers it).
    Create(Box<Asset>),
    /// The asset, if `access` may view it (a link: to `variant`).
    Get { access: Access, variant: Option<String> },
    /// Up to `len` bytes of its content (or of a variant's) from `offset`
    /// (at most [`crate::media::files::CHUNK`]), if `access` may view it.
    Read {
        access: Access,
        variant: Option<String>,
        offset: u64,
        len: u64,
    },
    /// `caller` replaces who may see it (see `Acl::replaced`).
    SetAcl {
        caller: String,
        public: bool,
        grants: BTreeMap<String, Rights>,
    },
    /// A link to its content (or a variant's) lasting `expires_in_secs`,
    /// for one who may view.
    Link {
        caller: String,
        variant: Option<String>,
        expires_in_secs: i64,
    },
    /// A job made these variants (their blobs already held).
    AddVariants(Vec<Variant>),
    /// Its owner deletes it: its blobs are let go of.
    Delete { caller: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AssetReply {
    Asset(Box<Asset>),
    Bytes(Vec<u8>),
    /// A signed link: `(expires, acl_version, signature)`.
    Link(i64, u64, String),
    /// Variants added; the blobs (digest, holder) the replaced ones held.
    Replaced(Vec<([u8; 32], String)>),
    Deleted,
}

pub struct AssetEntity {
    pub clock: Arc<dyn Clock>,
    pub context: EntityContext,
    pub files: Files,
}

impl AssetEntity {
    fn shard(&self, key: &str) -> Result<u32> {
        Ok(shard_of(Self::KIND, key, self.context.router()?.shard_count()))
    }
}

impl Entity for AssetEntity {
    const KIND: &'static str = "media";
    const SCHEMA_VERSION: u32 = 2;
    type State = Asset;
    type Command = AssetCommand;
    type Reply = AssetReply;

    fn upgrade(schema_version: u32, body: &[u8]) -> Result<Asset> {
        match schema_version {
            1 => Ok(crate::runtime::decode::<AssetV1>(body)?.into()),
            v => Err(Error::internal(format!("media: no upgrade from schema version {v}"))),
        }
    }

    async fn handle(
        &self,
        key: &str,
        state: Option<&Asset>,
        command: AssetCommand,
    ) -> Result<Outcome<Asset, AssetReply>> {
        let now_secs = self.clock.now() / 1000;
        let reply = |a: &Asset| AssetReply::Asset(Box::new(a.clone()));
        let found = || state.ok_or_else(|| Error::not_found("media"));
        let viewable = |access: &Access, variant: Option<&str>| -> Result<&Asset> {
            let asset = found()?;
            match access {
                Access::Caller(caller) if asset.acl.allows(&asset.owner, caller.as_deref(), Action::View) => Ok(asset),
                // Private to this caller: the same answer as none.
                Access::Caller(_) => Err(Error::not_found("media")),
                Access::Link {
                    expires,
                    acl_version,
                    signature,
                } => {
                    let link = Link {
                        media_id: key,
                        variant,
                        expires: *expires,
                        acl_version: *acl_version,
                    };
                    verify(&asset.link_key, &link, asset.acl.version, signature, now_secs)?;
                    Ok(asset)
                }
            }
        };
        Ok(match command {
            AssetCommand::Create(asset) => match state {
                None => Outcome::write((*asset).clone(), reply(&asset)),
                Some(existing) => Outcome::read(reply(existing)),
            },
            AssetCommand::Get { access, variant } => Outcome::read(reply(viewable(&access, variant.as_deref())?)),
            AssetCommand::Read {
                access,
                variant,
                offset,
                len,
            } => {
                let asset = viewable(&access, variant.as_deref())?;
                let (sha, _, _) = asset.served(variant.as_deref())?;
                let shard = self.shard(key)?;
                let (files, len) = (self.files.clone(), len.min(crate::media::files::CHUNK as u64));
                let bytes = blocking(move || files.read_blob(shard, &sha, offset, len)).await?;
                Outcome::read(AssetReply::Bytes(bytes))
            }
            AssetCommand::SetAcl { caller, public, grants } => {
                let asset = found()?;
                let acl = asset.acl.replaced(&asset.owner, &caller, public, grants)?;
                let next = Asset { acl, ..asset.clone() };
                match next == *asset {
                    true => Outcome::read(reply(asset)),
                    false => Outcome::write(next.clone(), reply(&next)),
                }
            }
            AssetCommand::Link {
                caller,
                variant,
                expires_in_secs,
            } => {
                let asset = viewable(&Access::Caller(Some(caller)), None)?;
                if let Some(name) = &variant {
                    asset
                        .variant(name)
                        .map_err(|_| Error::invalid("variant", format!("this asset has no variant named {name}")))?;
                }
                let expires = expiry(now_secs, expires_in_secs)?;
                let link = Link {
                    media_id: key,
                    variant: variant.as_deref(),
                    expires,
                    acl_version: asset.acl.version,
                };
                let signature = sign(&asset.link_key, &link)?;
                Outcome::read(AssetReply::Link(expires, asset.acl.version, signature))
            }
            AssetCommand::AddVariants(made) => {
                let asset = found()?;
                // Made while the shard moved here? Its blobs stayed behind:
                // the job runs again (here) rather than name missing bytes.
                let shard = self.shard(key)?;
                if let Some(lost) = made.iter().find(|v| !self.files.blob_path(shard, &v.sha256).exists()) {
                    return Err(Error::unavailable(
                        "variant_lost",
                        format!("variant {} was made on another node", lost.spec.name),
                        1,
                    ));
                }
                let (variants, replaced) = merge(&asset.variants, made);
                let next = Asset {
                    variants,
                    ..asset.clone()
                };
                // The blobs of the variants replaced, for the caller to let
                // go of once this state is durable (a crash in between
                // leaves a blob held too long, never one missing).
                let old = replaced
                    .iter()
                    .filter(|v| !next.variants.iter().any(|n| n.sha256 == v.sha256))
                    .map(|v| (v.sha256, holder(key, Some(&v.spec.name))))
                    .collect::<Vec<_>>();
                match next != *asset {
                    true => Outcome::write(next, AssetReply::Replaced(old)),
                    false => Outcome::read(AssetReply::Replaced(old)),
                }
            }
            AssetCommand::Delete { caller } => {
                let Some(asset) = state else {
                    return Ok(Outcome::read(AssetReply::Deleted));
                };
                if asset.owner != caller {
                    return Err(match asset.acl.allows(&asset.owner, Some(&caller), Action::View) {
                        true => Error::forbidden("not_owner", "only the owner deletes an asset"),
                        false => Error::not_found("media"),
                    });
                }
                let mut blobs = vec![(asset.sha256, holder(key, None))];
                blobs.extend(
                    asset
                        .variants
                        .iter()
                        .map(|v| (v.sha256, holder(key, Some(&v.spec.name)))),
                );
                release_blobs(&self.files, self.shard(key)?, blobs).await?;
                Outcome::delete(AssetReply::Deleted)
            }
        })
    }
}

#[cfg(test)]
#[path = "asset_tests.rs"]
mod tests;
