//! The `users` and `sessions` tables: panel accounts with a role and an Argon2 password
//! hash, and login sessions keyed by the SHA-256 of their secret. It stores hashes; it
//! never sees a password or a session secret, and it does not decide who may do what.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, instant, millis};

/// What a panel user may do. Each role may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// Uploads clips, edits playlists, programmes and campaigns, starts broadcasts.
    Editor,
    /// Also approves programmes when the station requires approval.
    Approver,
    /// Also manages users and reads the audit trail.
    Admin,
}

impl Role {
    /// The role's stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored or API name.
    pub fn parse(text: &str) -> Option<Role> {
        Some(match text {
            "viewer" => Role::Viewer,
            "editor" => Role::Editor,
            "approver" => Role::Approver,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

/// A panel account (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Stable id.
    pub id: i64,
    /// Login name (unique, compared without case).
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// A live session: its user and the CSRF token forms and requests must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who is logged in.
    pub user: User,
    /// The session's CSRF token.
    pub csrf: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Creates a user, or replaces the password and role of the user with this name.
    pub fn upsert_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        let name = user_name(name)?;
        self.write_quiet(|tx| {
            tx.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET role = excluded.role,
                     password_hash = excluded.password_hash",
                params![name, role.as_str(), password_hash, millis(now)],
            )?;
            // A new password ends every session of the account.
            tx.execute(
                "DELETE FROM sessions WHERE user = (SELECT id FROM users WHERE name = ?1)",
                [&name],
            )?;
            let mut stmt = tx.prepare_cached(&format!("{SELECT} WHERE name = ?1"))?;
            stmt.query_row([&name], from_row)?
        })
    }

    /// Creates the first user only if there is none yet; `None` if someone was faster.
    pub fn create_first_user(
        &self,
        name: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        let name = user_name(name)?;
        self.write_quiet(|tx| {
            let n: i64 = tx.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
            if n > 0 {
                return Ok(None);
            }
            tx.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, 'admin', ?2, ?3)",
                params![name, password_hash, millis(now)],
            )?;
            let mut stmt = tx.prepare_cached(&format!("{SELECT} WHERE name = ?1"))?;
            Ok(Some(stmt.query_row([&name], from_row)??))
        })
    }

    /// How many users exist (0 means the first admin has not been created yet).
    pub fn user_count(&self) -> Result<i64, StoreError> {
        self.read(|tx| Ok(tx.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?))
    }

    /// The user with this name and their password hash.
    pub fn user_with_hash(&self, name: &str) -> Result<Option<(User, String)>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT id, name, role, created_at, password_hash FROM users WHERE name = ?1",
            )?;
            let found = stmt
                .query_row([name.trim()], |row| {
                    Ok((from_row(row)?, row.get::<_, String>(4)?))
                })
                .optional()?;
            match found {
                Some((user, hash)) => Ok(Some((user?, hash))),
                None => Ok(None),
            }
        })
    }

    /// All users, by name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&format!("{SELECT} ORDER BY name"))?;
            let rows = stmt.query_map([], from_row)?;
            rows.map(|r| r?).collect()
        })
    }

    /// Deletes a user and their sessions.
    pub fn delete_user(&self, id: i64) -> Result<(), StoreError> {
        self.write_quiet(|tx| {
            if tx.execute("DELETE FROM users WHERE id = ?1", [id])? == 0 {
                return Err(StoreError::NotFound { what: "user", id });
            }
            Ok(())
        })
    }

    /// Stores a new session; expired sessions are swept on the way.
    pub fn create_session(
        &self,
        secret_hash: &str,
        user: i64,
        csrf: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write_quiet(|tx| {
            tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", [millis(now)])?;
            tx.execute(
                "INSERT INTO sessions (secret_hash, user, csrf, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![secret_hash, user, csrf, millis(now), millis(expires_at)],
            )?;
            Ok(())
        })
    }

    /// The live session with this secret hash, if it exists and has not expired.
    pub fn session(
        &self,
        secret_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT u.id, u.name, u.role, u.created_at, s.csrf, s.expires_at
                 FROM sessions s JOIN users u ON u.id = s.user
                 WHERE s.secret_hash = ?1 AND s.expires_at > ?2",
            )?;
            let found = stmt
                .query_row(params![secret_hash, millis(now)], |row| {
                    Ok((
                        from_row(row)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, i64>(5)?,
                    ))
                })
                .optional()?;
            match found {
                Some((user, csrf, expires)) => Ok(Some(Session {
                    user: user?,
                    csrf,
                    expires_at: instant(expires)?,
                })),
                None => Ok(None),
            }
        })
    }

    /// Ends a session (logout).
    pub fn delete_session(&self, secret_hash: &str) -> Result<(), StoreError> {
        self.write_quiet(|tx| {
            tx.execute("DELETE FROM sessions WHERE secret_hash = ?1", [secret_hash])?;
            Ok(())
        })
    }
}

const SELECT: &str = "SELECT id, name, role, created_at FROM users";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<User, StoreError>> {
    let role: String = row.get(2)?;
    let created: i64 = row.get(3)?;
    Ok((|| {
        Ok(User {
            id: row.get(0)?,
            name: row.get(1)?,
            role: Role::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?,
            created_at: instant(created)?,
        })
    })())
}

/// Checks a login name: 1–64 characters, no spaces or control characters.
fn user_name(text: &str) -> Result<String, StoreError> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(StoreError::Invalid(
            "user name must be 1 to 64 characters".to_owned(),
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(StoreError::Invalid(format!(
            "user name {name:?} must not contain spaces"
        )));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + s, 0).unwrap()
    }

    #[test]
    fn first_user_is_admin_and_only_once() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.user_count().unwrap(), 0);
        let u = store.create_first_user("lan", "h1", t(0)).unwrap().unwrap();
        assert_eq!(u.role, Role::Admin);
        assert!(
            store
                .create_first_user("minh", "h2", t(1))
                .unwrap()
                .is_none()
        );
        assert_eq!(store.user_count().unwrap(), 1);
        let (found, hash) = store.user_with_hash("LAN").unwrap().unwrap();
        assert_eq!((found.name.as_str(), hash.as_str()), ("lan", "h1"));
    }

    #[test]
    fn sessions_expire_and_end_when_the_password_changes() {
        let store = Store::open_in_memory().unwrap();
        let u = store.upsert_user("hoa", Role::Editor, "h", t(0)).unwrap();
        store
            .create_session("s1", u.id, "c1", t(0), t(100))
            .unwrap();
        let s = store.session("s1", t(50)).unwrap().unwrap();
        assert_eq!((s.user.role, s.csrf.as_str()), (Role::Editor, "c1"));
        assert!(store.session("s1", t(100)).unwrap().is_none(), "expired");
        assert!(store.session("nope", t(50)).unwrap().is_none());
        store.upsert_user("hoa", Role::Viewer, "h2", t(60)).unwrap();
        assert!(
            store.session("s1", t(61)).unwrap().is_none(),
            "password reset ends it"
        );
        assert!(store.upsert_user("a b", Role::Viewer, "h", t(0)).is_err());
    }
}
