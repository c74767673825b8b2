//! A one-file ZIP archive protected with the traditional PKWARE encryption ("ZipCrypto"), as
//! TheHive serves malware samples (password `malware`): weak on purpose, opened by every unzip
//! tool, and enough to stop antivirus and mail filters from eating the sample. The entry is
//! stored (not compressed), so the archive is streamed with a known length.
//!
//! Why this is written here and not taken from the `zip` crate (which the tests use to read the
//! archives back): `zip`'s writer (`FileOptionsExt::with_deprecated_encryption`) needs the whole
//! archive behind a `Write + Seek` output, so a 100 MiB sample would be held in memory or
//! written to a temporary file before the first byte is sent; here the archive's length is
//! known from the plan and the sample is encrypted as it streams from the attachment store. The
//! file's CRC-32 is `crc32fast`'s; the cipher's key schedule needs the raw CRC register stepped
//! one byte at a time (no initial or final inversion), which `crc32fast` does not expose, hence
//! the small table below.

use bytes::{BufMut, Bytes, BytesMut};

const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

fn crc_step(crc: u32, b: u8) -> u32 {
    CRC_TABLE[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8)
}

/// The cipher state (three keys), initialised from the password.
#[derive(Clone)]
pub struct Keys {
    k0: u32,
    k1: u32,
    k2: u32,
}

impl Keys {
    pub fn new(password: &[u8]) -> Keys {
        let mut k = Keys { k0: 0x1234_5678, k1: 0x2345_6789, k2: 0x3456_7890 };
        for &b in password {
            k.update(b);
        }
        k
    }

    fn update(&mut self, plain: u8) {
        self.k0 = crc_step(self.k0, plain);
        self.k1 = self.k1.wrapping_add(self.k0 & 0xff).wrapping_mul(134_775_813).wrapping_add(1);
        self.k2 = crc_step(self.k2, (self.k1 >> 24) as u8);
    }

    fn stream_byte(&self) -> u8 {
        let t = (self.k2 | 2) as u16;
        (t.wrapping_mul(t ^ 1) >> 8) as u8
    }

    /// Encrypt in place.
    pub fn encrypt(&mut self, buf: &mut [u8]) {
        for b in buf {
            let plain = *b;
            *b = plain ^ self.stream_byte();
            self.update(plain);
        }
    }
}

/// The fixed parts of the archive around the encrypted content.
pub struct Archive {
    /// Local file header and the encrypted 12-byte encryption header.
    pub prefix: Bytes,
    /// Central directory and end record.
    pub suffix: Bytes,
    /// The cipher state to encrypt the content with (after the encryption header).
    pub keys: Keys,
    /// Total length of the archive.
    pub len: u64,
}

/// DOS date 1980-01-01 00:00 (the archive carries no meaningful time).
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;
/// Flags: encrypted (bit 0), UTF-8 name (bit 11).
const FLAGS: u16 = 0x0001 | 0x0800;

