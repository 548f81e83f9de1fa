//! Serving an asset's original or a variant (RFC 9110: validators,
//! ranges, conditional requests), read where it lives a chunk at a time.

use super::{set, text};
use crate::EdgeState;
use crate::dto::*;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, MaybeCaller};
use actors::Error;
use actors::media::actor::Access;
use actors::media::files::{CHUNK, hex};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

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
