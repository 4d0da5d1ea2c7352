//! Seeds the demo station (see [`crate::demo`]) into an empty database, so a newcomer's
//! first `loa serve` shows a working station: clips, playlists, the June campaign and its
//! programmes. It never touches a database that already has clips or programmes.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::cron::CronExpr;
use crate::demo;
use crate::library::{self, LibraryError};
use crate::store::{NewCampaign, NewProgramme, Store, StoreError};

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A demo clip could not be added.
    #[error("demo clip {file}")]
    Clip {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: LibraryError,
    },
    /// The database refused a row.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Seeds the demo station if the database has no clips and no programmes.
/// Returns whether it seeded.
pub fn seed_if_empty(
    store: &Store,
    media_dir: &Path,
    shipped_media: &Path,
    now: DateTime<Utc>,
) -> Result<bool, SeedError> {
    if !store.clips()?.is_empty() || !store.programmes()?.is_empty() {
        return Ok(false);
    }
    let mut clip_ids = Vec::new();
    for c in demo::CLIPS {
        let path = shipped_media.join(c.file);
        let clip = library::add_file(store, media_dir, &path, c.title, now).map_err(|source| {
            SeedError::Clip {
                file: path.display().to_string(),
                source,
            }
        })?;
        clip_ids.push(clip.id);
    }
    let mut playlist_ids = Vec::new();
    for p in demo::PLAYLISTS {
        let items: Vec<_> = p.clips.iter().map(|&i| clip_ids[i]).collect();
        playlist_ids.push(store.create_playlist(p.name, &items)?.id);
    }
    let campaign = store.create_campaign(&NewCampaign {
        name: demo::CAMPAIGN_NAME.to_owned(),
        theme: demo::CAMPAIGN_THEME.to_owned(),
        dates: demo::campaign_dates(),
    })?;
    for p in demo::programmes() {
        store.create_programme(&NewProgramme {
            name: p.name.to_owned(),
            cron: CronExpr::parse(p.cron).expect("demo cron expressions are valid"),
            playlist: playlist_ids[p.playlist],
            campaign: p.in_campaign.then_some(campaign.id),
            dates: p.dates,
            priority: p.priority,
            clash: p.clash,
            repeat: p.repeat,
            repeat_pause: p.repeat_pause,
            chime: true,
            enabled: true,
            approved: p.approved,
        })?;
    }
    Ok(true)
}
