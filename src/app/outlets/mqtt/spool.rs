//! The MQTT outlet's append-only spool on disk.
//!
//! Every event is appended here first; the publisher sends records in order
//! and advances the persisted "acked" position only when the broker has
//! acknowledged them (QoS 1 PUBACK). So events survive a broker outage and a
//! restart of Vigil, and are delivered in order, at least once (subscribers
//! de-duplicate by the event's `id`).
//!
//! Layout: segment files `<20-digit number>.seg` holding records
//! `[length u32 LE][CRC-32 u32 LE][bytes]` (1 to [`MAX_RECORD_BYTES`] bytes:
//! zeroed bytes are never a record), and `acked` (segment, offset and
//! their CRC-32). A segment rotates at [`segment_bytes`]; segments wholly
//! before the acked position are deleted. When the spool would exceed its
//! bound the oldest segment is deleted and its unsent records are counted as
//! dropped. Appends are fsynced in batches ([`SYNC_EVERY_RECORDS`] records or
//! [`SYNC_INTERVAL`], whichever comes first): a power cut loses at most the
//! last unsynced batch. A torn or corrupt record at the tail of the last
//! segment (a power cut mid-write) is cut off at open and counted, never a panic.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::ops::Bound;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use thiserror::Error;

/// Bytes of a record's header (length and CRC-32).
pub const RECORD_HEADER: u64 = 8;
/// Largest record accepted (an event is a few hundred bytes).
pub const MAX_RECORD_BYTES: u32 = 1024 * 1024;
/// Segments per spool bound: a segment is 1/this of `spool_max_mb`.
pub const SEGMENTS_PER_SPOOL: u64 = 8;
/// Smallest and largest segment size.
pub const MIN_SEGMENT_BYTES: u64 = 4 * 1024;
/// See [`MIN_SEGMENT_BYTES`].
pub const MAX_SEGMENT_BYTES: u64 = 8 * 1024 * 1024;
/// Longest segment file this spool writes (a full segment, or one record in
/// an empty one), so the most read from one at a time: bytes past it are
/// not records of ours and are cut off as torn.
pub const MAX_SEGMENT_FILE_BYTES: u64 = MAX_SEGMENT_BYTES + RECORD_HEADER + MAX_RECORD_BYTES as u64;
/// Bytes of the acked-position file (segment, offset, CRC-32).
pub const ACKED_BYTES: usize = 20;
/// fsync after this many unsynced records...
pub const SYNC_EVERY_RECORDS: usize = 64;
/// ...or once the oldest unsynced record is this old.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);
/// Name of the acked-position file.
pub const ACKED_FILE: &str = "acked";
/// Mode of the spool directory (events name people).
pub const SPOOL_DIR_MODE: u32 = 0o700;

/// Segment size for a spool of `max_bytes`.
pub fn segment_bytes(max_bytes: u64) -> u64 {
    (max_bytes / SEGMENTS_PER_SPOOL).clamp(MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES)
}

/// A position in the spool: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// Segment number.
    pub seg: u64,
    /// Byte offset in the segment.
    pub off: u64,
}

/// A spool that cannot be used.
#[derive(Debug, Error)]
pub enum SpoolError {
    /// A file or the directory failed.
    #[error("MQTT spool {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A record over [`MAX_RECORD_BYTES`].
    #[error("MQTT spool: a record of {0} bytes is too large")]
    TooLarge(usize),
}

/// The spool. See the module documentation.
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    segment_bytes: u64,
    /// Every segment and its size.
    segments: BTreeMap<u64, u64>,
    writer: Option<(u64, File)>,
    reader: Option<(u64, File)>,
    acked: Pos,
    acked_persisted: Pos,
    unsynced: usize,
    unsynced_since: Option<Instant>,
    dropped: u64,
    torn: u64,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static CRC_TABLE: [u32; 256] = crc_table();

/// CRC-32 (IEEE 802.3, as zlib).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

fn seg_name(seg: u64) -> String {
    format!("{seg:020}.seg")
}

