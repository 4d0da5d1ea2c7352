//! The clip library on disk: content-addressed originals, the one ingest pipeline that turns
//! an upload into a clip or refuses it with a reason, deleting clips with their files,
//! and station export/import.
//!
//! Originals are kept unchanged as `DATA_DIR/media/<sha256>.<ext>`; the extension is only a
//! hint for the decoder's probe. Uploads stream to `media/.upload-*`, are decoded in an
//! isolated worker ([`analyse`]), renamed into place and fsynced, and only then is the
//! database row written, so a crash leaves either a complete clip or files no row refers
//! to (removed by [`sweep_orphans`] at start). This module does not know HTTP; the panel's
//! upload handler calls [`ingest_stream`].

pub mod analyse;
mod ingest;
pub mod refusal;
pub mod transfer;

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::model::{Clip, ClipId};
use crate::store::{Store, StoreError};

pub use analyse::{Analyser, Measured};
pub use ingest::{IngestLimits, UPLOAD_PREFIX, clean_name, ingest_file, ingest_stream};
pub use refusal::{IngestError, Problem};

/// Why a library operation failed.
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
    /// The file did not become a clip.
    #[error(transparent)]
    Ingest(Box<IngestError>),
    /// The database refused.
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

/// Adds a file the program trusts (the shipped demo media, test tones) as a clip titled
/// `title`, decoding it in this process with the default limits. Uploads from people go
/// through [`ingest_stream`] with [`Analyser::Child`] instead.
pub fn add_file(
    store: &Store,
    media_dir: &Path,
    path: &Path,
    title: &str,
    now: DateTime<Utc>,
) -> Result<Clip, LibraryError> {
    let limits = IngestLimits::with_analyser(Analyser::InProcess);
    ingest_file(path, Some(title), &limits, store, media_dir, now)
        .map_err(|e| LibraryError::Ingest(Box::new(e)))
}

/// Deletes a clip's row (refused while a playlist uses it, unless `force`, which first
/// takes it out of every playlist) and then its original file. The broadcast log keeps
/// the title and hash of what aired, so reports stay complete.
pub fn delete_clip(
    store: &Store,
    media_dir: &Path,
    id: ClipId,
    force: bool,
) -> Result<Clip, LibraryError> {
    let clip = store.delete_clip(id, force)?;
    let path = clip_path(media_dir, &clip);
    match fs::remove_file(&path) {
        Ok(()) => Ok(clip),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(clip),
        // The row is gone; the file is now an orphan that the next start sweeps.
        Err(source) => Err(LibraryError::Io {
            what: "cannot remove",
            path,
            source,
        }),
    }
}

/// Removes upload leftovers and originals no clip row refers to (after a crash mid-ingest
/// or mid-delete). Call at start, before anything ingests. Returns how many were removed.
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
    let known: std::collections::HashSet<String> = store
        .clips()?
        .iter()
        .chain(store.archived_clips()?.iter())
        .map(|c| stored_name(&c.sha256, &c.original_name))
        .collect();
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(io_err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().map_err(io_err)?.is_file()
            && !known.contains(&name)
            && !upload_in_flight(&name)
        {
            fs::remove_file(entry.path()).map_err(|source| LibraryError::Io {
                what: "cannot remove orphan",
                path: entry.path(),
                source,
            })?;
            removed += 1;
        }
    }
    if removed > 0 {
        File::open(media_dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err)?;
    }
    Ok(removed)
}

/// Whether `name` is an upload being written right now by another live process (the
/// daemon and `loa add` may run side by side): `.upload-<pid>-…` with `/proc/<pid>`
/// present and `<pid>` not this process. Nothing ingests in this process while it sweeps,
/// so a leftover carrying its own pid is from an earlier boot: after a power cut the
/// restarted daemon may well get the pid the crashed one had, and would otherwise keep
/// that leftover (up to an upload's size) for ever.
fn upload_in_flight(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(UPLOAD_PREFIX) else {
        return false;
    };
    let pid = rest.split('-').next().unwrap_or_default();
    !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && pid != std::process::id().to_string()
        && Path::new("/proc").join(pid).exists()
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
    Ok(hex(&hasher.finalize()))
}

/// Lowercase hex of a digest.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
