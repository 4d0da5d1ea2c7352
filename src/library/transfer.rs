//! Station export and import: `DIR/station.toml` (a human-readable manifest of clips,
//! playlists, campaigns and programmes) plus `DIR/media/<sha256>.<ext>` (the originals).
//!
//! This is how a technician provisions ten boxes the same way and how a ward backs up.
//! Import is idempotent: clips are matched by content hash (imported through the same
//! ingest pipeline as uploads, so every file is decoded and measured again), playlists,
//! campaigns and programmes by name; running it twice changes nothing the second time.
//! Clip and playlist ids are local and never written to the manifest. This module does
//! not know HTTP and reads no clock (`now` is an argument).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{IngestError, IngestLimits, clip_path, ingest_stream, sha256_file, stored_name};
use crate::cron::CronExpr;
use crate::model::{Campaign, ClashRule, ClipId, DateRange, Priority, Programme, ProgrammeId};
use crate::store::{Approvals, NewCampaign, NewProgramme, Store, StoreError};

/// The manifest's file name inside an export directory.
pub const MANIFEST: &str = "station.toml";
/// The manifest format this binary writes and reads.
pub const FORMAT: u32 = 1;

/// `station.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Manifest format version; see [`FORMAT`].
    pub format: u32,
    /// When the export was made (RFC 3339).
    pub exported_at: String,
    /// Every clip, archived ones too.
    #[serde(default)]
    pub clips: Vec<ClipEntry>,
    /// Playlists, items by clip hash.
    #[serde(default)]
    pub playlists: Vec<PlaylistEntry>,
    /// Campaigns.
    #[serde(default)]
    pub campaigns: Vec<CampaignEntry>,
    /// Programmes (deleted ones are not exported).
    #[serde(default)]
    pub programmes: Vec<ProgrammeEntry>,
}

/// One clip in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipEntry {
    /// Content hash of the original; also the clip's identity across boxes.
    pub sha256: String,
    /// Title shown to staff.
    pub title: String,
    /// File name as first uploaded.
    pub original_name: String,
    /// The original, relative to the export directory.
    pub file: String,
    /// Hidden from the library.
    #[serde(default)]
    pub archived: bool,
    /// For people reading the manifest; import measures again.
    #[serde(default)]
    pub duration_seconds: f64,
}

/// One playlist in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaylistEntry {
    /// Name; the key on import.
    pub name: String,
    /// Clip hashes in play order (a hash may repeat).
    pub clips: Vec<String>,
}

/// One campaign in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignEntry {
    /// Name; the key on import.
    pub name: String,
    /// Theme line.
    #[serde(default)]
    pub theme: String,
    /// First day, inclusive.
    pub start: NaiveDate,
    /// Last day, inclusive.
    pub end: NaiveDate,
}

/// One programme in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeEntry {
    /// Name; the key on import.
    pub name: String,
    /// Standard cron text, station time zone.
    pub cron: String,
    /// Playlist name.
    pub playlist: String,
    /// Campaign name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// The programme's own first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// The programme's own last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    /// `normal`, `priority` or `emergency`.
    pub priority: Priority,
    /// `queue` or `cut_in`.
    pub clash: String,
    /// For `queue`: the longest wait, in seconds.
    #[serde(default)]
    pub max_wait_seconds: u64,
    /// Plays of the playlist per occurrence.
    pub repeat: u32,
    /// Pause between repeats, in seconds.
    #[serde(default)]
    pub repeat_pause_seconds: u64,
    /// Opening and closing chime.
    pub chime: bool,
    /// Whether it fires.
    pub enabled: bool,
    /// Approved by leadership.
    pub approved: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Clips ingested now.
    pub clips_added: usize,
    /// Clips that were already here (same content).
    pub clips_kept: usize,
    /// Playlists, campaigns and programmes created.
    pub created: usize,
    /// Playlists, campaigns and programmes changed to match the manifest.
    pub updated: usize,
    /// Playlists, campaigns and programmes that already matched.
    pub unchanged: usize,
}

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// A file could not be read or written.
    #[error("{what} {path}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The manifest is not valid.
    #[error("{path}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A clip file in the export was refused or could not be stored.
    #[error("clip {file}: {source}")]
    Clip {
        /// The file, relative to the export directory.
        file: String,
        /// Why.
        #[source]
        source: IngestError,
    },
    /// The database refused.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes the whole station to `dir` (created if missing): originals, then the manifest.
