//! The one way an uploaded file becomes a clip: [`ingest_upload`] streams a multipart
//! field to a private temporary directory inside the data directory (counting bytes and
//! stopping at the size limit, never holding the whole file in memory), then hands it to
//! the library's one ingest pipeline (`library::ingest_stream`: isolated decode, refusal
//! reasons in Vietnamese and English). No part of the client's file name becomes a path:
//! the directory is random and the file inside it has a fixed name.

use std::path::{Path, PathBuf};

use axum::extract::multipart::Field;
use tokio::io::AsyncWriteExt;

use crate::accounts;
use crate::library;
use crate::model::Clip;

use super::PanelState;

/// Why an upload did not become a clip.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The file is larger than `library.max_upload_mb`.
    #[error("{name} is larger than {limit_mb} MB")]
    TooLarge {
        /// The client's file name.
        name: String,
        /// The limit.
        limit_mb: u64,
    },
    /// The upload broke off or the multipart body is malformed.
    #[error("the upload of {name} broke off: {detail}")]
    Broken {
        /// The client's file name.
        name: String,
        /// What the multipart reader said.
        detail: String,
    },
    /// The library refused the file: a stable code and the reason in both languages.
    #[error("{message_en}")]
    Refused {
        /// `not_audio`, `unsupported_codec`, `truncated`, `silent`, `too_large`, `disk_full`, …
        code: &'static str,
        /// The reason in Vietnamese.
        message_vi: String,
        /// The reason in English.
        message_en: String,
    },
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
    let limits = library::IngestLimits::from_config(&state.config.library);
    let mut written: u64 = 0;
    loop {
        let chunk = field.chunk().await.map_err(|e| UploadError::Broken {
            name: original.clone(),
            detail: e.body_text(),
        })?;
        let Some(chunk) = chunk else { break };
        written += chunk.len() as u64;
        if written > limits.max_bytes {
            return Err(UploadError::TooLarge {
                name: original,
                limit_mb: limits.max_bytes / 1_000_000,
            });
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| UploadError::Internal(format!("cannot write {}: {e}", path.display())))?;
    }
    // tokio's File hands the last write to a blocking thread and returns: without this
    // flush the worker below may read the file before that write lands and refuse a
    // complete upload as truncated (seen in the SIGKILL fault test).
    file.flush()
        .await
        .map_err(|e| UploadError::Internal(format!("cannot write {}: {e}", path.display())))?;
    drop(file);
    let store = state.store.clone();
    let media = library::media_dir(&data_dir);
    let now = state.clock.now();
    let tmp = path.clone();
    tokio::task::spawn_blocking(move || {
        let reader = std::fs::File::open(&tmp)
            .map_err(|e| UploadError::Internal(format!("cannot reopen {}: {e}", tmp.display())))?;
        library::ingest_stream(
            reader,
            &original,
            Some(&title),
            &limits,
            &store,
            &media,
            now,
        )
        .map_err(|e| match e.code() {
            "internal" => UploadError::Internal(chain(&e)),
            code => UploadError::Refused {
                code,
                message_vi: e.message_vi(),
                message_en: e.message_en(),
            },
        })
    })
    .await
    .map_err(|e| UploadError::Internal(e.to_string()))?
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

/// Removes what uploads cut off by a crash left under `DATA_DIR/uploads` (a SIGKILL or a
/// power cut gives [`RemoveOnDrop`] no chance to run). Call at start, before the panel
/// serves: only the daemon writes there, so nothing in it is in flight. Returns how many
/// temporary directories were removed.
pub fn sweep_leftovers(data_dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(data_dir.join("uploads")) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let gone = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match gone {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove an upload left by a crash")
            }
        }
    }
    removed
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
    fn leftovers_of_cut_off_uploads_are_swept_at_start() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(sweep_leftovers(dir.path()), 0, "no uploads directory yet");
        let cut = dir.path().join("uploads").join("abc");
        std::fs::create_dir_all(&cut).unwrap();
        std::fs::write(cut.join("upload.wav"), b"RIFF half").unwrap();
        assert_eq!(sweep_leftovers(dir.path()), 1);
        assert_eq!(
            std::fs::read_dir(dir.path().join("uploads"))
                .unwrap()
                .count(),
            0
        );
    }

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
