//! A snapshot of the statistics index on disk, so that a restart loads it in seconds and replays
//! only the change feed written after it, instead of reading every record again (25-105 s at a
//! million alerts).
//!
//! Written at clean shutdown and every [`EVERY`] while records change, beside the database
//! (`<data>/stats-index.snapshot`), through a temporary file, `fsync` and rename. It holds the
//! change-feed position it covers (`since`: every change before it is in the snapshot) and is
//! trusted only when all of these hold, else the index is rebuilt from the database:
//! - the magic, the format number and the CRC-32 of the whole file match (a torn or corrupted
//!   file is refused);
//! - the layout fingerprint matches: the indexed columns of every table and the hashes this
//!   binary computes for value and alert keys (so a new column, or a Rust release that changes
//!   `DefaultHasher`, refuses an old snapshot);
//! - the database holds the same token (`stats_snapshot:current`, written after the file): a
//!   database restored from a backup, or another database at the same data directory, does not
//!   match;
//! - the change feed still covers `since` (it keeps [`super::index::FEED_RETENTION`]).
//!
//! The format is ours, little-endian and fixed-width, so the columns are read back at memory
//! speed with no per-value decoding: `u32` counts and codes, `f64`/`i64` numbers and dates,
//! strings as a length and UTF-8 bytes. What can be derived (dictionary lookups, record key ->
//! slot, the value and alert key maps, per-case counts) is rebuilt after reading.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::columns::{CodeLists, Column, ColKind, Dict, INDEXED, Partition, TableIndex, TableSpec};
use super::keys::Keys;
use super::index::IndexData;
use super::values::{AlertKeys, ValueIndex, alert_key, value_key};

/// How often a snapshot is written while records change (and at clean shutdown).
pub const EVERY: Duration = Duration::from_secs(600);
/// The file's name in the data directory.
pub const FILE: &str = "stats-index.snapshot";

const MAGIC: &[u8; 8] = b"WGLSTATS";
/// 2: alert keys are 64-bit.
const FORMAT: u32 = 2;

/// What a snapshot says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The change-feed versionstamp from which changes are not in the snapshot.
    pub since: u64,
    /// When it was written (epoch ms).
    pub written_ms: i64,
    /// Matches `stats_snapshot:current.token` in the database it was taken from.
    pub token: String,
}

/// The layout this binary reads and writes: every indexed table's columns, and probe hashes.
pub fn fingerprint() -> String {
    let mut s = String::new();
    for e in INDEXED {
        let spec = TableSpec::for_entity(*e);
        s.push_str(e.table());
        for (path, kind) in &spec.columns {
            s.push_str(&format!(" {path}:{kind:?}"));
        }
        s.push('\n');
    }
    s.push_str(&format!("{:x} {:x}", value_key("ip", Some("10.0.0.1"), None).unwrap_or(0), alert_key("a", "b", "c")));
    s
}

// ---- writing ----

/// A snapshot written as a stream (never whole in memory), its CRC-32 computed on the way. The
/// first write error is kept and returned at the end.
struct W<O> {
    out: O,
    crc: crc32fast::Hasher,
    size: usize,
    err: Option<std::io::Error>,
    scratch: Vec<u8>,
}

impl<O: std::io::Write> W<O> {
    fn bytes(&mut self, b: &[u8]) {
        if self.err.is_none() {
            self.crc.update(b);
            self.size += b.len();
            if let Err(e) = self.out.write_all(b) {
                self.err = Some(e);
            }
        }
    }
    fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.bytes(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.u32(u32::MAX),
        }
    }
    /// A count, then fixed-width little-endian values, a few thousand at a time.
    fn array<T: Copy, const N: usize>(&mut self, v: &[T], to: fn(T) -> [u8; N]) {
        self.len(v.len());
        let mut scratch = std::mem::take(&mut self.scratch);
        for chunk in v.chunks(4096) {
            scratch.clear();
            for x in chunk {
                scratch.extend_from_slice(&to(*x));
            }
            self.bytes(&scratch);
        }
        self.scratch = scratch;
    }
    fn u32s(&mut self, v: &[u32]) {
        self.array(v, u32::to_le_bytes);
    }
    fn u64s(&mut self, v: &[u64]) {
        self.array(v, u64::to_le_bytes);
    }
    fn u128s(&mut self, v: &[u128]) {
        self.array(v, u128::to_le_bytes);
    }
}

