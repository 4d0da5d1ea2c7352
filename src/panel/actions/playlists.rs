//! Playlist actions: create, rename, delete, and the versioned order (replace it whole, or
//! insert / move / remove one item). Every change names the version it was based on; a
//! stale one is a version conflict carrying the playlist as stored. A change to a playlist
//! bumps its version, which withdraws the approval of the programmes playing it when an
//! editor makes it (audited here).

use serde::Deserialize;

use super::{ActionError, Problem, approvals, audit_withdrawn, reference, require};
use crate::model::{ClipId, Playlist, PlaylistId};
use crate::panel::auth::Principal;
use crate::panel::{PanelState, audit};
use crate::store::{Change, Role, StoreError};

/// One change to the order.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(in crate::panel) enum Edit {
    /// Inserts `clip` at position `at` (default: the end).
    Insert {
        /// The clip.
        clip: ClipId,
        /// Where.
        at: Option<usize>,
    },
    /// Moves the item at `from` to position `to`.
    Move {
        /// From this position.
        from: usize,
        /// To this one.
        to: usize,
    },
    /// Removes the item at `at`.
    Remove {
        /// The position.
        at: usize,
    },
}

/// Creates a playlist (editor); every clip must exist.
pub(in crate::panel) fn create_playlist(
    state: &PanelState,
    who: &Principal,
    name: &str,
    items: &[ClipId],
) -> Result<Playlist, ActionError> {
    require(who, Role::Editor)?;
    check_name(name)?;
    let p = state
        .store
        .create_playlist(name, items)
        .map_err(|e| reference(e, "playlist"))?;
    audit(
        state,
        who,
        "playlist.create",
        format!("playlist {}", p.id),
        p.name.clone(),
    );
    Ok(p)
}

/// Renames a playlist at `version` (editor).
pub(in crate::panel) fn rename_playlist(
    state: &PanelState,
    who: &Principal,
    id: PlaylistId,
    version: i64,
    name: &str,
) -> Result<Playlist, ActionError> {
    require(who, Role::Editor)?;
    check_name(name)?;
    let change = state
        .store
        .rename_playlist(id, version, name, approvals(state, who))?;
    audit(
        state,
        who,
        "playlist.rename",
        format!("playlist {id}"),
        change.value.name.clone(),
    );
    Ok(withdrawn(state, who, change))
}

/// Deletes a playlist no programme uses (editor).
pub(in crate::panel) fn delete_playlist(
    state: &PanelState,
    who: &Principal,
    id: PlaylistId,
) -> Result<(), ActionError> {
    require(who, Role::Editor)?;
    state.store.delete_playlist(id)?;
    audit(
        state,
        who,
        "playlist.delete",
        format!("playlist {id}"),
        String::new(),
    );
    Ok(())
}

/// Replaces the whole order at `version` (editor).
pub(in crate::panel) fn replace_order(
    state: &PanelState,
    who: &Principal,
    id: PlaylistId,
    version: i64,
    items: &[ClipId],
) -> Result<Playlist, ActionError> {
    require(who, Role::Editor)?;
    let change = state
        .store
        .replace_playlist_items(id, version, items, approvals(state, who))
        .map_err(|e| reference(e, "playlist"))?;
    let ids: Vec<String> = change.value.items.iter().map(ToString::to_string).collect();
    audit(
        state,
        who,
        "playlist.order",
        format!("playlist {id}"),
        format!("version {}: [{}]", change.value.version, ids.join(", ")),
    );
    Ok(withdrawn(state, who, change))
}

/// Applies one edit to the order at `version` (editor).
pub(in crate::panel) fn edit_order(
    state: &PanelState,
    who: &Principal,
    id: PlaylistId,
    version: i64,
    edit: &Edit,
) -> Result<Playlist, ActionError> {
    require(who, Role::Editor)?;
    let current = state.store.playlist(id)?;
    if current.version != version {
        return Err(ActionError::Store(StoreError::VersionConflict {
            current: Box::new(current),
        }));
    }
    let items =
        apply(&current.items, edit).map_err(|e| ActionError::Invalid(Problem::Position(e)))?;
    replace_order(state, who, id, version, &items)
}

/// The order after one edit, or why the edit does not fit the playlist.
pub(in crate::panel) fn apply(items: &[ClipId], edit: &Edit) -> Result<Vec<ClipId>, String> {
    let mut out = items.to_vec();
    let len = items.len();
    match *edit {
        Edit::Insert { clip, at } => {
            let at = at.unwrap_or(len);
            if at > len {
                return Err(format!("position {at} is past the end ({len} items)"));
            }
            out.insert(at, clip);
        }
        Edit::Move { from, to } => {
            if from >= len || to >= len {
                return Err(format!("positions {from} and {to} must be below {len}"));
            }
            let item = out.remove(from);
            out.insert(to, item);
        }
        Edit::Remove { at } => {
            if at >= len {
                return Err(format!("position {at} must be below {len}"));
            }
            out.remove(at);
        }
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<(), ActionError> {
    if name.trim().is_empty() {
        return Err(ActionError::Invalid(Problem::Name("playlist")));
    }
    Ok(())
}

/// Audits the approvals a playlist change withdrew; returns the playlist.
fn withdrawn(state: &PanelState, who: &Principal, change: Change<Playlist>) -> Playlist {
    let p = change.value;
    audit_withdrawn(
        state,
        who,
        &change.withdrawn,
        &format!(
            "playlist {} \"{}\" changed (version {})",
            p.id, p.name, p.version
        ),
    );
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[i64]) -> Vec<ClipId> {
        v.iter().map(|i| ClipId(*i)).collect()
    }

    #[test]
    fn edits_apply_or_say_why_not() {
        let items = ids(&[1, 2, 3]);
        let ins = Edit::Insert {
            clip: ClipId(9),
            at: Some(1),
        };
        assert_eq!(apply(&items, &ins).unwrap(), ids(&[1, 9, 2, 3]));
        let end = Edit::Insert {
            clip: ClipId(9),
            at: None,
        };
        assert_eq!(apply(&items, &end).unwrap(), ids(&[1, 2, 3, 9]));
        assert_eq!(
            apply(&items, &Edit::Move { from: 0, to: 2 }).unwrap(),
            ids(&[2, 3, 1])
        );
        assert_eq!(
            apply(&items, &Edit::Move { from: 2, to: 0 }).unwrap(),
            ids(&[3, 1, 2])
        );
        assert_eq!(
            apply(&items, &Edit::Remove { at: 1 }).unwrap(),
            ids(&[1, 3])
        );
        assert!(apply(&items, &Edit::Remove { at: 3 }).is_err());
        assert!(apply(&items, &Edit::Move { from: 0, to: 3 }).is_err());
        let past = Edit::Insert {
            clip: ClipId(9),
            at: Some(4),
        };
        assert!(apply(&items, &past).unwrap_err().contains("past the end"));
    }
}
