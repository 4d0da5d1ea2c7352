//! The upload side of the power-cut fault test: distinct small WAV files (and re-uploads
//! of earlier ones) sent to `POST /api/clips` as multipart with the bearer token, what the
//! test knows was acknowledged, and the media checks after a kill and after a restart.
//!
//! After a kill (daemon dead): every acknowledged upload has its row under the acknowledged
//! id and its complete original (SHA-256 matches); the upload in flight is wholly there or
//! absent; no row exists for content nobody uploaded. Leftovers (`media/.upload-*`, an
//! original renamed into place before its row, `uploads/<random>/`) are allowed then, and
//! counted. After the next start, before anything is driven: none remains.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use loa::model::ClipId;
use loa::store::Store;

use crate::support::write_tone;

/// Titles from the June campaign's plans.
const TITLES: [&str; 4] = [
    "Tổng đài 111 - Luôn lắng nghe và bảo vệ trẻ em",
    "Trẻ em hạnh phúc, an toàn, vững bước trong kỷ nguyên số",
    "Ngày Gia đình Việt Nam 28/6",
    "Tháng hành động vì trẻ em 2026",
];

/// One file the test can upload: its bytes and their SHA-256.
#[derive(Debug, Clone)]
pub struct UploadFile {
    pub name: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// What the test knows about the library.
#[derive(Debug, Default)]
pub struct KnownClips {
    /// Content the daemon acknowledged (201 with an id), or found stored after a kill.
    pub acked: HashMap<String, ClipId>,
    /// The upload whose answer never came (the kill hit it).
    pub in_flight: Option<String>,
    /// Every file made so far, for re-uploads.
    pub made: Vec<UploadFile>,
    /// Uploads in flight at a kill that turned out stored / absent.
    pub in_flight_kept: u64,
    pub in_flight_absent: u64,
    /// Leftovers seen after kills (and gone after the restart).
    pub leftovers: u64,
}

impl KnownClips {
    /// The clips a playlist edit may use: the station's and the acknowledged uploads.
    pub fn ids(&self, station_clips: &[ClipId]) -> Vec<ClipId> {
        let mut ids: Vec<ClipId> = station_clips.to_vec();
        let mut acked: Vec<ClipId> = self.acked.values().copied().collect();
        acked.sort();
        ids.extend(acked);
        ids
    }

    /// A new distinct file (a tone no earlier file has), or with `reupload` an earlier one.
    pub fn next_file(&mut self, scratch: &Path, reupload: Option<u64>) -> UploadFile {
        if let (Some(pick), false) = (reupload, self.made.is_empty()) {
            return self.made[pick as usize % self.made.len()].clone();
        }
        let n = self.made.len();
        let path = scratch.join("upload-source.wav");
        write_tone(&path, 200.0 + 3.0 * n as f64, 0.5, -18.0 - (n % 7) as f64);
        let bytes = std::fs::read(&path).unwrap();
        let sha256 = loa::library::sha256_file(&path).unwrap();
        let file = UploadFile {
            name: format!("ban-tin-{n}.wav"),
            bytes,
            sha256,
        };
        self.made.push(file.clone());
        file
    }
}

/// The multipart body of an upload and its content type.
pub fn multipart(file: &UploadFile, title_pick: u64) -> (String, Vec<u8>) {
    let boundary = "loa-fault-test-boundary-7d1f";
    let title = TITLES[title_pick as usize % TITLES.len()];
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n{title}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
         Content-Type: audio/wav\r\n\r\n",
        file.name
    )
    .into_bytes();
    body.extend_from_slice(&file.bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Checks the answer to an acknowledged upload and records it.
pub fn acknowledged(known: &mut KnownClips, file: &UploadFile, code: u16, body: &str) -> bool {
    assert_eq!(code, 201, "upload of {} refused: {body}", file.name);
    let clip: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(clip["sha256"], file.sha256.as_str(), "{body}");
    let id = ClipId(
        clip["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id: {body}")),
    );
    let duplicate = match known.acked.insert(file.sha256.clone(), id) {
        Some(before) => {
            assert_eq!(before, id, "a re-upload made a second clip: {body}");
            true
        }
        None => false,
    };
    known.in_flight = None;
    duplicate
}

/// After a kill, with the daemon dead: rows against what was acknowledged, files against
/// rows. `station` maps the station's own clips (sha → id).
pub fn check_after_kill(
    store: &Store,
    data: &Path,
    station: &HashMap<String, ClipId>,
    known: &mut KnownClips,
    round: usize,
) {
    let media = loa::library::media_dir(data);
    let rows = store.clips().unwrap();
    let by_sha: HashMap<&str, ClipId> = rows.iter().map(|c| (c.sha256.as_str(), c.id)).collect();
    for (sha, id) in station.iter().chain(known.acked.iter()) {
        assert_eq!(
            by_sha.get(sha.as_str()),
            Some(id),
            "round {round}: acknowledged clip {id} ({sha}) lost"
        );
    }
    for c in &rows {
        let path = loa::library::clip_path(&media, c);
        assert_eq!(
            loa::library::sha256_file(&path).ok().as_deref(),
            Some(c.sha256.as_str()),
            "round {round}: clip {} has no complete original at {}",
            c.id,
            path.display()
        );
        let expected = station.contains_key(&c.sha256)
            || known.acked.contains_key(&c.sha256)
            || known.in_flight.as_deref() == Some(c.sha256.as_str());
        assert!(
            expected,
            "round {round}: clip {} is content nobody uploaded",
            c.id
        );
    }
    if let Some(sha) = known.in_flight.take() {
        match by_sha.get(sha.as_str()) {
            Some(id) => {
                known.acked.insert(sha, *id);
                known.in_flight_kept += 1;
            }
            None => known.in_flight_absent += 1,
        }
    }
    let clip_files = clip_files(store, &media);
    known.leftovers += entries(&media)
        .iter()
        .filter(|p| !clip_files.contains(p))
        .count() as u64
        + entries(&data.join("uploads")).len() as u64;
}

/// After a start, before anything is driven: the media directory holds exactly the clips'
/// originals, and no upload's temporary file remains.
pub fn check_swept(store: &Store, data: &Path, round: usize) {
    let media = loa::library::media_dir(data);
    let mut expected = clip_files(store, &media);
    let mut found = entries(&media);
    expected.sort();
    found.sort();
    assert_eq!(
        found, expected,
        "round {round}: leftovers in the media directory after the restart"
    );
    let uploads = entries(&data.join("uploads"));
    assert!(
        uploads.is_empty(),
        "round {round}: upload temporary files left after the restart: {uploads:?}"
    );
}

fn clip_files(store: &Store, media: &Path) -> Vec<PathBuf> {
    store
        .clips()
        .unwrap()
        .iter()
        .map(|c| loa::library::clip_path(media, c))
        .collect()
}

/// The entries of a directory (none when it does not exist).
fn entries(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}