/// The whole file in memory (see [`write`]).
pub fn encode(d: &IndexData, header: &Header) -> Vec<u8> {
    write(d, header, Vec::with_capacity(1 << 20)).map(|(v, _)| v).unwrap_or_default()
}

/// Write the whole file to `out`: header, tables, CRC-32. Returns `out` and the bytes written.
pub fn write<O: std::io::Write>(d: &IndexData, header: &Header, out: O) -> std::io::Result<(O, usize)> {
    let mut w = W { out, crc: crc32fast::Hasher::new(), size: 0, err: None, scratch: Vec::new() };
    w.bytes(MAGIC);
    w.u32(FORMAT);
    w.str(&fingerprint());
    w.u64(header.since);
    w.u64(header.written_ms as u64);
    w.str(&header.token);
    w.len(INDEXED.len());
    for e in INDEXED {
        let t = &d.tables[e];
        w.str(e.table());
        w.len(t.dicts.len());
        for dict in &t.dicts {
            w.len(dict.values.len());
            for v in &dict.values {
                w.str(v);
            }
        }
        w.len(t.partitions().count());
        for (org, p) in t.partitions() {
            w.str(org);
            w.len(p.keys.len());
            for s in 0..p.keys.len() as u32 {
                w.opt_str(p.keys.get(s).as_deref());
            }
            w.u32s(&p.free);
            w.len(p.cols.len());
            for c in &p.cols {
                match c {
                    Column::Code(v) => {
                        w.u8(0);
                        w.u32s(v);
                    }
                    Column::Num(v) => {
                        w.u8(1);
                        w.array(v, f64::to_le_bytes);
                    }
                    Column::Date(v) => {
                        w.u8(2);
                        w.array(v, i64::to_le_bytes);
                    }
                    Column::Bool(v) => {
                        w.u8(3);
                        w.len(v.len());
                        w.bytes(v);
                    }
                    Column::Codes(v) => {
                        w.u8(4);
                        let (ids, lists) = v.parts();
                        w.u32s(ids);
                        let lists: Vec<&[u32]> = lists.collect();
                        w.len(lists.len());
                        for list in lists {
                            w.u32s(list);
                        }
                    }
                }
            }
            match &p.values {
                Some(v) => {
                    w.u8(1);
                    w.u128s(v.slot_keys());
                }
                None => w.u8(0),
            }
            match &p.alert_keys {
                Some(k) => {
                    w.u8(1);
                    w.u64s(k.slot_keys());
                }
                None => w.u8(0),
            }
        }
    }
    let crc = w.crc.clone().finalize();
    w.u32(crc);
    match w.err {
        Some(e) => Err(e),
        None => Ok((w.out, w.size)),
    }
}

// ---- reading ----

/// A snapshot read as a stream (never whole in memory: at a million records the file is a
/// quarter of a gigabyte), its CRC-32 computed on the way and compared at the end.
struct R<S> {
    src: S,
    /// Bytes left before the checksum (the file's last four).
    left: usize,
    crc: crc32fast::Hasher,
    buf: Vec<u8>,
}

type Res<T> = std::result::Result<T, String>;

