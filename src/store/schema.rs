//! The database schema as an ordered list of migrations, and the code that applies them.
//! It does not read or write rows of the tables it creates.
//!
//! Migration `n` (1-based) takes a database from `PRAGMA user_version = n - 1` to `n`.
//! Published migrations are never edited; a change to the schema is a new entry at the end.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::{StoreError, open_error};

/// The schema version this binary writes: the number of migrations it knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `PRAGMA application_id` of a loa database ("LOA1"), so another program's file is refused.
const APPLICATION_ID: i32 = 0x4c4f_4131;

/// The migrations, in order.
const MIGRATIONS: &[&str] = &[
    V1,
    V2_PANEL,
    V3_PENDING_BROADCASTS,
    V4_WAITING_BROADCASTS,
    V5_APPROVAL_SEALS,
];

/// Version 1: clips, playlists, campaigns, programmes, the broadcast log and meta.
const V1: &str = "
CREATE TABLE clips (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256          TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    original_name   TEXT NOT NULL,
    duration_ms     INTEGER NOT NULL,
    sample_rate     INTEGER NOT NULL,
    channels        INTEGER NOT NULL,
    integrated_lufs REAL NOT NULL,
    range_lu        REAL NOT NULL,
    true_peak_dbtp  REAL NOT NULL,
    created_at      INTEGER NOT NULL,
    archived        INTEGER NOT NULL DEFAULT 0,
    CHECK (length(sha256) = 64),
    CHECK (duration_ms >= 0 AND sample_rate > 0 AND channels > 0),
    CHECK (archived IN (0, 1))
) STRICT;

CREATE TABLE playlists (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    name    TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE playlist_items (
    playlist INTEGER NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    clip     INTEGER NOT NULL REFERENCES clips (id),
    PRIMARY KEY (playlist, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX playlist_items_clip ON playlist_items (clip);

CREATE TABLE campaigns (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    theme      TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date   TEXT NOT NULL,
    CHECK (start_date <= end_date)
) STRICT;

CREATE TABLE programmes (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL,
    cron             TEXT NOT NULL,
    playlist         INTEGER NOT NULL REFERENCES playlists (id),
    campaign         INTEGER REFERENCES campaigns (id),
    start_date       TEXT,
    end_date         TEXT,
    priority         TEXT NOT NULL,
    clash_rule       TEXT NOT NULL,
    clash_max_wait_s INTEGER NOT NULL DEFAULT 0,
    repeat_count     INTEGER NOT NULL,
    repeat_pause_s   INTEGER NOT NULL,
    chime            INTEGER NOT NULL,
    enabled          INTEGER NOT NULL,
    approved         INTEGER NOT NULL,
    deleted          INTEGER NOT NULL DEFAULT 0,
    CHECK ((start_date IS NULL) = (end_date IS NULL)),
    CHECK (start_date <= end_date),
    CHECK (priority IN ('normal', 'priority', 'emergency')),
    CHECK (clash_rule IN ('queue', 'cut_in')),
    CHECK (clash_max_wait_s >= 0 AND repeat_count >= 1 AND repeat_pause_s >= 0),
    CHECK (chime IN (0, 1) AND enabled IN (0, 1) AND approved IN (0, 1) AND deleted IN (0, 1))
) STRICT;

CREATE TABLE broadcast_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    origin       TEXT NOT NULL,
    programme    INTEGER REFERENCES programmes (id),
    requested_by TEXT,
    priority     TEXT NOT NULL,
    scheduled_at INTEGER NOT NULL,
    started_at   INTEGER,
    ended_at     INTEGER,
    outcome      TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    rule_broken  TEXT,
    clips        TEXT NOT NULL DEFAULT '[]',
    in_progress  INTEGER NOT NULL DEFAULT 0,
    CHECK (origin IN ('scheduled', 'manual')),
    CHECK ((origin = 'scheduled') = (programme IS NOT NULL)),
    CHECK ((origin = 'manual') = (requested_by IS NOT NULL)),
    CHECK (priority IN ('normal', 'priority', 'emergency')),
    CHECK (outcome IN ('played', 'partial', 'interrupted', 'skipped', 'missed', 'failed')),
    CHECK (json_valid(clips)),
    CHECK (in_progress IN (0, 1))
) STRICT;

-- One row per scheduled occurrence, ever: the engine's guard against playing twice.
CREATE UNIQUE INDEX broadcast_log_occurrence
    ON broadcast_log (programme, scheduled_at) WHERE origin = 'scheduled';
CREATE INDEX broadcast_log_scheduled_at ON broadcast_log (scheduled_at);
CREATE INDEX broadcast_log_in_progress ON broadcast_log (in_progress) WHERE in_progress = 1;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
";

/// Version 2 (panel): users with roles, login sessions, and the audit trail.
const V2_PANEL: &str = "
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    CHECK (role IN ('viewer', 'editor', 'approver', 'admin'))
) STRICT;

CREATE TABLE sessions (
    secret_hash TEXT PRIMARY KEY,
    user        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user);

CREATE TABLE audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
) STRICT;
";

/// Version 3: manual broadcasts an editor asked for while the station requires approval.
/// Rows are kept after the decision (state and who decided), so they are history too.
/// `playlist` has no foreign key: a decided request must not stop a playlist's removal;
/// approval checks the playlist again.
const V3_PENDING_BROADCASTS: &str = "
CREATE TABLE pending_broadcasts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    playlist     INTEGER NOT NULL,
    priority     TEXT NOT NULL,
    at           INTEGER,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',
    decided_by   TEXT,
    decided_at   INTEGER,
    CHECK (priority IN ('normal', 'priority', 'emergency')),
    CHECK (state IN ('pending', 'approved', 'rejected', 'expired')),
    CHECK ((state = 'pending') = (decided_at IS NULL))
) STRICT;

