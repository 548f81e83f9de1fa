//! Media: uploads (tus), assets and their access, serving with ranges and
//! caching, image variants made by jobs.
//!
//! - `range.rs` — what a `Range` header asks of a body, `If-Range`;
//!   `conditional.rs` — validators and 304s;
//! - `sniff.rs` — a file's real type from its first bytes;
//! - `tus.rs` — the tus 1.0.0 headers, read strictly; `upload.rs` — an
//!   upload's bookkeeping and who may open one;
//! - `acl.rs` — who may view, transform or manage an asset; signed links;
//! - `variants.rs` — variant specs and the geometry of each; `render.rs`
//!   — making them (decode once, EXIF orientation, resize, encode);
//! - `job.rs` — a variant job's states, progress and resumption;
//! - `files.rs` — where the bytes live: uploads and blobs under their shard;
//! - `actor.rs` — the upload and asset entities; `jobs.rs` — the job
//!   entity and the worker pool; `service.rs` — [`Media`].

pub mod acl;
pub mod actor;
pub mod conditional;
pub mod files;
pub mod job;
pub mod jobs;
pub mod range;
pub mod render;
pub mod samples;
pub mod service;
pub mod sniff;
pub mod tus;
pub mod upload;
pub mod variants;

pub use service::Media;
