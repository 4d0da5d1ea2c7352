//! Panel accounts outside HTTP: Argon2id password hashes, random secrets for sessions and
//! CSRF tokens, and `loa passwd USER` (create a user or reset a password from the box).
//! It does not know cookies or requests; `panel::auth` does.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::cli::{CliError, load_config};
use crate::store::{Role, Store, StoreError, User};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The password is too short or is not valid text.
    #[error("password must be at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    /// Hashing failed (should not happen with valid parameters).
    #[error("cannot hash the password: {0}")]
    Hash(String),
    /// Reading the password from the terminal or standard input failed.
    #[error("cannot read the password: {0}")]
    Read(#[from] std::io::Error),
    /// The two passwords typed differ.
    #[error("the two passwords differ")]
    Mismatch,
    /// The database refused.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Hashes a password with Argon2id (the crate's default parameters) and a random salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC-format `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// 32 random bytes from the OS as 64 hex digits: a session secret or CSRF token.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// SHA-256 of a secret as hex: what the database keeps instead of the secret.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates the user or resets their password (and sets the role): `loa passwd USER`.
pub fn set_password(
    store: &Store,
    name: &str,
    role: Role,
    password: &str,
    now: DateTime<Utc>,
) -> Result<User, AccountError> {
    let hash = hash_password(password)?;
    Ok(store.upsert_user(name, role, &hash, now)?)
}

/// `loa passwd`: opens the database in `data_dir`, reads the password (twice on a
/// terminal, with echo off; one line from standard input otherwise) and stores it.
pub fn passwd_command(data_dir: &Path, name: &str, role: Role) -> Result<User, AccountError> {
    let store = Store::open(&data_dir.join("loa.db"))?;
    let stdin = std::io::stdin();
    let password = if stdin.is_terminal() {
        let first = prompt_hidden(&format!("new password for {name}: "))?;
        let again = prompt_hidden("again: ")?;
        if first != again {
            return Err(AccountError::Mismatch);
        }
        first
    } else {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    set_password(&store, name, role, &password, Utc::now())
}

/// `loa passwd USER --role ROLE` with the config at `config_path`.
pub fn passwd_cli(config_path: &Path, name: &str, role: &str) -> Result<(), CliError> {
    let config = load_config(config_path)?;
    let role = Role::parse(role).ok_or_else(|| {
        CliError::BadInput(format!(
            "unknown role {role:?} (use viewer, editor, approver or admin)"
        ))
    })?;
    match passwd_command(&config.station.data_dir, name, role) {
        Ok(user) => {
            println!("user {} ({}) saved", user.name, user.role.as_str());
            Ok(())
        }
        Err(e @ (AccountError::WeakPassword | AccountError::Mismatch)) => {
            Err(CliError::BadInput(e.to_string()))
        }
        Err(AccountError::Store(StoreError::Invalid(m))) => Err(CliError::BadInput(m)),
        Err(e) => Err(CliError::Runtime(e.to_string())),
    }
}

/// Prints `prompt` and reads one line from the terminal with echo switched off.
fn prompt_hidden(prompt: &str) -> Result<String, AccountError> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let _echo = EchoOff::new();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    eprintln!();
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Switches terminal echo off on standard input until dropped.
struct EchoOff(Option<libc::termios>);

impl EchoOff {
    fn new() -> EchoOff {
        // SAFETY: tcgetattr/tcsetattr on fd 0 with a zeroed, then filled, termios struct.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return EchoOff(None);
            }
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &t);
            EchoOff(Some(saved))
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = self.0 {
            // SAFETY: restores the attributes read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &saved);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("mật khẩu dài").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("mật khẩu dài", &h));
        assert!(!verify_password("mat khau dai", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(matches!(
            hash_password("short"),
            Err(AccountError::WeakPassword)
        ));
        assert_ne!(hash_password("mật khẩu dài").unwrap(), h, "salted");
    }

    #[test]
    fn secrets_are_random_and_hashes_stable() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(secret_hash(&a), secret_hash(&a));
        assert_ne!(secret_hash(&a), a);
    }

    #[test]
    fn set_password_creates_then_resets() {
        let store = Store::open_in_memory().unwrap();
        let now = Utc::now();
        let u = set_password(&store, "lan", Role::Admin, "mật khẩu 1", now).unwrap();
        assert_eq!(u.role, Role::Admin);
        set_password(&store, "lan", Role::Admin, "mật khẩu 2", now).unwrap();
        let (_, hash) = store.user_with_hash("lan").unwrap().unwrap();
        assert!(verify_password("mật khẩu 2", &hash));
        assert_eq!(store.user_count().unwrap(), 1);
    }
}