CREATE INDEX pending_broadcasts_waiting ON pending_broadcasts (state) WHERE state = 'pending';
";

/// Version 4: broadcasts that are owed but have not started — a scheduled occurrence that
/// fell due and waits for the air, an accepted one-shot waiting for its instant, a play-now
/// waiting for the relay's warm-up. A row leaves in the same transaction that writes the
/// broadcast's log row (`broadcast_log.request` names it), so after a power cut every owed
/// broadcast is either in the log or still here. `playlist_version` is the version an
/// approver approved, when one did.
const V4_WAITING_BROADCASTS: &str = "
CREATE TABLE waiting_broadcasts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    origin           TEXT NOT NULL,
    programme        INTEGER REFERENCES programmes (id),
    requested_by     TEXT,
    playlist         INTEGER NOT NULL,
    playlist_version INTEGER,
    priority         TEXT NOT NULL,
    scheduled_at     INTEGER NOT NULL,
    accepted_at      INTEGER NOT NULL,
    CHECK (origin IN ('scheduled', 'manual')),
    CHECK ((origin = 'scheduled') = (programme IS NOT NULL)),
    CHECK ((origin = 'manual') = (requested_by IS NOT NULL)),
    CHECK (priority IN ('normal', 'priority', 'emergency'))
) STRICT;

CREATE UNIQUE INDEX waiting_broadcasts_occurrence
    ON waiting_broadcasts (programme, scheduled_at) WHERE origin = 'scheduled';

ALTER TABLE broadcast_log ADD COLUMN request INTEGER;
CREATE UNIQUE INDEX broadcast_log_request ON broadcast_log (request) WHERE request IS NOT NULL;
";

/// Version 5: an approval covers content. `approval_seal` is the programme's content as
/// approved (`approval::content_sql!`); a programme is approved only while it matches its
/// content now. Programmes approved before this version are sealed to what they are now.
/// (Self-contained: renumber freely if another migration lands first.)
const V5_APPROVAL_SEALS: &str = concat!(
    "ALTER TABLE programmes ADD COLUMN approval_seal TEXT;\n",
    "UPDATE programmes SET approval_seal = ",
    super::approval::content_sql!(),
    " WHERE approved = 1;\n"
);

/// Brings the database at `path` to [`SCHEMA_VERSION`] in one transaction.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    migrate_with(conn, path, MIGRATIONS)
}

/// Applies the `migrations` the database does not have yet, all in one transaction.
fn migrate_with(conn: &mut Connection, path: &Path, migrations: &[&str]) -> Result<(), StoreError> {
    let latest = migrations.len() as i64;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| open_error(path, e))?;
    let app_id: i32 = tx.pragma_query_value(None, "application_id", |row| row.get(0))?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if app_id != APPLICATION_ID {
        let objects: i64 =
            tx.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
        if app_id != 0 || found != 0 || objects != 0 {
            return Err(StoreError::ForeignDatabase {
                path: path.to_owned(),
            });
        }
    }
    if found < 0 {
        return Err(StoreError::Corrupt(format!(
            "{} has negative schema version {found}",
            path.display()
        )));
    }
    if found > latest {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found,
            supported: latest,
        });
    }
    for (version, sql) in (1..).zip(migrations).skip(found as usize) {
        tx.execute_batch(sql)
            .map_err(|source| StoreError::Migration {
                path: path.to_owned(),
                version,
                source,
            })?;
    }
    if found < latest {
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", latest)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_version(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn failing_migration_leaves_the_previous_version_intact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loa.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate_with(&mut conn, &path, &[V1]).unwrap();
        assert_eq!(user_version(&conn), 1);
        let broken = "CREATE TABLE extra (x INTEGER) STRICT; THIS IS NOT SQL;";
        let err = migrate_with(&mut conn, &path, &[V1, broken]).unwrap_err();
        assert!(
            matches!(err, StoreError::Migration { version: 2, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(&path.display().to_string()));
        assert_eq!(user_version(&conn), 1);
        let extra: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'extra'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(extra, 0, "the half-applied migration was rolled back");
        let good = "CREATE TABLE extra (x INTEGER) STRICT;";
        migrate_with(&mut conn, &path, &[V1, good]).unwrap();
        assert_eq!(user_version(&conn), 2);
        migrate_with(&mut conn, &path, &[V1, good]).unwrap();
        assert_eq!(user_version(&conn), 2);
    }

    #[test]
    fn programmes_approved_before_seals_stay_approved_for_what_they_air() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loa.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate_with(&mut conn, &path, &MIGRATIONS[..3]).unwrap();
        conn.execute_batch(
            "INSERT INTO playlists (name) VALUES ('Sáng');
             INSERT INTO programmes (name, cron, playlist, priority, clash_rule, repeat_count,
                 repeat_pause_s, chime, enabled, approved)
             VALUES ('duyệt', '0 6 * * *', 1, 'normal', 'queue', 1, 0, 1, 1, 1),
                    ('chờ', '0 7 * * *', 1, 'normal', 'queue', 1, 0, 1, 1, 0);",
        )
        .unwrap();
        drop(conn);
        let store = super::super::Store::open(&path).unwrap();
        let approved: Vec<bool> = store
            .programmes()
            .unwrap()
            .iter()
            .map(|p| p.approved)
            .collect();
        assert_eq!(approved, [true, false]);
    }
}
