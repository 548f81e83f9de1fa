//! Uploads and assets.

use super::*;

#[derive(Serialize, ToSchema)]
pub struct UploadStatus {
    pub offset: u64,
    pub length: u64,
    pub expires_at: String,
    /// The asset it became, once complete.
    pub media_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VariantDto {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub format: String,
    pub size: u64,
}

#[derive(Serialize, ToSchema)]
pub struct MediaResponse {
    pub id: String,
    pub owner_id: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    /// An image's width as seen (EXIF orientation applied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    pub public: bool,
    pub created_at: String,
    pub variants: Vec<VariantDto>,
}

impl MediaResponse {
    pub fn of(asset: actors::media::actor::Asset) -> Self {
        MediaResponse {
            content_type: asset.media_type.mime().to_string(),
            size: asset.size,
            sha256: actors::media::files::hex(&asset.sha256),
            width: asset.dimensions.map(|d| d.0),
            height: asset.dimensions.map(|d| d.1),
            public: asset.acl.public,
            created_at: rfc3339(asset.created_at),
            variants: asset
                .variants
                .iter()
                .map(|v| VariantDto {
                    name: v.spec.name.clone(),
                    width: v.width,
                    height: v.height,
                    format: v.spec.format.name().to_string(),
                    size: v.size,
                })
                .collect(),
            id: asset.id,
            owner_id: asset.owner,
        }
    }
}

#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum FitDto {
    /// Inside the box, the aspect kept, never enlarged.
    Contain,
    /// Filling the box, the aspect kept, cropped at the centre.
    Cover,
    /// Exactly the box.
    Fill,
}

#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum FormatDto {
    Jpeg,
    Png,
    Webp,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantSpecDto {
    /// 1–32 of a-z, 0-9, _ and -.
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub fit: FitDto,
    pub format: FormatDto,
    /// 1–100, JPEG only (85 if left out).
    pub quality: Option<u8>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantsRequest {
    /// 1 to 10 variants.
    pub variants: Vec<VariantSpecDto>,
}

impl VariantsRequest {
    pub fn specs(self) -> Vec<actors::media::variants::Spec> {
        use actors::media::variants::{Fit, Format, Spec};
        self.variants
            .into_iter()
            .map(|v| Spec {
                name: v.name,
                width: v.width,
                height: v.height,
                fit: match v.fit {
                    FitDto::Contain => Fit::Contain,
                    FitDto::Cover => Fit::Cover,
                    FitDto::Fill => Fit::Fill,
                },
                format: match v.format {
                    FormatDto::Jpeg => Format::Jpeg,
                    FormatDto::Png => Format::Png,
                    FormatDto::Webp => Format::Webp,
                },
                quality: v.quality,
            })
            .collect()
    }
}

#[derive(Serialize, ToSchema)]
pub struct JobAccepted {
    pub job_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct JobResponse {
    pub id: String,
    pub media_id: String,
    /// queued | running | succeeded | failed
    pub status: String,
    /// 0–100
    pub progress: u8,
    pub error: Option<String>,
    /// The variants it makes.
    pub variants: Vec<String>,
    pub created_at: String,
    /// When its last run began (none while queued).
    pub started_at: Option<String>,
    /// When it last changed: once final, when it ended.
    pub updated_at: String,
}

impl JobResponse {
    pub fn of(id: String, job: actors::media::job::Job) -> Self {
        JobResponse {
            id,
            status: job.status.name().to_string(),
            progress: job.progress,
            error: job.error,
            variants: job.specs.into_iter().map(|s| s.name).collect(),
            created_at: rfc3339(job.created_at),
            started_at: job.started_at.map(rfc3339),
            updated_at: rfc3339(job.updated_at),
            media_id: job.media_id,
        }
    }
}

/// A signed link's parts (all three, or none).
#[derive(Deserialize, IntoParams)]
pub struct LinkQuery {
    pub expires: Option<i64>,
    pub v: Option<u64>,
    pub sig: Option<String>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantDto {
    pub user_id: String,
    #[serde(default)]
    pub view: bool,
    #[serde(default)]
    pub transform: bool,
    #[serde(default)]
    pub manage: bool,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AclDto {
    pub public: bool,
    #[serde(default)]
    pub grants: Vec<GrantDto>,
}

impl AclDto {
    pub fn of(acl: &actors::media::acl::Acl) -> Self {
        AclDto {
            public: acl.public,
            grants: acl
                .grants
                .iter()
                .map(|(user, r)| GrantDto {
                    user_id: user.clone(),
                    view: r.view,
                    transform: r.transform,
                    manage: r.manage,
                })
                .collect(),
        }
    }

    /// The grants by user (422 for a user named twice).
    pub fn grants_map(&self) -> Result<BTreeMap<String, actors::media::acl::Rights>, actors::Error> {
        let mut map = BTreeMap::new();
        for (i, g) in self.grants.iter().enumerate() {
            let rights = actors::media::acl::Rights {
                view: g.view,
                transform: g.transform,
                manage: g.manage,
            };
            if map.insert(g.user_id.clone(), rights).is_some() {
                return Err(actors::Error::invalid(&format!("grants[{i}].user_id"), "named twice"));
            }
        }
        Ok(map)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// A variant's name; the original if left out.
    pub variant: Option<String>,
    /// At most 7 days (604800).
    pub expires_in_secs: i64,
}

#[derive(Serialize, ToSchema)]
pub struct LinkResponse {
    /// A path on this API that works without a token.
    pub url: String,
    pub expires_at: String,
}
