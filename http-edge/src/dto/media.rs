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
