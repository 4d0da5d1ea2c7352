//! The one ingest pipeline: every upload (HTTP, `loa add`, `loa import`) goes through
//! [`ingest_stream`] and either becomes a complete clip or is refused with a reason.
//!
//! Steps: check free disk space; stream the bytes to `media/.upload-*` while hashing them
//! (SHA-256) and counting them against the size limit; fsync; if the content is already a
//! clip, return that clip; otherwise decode and measure it in the isolated worker
//! ([`Analyser`]); rename the temporary file to `media/<sha256>.<ext>`, fsync the directory,
//! and only then write the row. A crash at any point leaves a complete clip, or files no
//! row refers to (swept by `sweep_orphans` on start). Memory stays bounded by one 64 KiB
//! buffer here and one decoded block in the worker. This module does not know HTTP.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::analyse::{Analyser, Report};
use super::refusal::{IngestError, Problem};
use super::{hex, stored_name};
use crate::model::{Clip, ClipLoudness};
use crate::store::{NewClip, Store};

/// Prefix of in-flight upload files inside the media directory.
pub const UPLOAD_PREFIX: &str = ".upload-";

/// The limits an upload must respect, and the worker that checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestLimits {
    /// Largest upload accepted, in bytes (the stream is cut off past it).
    pub max_bytes: u64,
    /// Longest clip accepted.
    pub max_duration: Duration,
    /// Bytes that must stay free on the data disk after an upload of `max_bytes`.
    pub keep_free_bytes: u64,
    /// Where decoding runs; [`Analyser::Child`] in the daemon and CLI.
    pub analyser: Analyser,
}

impl IngestLimits {
    /// The default upload limit: 200 MB.
    pub const DEFAULT_MAX_BYTES: u64 = 200 * 1_000_000;
    /// The default longest clip: 60 minutes.
    pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(60 * 60);
    /// The default time limit for checking one file: 5 minutes.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);
    /// The default disk reserve: 50 MB.
    pub const DEFAULT_KEEP_FREE: u64 = 50 * 1_000_000;

    /// The limits the config asks for, checked by a child process of this binary: what the
    /// daemon's upload handler and the CLI use.
    pub fn from_config(config: &crate::config::LibraryConfig) -> IngestLimits {
        IngestLimits {
            max_bytes: config.max_upload_bytes,
            max_duration: config.max_clip_duration,
            keep_free_bytes: config.keep_free_bytes,
            analyser: match &config.analyser_exe {
                Some(exe) => Analyser::Child {
                    exe: exe.clone(),
                    timeout: config.analyse_timeout,
                },
                None => Analyser::this_binary(config.analyse_timeout),
            },
        }
    }

    /// The default limits with the given analyser.
    pub fn with_analyser(analyser: Analyser) -> IngestLimits {
        IngestLimits {
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_duration: Self::DEFAULT_MAX_DURATION,
            keep_free_bytes: Self::DEFAULT_KEEP_FREE,
            analyser,
        }
    }
}

/// Streams `reader` into the library as a clip, or refuses it.
///
/// - `original_name`: the file name as staff gave it (any directory part is dropped); its
///   extension is a hint for the decoder and is kept in the stored file's name.
/// - `title`: shown to staff; `None` or blank uses the file name without its extension.
/// - `limits`: size and duration limits and the isolated analyser.
/// - `media_dir`: `DATA_DIR/media` (see `media_dir`); created if missing.
/// - `now`: the clip's creation time.
///
/// Returns the new clip, or the existing one when the same bytes were uploaded before
/// (un-archived if it was archived). This call blocks (disk, fsync, a child process):
/// async callers run it with `spawn_blocking`, handing it a blocking reader of the body.
/// Stable: the panel's upload handler, `loa add` and `loa import` all call this.
pub fn ingest_stream(
    reader: impl Read,
    original_name: &str,
    title: Option<&str>,
    limits: &IngestLimits,
    store: &Store,
    media_dir: &Path,
    now: DateTime<Utc>,
) -> Result<Clip, IngestError> {
    let name = clean_name(original_name);
    fs::create_dir_all(media_dir).map_err(|source| IngestError::Io {
        what: "cannot create media directory",
        path: media_dir.to_owned(),
        source,
    })?;
    check_free_space(media_dir, &name, limits)?;
    let temp = TempUpload::new(media_dir, &name);
    let (sha256, size) = stream_to(&temp.path, reader, &name, limits.max_bytes)?;
    if size == 0 {
        return Err(IngestError::refused(&name, Problem::Empty));
    }
    let target = media_dir.join(stored_name(&sha256, &name));
    if let Some(existing) = store.clip_by_sha(&sha256)? {
        let existing_file = super::clip_path(media_dir, &existing);
        if !existing_file.exists() {
            // The row outlived its file (restored database, hand-deleted media): heal it.
            temp.commit(&existing_file)?;
        }
        return Ok(store.set_clip_archived(existing.id, false)?);
    }
    let measured = match limits.analyser.analyse(&temp.path, limits.max_duration) {
        Ok(Report::Ok(m)) => m,
        Ok(Report::Refused(problem)) => return Err(IngestError::refused(&name, problem)),
        Err(detail) => return Err(IngestError::Worker { name, detail }),
    };
    temp.commit(&target)?;
    let title = title
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map_or_else(|| default_title(&name), str::to_owned);
    let inserted = store.insert_clip(&NewClip {
        sha256,
        title,
        original_name: name,
        duration_ms: i64::try_from(measured.duration_ms).unwrap_or(i64::MAX),
        sample_rate: measured.sample_rate,
        channels: measured.channels,
        loudness: ClipLoudness {
            integrated_lufs: measured.integrated_lufs,
            range_lu: measured.range_lu,
            true_peak_dbtp: measured.true_peak_dbtp,
        },
        created_at: now,
    })?;
    Ok(inserted.clip)
}