impl Spool {
    /// Opens (creating, 0700) the spool in `dir`, bounded by `max_bytes`.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Self, SpoolError> {
        if !dir.is_dir() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(SPOOL_DIR_MODE)
                .create(dir)
                .map_err(io_err(dir))?;
        }
        let mut segments = BTreeMap::new();
        for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
            let entry = entry.map_err(io_err(dir))?;
            let name = entry.file_name();
            let Some(n) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".seg"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let len = entry.metadata().map_err(io_err(&entry.path()))?.len();
            segments.insert(n, len);
        }
        let mut spool = Self {
            dir: dir.to_path_buf(),
            max_bytes,
            segment_bytes: segment_bytes(max_bytes),
            segments,
            writer: None,
            reader: None,
            acked: Pos::default(),
            acked_persisted: Pos::default(),
            unsynced: 0,
            unsynced_since: None,
            dropped: 0,
            torn: 0,
        };
        spool.acked = spool.read_acked();
        spool.acked_persisted = spool.acked;
        spool.repair_tail()?;
        spool.delete_acked_segments();
        Ok(spool)
    }

    fn path(&self, seg: u64) -> PathBuf {
        self.dir.join(seg_name(seg))
    }

    fn read_acked(&self) -> Pos {
        let Ok(bytes) = read_at_most(&self.dir.join(ACKED_FILE), ACKED_BYTES as u64 + 1) else {
            return self.first_pos();
        };
        if bytes.len() != ACKED_BYTES
            || crc32(&bytes[..16]) != u32::from_le_bytes(le4(&bytes[16..20]))
        {
            log::warn!("MQTT spool: the acked position is unreadable: resending the whole spool");
            return self.first_pos();
        }
        Pos {
            seg: u64::from_le_bytes(le8(&bytes[..8])),
            off: u64::from_le_bytes(le8(&bytes[8..16])),
        }
    }

    /// The first record's position (the start of the oldest segment).
    fn first_pos(&self) -> Pos {
        Pos {
            seg: self.segments.keys().next().copied().unwrap_or(0),
            off: 0,
        }
    }

    /// Cuts the last segment at its first bad record.
    fn repair_tail(&mut self) -> Result<(), SpoolError> {
        let Some((&seg, &len)) = self.segments.iter().next_back() else {
            return Ok(());
        };
        let path = self.path(seg);
        let bytes = read_at_most(&path, MAX_SEGMENT_FILE_BYTES).map_err(io_err(&path))?;
        let mut off = 0usize;
        while let Some(next) = parse_record(&bytes, off).map(|(_, n)| n) {
            off = next;
        }
        if (off as u64) < len {
            log::warn!(
                "MQTT spool: dropped a torn record at the end of {} ({} bytes)",
                path.display(),
                len - off as u64
            );
            self.torn += 1;
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io_err(&path))?;
            f.set_len(off as u64).map_err(io_err(&path))?;
            f.sync_all().map_err(io_err(&path))?;
            self.segments.insert(seg, off as u64);
        }
        Ok(())
    }

    /// Appends one record (synced in batches, see [`Spool::sync_if_due`]).
    pub fn append(&mut self, data: &[u8]) -> Result<(), SpoolError> {
        if data.len() > MAX_RECORD_BYTES as usize {
            return Err(SpoolError::TooLarge(data.len()));
        }
        if data.is_empty() {
            // Not a record: zeroed bytes (what a power cut can leave at the
            // end of a file) would read as one.
            return Ok(());
        }
        let size = RECORD_HEADER + data.len() as u64;
        let last = self.segments.iter().next_back().map(|(&s, &l)| (s, l));
        let seg = match last {
            Some((s, l)) if l + size <= self.segment_bytes || l == 0 => s,
            Some((s, _)) => {
                self.sync()?;
                // The last possible segment number takes what follows.
                s.saturating_add(1)
            }
            None => self.acked.seg,
        };
        self.segments.entry(seg).or_insert(0);
        self.enforce_bound(size);
        if self.writer.as_ref().map(|(s, _)| *s) != Some(seg) {
            let path = self.path(seg);
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io_err(&path))?;
            self.writer = Some((seg, f));
        }
        let mut record = Vec::with_capacity(size as usize);
        record.extend_from_slice(&(data.len() as u32).to_le_bytes());
        record.extend_from_slice(&crc32(data).to_le_bytes());
        record.extend_from_slice(data);
        let path = self.path(seg);
        if let Some((_, f)) = self.writer.as_mut() {
            f.write_all(&record).map_err(io_err(&path))?;
        }
        *self.segments.entry(seg).or_insert(0) += size;
        self.unsynced += 1;
        self.unsynced_since.get_or_insert_with(Instant::now);
        if self.unsynced >= SYNC_EVERY_RECORDS {
            self.sync()?;
        }
        Ok(())
    }

    /// Deletes the oldest segments (never the one being written) until
    /// `incoming` more bytes fit in the bound; their unsent records are counted.
    fn enforce_bound(&mut self, incoming: u64) {
        while self.total_bytes() + incoming > self.max_bytes && self.segments.len() > 1 {
            let Some((&oldest, _)) = self.segments.iter().next() else {
                break;
            };
            let from = if self.acked.seg == oldest {
                self.acked.off
            } else if self.acked.seg > oldest {
                u64::MAX
            } else {
                0
            };
            let lost = self.count_records(oldest, from);
            self.dropped += lost;
            log::warn!("MQTT spool full: dropped the oldest {lost} undelivered event(s)");
            self.remove_segment(oldest);
            let first = self.first_pos();
            if self.acked < first {
                self.acked = first;
            }
        }
    }

    fn count_records(&self, seg: u64, from: u64) -> u64 {
        let Ok(bytes) = read_at_most(&self.path(seg), MAX_SEGMENT_FILE_BYTES) else {
            return 0;
        };
        let mut off = from.min(bytes.len() as u64) as usize;
        let mut n = 0;
        while let Some((_, next)) = parse_record(&bytes, off) {
            n += 1;
            off = next;
        }
        n
    }

    fn remove_segment(&mut self, seg: u64) {
        if self.reader.as_ref().is_some_and(|(s, _)| *s == seg) {
            self.reader = None;
        }
        if self.writer.as_ref().is_some_and(|(s, _)| *s == seg) {
            self.writer = None;
        }
        self.segments.remove(&seg);
        if let Err(e) = std::fs::remove_file(self.path(seg)) {
            log::warn!("MQTT spool: cannot delete segment {seg}: {e}");
        }
    }

    /// fsyncs the segment being written.
    pub fn sync(&mut self) -> Result<(), SpoolError> {
        if self.unsynced == 0 {
            return Ok(());
        }
        if let Some((seg, f)) = &self.writer {
            f.sync_data().map_err(io_err(&self.path(*seg)))?;
        }
        self.unsynced = 0;
        self.unsynced_since = None;
        Ok(())
    }

    /// fsyncs when the batch is due ([`SYNC_INTERVAL`]).
    pub fn sync_if_due(&mut self) -> Result<(), SpoolError> {
        if self
            .unsynced_since
            .is_some_and(|t| t.elapsed() >= SYNC_INTERVAL)
        {
            self.sync()?;
        }
        Ok(())
    }

    /// The record at or after `pos` and the position after it; `None` at
    /// the end. A position in a deleted segment moves to the oldest record;
    /// a corrupt record skips the rest of its segment (counted as torn).
    pub fn read(&mut self, pos: Pos) -> Result<Option<(Vec<u8>, Pos)>, SpoolError> {
        let mut pos = pos.max(self.first_pos());
        loop {
            let Some((&seg, &len)) = self.segments.range(pos.seg..).next() else {
                return Ok(None);
            };
            if seg != pos.seg {
                pos = Pos { seg, off: 0 };
            }
            if pos.off.saturating_add(RECORD_HEADER) <= len {
                if let Some(rec) = self.read_record(pos, len)? {
                    return Ok(Some(rec));
                }
                log::warn!("MQTT spool: corrupt record in segment {seg}: skipping the rest of it");
                self.torn += 1;
            }
            let Some(next) = seg.checked_add(1) else {
                return Ok(None);
            };
            pos = Pos { seg: next, off: 0 };
        }
    }

    fn read_record(&mut self, pos: Pos, len: u64) -> Result<Option<(Vec<u8>, Pos)>, SpoolError> {
        let path = self.path(pos.seg);
        if self.reader.as_ref().map(|(s, _)| *s) != Some(pos.seg) {
            let f = File::open(&path).map_err(io_err(&path))?;
            self.reader = Some((pos.seg, f));
        }
        let Some((_, f)) = self.reader.as_ref() else {
            return Ok(None);
        };
        let mut head = [0u8; RECORD_HEADER as usize];
        f.read_exact_at(&mut head, pos.off).map_err(io_err(&path))?;
        let n = u32::from_le_bytes(le4(&head[..4]));
        let crc = u32::from_le_bytes(le4(&head[4..8]));
        let end = pos.off.saturating_add(RECORD_HEADER + u64::from(n));
        if n == 0 || n > MAX_RECORD_BYTES || end > len {
            return Ok(None);
        }
        let mut data = vec![0u8; n as usize];
        f.read_exact_at(&mut data, pos.off + RECORD_HEADER)
            .map_err(io_err(&path))?;
        if crc32(&data) != crc {
            return Ok(None);
        }
        Ok(Some((
            data,
            Pos {
                seg: pos.seg,
                off: end,
            },
        )))
    }

    /// Everything before `upto` was delivered: remembers it (persisted by
    /// [`Spool::persist_ack`]) and deletes fully delivered segments.
    pub fn ack(&mut self, upto: Pos) {
        if upto > self.acked {
            self.acked = upto;
            self.delete_acked_segments();
        }
    }

    fn delete_acked_segments(&mut self) {
        let done: Vec<u64> = self
            .segments
            .iter()
            .filter(|(&s, &len)| {
                s < self.acked.seg
                    || (s == self.acked.seg
                        && self.acked.off >= len
                        && self
                            .segments
                            .range((Bound::Excluded(s), Bound::Unbounded))
                            .next()
                            .is_some())
            })
            .map(|(&s, _)| s)
            .collect();
        for s in done {
            self.remove_segment(s);
        }
        let first = self.first_pos();
        if self.acked < first {
            self.acked = first;
        }
    }

    /// Writes the acked position (atomically: temp file, rename) if it moved.
    pub fn persist_ack(&mut self) -> Result<(), SpoolError> {
        if self.acked == self.acked_persisted {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(20);
        bytes.extend_from_slice(&self.acked.seg.to_le_bytes());
        bytes.extend_from_slice(&self.acked.off.to_le_bytes());
        let crc = crc32(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        let path = self.dir.join(ACKED_FILE);
        let tmp = self.dir.join(format!("{ACKED_FILE}.tmp"));
        std::fs::write(&tmp, &bytes).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
        self.acked_persisted = self.acked;
        Ok(())
    }

    /// The delivered position.
    pub fn acked(&self) -> Pos {
        self.acked
    }

    /// Whether every record was delivered.
    pub fn all_acked(&mut self) -> Result<bool, SpoolError> {
        let acked = self.acked;
        Ok(self.read(acked)?.is_none())
    }

    /// Bytes on disk.
    pub fn total_bytes(&self) -> u64 {
        self.segments.values().sum()
    }

    /// Undelivered records dropped because the spool was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Torn or corrupt records dropped.
    pub fn torn(&self) -> u64 {
        self.torn
    }
}

/// The record at `off` in `bytes` and the offset after it, if whole and valid.
fn parse_record(bytes: &[u8], off: usize) -> Option<(&[u8], usize)> {
    let head = bytes.get(off..off + RECORD_HEADER as usize)?;
    let n = u32::from_le_bytes(le4(&head[..4]));
    if n == 0 || n > MAX_RECORD_BYTES {
        return None;
    }
    let start = off + RECORD_HEADER as usize;
    let data = bytes.get(start..start + n as usize)?;
    (crc32(data) == u32::from_le_bytes(le4(&head[4..8]))).then_some((data, start + n as usize))
}

/// The first `limit` bytes of the file at `path` (all of it when shorter).
fn read_at_most(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn le4(b: &[u8]) -> [u8; 4] {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    a
}

fn le8(b: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(spool: &mut Spool) -> Vec<String> {
        let mut pos = spool.acked();
        let mut out = Vec::new();
        while let Some((data, next)) = spool.read(pos).unwrap() {
            out.push(String::from_utf8(data).unwrap());
            pos = next;
        }
        out
    }

    fn record(data: &[u8]) -> Vec<u8> {
        let mut r = (data.len() as u32).to_le_bytes().to_vec();
        r.extend_from_slice(&crc32(data).to_le_bytes());
        r.extend_from_slice(data);
        r
    }

    fn acked_file(seg: u64, off: u64) -> Vec<u8> {
        let mut b = seg.to_le_bytes().to_vec();
        b.extend_from_slice(&off.to_le_bytes());
        let crc = crc32(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    #[test]
    fn the_last_segment_number_and_a_far_acked_offset_do_not_overflow() {
        // Found by the mqtt_spool fuzz target: a segment numbered u64::MAX
        // overflowed `seg + 1` (a panic with overflow checks, an endless
        // read loop without), and so did an acked offset near u64::MAX.
        let dir = tempfile::tempdir().unwrap();
        let last = dir.path().join(seg_name(u64::MAX));
        std::fs::write(&last, [record(b"a"), record(b"b")].concat()).unwrap();
        std::fs::write(dir.path().join(ACKED_FILE), acked_file(u64::MAX, 9)).unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(drain(&mut s), ["b"]);
        s.append(b"c").unwrap();
        assert_eq!(drain(&mut s), ["b", "c"]);
        let mut pos = s.acked();
        while let Some((_, next)) = s.read(pos).unwrap() {
            pos = next;
        }
        s.ack(pos);
        assert!(s.all_acked().unwrap());

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(seg_name(3)), record(b"x")).unwrap();
        std::fs::write(dir.path().join(ACKED_FILE), acked_file(3, u64::MAX - 3)).unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        assert!(drain(&mut s).is_empty());
        assert!(s.all_acked().unwrap());
    }

    #[test]
    fn an_oversized_last_segment_is_read_only_up_to_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(seg_name(1));
        let mut bytes = record(b"kept");
        bytes.resize(MAX_SEGMENT_FILE_BYTES as usize + 4096, 0xff);
        std::fs::write(&path, &bytes).unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(drain(&mut s), ["kept"]);
        assert_eq!(s.torn(), 1);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 12);
    }

    #[test]
    fn a_zeroed_tail_is_torn_not_a_run_of_empty_records() {
        // Found while testing the bound on segment reads: eight zero bytes are a valid
        // header for an empty record (CRC-32 of nothing is 0), so a tail of
        // zeros left by a power cut read as thousands of empty events.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(seg_name(1));
        let mut bytes = record(b"kept");
        bytes.resize(bytes.len() + 4096, 0);
        std::fs::write(&path, &bytes).unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(drain(&mut s), ["kept"]);
        assert_eq!(s.torn(), 1);
        s.append(b"").unwrap();
        assert_eq!(drain(&mut s), ["kept"]);
    }

    #[test]
    fn crc_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn append_read_ack_and_reopen_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        for i in 0..5 {
            s.append(format!("e{i}").as_bytes()).unwrap();
        }
        assert_eq!(drain(&mut s), ["e0", "e1", "e2", "e3", "e4"]);
        let (_, p1) = s.read(s.acked()).unwrap().unwrap();
        let (_, p2) = s.read(p1).unwrap().unwrap();
        s.ack(p2);
        s.persist_ack().unwrap();
        s.sync().unwrap();
        drop(s);
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(drain(&mut s), ["e2", "e3", "e4"]);
        s.append(b"e5").unwrap();
        assert_eq!(drain(&mut s), ["e2", "e3", "e4", "e5"]);
        assert_eq!((s.dropped(), s.torn()), (0, 0));
    }

    #[test]
    fn segments_rotate_and_acked_ones_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), 64 * 1024).unwrap();
        let rec = vec![b'x'; 1000];
        for _ in 0..20 {
            s.append(&rec).unwrap();
        }
        let segs = |d: &Path| {
            std::fs::read_dir(d)
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "seg")
                })
                .count()
        };
        assert!(segs(dir.path()) >= 2, "{}", segs(dir.path()));
        let mut pos = s.acked();
        while let Some((_, next)) = s.read(pos).unwrap() {
            pos = next;
        }
        s.ack(pos);
        assert_eq!(segs(dir.path()), 1);
        assert!(s.all_acked().unwrap());
    }

    #[test]
    fn a_full_spool_drops_the_oldest_and_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let max = 32 * 1024;
        let mut s = Spool::open(dir.path(), max).unwrap();
        for i in 0..100 {
            s.append(format!("{i:0>1000}").as_bytes()).unwrap();
        }
        assert!(s.total_bytes() <= max, "{}", s.total_bytes());
        let kept = drain(&mut s);
        assert_eq!(kept.len() as u64 + s.dropped(), 100);
        assert!(s.dropped() > 0);
        // The newest are kept, in order.
        assert_eq!(kept.last().unwrap(), &format!("{:0>1000}", 99));
        let first: u64 = kept[0].parse().unwrap();
        assert_eq!(first, s.dropped());
    }

    #[test]
    fn a_torn_tail_record_is_dropped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        s.append(b"whole-1").unwrap();
        s.append(b"whole-2").unwrap();
        s.sync().unwrap();
        drop(s);
        let seg = dir.path().join(seg_name(0));
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        // A header that promises 100 bytes, and 3 of them (power cut).
        f.write_all(&100u32.to_le_bytes()).unwrap();
        f.write_all(&0u32.to_le_bytes()).unwrap();
        f.write_all(b"abc").unwrap();
        drop(f);
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(s.torn(), 1);
        assert_eq!(drain(&mut s), ["whole-1", "whole-2"]);
        s.append(b"after").unwrap();
        assert_eq!(drain(&mut s), ["whole-1", "whole-2", "after"]);
        // A flipped bit in the last record is cut off too.
        s.sync().unwrap();
        drop(s);
        let mut bytes = std::fs::read(&seg).unwrap();
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        std::fs::write(&seg, &bytes).unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(s.torn(), 1);
        assert_eq!(drain(&mut s), ["whole-1", "whole-2"]);
    }

    #[test]
    fn a_garbled_acked_file_resends_everything() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        s.append(b"a").unwrap();
        s.sync().unwrap();
        drop(s);
        std::fs::write(dir.path().join(ACKED_FILE), b"garbage").unwrap();
        let mut s = Spool::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(drain(&mut s), ["a"]);
    }
}
