//! Uploads (tus 1.0.0) and assets over HTTP. HTTP mapping only: the
//! PATCH body is read as it arrives and handed to the upload entity in
//! chunks of at most 1 MiB (each awaited: backpressure), never held whole.

use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, MaybeCaller};
use actors::Error;
use actors::media::actor::Access;
use actors::media::files::{CHUNK, hex};
use actors::media::tus::{self, Checksum};
use actors::media::upload::UploadRecord;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

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

fn set(response: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
        response.headers_mut().insert(name, value);
    }
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

#[utoipa::path(get, path = "/api/v1/media/{id}", tag = "media", security((), ("bearer" = [])),
    responses((status = 200, body = MediaResponse), (status = 404, description = "none, or private to the caller", body = ErrorBody)))]
pub async fn asset(
    State(s): State<EdgeState>,
    caller: MaybeCaller,
    ApiPath(id): ApiPath<String>,
) -> crate::error::ApiResult<axum::Json<MediaResponse>> {
    let asset = s
        .domains
        .media
        .asset(&Access::Caller(caller.0.map(|c| c.sub)), &id)
        .await?;
    Ok(axum::Json(MediaResponse::of(asset)))
}

#[utoipa::path(delete, path = "/api/v1/media/{id}", tag = "media", security(("bearer" = [])),
    responses((status = 204, description = "deleted with its variants; its bytes go once nothing else uses them"),
              (status = 403, description = "not the owner", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> crate::error::ApiResult<StatusCode> {
    s.domains.media.delete(&caller.0.sub, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/media/{id}/variants", tag = "media", security(("bearer" = [])), request_body = VariantsRequest,
    responses((status = 202, description = "a job makes them; GET /api/v1/jobs/{job_id}", body = JobAccepted),
              (status = 403, description = "may view but not transform", body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "specs that do not hold, or not an image", body = ErrorBody)))]
pub async fn request_variants(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<VariantsRequest>,
) -> crate::error::ApiResult<(StatusCode, axum::Json<JobAccepted>)> {
    let job_id = s.domains.media.request_variants(&caller.0.sub, &id, r.specs()).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(JobAccepted { job_id })))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = JobResponse), (status = 404, description = "none, or neither asked by the caller nor of their asset", body = ErrorBody)))]
pub async fn job(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> crate::error::ApiResult<axum::Json<JobResponse>> {
    let job = s.domains.media.job(&caller.0.sub, &id).await?;
    Ok(axum::Json(JobResponse::of(id, job)))
}

/// The bytes `first..=last` of an asset (or a variant), read where it
/// lives a chunk at a time (each read awaited before the next: a slow
/// client slows the reads).
fn span_stream(
    s: EdgeState,
    access: Access,
    id: String,
    variant: Option<String>,
    first: u64,
    last: u64,
) -> impl futures::Stream<Item = Result<axum::body::Bytes, Error>> + Send {
    futures::stream::unfold(first, move |at| {
        let (s, access, id, variant) = (s.clone(), access.clone(), id.clone(), variant.clone());
        async move {
            if at > last {
                return None;
            }
            let len = (last - at + 1).min(CHUNK as u64);
            match s.domains.media.read(&access, &id, variant.as_deref(), at, len).await {
                Ok(bytes) if bytes.is_empty() => None,
                Ok(bytes) => {
                    let next = at + bytes.len() as u64;
                    Some((Ok(axum::body::Bytes::from(bytes)), next))
                }
                Err(e) => Some((Err(e), last + 1)),
            }
        }
    })
}

const BOUNDARY: &str = "shop-byteranges-5f1d3c";

#[utoipa::path(get, path = "/api/v1/media/{id}/content", tag = "media", security((), ("bearer" = [])),
    params(LinkQuery, ("Range" = Option<String>, Header, description = "bytes=…: one or several ranges"),
           ("If-Range" = Option<String>, Header, description = "ranges only if this ETag or date is still current"),
           ("If-None-Match" = Option<String>, Header, description = "304 when it matches the ETag")),
    responses((status = 200, description = "the original, streamed"), (status = 206, description = "one range (Content-Range) or several (multipart/byteranges)"),
              (status = 304, description = "not modified"), (status = 404, description = "none, or private to the caller", body = ErrorBody),
              (status = 416, description = "no range satisfiable: Content-Range: bytes */size")))]
pub async fn content(
    State(s): State<EdgeState>,
    caller: MaybeCaller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(link): ApiQuery<LinkQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(s, caller, id, None, link, headers).await
}

#[utoipa::path(get, path = "/api/v1/media/{id}/variants/{name}", tag = "media", security((), ("bearer" = [])),
    params(LinkQuery, ("Range" = Option<String>, Header, description = "bytes=…: one or several ranges"),
           ("If-None-Match" = Option<String>, Header, description = "304 when it matches the ETag")),
    responses((status = 200, description = "the variant, streamed; the same caching and ranges as the original"),
              (status = 206, description = "ranges"), (status = 304, description = "not modified"),
              (status = 404, description = "no such variant (yet), or private to the caller", body = ErrorBody)))]
pub async fn variant(
    State(s): State<EdgeState>,
    caller: MaybeCaller,
    ApiPath((id, name)): ApiPath<(String, String)>,
    ApiQuery(link): ApiQuery<LinkQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(s, caller, id, Some(name), link, headers).await
}