/// [`ingest_stream`] for a file on disk, named by its own file name.
pub fn ingest_file(
    path: &Path,
    title: Option<&str>,
    limits: &IngestLimits,
    store: &Store,
    media_dir: &Path,
    now: DateTime<Utc>,
) -> Result<Clip, IngestError> {
    let name = path
        .file_name()
        .map_or_else(|| "clip".to_owned(), |n| n.to_string_lossy().into_owned());
    let file = File::open(path).map_err(|source| IngestError::Io {
        what: "cannot open",
        path: path.to_owned(),
        source,
    })?;
    ingest_stream(file, &name, title, limits, store, media_dir, now)
}

/// The name without any directory part (browsers may send `C:\fakepath\x.mp3`), trimmed,
/// at most 200 characters.
pub fn clean_name(original: &str) -> String {
    let base = original
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim();
    let base: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if base.is_empty() || base == "." || base == ".." {
        "clip".to_owned()
    } else {
        base
    }
}

/// The title used when none is given: the file name without its extension.
fn default_title(name: &str) -> String {
    let stem = Path::new(name)
        .file_stem()
        .map_or_else(|| name.to_owned(), |s| s.to_string_lossy().into_owned());
    let stem = stem.replace('_', " ");
    if stem.trim().is_empty() {
        name.to_owned()
    } else {
        stem.trim().to_owned()
    }
}

/// Refuses up front when the disk could not hold an upload of the maximum size plus the
/// reserve.
fn check_free_space(dir: &Path, name: &str, limits: &IngestLimits) -> Result<(), IngestError> {
    let stat = rustix::fs::statvfs(dir).map_err(|e| IngestError::Io {
        what: "cannot read free space of",
        path: dir.to_owned(),
        source: e.into(),
    })?;
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    let needed = limits.max_bytes.saturating_add(limits.keep_free_bytes);
    if free < needed {
        return Err(IngestError::refused(
            name,
            Problem::DiskFull {
                free_bytes: free,
                needed_bytes: needed,
            },
        ));
    }
    Ok(())
}

/// Copies `reader` to `path`, hashing; refuses past `max_bytes`; fsyncs. Returns the hex
/// SHA-256 and the size.
fn stream_to(
    path: &Path,
    mut reader: impl Read,
    name: &str,
    max_bytes: u64,
) -> Result<(String, u64), IngestError> {
    let write_err = |source: io::Error| {
        if source.raw_os_error() == Some(28) {
            // ENOSPC: the disk filled up while we wrote.
            IngestError::refused(
                name,
                Problem::DiskFull {
                    free_bytes: 0,
                    needed_bytes: max_bytes,
                },
            )
        } else {
            IngestError::Io {
                what: "cannot write",
                path: path.to_owned(),
                source,
            }
        }
    };
    let mut file = File::create(path).map_err(write_err)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(IngestError::Io {
                    what: "cannot read the upload",
                    path: PathBuf::from(name),
                    source,
                });
            }
        };
        size += n as u64;
        if size > max_bytes {
            return Err(IngestError::refused(name, Problem::TooLarge { max_bytes }));
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).map_err(write_err)?;
    }
    file.sync_all().map_err(write_err)?;
    Ok((hex(&hasher.finalize()), size))
}

/// An upload being written; removed on drop unless committed.
struct TempUpload {
    path: PathBuf,
}

impl TempUpload {
    fn new(media_dir: &Path, name: &str) -> TempUpload {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = Utc::now().timestamp_subsec_nanos();
        // The extension stays, so the decoder's probe gets its hint.
        let ext = stored_name("", name);
        TempUpload {
            path: media_dir.join(format!(
                "{UPLOAD_PREFIX}{}-{n}-{nanos}{ext}",
                std::process::id()
            )),
        }
    }

    /// Renames into place and fsyncs the directory, so the name survives a power cut.
    fn commit(mut self, target: &Path) -> Result<(), IngestError> {
        let err = |source| IngestError::Io {
            what: "cannot store",
            path: target.to_owned(),
            source,
        };
        fs::rename(&self.path, target).map_err(err)?;
        if let Some(dir) = target.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(err)?;
        }
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
#[path = "ingest_tests.rs"]
mod tests;