pub fn export(
    store: &Store,
    media_dir: &Path,
    dir: &Path,
    now: DateTime<Utc>,
) -> Result<Manifest, TransferError> {
    let out_media = dir.join("media");
    fs::create_dir_all(&out_media).map_err(io_err("cannot create", &out_media))?;
    let mut clips = store.clips()?;
    let active = clips.len();
    clips.extend(store.archived_clips()?);
    let mut manifest = Manifest {
        format: FORMAT,
        exported_at: now.to_rfc3339(),
        clips: Vec::new(),
        playlists: Vec::new(),
        campaigns: Vec::new(),
        programmes: Vec::new(),
    };
    for (i, clip) in clips.iter().enumerate() {
        let name = stored_name(&clip.sha256, &clip.original_name);
        let target = out_media.join(&name);
        if !matches!(sha256_file(&target), Ok(h) if h == clip.sha256) {
            copy_checked(&clip_path(media_dir, clip), &target, &clip.sha256)?;
        }
        manifest.clips.push(ClipEntry {
            sha256: clip.sha256.clone(),
            title: clip.title.clone(),
            original_name: clip.original_name.clone(),
            file: format!("media/{name}"),
            archived: i >= active,
            duration_seconds: clip.duration_ms as f64 / 1000.0,
        });
    }
    let sha_of = |id: ClipId| clips.iter().find(|c| c.id == id).map(|c| c.sha256.clone());
    for p in store.playlists()? {
        manifest.playlists.push(PlaylistEntry {
            name: p.name.clone(),
            clips: p.items.iter().filter_map(|&id| sha_of(id)).collect(),
        });
    }
    let campaigns = store.campaigns()?;
    for c in &campaigns {
        manifest.campaigns.push(CampaignEntry {
            name: c.name.clone(),
            theme: c.theme.clone(),
            start: c.dates.start,
            end: c.dates.end,
        });
    }
    let playlists = store.playlists()?;
    for p in store.programmes()? {
        let (clash, max_wait) = match p.clash {
            ClashRule::Queue { max_wait } => ("queue", max_wait.as_secs()),
            ClashRule::CutIn => ("cut_in", 0),
        };
        manifest.programmes.push(ProgrammeEntry {
            name: p.name.clone(),
            cron: p.cron.as_str().to_owned(),
            playlist: playlists
                .iter()
                .find(|l| l.id == p.playlist)
                .map_or_else(String::new, |l| l.name.clone()),
            campaign: p
                .campaign
                .and_then(|id| campaigns.iter().find(|c| c.id == id))
                .map(|c| c.name.clone()),
            start: p.dates.map(|d| d.start),
            end: p.dates.map(|d| d.end),
            priority: p.priority,
            clash: clash.to_owned(),
            max_wait_seconds: max_wait,
            repeat: p.repeat,
            repeat_pause_seconds: p.repeat_pause.as_secs(),
            chime: p.chime,
            enabled: p.enabled,
            approved: p.approved,
        });
    }
    let text = toml::to_string(&manifest).map_err(|e| TransferError::Manifest {
        path: dir.join(MANIFEST),
        message: e.to_string(),
    })?;
    let header = "# loa station export: clips (by SHA-256), playlists, campaigns, programmes.\n\
                  # `loa import DIR` recreates it on another box; running it again changes nothing.\n\n";
    write_atomically(&dir.join(MANIFEST), &format!("{header}{text}"))?;
    Ok(manifest)
}

/// Reads `dir/station.toml`.
pub fn read_manifest(dir: &Path) -> Result<Manifest, TransferError> {
    let path = dir.join(MANIFEST);
    let text = fs::read_to_string(&path).map_err(io_err("cannot read", &path))?;
    let manifest: Manifest = toml::from_str(&text).map_err(|e| TransferError::Manifest {
        path: path.clone(),
        message: e.to_string().trim().to_owned(),
    })?;
    if manifest.format != FORMAT {
        return Err(TransferError::Manifest {
            path,
            message: format!(
                "format {} is not the format this loa reads ({FORMAT})",
                manifest.format
            ),
        });
    }
    Ok(manifest)
}

