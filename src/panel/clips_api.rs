//! Clip routes of the JSON API: list, get, rename, delete (archive; refused while a
//! playlist holds the clip, naming the playlists), download the original, and upload
//! (multipart, one file per request; see `upload`). The library page calls these.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tokio::io::{AsyncRead, ReadBuf};

use super::auth::ApiUser;
use super::body::{Json, Path};
use super::i18n::Lang;
use super::upload::{self, UploadError};
use super::{ApiError, PanelState, audit};
use crate::library;
use crate::model::ClipId;
use crate::store::Role;

/// The clip routes.
pub(super) fn routes() -> Router<PanelState> {
    Router::new()
        .route(
            "/api/clips",
            // The configured size limit (`library.max_upload_mb`) is enforced while the
            // file streams to disk (`upload::ingest_upload`), not by buffering the body.
            get(list).post(create).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/clips/{id}", get(one).patch(rename).delete(archive))
        .route("/api/clips/{id}/audio", get(audio))
}

#[derive(Debug, Deserialize)]
pub(super) struct RenameBody {
    title: String,
}

/// `GET /api/clips`: the library (archived clips excluded), oldest first.
async fn list(State(state): State<PanelState>, _: ApiUser) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(state.store.clips()?))
}

/// `GET /api/clips/{id}`.
async fn one(
    State(state): State<PanelState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(state.store.clip(ClipId(id))?))
}

/// `PATCH /api/clips/{id}` `{"title"}` (editor).
async fn rename(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    lang: Lang,
    Path(id): Path<i64>,
    Json(body): Json<RenameBody>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Editor)?;
    if body.title.trim().is_empty() {
        return Err(ApiError::unprocessable(lang.t("title empty")));
    }
    let clip = state.store.rename_clip(ClipId(id), &body.title)?;
    audit(
        &state,
        &who,
        "clip.rename",
        format!("clip {id}"),
        clip.title.clone(),
    );
    Ok(axum::Json(clip))
}

/// `DELETE /api/clips/{id}` (editor): hides the clip from the library (the log and the
/// reports keep naming it). Refused with 409 `in_use` while a playlist holds it: the
/// message names those playlists, so staff know where to take it out first.
async fn archive(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    lang: Lang,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(Role::Editor)?;
    let clip = state.store.clip(ClipId(id))?;
    let holders: Vec<String> = state
        .store
        .playlists()?
        .into_iter()
        .filter(|p| p.items.contains(&clip.id))
        .map(|p| format!("«{}»", p.name))
        .collect();
    if !holders.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "in_use",
            format!(
                "{} «{}» {} {}. {}",
                lang.t("cannot delete clip"),
                clip.title,
                lang.t("is in playlists"),
                holders.join(", "),
                lang.t("take it out first")
            ),
        ));
    }
    let clip = state.store.set_clip_archived(clip.id, true)?;
    audit(
        &state,
        &who,
        "clip.delete",
        format!("clip {id}"),
        clip.title,
    );
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/clips` (editor): `multipart/form-data` with an optional `title` field and
/// one `file` field. 201 with the clip; 413 too large; 415 not multipart; 422 not audio.
async fn create(
    State(state): State<PanelState>,
    ApiUser(who): ApiUser,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    who.require(Role::Editor)?;
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "upload files as multipart/form-data with a `file` field".to_owned(),
        ));
    }
    let mut multipart = multipart.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut title = None;
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| upload_error(&e.body_text(), e.status()))?
            .ok_or_else(|| ApiError::bad_request("the upload has no `file` field"))?;
        match field.name() {
            Some("title") => {
                title = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| upload_error(&e.body_text(), e.status()))?,
                );
            }
            Some("file") => {
                let clip =
                    upload::ingest_upload(&state, field, title)
                        .await
                        .map_err(|e| match e {
                            UploadError::TooLarge { .. } => ApiError::new(
                                StatusCode::PAYLOAD_TOO_LARGE,
                                "too_large",
                                e.to_string(),
                            ),
                            UploadError::Broken { .. } => ApiError::bad_request(e.to_string()),
                            UploadError::Refused {
                                code,
                                message_vi,
                                message_en,
                            } => ApiError::new(
                                match code {
                                    "too_large" => StatusCode::PAYLOAD_TOO_LARGE,
                                    "disk_full" => StatusCode::INSUFFICIENT_STORAGE,
                                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                                },
                                code,
                                match Lang::of(None, &headers) {
                                    Lang::En => message_en,
                                    Lang::Vi => message_vi,
                                },
                            ),
                            UploadError::Internal(m) => {
                                tracing::error!(error = %m, "upload failed");
                                ApiError::internal()
                            }
                        })?;
                audit(
                    &state,
                    &who,
                    "clip.upload",
                    format!("clip {}", clip.id),
                    clip.original_name.clone(),
                );
                return Ok((StatusCode::CREATED, axum::Json(clip)).into_response());
            }
            _ => {}
        }
    }
}

fn upload_error(text: &str, status: StatusCode) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(status, "too_large", text.to_owned())
    } else {
        ApiError::bad_request(text.to_owned())
    }
}

/// `GET /api/clips/{id}/audio`: the original file, unchanged, streamed.
async fn audio(
    State(state): State<PanelState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let clip = state.store.clip(ClipId(id))?;
    let path = library::clip_path(&library::media_dir(&state.config.station.data_dir), &clip);
    let file = tokio::fs::File::open(&path).await.map_err(|e| {
        tracing::error!(path = %path.display(), error = %e, "clip original missing");
        ApiError::not_found(format!("the original file of clip {id} is missing"))
    })?;
    let len = file.metadata().await.map(|m| m.len()).ok();
    let mime = match path.extension().and_then(|e| e.to_str()) {
        Some("mp3") => "audio/mpeg",
        Some("m4a" | "mp4" | "aac") => "audio/mp4",
        Some("wav") => "audio/wav",
        Some("flac") => "audio/flac",
        Some("ogg" | "oga" | "opus") => "audio/ogg",
        _ => "application/octet-stream",
    };
    let mut response = Body::from_stream(FileStream {
        file,
        buf: vec![0; 64 * 1024],
    })
    .into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(mime));
    if let Some(len) = len {
        h.insert(header::CONTENT_LENGTH, len.into());
    }
    Ok(response)
}

/// A file read in 64 KiB chunks as a stream of bytes.
struct FileStream {
    file: tokio::fs::File,
    buf: Vec<u8>,
}

impl futures_core::Stream for FileStream {
    type Item = std::io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let mut rb = ReadBuf::new(&mut this.buf);
        match Pin::new(&mut this.file).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) if rb.filled().is_empty() => Poll::Ready(None),
            Poll::Ready(Ok(())) => Poll::Ready(Some(Ok(Bytes::copy_from_slice(rb.filled())))),
        }
    }
}