impl<S: std::io::Read> R<S> {
    fn take(&mut self, n: usize) -> Res<&[u8]> {
        if n > self.left {
            return Err("truncated".into());
        }
        self.buf.resize(n, 0);
        self.src.read_exact(&mut self.buf).map_err(|e| format!("unreadable: {e}"))?;
        self.crc.update(&self.buf);
        self.left -= n;
        Ok(&self.buf)
    }
    fn u8(&mut self) -> Res<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Res<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| "truncated")?))
    }
    fn u64(&mut self) -> Res<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().map_err(|_| "truncated")?))
    }
    /// A count, bounded by what is left in the file (each item is at least `min` bytes).
    fn len(&mut self, min: usize) -> Res<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min.max(1)) > self.left { Err("a count larger than the file".into()) } else { Ok(n) }
    }
    fn str(&mut self) -> Res<&str> {
        let n = self.len(1)?;
        std::str::from_utf8(self.take(n)?).map_err(|_| "invalid UTF-8".into())
    }
    fn opt_str(&mut self) -> Res<Option<&str>> {
        let n = self.u32()?;
        if n == u32::MAX {
            return Ok(None);
        }
        std::str::from_utf8(self.take(n as usize)?).map(Some).map_err(|_| "invalid UTF-8".into())
    }
    /// `n` fixed-width little-endian values of `W` bytes each.
    fn array<T, const W: usize>(&mut self, from: fn([u8; W]) -> T) -> Res<Vec<T>> {
        let n = self.len(W)?;
        Ok(self.take(n * W)?.chunks_exact(W).map(|c| from(c.try_into().unwrap_or([0; W]))).collect())
    }
    fn u32s(&mut self) -> Res<Vec<u32>> {
        self.array(u32::from_le_bytes)
    }
    fn u64s(&mut self) -> Res<Vec<u64>> {
        self.array(u64::from_le_bytes)
    }
    fn u128s(&mut self) -> Res<Vec<u128>> {
        self.array(u128::from_le_bytes)
    }
    /// Whether the file is intact: the rest read, and the CRC-32 of all of it compared with the
    /// one it ends with.
    fn intact(mut self) -> Res<bool> {
        while self.left > 0 {
            let n = self.left.min(1 << 20);
            self.take(n)?;
        }
        let mut crc = [0; 4];
        self.src.read_exact(&mut crc).map_err(|e| format!("unreadable: {e}"))?;
        Ok(self.crc.finalize() == u32::from_le_bytes(crc))
    }
}

/// Read a snapshot held in memory (see [`read`]).
pub fn decode(bytes: &[u8]) -> Res<(Header, IndexData)> {
    read(bytes, bytes.len())
}

/// Read a snapshot of `len` bytes from `src`: its header and the index it holds, or why it
/// cannot be used. A file whose checksum does not match is refused as such, whatever else was
/// wrong with it.
pub fn read(src: impl std::io::Read, len: usize) -> Res<(Header, IndexData)> {
    if len < MAGIC.len() + 8 {
        return Err("not a statistics index snapshot".into());
    }
    let mut r = R { src, left: len - 4, crc: crc32fast::Hasher::new(), buf: Vec::new() };
    if r.take(MAGIC.len())? != MAGIC {
        return Err("not a statistics index snapshot".into());
    }
    let read = read_body(&mut r);
    let trailing = r.left;
    if !r.intact()? {
        return Err("checksum mismatch (torn or corrupted file)".into());
    }
    let read = read?;
    if trailing != 0 {
        return Err("trailing bytes".into());
    }
    Ok(read)
}

