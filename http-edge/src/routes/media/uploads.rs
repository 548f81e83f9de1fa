//! Uploads over tus 1.0.0. The PATCH body is read as it arrives and
//! handed to the upload entity in chunks of at most 1 MiB (each awaited:
//! backpressure), never held whole.

use super::{set, text};
use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, Caller};
use actors::Error;
use actors::media::files::CHUNK;
use actors::media::tus::{self, Checksum};
use actors::media::upload::UploadRecord;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Every tus answer says which version it speaks; errors too (a 412 also
/// names the versions supported).
fn tus(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert("tus-resumable", HeaderValue::from_static(tus::VERSION));
    if response.status() == StatusCode::PRECONDITION_FAILED {
        response
            .headers_mut()
            .insert("tus-version", HeaderValue::from_static(tus::VERSION));
    }
    response
}

fn tus_error(error: Error) -> Response {
    tus(ApiError(error).into_response())
}

/// The headers that tell a client where an upload stands.
fn progress(response: &mut Response, record: &UploadRecord) {
    set(response, "upload-offset", record.upload.offset);
    set(
        response,
        "upload-expires",
        actors::media::conditional::http_date(record.upload.expires_at),
    );
    if let Some(media_id) = &record.upload.media_id {
        set(response, "media-id", media_id);
    }
}

/// A running hash of a PATCH body, for its `Upload-Checksum`.
enum Hashing {
    None,
    Sha1(Sha1, [u8; 20]),
    Sha256(Sha256, [u8; 32]),
}

impl Hashing {
    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hashing::None => {}
            Hashing::Sha1(h, _) => h.update(bytes),
            Hashing::Sha256(h, _) => h.update(bytes),
        }
    }

    fn matches(self) -> bool {
        match self {
            Hashing::None => true,
            Hashing::Sha1(h, expected) => <[u8; 20]>::from(h.finalize()) == expected,
            Hashing::Sha256(h, expected) => <[u8; 32]>::from(h.finalize()) == expected,
        }
    }
}

/// Appends `body` at `offset` as one PATCH: chunks of at most [`CHUNK`];
/// a body cut off keeps what arrived (unless it carried a checksum, which
/// cannot be checked then); a checksum that fails rolls the PATCH back
/// (460).
async fn append(
    s: &EdgeState,
    caller: &str,
    id: &str,
    offset: u64,
    checksum: Option<Checksum>,
    body: Body,
) -> Result<UploadRecord, Error> {
    let media = &s.domains.media;
    let patch_id = ulid::Ulid::new().to_string();
    media.start(caller, id, &patch_id, offset).await?;
    let mut hashing = match checksum {
        None => Hashing::None,
        Some(Checksum::Sha1(d)) => Hashing::Sha1(Sha1::new(), d),
        Some(Checksum::Sha256(d)) => Hashing::Sha256(Sha256::new(), d),
    };
    let checked = !matches!(hashing, Hashing::None);
    let mut stream = body.into_data_stream();
    let mut buffer: Vec<u8> = Vec::new();
    let mut at = offset;
    let mut cut = false;
    let mut failed = None;
    loop {
        let next = stream.next().await;
        let last = match next {
            Some(Ok(bytes)) => {
                hashing.update(&bytes);
                buffer.extend_from_slice(&bytes);
                false
            }
            Some(Err(_)) => {
                cut = true;
                true
            }
            None => true,
        };
        while buffer.len() >= CHUNK || (last && !buffer.is_empty()) {
            let take = buffer.len().min(CHUNK);
            let chunk: Vec<u8> = buffer.drain(..take).collect();
            match media.chunk(id, &patch_id, at, chunk).await {
                Ok(now) => at = now.upload.offset,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if last || failed.is_some() {
            break;
        }
    }
    let keep = failed.is_none() && !(cut && checked) && hashing.matches();
    let ended = end_patch(media, id, &patch_id, keep).await?;
    if let Some(error) = failed {
        return Err(error);
    }
    if !keep {
        return Err(Error::protocol(
            460,
            "checksum_mismatch",
            "the chunk does not match its Upload-Checksum; it was discarded",
        ));
    }
    Ok(ended)
}

/// Ends a PATCH, also when its shard is moving: the end waits for the
/// move (up to 30 s) so the upload is not left held by a PATCH that is
/// over; the client is told 503 for the chunk that could not land.
async fn end_patch(media: &actors::media::Media, id: &str, patch_id: &str, keep: bool) -> Result<UploadRecord, Error> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match media.end(id, patch_id, keep).await {
            Err(Error::Unavailable { code, .. })
                if code == "shard_moving" && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await
            }
            other => return other,
        }
    }
}

#[utoipa::path(options, path = "/api/v1/uploads", tag = "media", security(()),
    responses((status = 204, description = "tus discovery: Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm")))]
pub async fn discover(State(s): State<EdgeState>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    set(&mut response, "tus-version", tus::VERSION);
    set(&mut response, "tus-extension", tus::EXTENSIONS);
    set(&mut response, "tus-max-size", s.domains.media.max_upload_bytes());
    set(&mut response, "tus-checksum-algorithm", tus::CHECKSUM_ALGORITHMS);
    tus(response)
}

