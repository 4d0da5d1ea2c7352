//! The clip library on disk: content-addressed originals and the one way a file becomes a
//! clip (hash, decode completely and measure, store the original, write the row).
//!
//! Originals are kept unchanged as `DATA_DIR/media/<sha256>.<ext>`; the extension is only a
//! hint for the decoder's probe. A file is copied to a temporary name in the same
//! directory, fsynced and renamed, and only then is the database row written, so a crash
//! leaves either a complete clip or an unreferenced file (swept by [`sweep_orphans`]).
//! This module does not know HTTP; the panel's upload path is to call [`add_file`].

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::loudness::{self, AnalyseError};
use crate::model::{Clip, ClipLoudness};
use crate::store::{NewClip, Store, StoreError};

/// Why a file could not become a clip.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The file could not be read or the media directory written.
    #[error("{what} {path}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file does not decode completely, or cannot be measured.
    #[error(transparent)]
    Analyse(#[from] AnalyseError),
    /// The file decodes to silence.
    #[error("{0} is silent: it has no audible sound")]
    Silent(PathBuf),
    /// The database refused the row.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The media directory inside a data directory.
pub fn media_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("media")
}

/// Where a clip's original file lives.
pub fn clip_path(media_dir: &Path, clip: &Clip) -> PathBuf {
    media_dir.join(stored_name(&clip.sha256, &clip.original_name))
}

/// Adds the file at `path` as a clip titled `title`, or returns the existing clip with the
/// same content.
pub fn add_file(
    store: &Store,
    media_dir: &Path,
    path: &Path,
    title: &str,
    now: DateTime<Utc>,
) -> Result<Clip, LibraryError> {
    let sha256 = sha256_file(path)?;
    if let Some(existing) = store.clip_by_sha(&sha256)? {
        return Ok(existing);
    }
    let analysis = loudness::analyse_file(path)?;
    if analysis.loudness.is_silent() {
        return Err(LibraryError::Silent(path.to_owned()));
    }
    let original_name = path
        .file_name()
        .map_or_else(|| "clip".to_owned(), |n| n.to_string_lossy().into_owned());
    let target = media_dir.join(stored_name(&sha256, &original_name));
    if !target.exists() {
        copy_durably(path, &target)?;
    }
    let clip = store.insert_clip(&NewClip {
        sha256,
        title: title.to_owned(),
        original_name,
        duration_ms: analysis.duration.as_millis() as i64,
        sample_rate: analysis.sample_rate,
        channels: analysis.channels,
        loudness: ClipLoudness {
            integrated_lufs: analysis.loudness.integrated_lufs,
            range_lu: analysis.loudness.range_lu,
            true_peak_dbtp: analysis.loudness.true_peak_dbtp,
        },
        created_at: now,
    })?;
    Ok(clip.clip)
}

/// Removes temporary files and originals no clip row refers to (after a crash mid-ingest).
pub fn sweep_orphans(store: &Store, media_dir: &Path) -> Result<usize, LibraryError> {
    let io_err = |source| LibraryError::Io {
        what: "cannot list",
        path: media_dir.to_owned(),
        source,
    };
    let entries = match fs::read_dir(media_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_err(e)),
    };
    let mut known: Vec<String> = store
        .clips()?
        .iter()
        .map(|c| stored_name(&c.sha256, &c.original_name))
        .collect();
    known.extend(
        store
            .archived_clips()?
            .iter()
            .map(|c| stored_name(&c.sha256, &c.original_name)),
    );
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(io_err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !known.contains(&name) {
            fs::remove_file(entry.path()).map_err(|source| LibraryError::Io {
                what: "cannot remove orphan",
                path: entry.path(),
                source,
            })?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// `<sha256>.<lowercase extension of the original>`, or just the hash.
fn stored_name(sha256: &str, original_name: &str) -> String {
    let ext = Path::new(original_name)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()));
    match ext {
        Some(ext) => format!("{sha256}.{ext}"),
        None => sha256.to_owned(),
    }
}

/// Hex SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, LibraryError> {
    let read_err = |source| LibraryError::Io {
        what: "cannot read",
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(read_err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Copies to a temporary name beside `target`, fsyncs, renames, fsyncs the directory.
fn copy_durably(from: &Path, target: &Path) -> Result<(), LibraryError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let write_err = |source| LibraryError::Io {
        what: "cannot write",
        path: target.to_owned(),
        source,
    };
    fs::create_dir_all(dir).map_err(write_err)?;
    let tmp = dir.join(format!(
        ".tmp-{}",
        target
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    ));
    let mut src = File::open(from).map_err(|source| LibraryError::Io {
        what: "cannot read",
        path: from.to_owned(),
        source,
    })?;
    let mut dst = File::create(&tmp).map_err(write_err)?;
    io::copy(&mut src, &mut dst).map_err(write_err)?;
    dst.flush().map_err(write_err)?;
    dst.sync_all().map_err(write_err)?;
    fs::rename(&tmp, target).map_err(write_err)?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(write_err)?;
    Ok(())
}
