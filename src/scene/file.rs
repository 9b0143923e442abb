//! Binary file helpers shared by the negatives file and the head file:
//! little-endian writer and bounds-checked reader, a SHA-256 trailer, f16
//! packing, and an atomic, private, durable write.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::SceneError;

/// Bytes of the SHA-256 trailer.
pub const DIGEST_LEN: usize = 32;

/// Appends little-endian values to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new(magic: &[u8]) -> Self {
        Self {
            buf: magic.to_vec(),
        }
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn f32(&mut self, v: f32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn f32s(&mut self, v: &[f32]) {
        for x in v {
            self.f32(*x);
        }
    }

    pub fn f16s(&mut self, v: &[f32]) {
        for x in v {
            self.buf.extend_from_slice(&f32_to_f16(*x).to_le_bytes());
        }
    }

    pub fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// A string prefixed with its length (u32).
    pub fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.bytes(s.as_bytes());
    }

    /// The buffer with its SHA-256 appended.
    pub fn finish(mut self) -> Vec<u8> {
        let digest = Sha256::digest(&self.buf);
        self.buf.extend_from_slice(&digest);
        self.buf
    }
}

/// Reads what [`Writer`] wrote; every read is bounds-checked.
#[derive(Debug)]
pub struct Reader<'a> {
    path: &'a Path,
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Checks the magic and the SHA-256 trailer, and positions after the magic.
    pub fn open(path: &'a Path, bytes: &'a [u8], magic: &[u8]) -> Result<Self, SceneError> {
        let bad = |message: &str| SceneError::File {
            path: path.to_path_buf(),
            message: message.to_string(),
        };
        if bytes.len() < magic.len() + DIGEST_LEN || &bytes[..magic.len()] != magic {
            return Err(bad("not a file of this kind (wrong magic bytes)"));
        }
        let (body, digest) = bytes.split_at(bytes.len() - DIGEST_LEN);
        if Sha256::digest(body).as_slice() != digest {
            return Err(bad("checksum mismatch: the file is truncated or corrupt"));
        }
        Ok(Self {
            path,
            data: body,
            pos: magic.len(),
        })
    }

    pub fn error(&self, message: impl Into<String>) -> SceneError {
        SceneError::File {
            path: self.path.to_path_buf(),
            message: message.into(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], SceneError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or_else(|| self.error(format!("truncated at byte {}", self.pos)))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8, SceneError> {
        Ok(self.take(1)?[0])
    }

    pub fn u32(&mut self) -> Result<u32, SceneError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn f32(&mut self) -> Result<f32, SceneError> {
        let b = self.take(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn f32s(&mut self, n: usize) -> Result<Vec<f32>, SceneError> {
        let bytes = self.take(n.checked_mul(4).ok_or_else(|| self.error("size"))?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    pub fn f16s(&mut self, n: usize) -> Result<Vec<f32>, SceneError> {
        let bytes = self.take(n.checked_mul(2).ok_or_else(|| self.error("size"))?)?;
        Ok(bytes
            .chunks_exact(2)
            .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
            .collect())
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], SceneError> {
        self.take(n)
    }

    pub fn str(&mut self) -> Result<String, SceneError> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| self.error("a name is not UTF-8"))
    }

    /// Error unless every byte was read.
    pub fn finish(&self) -> Result<(), SceneError> {
        if self.pos == self.data.len() {
            Ok(())
        } else {
            Err(self.error(format!(
                "{} unexpected bytes after the data",
                self.data.len() - self.pos
            )))
        }
    }
}

/// Largest head or negatives file read (bytes; the bundled negatives are
/// under 3 MB, a head about 25 KB).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a whole file of at most [`MAX_FILE_BYTES`], with an error naming it.
pub fn read(path: &Path) -> Result<Vec<u8>, SceneError> {
    crate::core::check::read_bounded(path, MAX_FILE_BYTES).map_err(|source| SceneError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder,
/// mode 0600, fsync, rename over `path`, then fsync of the folder. A crash
/// leaves either the old file or the new one, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SceneError> {
    let io = |p: &Path| {
        let p: PathBuf = p.to_path_buf();
        move |source: std::io::Error| SceneError::Io { path: p, source }
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scene".into());
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut f = options.open(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io(path))?;
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// IEEE half precision, round to nearest even; saturates to infinity.
pub fn f32_to_f16(v: f32) -> u16 {
    let x = v.to_bits();
    let sign = ((x >> 16) & 0x8000) as u16;
    let exp = ((x >> 23) & 0xff) as i32;
    let man = x & 0x007f_ffff;
    if exp == 0xff {
        // Inf or NaN (keep NaN a NaN).
        return sign | 0x7c00 | if man != 0 { 0x0200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        // Subnormal half.
        let m = man | 0x0080_0000;
        let shift = (14 - e) as u32;
        let half = m >> shift;
        let rem = m & ((1 << shift) - 1);
        let mid = 1 << (shift - 1);
        let round = rem > mid || (rem == mid && (half & 1) == 1);
        return sign | (half + round as u32) as u16;
    }
    let half = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1fff;
    let round = rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1);
    // A carry out of the mantissa correctly bumps the exponent (up to infinity).
    sign | (half + round as u32) as u16
}

pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h & 0x8000) as u32) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x03ff) as u32;
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: normalise.
            let mut e = 127 - 15 + 1;
            let mut m = m;
            while m & 0x0400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | ((e as u32) << 23) | ((m & 0x03ff) << 13)
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_round_trips_representable_values_and_rounds_others() {
        for v in [
            0.0f32,
            1.0,
            -2.5,
            0.333_251_95,
            6.0,
            65504.0,
            6.103_515_6e-5,
            5.96e-8,
        ] {
            let back = f16_to_f32(f32_to_f16(v));
            assert!((back - v).abs() <= v.abs() * 1e-3 + 1e-7, "{v} -> {back}");
        }
        assert_eq!(f16_to_f32(f32_to_f16(1e6)), f32::INFINITY);
        assert!(f16_to_f32(f32_to_f16(f32::NAN)).is_nan());
        // Relative error of f16 is at most 2^-11 in the normal range.
        for i in 0..2000 {
            let v = i as f32 * 0.003_7 + 0.01;
            let back = f16_to_f32(f32_to_f16(v));
            assert!(((back - v) / v).abs() <= 4.9e-4, "{v} -> {back}");
        }
    }

    #[test]
    fn reader_rejects_bad_magic_truncation_and_corruption() {
        let mut w = Writer::new(b"TEST");
        w.u32(7);
        w.str("abc");
        let bytes = w.finish();
        let p = Path::new("x.bin");
        let mut r = Reader::open(p, &bytes, b"TEST").unwrap();
        assert_eq!(r.u32().unwrap(), 7);
        assert_eq!(r.str().unwrap(), "abc");
        r.finish().unwrap();
        assert!(r.u8().is_err());

        assert!(Reader::open(p, &bytes, b"NOPE").is_err());
        assert!(Reader::open(p, &bytes[..bytes.len() - 1], b"TEST").is_err());
        let mut bad = bytes.clone();
        bad[5] ^= 1;
        let err = Reader::open(p, &bad, b"TEST").unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
    }

    #[test]
    fn atomic_write_replaces_the_file_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/head.bin");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temporary file left behind.
        let n = std::fs::read_dir(p.parent().unwrap()).unwrap().count();
        assert_eq!(n, 1);
    }
}