/// Recreates the station exported in `dir`, matching what exists (see the module doc).
pub fn import(
    store: &Store,
    media_dir: &Path,
    dir: &Path,
    limits: &IngestLimits,
    now: DateTime<Utc>,
) -> Result<ImportSummary, TransferError> {
    let manifest = read_manifest(dir)?;
    let bad = |message: String| TransferError::Manifest {
        path: dir.join(MANIFEST),
        message,
    };
    let mut summary = ImportSummary::default();
    let mut ids: Vec<(String, ClipId)> = Vec::new();
    for entry in &manifest.clips {
        let sha = entry.sha256.to_ascii_lowercase();
        let clip = match store.clip_by_sha(&sha)? {
            Some(clip) => {
                summary.clips_kept += 1;
                clip
            }
            None => {
                let relative = Path::new(&entry.file);
                if relative.is_absolute()
                    || relative
                        .components()
                        .any(|c| c == std::path::Component::ParentDir)
                {
                    return Err(bad(format!(
                        "clip file {:?} is outside the export",
                        entry.file
                    )));
                }
                let path = dir.join(relative);
                let file = File::open(&path).map_err(io_err("cannot open", &path))?;
                // Checked first, so a tampered or damaged export adds nothing.
                if !matches!(sha256_file(&path), Ok(h) if h == sha) {
                    return Err(bad(format!(
                        "{} does not match its sha256 in the manifest",
                        entry.file
                    )));
                }
                let clip_err = |source| TransferError::Clip {
                    file: entry.file.clone(),
                    source,
                };
                let clip = ingest_stream(
                    file,
                    &entry.original_name,
                    Some(&entry.title),
                    limits,
                    store,
                    media_dir,
                    now,
                )
                .map_err(clip_err)?;
                if entry.archived {
                    store.set_clip_archived(clip.id, true)?;
                }
                summary.clips_added += 1;
                clip
            }
        };
        ids.push((sha, clip.id));
    }
    let clip_id = |sha: &str| {
        let sha = sha.to_ascii_lowercase();
        ids.iter()
            .find(|(s, _)| *s == sha)
            .map(|(_, id)| *id)
            .ok_or_else(|| {
                bad(format!(
                    "a playlist names clip {sha}, which is not in [[clips]]"
                ))
            })
    };
    for entry in &manifest.campaigns {
        let dates = DateRange {
            start: entry.start,
            end: entry.end,
        };
        match store
            .campaigns()?
            .into_iter()
            .find(|c| c.name == entry.name)
        {
            Some(c) if c.theme == entry.theme && c.dates == dates => summary.unchanged += 1,
            Some(c) => {
                store.update_campaign(
                    &Campaign {
                        theme: entry.theme.clone(),
                        dates,
                        ..c
                    },
                    Approvals::Withdraw,
                )?;
                summary.updated += 1;
            }
            None => {
                store.create_campaign(&NewCampaign {
                    name: entry.name.clone(),
                    theme: entry.theme.clone(),
                    dates,
                })?;
                summary.created += 1;
            }
        }
    }
    for entry in &manifest.playlists {
        let items = entry
            .clips
            .iter()
            .map(|s| clip_id(s))
            .collect::<Result<Vec<_>, _>>()?;
        match store
            .playlists()?
            .into_iter()
            .find(|p| p.name == entry.name)
        {
            Some(p) if p.items == items => summary.unchanged += 1,
            Some(p) => {
                store.replace_playlist_items(p.id, p.version, &items, Approvals::Withdraw)?;
                summary.updated += 1;
            }
            None => {
                store.create_playlist(&entry.name, &items)?;
                summary.created += 1;
            }
        }
    }
    let playlists = store.playlists()?;
    let campaigns = store.campaigns()?;
    for entry in &manifest.programmes {
        let wanted = programme_from(entry, &playlists, &campaigns).map_err(&bad)?;
        match store
            .programmes()?
            .into_iter()
            .find(|p| p.name == entry.name)
        {
            Some(p) if same_programme(&p, &wanted) => summary.unchanged += 1,
            Some(p) => {
                // The manifest's approval stands for the content it carries: the
                // programme is approved again if it says so, after every change above.
                let approved = wanted.approved;
                store.update_programme(&Programme { id: p.id, ..wanted }, Approvals::Withdraw)?;
                store.set_programme_approved(p.id, approved)?;
                summary.updated += 1;
            }
            None => {
                store.create_programme(&NewProgramme {
                    name: wanted.name,
                    cron: wanted.cron,
                    playlist: wanted.playlist,
                    campaign: wanted.campaign,
                    dates: wanted.dates,
                    priority: wanted.priority,
                    clash: wanted.clash,
                    repeat: wanted.repeat,
                    repeat_pause: wanted.repeat_pause,
                    chime: wanted.chime,
                    enabled: wanted.enabled,
                    approved: wanted.approved,
                })?;
                summary.created += 1;
            }
        }
    }
    Ok(summary)
}

