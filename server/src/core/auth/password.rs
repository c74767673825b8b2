//! Password and API key hashing. Passwords: argon2id (PHC strings). API keys are 256-bit random
//! tokens, so a plain SHA-256 is enough to store them and lets us find the key's user by index.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::core::error::{Error, Result};

pub const MIN_PASSWORD_LEN: usize = 8;

/// Hash a password (CPU-heavy: call from a blocking task).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing password: {e}")))
}

/// Check a password against a stored hash (CPU-heavy: call from a blocking task).
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

pub async fn hash_password_async(password: String) -> Result<String> {
    let _permit = CHECKS.acquire().await.map_err(|e| Error::Internal(anyhow::anyhow!("password checks: {e}")))?;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing task: {e}")))?
}

/// Check a password against its hash on the blocking pool.
pub async fn verify_password_async(password: String, hash: String) -> bool {
    let Ok(_permit) = CHECKS.acquire().await else { return false };
    tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false)
}

/// How many argon2 hashes and checks run at once: each takes 19 MiB and a core for tens of
/// milliseconds, so a burst of requests with Basic credentials waits instead of exhausting
/// memory.
pub const PARALLEL_CHECKS: usize = 4;
static CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(PARALLEL_CHECKS);

/// A policy every new password must pass; the message says what is wrong.
pub fn check_password_policy(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::BadRequest(format!("The password must have at least {MIN_PASSWORD_LEN} characters")));
    }
    if password.contains('\0') {
        return Err(Error::BadRequest("The password cannot contain NUL characters".into()));
    }
    Ok(())
}

/// A new random secret: 32 random bytes, URL-safe base64 without padding (43 characters).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A readable random password for the first administrator (20 characters).
pub fn random_password() -> String {
    random_secret().chars().filter(|c| c.is_ascii_alphanumeric()).take(20).collect()
}

pub fn key_hash(key: &str) -> String {
    hex::encode(key_hash_bytes(key))
}

/// The same hash as bytes (the in-memory key to user map).
pub fn key_hash_bytes(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn policy() {
        assert!(check_password_policy("short").is_err());
        assert!(check_password_policy("long enough").is_ok());
        assert!(check_password_policy("with\0nul-inside").is_err());
    }

    #[test]
    fn secrets() {
        let k = random_secret();
        assert_eq!(k.len(), 43);
        assert_ne!(k, random_secret());
        assert_eq!(random_password().len(), 20);
        assert_eq!(key_hash("a").len(), 64);
    }
}