/// Plan an archive holding one file `name` of `size` bytes with checksum `crc`.
/// `random` gives the 11 random bytes of the encryption header.
pub fn plan(name: &str, size: u64, crc: u32, password: &[u8], random: [u8; 11]) -> std::io::Result<Archive> {
    let stored = size + 12;
    if stored > u32::MAX as u64 - 1024 || name.len() > u16::MAX as usize {
        return Err(std::io::Error::other("file too large for a protected archive (4 GiB)"));
    }
    let name = name.as_bytes();
    let mut prefix = BytesMut::with_capacity(30 + name.len() + 12);
    prefix.put_u32_le(0x0403_4b50);
    prefix.put_u16_le(20); // version needed: 2.0
    prefix.put_u16_le(FLAGS);
    prefix.put_u16_le(0); // stored
    prefix.put_u16_le(DOS_TIME);
    prefix.put_u16_le(DOS_DATE);
    prefix.put_u32_le(crc);
    prefix.put_u32_le(stored as u32);
    prefix.put_u32_le(size as u32);
    prefix.put_u16_le(name.len() as u16);
    prefix.put_u16_le(0);
    prefix.put_slice(name);
    let mut keys = Keys::new(password);
    let mut header = [0u8; 12];
    header[..11].copy_from_slice(&random);
    // The last byte lets readers check the password: the high byte of the CRC.
    header[11] = (crc >> 24) as u8;
    keys.encrypt(&mut header);
    prefix.put_slice(&header);

    let local_len = prefix.len() as u64;
    let mut suffix = BytesMut::with_capacity(46 + name.len() + 22);
    suffix.put_u32_le(0x0201_4b50);
    suffix.put_u16_le(20); // made by
    suffix.put_u16_le(20); // needed
    suffix.put_u16_le(FLAGS);
    suffix.put_u16_le(0);
    suffix.put_u16_le(DOS_TIME);
    suffix.put_u16_le(DOS_DATE);
    suffix.put_u32_le(crc);
    suffix.put_u32_le(stored as u32);
    suffix.put_u32_le(size as u32);
    suffix.put_u16_le(name.len() as u16);
    suffix.put_u16_le(0); // extra
    suffix.put_u16_le(0); // comment
    suffix.put_u16_le(0); // disk
    suffix.put_u16_le(0); // internal attributes
    suffix.put_u32_le(0); // external attributes
    suffix.put_u32_le(0); // offset of the local header
    suffix.put_slice(name);
    let cd_len = suffix.len() as u32;
    let cd_offset = (local_len + size) as u32;
    suffix.put_u32_le(0x0605_4b50);
    suffix.put_u16_le(0);
    suffix.put_u16_le(0);
    suffix.put_u16_le(1);
    suffix.put_u16_le(1);
    suffix.put_u32_le(cd_len);
    suffix.put_u32_le(cd_offset);
    suffix.put_u16_le(0);
    let len = local_len + size + suffix.len() as u64;
    Ok(Archive { prefix: prefix.freeze(), suffix: suffix.freeze(), keys, len })
}

/// The whole archive in memory (tests, small files).
pub fn archive(name: &str, content: &[u8], password: &[u8], random: [u8; 11]) -> std::io::Result<Vec<u8>> {
    let crc = crc32fast::hash(content);
    let mut a = plan(name, content.len() as u64, crc, password, random)?;
    let mut out = Vec::with_capacity(a.len as usize);
    out.extend_from_slice(&a.prefix);
    let mut body = content.to_vec();
    a.keys.encrypt(&mut body);
    out.extend_from_slice(&body);
    out.extend_from_slice(&a.suffix);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_zip_crate_opens_it_with_the_password() {
        let content = b"MZ\x90\x00 this is not really malware\n".repeat(100);
        let bytes = archive("sample.exe", &content, b"malware", [7; 11]).unwrap();
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
        assert_eq!(z.len(), 1);
        {
            let mut f = z.by_index_decrypt(0, b"malware").unwrap();
            assert_eq!(f.name(), "sample.exe");
            let mut out = Vec::new();
            f.read_to_end(&mut out).unwrap();
            assert_eq!(out, content);
        }
        assert!(z.by_index_decrypt(0, b"wrong").is_err(), "a wrong password is refused");
        assert!(z.by_index(0).is_err(), "the entry is encrypted");
        let mut a = plan("sample.exe", content.len() as u64, crc32fast::hash(&content), b"malware", [7; 11]).unwrap();
        assert_eq!(a.len, bytes.len() as u64);
        let mut again = content.clone();
        a.keys.encrypt(&mut again);
        assert_eq!(&bytes[a.prefix.len()..a.prefix.len() + content.len()], &again[..]);
    }

    #[test]
    fn unzip_opens_it_when_installed() {
        let Ok(out) = std::process::Command::new("unzip").arg("-v").output() else { return };
        if !out.status.success() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.zip");
        std::fs::write(&path, archive("évil name.bin", b"hello sample", b"malware", [1; 11]).unwrap()).unwrap();
        let out = std::process::Command::new("unzip").args(["-P", "malware", "-p"]).arg(&path).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout, b"hello sample");
    }

    #[test]
    fn empty_file() {
        let bytes = archive("empty", b"", b"malware", [0; 11]).unwrap();
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut f = z.by_index_decrypt(0, b"malware").unwrap();
        let mut out = Vec::new();
        f.read_to_end(&mut out).unwrap();
        assert!(out.is_empty());
    }
}
