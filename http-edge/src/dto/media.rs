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
    pub public: bool,
    pub created_at: String,
    pub variants: Vec<VariantDto>,
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
