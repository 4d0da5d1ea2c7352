//! The one way an uploaded file becomes a clip: [`ingest_upload`] streams a multipart
//! field to a private temporary directory inside the data directory (counting bytes and
//! stopping at the size limit, never holding the whole file in memory), then hands the
//! file to the library. No part of the client's file name becomes a path: the directory
//! is random and the file inside it has a fixed name with an extension from a short list.

use std::path::{Path, PathBuf};

use axum::extract::multipart::Field;
use tokio::io::AsyncWriteExt;

use crate::accounts;
use crate::library::{self, LibraryError};
use crate::model::Clip;

use super::PanelState;

/// The largest upload accepted (a 90-minute MP3 at 320 kbit/s is about 216 MB).
pub const MAX_UPLOAD_BYTES: u64 = 256 * 1024 * 1024;

/// Why an upload did not become a clip.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The file is larger than [`MAX_UPLOAD_BYTES`].
    #[error("{name} is larger than {} MB", MAX_UPLOAD_BYTES / 1024 / 1024)]
    TooLarge {
        /// The client's file name.
        name: String,
    },
    /// The upload broke off or the multipart body is malformed.
    #[error("the upload of {name} broke off: {detail}")]
    Broken {
        /// The client's file name.
        name: String,
        /// What the multipart reader said.
        detail: String,
    },
    /// The file is not audio the library accepts (the library's reason).
    #[error("{0}")]
    Refused(String),
    /// The temporary file could not be written, or another server-side failure.
    #[error("cannot store the upload: {0}")]
    Internal(String),
}

/// Streams `field` to a temporary file and adds it to the library as a clip titled
/// `title` (default: the file name without its extension).
pub async fn ingest_upload(
    state: &PanelState,
    mut field: Field<'_>,
    title: Option<String>,
) -> Result<Clip, UploadError> {
    let original = field
        .file_name()
        .map(display_name)
        .unwrap_or_else(|| "clip".to_owned());
    let title = title
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| stem(&original));
    let data_dir = state.config.station.data_dir.clone();
    let dir = data_dir.join("uploads").join(accounts::new_secret());
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| UploadError::Internal(format!("cannot create {}: {e}", dir.display())))?;
    let _cleanup = RemoveOnDrop(dir.clone());
    let path = dir.join(format!("upload.{}", extension(&original)));
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| UploadError::Internal(format!("cannot create {}: {e}", path.display())))?;
    let mut written: u64 = 0;
    loop {
        let chunk = field.chunk().await.map_err(|e| UploadError::Broken {
            name: original.clone(),
            detail: e.body_text(),
        })?;
        let Some(chunk) = chunk else { break };
        written += chunk.len() as u64;
        if written > MAX_UPLOAD_BYTES {
            return Err(UploadError::TooLarge { name: original });
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| UploadError::Internal(format!("cannot write {}: {e}", path.display())))?;
    }
    file.sync_all()
        .await
        .map_err(|e| UploadError::Internal(format!("cannot sync {}: {e}", path.display())))?;
    drop(file);
    let store = state.store.clone();
    let media = library::media_dir(&data_dir);
    let now = state.clock.now();
    let shown = original.clone();
    let shown_for_row = original.clone();
    let tmp = path.clone();
    let result = tokio::task::spawn_blocking(move || {
        let clip = library::add_file(&store, &media, &tmp, &title, now)?;
        // `add_file` names the clip after the temporary file; keep the client's name (same
        // extension, so the stored original's path does not change).
        if clip.original_name.starts_with("upload.") && extension(&shown_for_row) != "bin" {
            return Ok(store.set_clip_original_name(clip.id, &shown_for_row)?);
        }
        Ok(clip)
    })
    .await
    .map_err(|e| UploadError::Internal(e.to_string()))?;
    result.map_err(|e: LibraryError| match e {
        LibraryError::Analyse(a) => {
            UploadError::Refused(chain(&a).replace(&path.display().to_string(), &shown))
        }
        LibraryError::Silent(_) => {
            UploadError::Refused(format!("{shown} is silent: it has no audible sound"))
        }
        other => UploadError::Internal(chain(&other)),
    })
}

/// An error and its sources, joined with ": ".
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = c.source();
    }
    s
}

/// The client's file name for messages: its last path component, at most 120 characters.
fn display_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let clean: String = last.chars().filter(|c| !c.is_control()).take(120).collect();
    if clean.trim().is_empty() {
        "clip".to_owned()
    } else {
        clean
    }
}

/// The file name without its extension.
fn stem(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((s, _)) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => name.trim().to_owned(),
    }
}

/// A decoder hint from a short list of extensions; anything else is `bin`.
fn extension(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("mp3") => "mp3",
        Some("m4a") => "m4a",
        Some("mp4") => "mp4",
        Some("aac") => "aac",
        Some("wav") => "wav",
        Some("flac") => "flac",
        Some("ogg") => "ogg",
        Some("oga") => "oga",
        Some("opus") => "opus",
        _ => "bin",
    }
}

/// Removes the temporary directory however the upload ends.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        remove(&self.0);
    }
}

fn remove(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot remove an upload's temporary directory");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_never_become_paths() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\Users\\lan\\Bản tin.mp3"), "Bản tin.mp3");
        assert_eq!(extension("../../x.MP3"), "mp3");
        assert_eq!(extension("evil.sh"), "bin");
        assert_eq!(extension("noext"), "bin");
        assert_eq!(stem("Khẩu hiệu 111.m4a"), "Khẩu hiệu 111");
        assert_eq!(stem(".mp3"), ".mp3");
    }
}
