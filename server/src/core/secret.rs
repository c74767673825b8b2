//! Secrets kept in the database (analyzer API keys, the directory's bind password), sealed with
//! AES-256-GCM under a key of the data directory (`<data>/secrets.key`, mode 0600, made at first
//! use). A database backup without the data directory's key holds no usable secret.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};

/// Prefix of a sealed secret.
pub const SEALED_PREFIX: &str = "enc:v1:";
/// Name of the key file in the data directory.
pub const KEY_FILE_NAME: &str = "secrets.key";

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;

/// Why a sealed secret could not be opened (or sealed).
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("value is not sealed (no {SEALED_PREFIX} prefix)")]
    NotSealed,
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value does not authenticate (tampered, or sealed with another key)")]
    Authentication,
    #[error("cryptography failure: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

/// AES-256-GCM box for secrets kept in the database, with a key kept in `<data_dir>/secrets.key`.
pub struct SecretBox {
    key: [u8; KEY_LEN],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl Drop for SecretBox {
    fn drop(&mut self) {
        for b in self.key.iter_mut() {
            // SAFETY: `b` is a valid, aligned, exclusive reference to a byte of `self.key`.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

impl SecretBox {
    /// A box with a given key (tests, key rotation tools).
    pub fn from_key(key: [u8; KEY_LEN]) -> SecretBox {
        SecretBox { key }
    }

    /// Reads the key file, or creates it (32 random bytes, mode 0600) if it does not exist.
    ///
    /// Creation is atomic: the key is written to a temporary file (created with `create_new`
    /// and mode 0600) then published with a hard link, which fails if another process won the
    /// race; the loser reads the winner's key. A key file of the wrong size is an error; one
    /// readable by group or others is accepted with a warning.
    pub fn load_or_create(data_dir: &Path) -> io::Result<SecretBox> {
        fs::create_dir_all(data_dir)?;
        let path = data_dir.join(KEY_FILE_NAME);
        if !path.exists() {
            let mut key = [0u8; KEY_LEN];
            openssl::rand::rand_bytes(&mut key).map_err(io::Error::other)?;
            let mut suffix = [0u8; 8];
            openssl::rand::rand_bytes(&mut suffix).map_err(io::Error::other)?;
            let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
            let tmp = data_dir.join(format!(".{KEY_FILE_NAME}.{suffix}.tmp"));
            let written = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .and_then(|mut f| f.write_all(&key).and_then(|_| f.sync_all()));
            let published = written.and_then(|_| fs::hard_link(&tmp, &path));
            let _ = fs::remove_file(&tmp);
            match published {
                Ok(()) => {
                    if let Ok(d) = fs::File::open(data_dir) {
                        let _ = d.sync_all();
                    }
                    tracing::info!(path = %path.display(), "created the secrets key");
                    return Ok(SecretBox { key });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {} // lost a race: read it
                Err(e) => return Err(e),
            }
        }
        let mut file = fs::File::open(&path)?;
        let meta = file.metadata()?;
        if !meta.is_file() || meta.len() != KEY_LEN as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} must be a file of exactly {KEY_LEN} bytes",
                    path.display()
                ),
            ));
        }
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the secrets key is readable by other users; chmod 600 it");
        }
        let mut key = [0u8; KEY_LEN];
        file.read_exact(&mut key)?;
        Ok(SecretBox { key })
    }

    /// `"enc:v1:" + base64(nonce(12) | ciphertext | tag(16))`, AES-256-GCM, fresh random nonce.
    pub fn try_seal(&self, plain: &str) -> Result<String, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        openssl::rand::rand_bytes(&mut nonce)?;
        let mut tag = [0u8; TAG_LEN];
        let ct = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(&nonce),
            &[],
            plain.as_bytes(),
            &mut tag,
        )?;
        let mut raw = Vec::with_capacity(NONCE_LEN + ct.len() + TAG_LEN);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ct);
        raw.extend_from_slice(&tag);
        Ok(format!("{SEALED_PREFIX}{}", B64.encode(raw)))
    }

    /// Like [`SecretBox::try_seal`]. Panics only if OpenSSL's random generator or AES-GCM fails,
    /// which leaves no safe way to go on.
    pub fn seal(&self, plain: &str) -> String {
        self.try_seal(plain)
            .expect("OpenSSL failed to seal a secret")
    }

    /// Opens a sealed value; any tampering is an error (never a panic).
    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let b64 = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or(SecretError::NotSealed)?;
        let raw = B64.decode(b64.trim()).map_err(|_| SecretError::Malformed)?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretError::Malformed);
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
        let plain = decrypt_aead(Cipher::aes_256_gcm(), &self.key, Some(nonce), &[], ct, tag)
            .map_err(|_| SecretError::Authentication)?;
        String::from_utf8(plain).map_err(|_| SecretError::Malformed)
    }

    /// True if `value` is sealed *and* opens with this box.
    pub fn is_sealed_here(&self, value: &str) -> bool {
        value.starts_with(SEALED_PREFIX) && self.open(value).is_ok()
    }
}