fn read_body(r: &mut R<impl std::io::Read>) -> Res<(Header, IndexData)> {
    let format = r.u32()?;
    if format != FORMAT {
        return Err(format!("format {format}, this binary reads {FORMAT}"));
    }
    if r.str()? != fingerprint() {
        return Err("written for another layout of the index".into());
    }
    let header = Header { since: r.u64()?, written_ms: r.u64()? as i64, token: r.str()?.to_string() };
    let n_tables = r.len(1)?;
    if n_tables != INDEXED.len() {
        return Err("another set of tables".into());
    }
    let mut data = IndexData { tables: Default::default(), loaded: HashSet::new() };
    for e in INDEXED {
        if r.str()? != e.table() {
            return Err("tables out of order".into());
        }
        let spec = TableSpec::for_entity(*e);
        let n_cols = spec.columns.len();
        if r.len(4)? != n_cols {
            return Err(format!("{}: another number of columns", e.table()));
        }
        let mut dicts = Vec::with_capacity(n_cols);
        for _ in 0..n_cols {
            let n = r.len(4)?;
            let mut dict = Dict::default();
            for _ in 0..n {
                dict.code(r.str()?);
            }
            if dict.len() != n {
                return Err(format!("{}: a dictionary holds a value twice", e.table()));
            }
            dicts.push(dict);
        }
        let mut table = TableIndex::from_parts(spec, dicts);
        let n_orgs = r.len(8)?;
        for _ in 0..n_orgs {
            let org: Arc<str> = Arc::from(r.str()?);
            let n_slots = r.len(4)?;
            let mut keys = Keys::default();
            for _ in 0..n_slots {
                keys.push(r.opt_str()?);
            }
            let free = r.u32s()?;
            if r.len(1)? != n_cols {
                return Err(format!("{}: a partition with another number of columns", e.table()));
            }
            let mut cols = Vec::with_capacity(n_cols);
            for (i, (_, kind)) in table.spec.columns.iter().enumerate() {
                let col = match (r.u8()?, kind) {
                    (0, ColKind::Code) => Column::Code(r.u32s()?),
                    (1, ColKind::Num) => {
                        Column::Num(r.array(f64::from_le_bytes)?)
                    }
                    (2, ColKind::Date) => {
                        Column::Date(r.array(i64::from_le_bytes)?)
                    }
                    (3, ColKind::Bool) => {
                        let n = r.len(1)?;
                        Column::Bool(r.take(n)?.to_vec())
                    }
                    (4, ColKind::Codes) => {
                        let ids = r.u32s()?;
                        let n = r.len(4)?;
                        let mut lists = Vec::with_capacity(n);
                        for _ in 0..n {
                            lists.push(r.u32s()?);
                        }
                        Column::Codes(CodeLists::from_parts(ids, lists).ok_or_else(|| format!("{}: column {i}: a slot without its list", e.table()))?)
                    }
                    _ => return Err(format!("{}: column {i} of another kind", e.table())),
                };
                if col.len() != n_slots {
                    return Err(format!("{}: column {i} of another length", e.table()));
                }
                cols.push(col);
            }
            let value_keys = if r.u8()? == 1 { Some(r.u128s()?) } else { None };
            let alert_slot_keys = if r.u8()? == 1 { Some(r.u64s()?) } else { None };
            let mut part = Partition::new(&table.spec);
            part.cols = cols;
            part.keys = keys;
            part.recount();
            if free.iter().any(|s| *s as usize >= part.keys.len() || part.keys.is_live(*s)) {
                return Err(format!("{}: a free slot that is not free", e.table()));
            }
            part.free = free;
            match (part.values.as_ref(), value_keys) {
                (Some(v), Some(keys)) => part.values = Some(Box::new(ValueIndex::from_slot_keys(v.columns(), keys, &part.cols, &part.keys))),
                (None, None) => {}
                _ => return Err(format!("{}: value index mismatch", e.table())),
            }
            match (part.alert_keys.is_some(), alert_slot_keys) {
                (true, Some(keys)) => part.alert_keys = Some(Box::new(AlertKeys::from_slot_keys(keys))),
                (false, None) => {}
                _ => return Err(format!("{}: alert keys mismatch", e.table())),
            }
            if table.partition(&org).is_some() {
                return Err(format!("{}: an organisation twice", e.table()));
            }
            table.insert_partition(org, part);
        }
        data.tables.insert(*e, table);
        data.loaded.insert(*e);
    }
    Ok((header, data))
}
