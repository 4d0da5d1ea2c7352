//! The clip-library subcommands behind the `loa` binary: `add`, `export`, `import`, and the
//! hidden `__analyse` worker that the ingest pipeline runs in a child process.
//!
//! Each wires config, store and [`crate::library`] together and reports in the terminal;
//! refusals are printed in Vietnamese and English and make the command exit 2. This module
//! holds no ingest logic of its own.

use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::cli::{CliError, load_config};
use crate::config::Config;
use crate::library::{self, IngestLimits, transfer};
use crate::model::ClipId;
use crate::store::{Approvals, Store};

/// The ingest limits the config asks for, checked in a child process of this binary.
pub fn limits(config: &Config) -> IngestLimits {
    IngestLimits::from_config(&config.library)
}

/// `loa add FILE… [--title T] [--playlist P]`: ingests each file; with `--playlist`,
/// appends the clips to that playlist (created if missing). Files that are refused are
/// reported with the reason and the others still added; any refusal exits 2.
pub fn add(
    config_path: &Path,
    files: &[PathBuf],
    title: Option<&str>,
    playlist: Option<&str>,
) -> Result<(), CliError> {
    if title.is_some() && files.len() != 1 {
        return Err(CliError::BadInput(
            "--title needs exactly one FILE (without it each clip is titled by its file name)"
                .to_owned(),
        ));
    }
    let config = load_config(config_path)?;
    let store = open(&config)?;
    let media = library::media_dir(&config.station.data_dir);
    let limits = limits(&config);
    let mut added: Vec<ClipId> = Vec::new();
    let mut refused = 0;
    for file in files {
        let now = Utc::now();
        match library::ingest_file(file, title, &limits, &store, &media, now) {
            Ok(clip) => {
                let fresh = clip.created_at.timestamp_millis() == now.timestamp_millis();
                println!(
                    "{} clip {}  {}  {:.1} s  {:.1} LUFS  {}",
                    if fresh { "added" } else { "kept " },
                    clip.id,
                    clip.title,
                    clip.duration_ms as f64 / 1000.0,
                    clip.loudness.integrated_lufs,
                    if fresh {
                        ""
                    } else {
                        "(already in the library)"
                    },
                );
                added.push(clip.id);
            }
            Err(e) if e.is_refusal() => {
                refused += 1;
                eprintln!(
                    "refused [{}] {}\n  {}\n  {}",
                    e.code(),
                    file.display(),
                    e.message_vi(),
                    e.message_en()
                );
            }
            Err(e) => return Err(CliError::Runtime(e.message_en())),
        }
    }
    if let Some(name) = playlist
        && !added.is_empty()
    {
        let existing = store
            .playlists()
            .map_err(runtime)?
            .into_iter()
            .find(|p| p.name == name.trim());
        let p = match existing {
            Some(p) => {
                let mut items = p.items.clone();
                items.extend(&added);
                // Like any editor's change, new clips withdraw the approval of the
                // programmes playing this playlist (said below).
                store
                    .replace_playlist_items(p.id, p.version, &items, Approvals::Withdraw)
                    .map(|c| {
                        for (id, name) in &c.withdrawn {
                            println!("programme {id} {name:?} needs approving again");
                        }
                        c.value
                    })
            }
            None => store.create_playlist(name, &added),
        }
        .map_err(|e| CliError::BadInput(format!("playlist {name:?}: {e}")))?;
        let total = store.playlist_duration(p.id).map_err(runtime)?;
        println!(
            "playlist {:?}: {} item(s), {:.1} s",
            p.name,
            p.items.len(),
            total.as_secs_f64()
        );
    }
    if refused > 0 {
        return Err(CliError::BadInput(format!(
            "{refused} of {} file(s) refused",
            files.len()
        )));
    }
    Ok(())
}

/// `loa export DIR`: the whole station as media files plus `DIR/station.toml`.
pub fn export(config_path: &Path, dir: &Path) -> Result<(), CliError> {
    let config = load_config(config_path)?;
    let store = open(&config)?;
    let media = library::media_dir(&config.station.data_dir);
    let m = transfer::export(&store, &media, dir, Utc::now()).map_err(runtime)?;
    println!(
        "exported {} clip(s), {} playlist(s), {} campaign(s), {} programme(s) to {}",
        m.clips.len(),
        m.playlists.len(),
        m.campaigns.len(),
        m.programmes.len(),
        dir.display()
    );
    Ok(())
}

/// `loa import DIR`: recreates an exported station here, idempotently.
pub fn import(config_path: &Path, dir: &Path) -> Result<(), CliError> {
    let config = load_config(config_path)?;
    let store = open(&config)?;
    let media = library::media_dir(&config.station.data_dir);
    let s =
        transfer::import(&store, &media, dir, &limits(&config), Utc::now()).map_err(
            |e| match &e {
                transfer::TransferError::Clip { source, .. } if source.is_refusal() => {
                    CliError::BadInput(format!("{e}\n  {}", source.message_vi()))
                }
                transfer::TransferError::Manifest { .. } => CliError::BadInput(e.to_string()),
                _ => runtime(e),
            },
        )?;
    println!(
        "imported from {}: {} clip(s) added, {} already here; {} created, {} updated, {} unchanged",
        dir.display(),
        s.clips_added,
        s.clips_kept,
        s.created,
        s.updated,
        s.unchanged
    );
    Ok(())
}

/// `loa __analyse FILE --max-seconds N`: the isolated worker; one JSON line on stdout.
pub fn analyse_worker(file: &Path, max_seconds: u64) -> Result<(), CliError> {
    println!("{}", library::analyse::child_main(file, max_seconds));
    Ok(())
}

fn open(config: &Config) -> Result<Store, CliError> {
    Store::open(&config.station.data_dir.join("loa.db")).map_err(runtime)
}

fn runtime(e: impl std::fmt::Display) -> CliError {
    CliError::Runtime(e.to_string())
}