/// Serves an asset's original or one of its variants (RFC 9110 ranges and
/// conditional requests), to a caller or by a signed link.
async fn serve(
    s: EdgeState,
    caller: MaybeCaller,
    id: String,
    variant: Option<String>,
    link: LinkQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    use actors::media::conditional::{etag, http_date, not_modified};
    use actors::media::range::{Ranged, if_range_holds, ranges, unsatisfiable};
    let access = match (link.expires, link.v, link.sig) {
        (Some(expires), Some(acl_version), Some(signature)) => Access::Link {
            expires,
            acl_version,
            signature,
        },
        (None, None, None) => Access::Caller(caller.0.map(|c| c.sub)),
        _ => return Err(Error::forbidden("invalid_link", "this link is incomplete").into()),
    };
    let asset = s.domains.media.asset_for(&access, &id, variant.as_deref()).await?;
    let (sha256, size, mime) = asset.served(variant.as_deref())?;
    let (tag, modified) = (etag(&hex(&sha256)), http_date(asset.created_at));
    let mut response = if not_modified(
        text(&headers, "if-none-match"),
        text(&headers, "if-modified-since"),
        &tag,
        asset.created_at,
    ) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let range = if_range_holds(text(&headers, "if-range"), &tag, &modified)
            .then(|| text(&headers, "range"))
            .flatten();
        let (edge, reader, asset_id) = (s.clone(), access.clone(), id.clone());
        let stream = move |first, last| {
            span_stream(
                edge.clone(),
                reader.clone(),
                asset_id.clone(),
                variant.clone(),
                first,
                last,
            )
        };
        match ranges(range, size) {
            Ranged::Whole => {
                let mut r = Response::new(Body::from_stream(stream(0, size.saturating_sub(1))));
                if size == 0 {
                    r = Response::new(Body::empty());
                }
                set(&mut r, "content-type", mime);
                set(&mut r, "content-length", size);
                r
            }
            Ranged::Unsatisfiable => {
                let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                set(&mut r, "content-range", unsatisfiable(size));
                r
            }
            Ranged::Spans(spans) if spans.len() == 1 => {
                let span = spans[0];
                let mut r = Response::new(Body::from_stream(stream(span.first, span.last)));
                *r.status_mut() = StatusCode::PARTIAL_CONTENT;
                set(&mut r, "content-type", mime);
                set(&mut r, "content-length", span.len());
                set(&mut r, "content-range", span.content_range(size));
                r
            }
            Ranged::Spans(spans) => {
                let parts = spans.into_iter().map(move |span| {
                    let head = format!(
                        "--{BOUNDARY}\r\nContent-Type: {mime}\r\nContent-Range: {}\r\n\r\n",
                        span.content_range(size)
                    );
                    futures::stream::once(async move { Ok(axum::body::Bytes::from(head)) })
                        .chain(stream(span.first, span.last))
                        .chain(futures::stream::once(async {
                            Ok(axum::body::Bytes::from_static(b"\r\n"))
                        }))
                });
                let tail = futures::stream::once(async { Ok(axum::body::Bytes::from(format!("--{BOUNDARY}--\r\n"))) });
                let body = futures::stream::iter(parts).flatten().chain(tail);
                let mut r = Response::new(Body::from_stream(body));
                *r.status_mut() = StatusCode::PARTIAL_CONTENT;
                set(
                    &mut r,
                    "content-type",
                    format!("multipart/byteranges; boundary={BOUNDARY}"),
                );
                r
            }
        }
    };
    set(&mut response, "etag", &tag);
    set(&mut response, "last-modified", &modified);
    set(&mut response, "accept-ranges", "bytes");
    set(&mut response, "x-content-type-options", "nosniff");
    let cache = match asset.acl.public {
        true => "public, max-age=31536000, immutable",
        false => "private, max-age=0, must-revalidate",
    };
    set(&mut response, "cache-control", cache);
    Ok(response)
}

#[utoipa::path(put, path = "/api/v1/media/{id}/acl", tag = "media", security(("bearer" = [])), request_body = AclDto,
    responses((status = 200, body = AclDto), (status = 403, description = "may view but not manage", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_acl(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<AclDto>,
) -> crate::error::ApiResult<axum::Json<AclDto>> {
    let grants = r.grants_map()?;
    let asset = s.domains.media.set_acl(&caller.0.sub, &id, r.public, grants).await?;
    Ok(axum::Json(AclDto::of(&asset.acl)))
}

#[utoipa::path(get, path = "/api/v1/media/{id}/acl", tag = "media", security(("bearer" = [])),
    responses((status = 200, body = AclDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_acl(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> crate::error::ApiResult<axum::Json<AclDto>> {
    let acl = s.domains.media.acl(&caller.0.sub, &id).await?;
    Ok(axum::Json(AclDto::of(&acl)))
}

#[utoipa::path(post, path = "/api/v1/media/{id}/links", tag = "media", security(("bearer" = [])), request_body = LinkRequest,
    responses((status = 201, description = "works without a token until it expires or the ACL changes", body = LinkResponse),
              (status = 404, body = ErrorBody), (status = 422, description = "expires_in_secs beyond 7 days", body = ErrorBody)))]
pub async fn link(
    State(s): State<EdgeState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(r): ApiJson<LinkRequest>,
) -> crate::error::ApiResult<(StatusCode, axum::Json<LinkResponse>)> {
    let (url, expires) = s
        .domains
        .media
        .link(&caller.0.sub, &id, r.variant.as_deref(), r.expires_in_secs)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(LinkResponse {
            url,
            expires_at: rfc3339(expires * 1000),
        }),
    ))
}

pub fn router() -> OpenApiRouter<EdgeState> {
    OpenApiRouter::new()
        .routes(routes!(discover, create))
        .routes(routes!(head, patch, terminate, status))
        .routes(routes!(asset, delete))
        .routes(routes!(content))
        .routes(routes!(variant))
        .routes(routes!(request_variants))
        .routes(routes!(job))
        .routes(routes!(set_acl, get_acl))
        .routes(routes!(link))
}