/// The programme a manifest entry describes (id 0), with names resolved.
fn programme_from(
    e: &ProgrammeEntry,
    playlists: &[crate::model::Playlist],
    campaigns: &[Campaign],
) -> Result<Programme, String> {
    let cron = CronExpr::parse(&e.cron)
        .map_err(|err| format!("programme {:?}: cron {:?}: {err}", e.name, e.cron))?;
    let playlist = playlists
        .iter()
        .find(|p| p.name == e.playlist)
        .ok_or_else(|| {
            format!(
                "programme {:?} names unknown playlist {:?}",
                e.name, e.playlist
            )
        })?
        .id;
    let campaign = match &e.campaign {
        None => None,
        Some(name) => Some(
            campaigns
                .iter()
                .find(|c| &c.name == name)
                .ok_or_else(|| format!("programme {:?} names unknown campaign {name:?}", e.name))?
                .id,
        ),
    };
    let dates = match (e.start, e.end) {
        (Some(start), Some(end)) => Some(DateRange { start, end }),
        (None, None) => None,
        _ => {
            return Err(format!(
                "programme {:?} needs both start and end, or neither",
                e.name
            ));
        }
    };
    let clash = match e.clash.as_str() {
        "queue" => ClashRule::Queue {
            max_wait: Duration::from_secs(e.max_wait_seconds),
        },
        "cut_in" => ClashRule::CutIn,
        other => {
            return Err(format!(
                "programme {:?}: clash {other:?} is not \"queue\" or \"cut_in\"",
                e.name
            ));
        }
    };
    Ok(Programme {
        id: ProgrammeId(0),
        name: e.name.clone(),
        cron,
        playlist,
        campaign,
        dates,
        priority: e.priority,
        clash,
        repeat: e.repeat,
        repeat_pause: Duration::from_secs(e.repeat_pause_seconds),
        chime: e.chime,
        enabled: e.enabled,
        approved: e.approved,
    })
}

fn same_programme(a: &Programme, b: &Programme) -> bool {
    Programme {
        id: a.id,
        ..b.clone()
    } == *a
}

/// Copies `from` to `to` through a temporary name, checking the bytes hash to `sha256`.
fn copy_checked(from: &Path, to: &Path, sha256: &str) -> Result<(), TransferError> {
    let tmp = to.with_extension("part");
    fs::copy(from, &tmp).map_err(io_err("cannot copy", from))?;
    let got = sha256_file(&tmp).map_err(|e| TransferError::Manifest {
        path: tmp.clone(),
        message: e.to_string(),
    })?;
    if got != sha256 {
        let _ = fs::remove_file(&tmp);
        return Err(TransferError::Manifest {
            path: from.to_owned(),
            message: format!("the stored original does not match its hash {sha256}"),
        });
    }
    fs::rename(&tmp, to).map_err(io_err("cannot write", to))
}

fn write_atomically(path: &Path, text: &str) -> Result<(), TransferError> {
    let tmp = path.with_extension("toml.part");
    let mut f = File::create(&tmp).map_err(io_err("cannot write", &tmp))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io_err("cannot write", &tmp))?;
    fs::rename(&tmp, path).map_err(io_err("cannot write", path))
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl Fn(io::Error) -> TransferError + 'a {
    move |source| TransferError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}