#[utoipa::path(post, path = "/api/v1/uploads", tag = "media", security(("bearer" = ["media:upload"])),
    request_body(content = String, content_type = "application/offset+octet-stream", description = "optionally the first bytes (creation-with-upload)"),
    params(("Tus-Resumable" = String, Header, description = "1.0.0"), ("Upload-Length" = u64, Header, description = "the file's size"),
           ("Upload-Metadata" = Option<String>, Header, description = "filename, filetype, sha256 (base64 values)")),
    responses((status = 201, description = "Location: the upload; Upload-Expires; Upload-Offset"),
              (status = 403, description = "quota_exceeded (with the numbers) or too_many_uploads", body = ErrorBody),
              (status = 412, description = "an unsupported Tus-Resumable"), (status = 413, description = "longer than Tus-Max-Size"),
              (status = 507, description = "too little disk left")))]
pub async fn create(State(s): State<EdgeState>, caller: Caller, headers: HeaderMap, body: Body) -> Response {
    let opened = async {
        tus::check_version(text(&headers, "tus-resumable"))?;
        let length = tus::number("Upload-Length", text(&headers, "upload-length"))?;
        let metadata = tus::metadata(text(&headers, "upload-metadata"))?;
        let with_bytes = text(&headers, "content-type") == Some(tus::PATCH_CONTENT_TYPE);
        let checksum = tus::checksum(text(&headers, "upload-checksum"))?;
        let quota = caller.quota("max_upload_bytes");
        let (id, record) = s.domains.media.open(&caller.0.sub, quota, length, metadata).await?;
        let record = match with_bytes {
            true => match append(&s, &caller.0.sub, &id, 0, checksum, body).await {
                Ok(record) => record,
                // The upload exists all the same: its Location and offset
                // let the client resume (unless completing it failed).
                Err(error) => match s.domains.media.upload(&caller.0.sub, &id).await {
                    Ok(record) => record,
                    Err(_) => return Err(error),
                },
            },
            false => record,
        };
        Ok::<_, Error>((id, record))
    }
    .await;
    match opened {
        Ok((id, record)) => {
            let mut response = StatusCode::CREATED.into_response();
            set(&mut response, "location", format!("/api/v1/uploads/{id}"));
            progress(&mut response, &record);
            tus(response)
        }
        Err(e) => tus_error(e),
    }
}

#[utoipa::path(head, path = "/api/v1/uploads/{id}", tag = "media", security(("bearer" = [])),
    responses((status = 200, description = "Upload-Offset, Upload-Length, Upload-Metadata; Cache-Control: no-store"), (status = 404), (status = 410)))]
pub async fn head(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Response {
    let found = async {
        tus::check_version(text(&headers, "tus-resumable"))?;
        s.domains.media.upload(&caller.0.sub, &id).await
    }
    .await;
    match found {
        Ok(record) => {
            let mut response = StatusCode::OK.into_response();
            progress(&mut response, &record);
            set(&mut response, "upload-length", record.upload.length);
            if !record.upload.metadata.is_empty() {
                set(&mut response, "upload-metadata", record.upload.metadata_header());
            }
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            tus(response)
        }
        Err(e) => tus_error(e),
    }
}

#[utoipa::path(patch, path = "/api/v1/uploads/{id}", tag = "media", security(("bearer" = [])),
    request_body(content = String, content_type = "application/offset+octet-stream"),
    params(("Upload-Offset" = u64, Header, description = "where these bytes go: the upload's current offset"),
           ("Upload-Checksum" = Option<String>, Header, description = "sha1|sha256 <base64> of this body")),
    responses((status = 204, description = "Upload-Offset: the new offset; Media-Id once complete"),
              (status = 409, description = "offset_mismatch"), (status = 410, description = "expired"),
              (status = 415, description = "not application/offset+octet-stream"),
              (status = 422, description = "complete, but unsupported_type or digest_mismatch"),
              (status = 423, description = "another PATCH is in flight"), (status = 460, description = "checksum_mismatch")))]
pub async fn patch(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let appended = async {
        tus::check_version(text(&headers, "tus-resumable"))?;
        if text(&headers, "content-type") != Some(tus::PATCH_CONTENT_TYPE) {
            return Err(Error::protocol(
                415,
                "unsupported_media_type",
                format!("a PATCH carries {}", tus::PATCH_CONTENT_TYPE),
            ));
        }
        let offset = tus::number("Upload-Offset", text(&headers, "upload-offset"))?;
        let checksum = tus::checksum(text(&headers, "upload-checksum"))?;
        append(&s, &caller.0.sub, &id, offset, checksum, body).await
    }
    .await;
    match appended {
        Ok(record) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            progress(&mut response, &record);
            tus(response)
        }
        Err(e) => tus_error(e),
    }
}

#[utoipa::path(delete, path = "/api/v1/uploads/{id}", tag = "media", security(("bearer" = [])),
    responses((status = 204, description = "terminated: its bytes are gone"), (status = 404)))]
pub async fn terminate(State(s): State<EdgeState>, caller: Caller, ApiPath(id): ApiPath<String>) -> Response {
    match s.domains.media.terminate(&caller.0.sub, &id).await {
        Ok(()) => tus(StatusCode::NO_CONTENT.into_response()),
        Err(e) => tus_error(e),
    }
}

#[utoipa::path(get, path = "/api/v1/uploads/{id}", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = UploadStatus), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> crate::error::ApiResult<axum::Json<UploadStatus>> {
    let record = s.domains.media.upload(&caller.0.sub, &id).await?;
    Ok(axum::Json(UploadStatus {
        offset: record.upload.offset,
        length: record.upload.length,
        expires_at: rfc3339(record.upload.expires_at),
        media_id: record.upload.media_id,
    }))
}
