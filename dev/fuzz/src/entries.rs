//! The fuzz entry points: one function per target, each feeding the bytes to
//! the library's own parser (the function the program calls on that input)
//! and checking what the program relies on afterwards. Shared, by `#[path]`,
//! between the fuzz targets (`dev/fuzz/fuzz_targets/`) and the corpus replay
//! in the normal test suite (`tests/it/fuzz_corpora.rs`), so both run the
//! same code. A panic here (in the library or in a check) is a finding; a
//! typed error is the expected answer to a bad input.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use vigil::app::config::Config;
use vigil::app::outlets::http::request::{parse_head, read_request, MAX_BODY_BYTES};
use vigil::app::outlets::http::server::authorise;
use vigil::app::outlets::http::{enrol, routes};
use vigil::app::outlets::mqtt::spool::{crc32, Spool, MAX_RECORD_BYTES};
use vigil::capture::formats::{self, I420Layout, PixelFormat};
use vigil::capture::SourceSpec;
use vigil::scene::{Head, NegativeSet};
use vigil::verify::gallery;

/// A fuzz entry point: the input bytes in, a panic out on a finding.
pub type Entry = fn(&[u8]);

/// The targets, by name (the fuzz target's and the corpus folder's name).
pub const TARGETS: [(&str, Entry); 7] = [
    ("config", config),
    ("gallery", gallery),
    ("scene_files", scene_files),
    ("mqtt_spool", mqtt_spool),
    ("http_request", http_request),
    ("raw_frames", raw_frames),
    ("dir_image", dir_image),
];

/// The gallery key the gallery target signs and checks with.
pub const GALLERY_KEY: [u8; 32] = [7u8; 32];
/// The model SHA-256 the gallery target expects.
pub const GALLERY_MODEL: &str = "abc123";

/// TOML text to a validated [`Config`]; a validated config must convert to
/// what the run builds from it without a panic: every `*_s` key to a
/// `Duration`, every `*fps` key to a frame interval, the source spec, the
/// broker URL and the HTTP bind address.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::from_toml(text, Path::new("fuzz.toml")) else {
        return;
    };
    let value = toml::Value::try_from(&config).expect("a validated config serialises");
    check_durations(&value, "");
    let _ = SourceSpec::parse(&config.capture.source);
    let _ = config.mqtt.broker();
    let _ = config.http.addr();
    let _ = config.emotion.smoothing_params();
    // Round trip: what the config writes back reads the same.
    let again = toml::to_string(&config).expect("a validated config serialises");
    let back = Config::from_toml(&again, Path::new("again.toml"));
    assert!(back.is_ok(), "a written config reads back: {back:?}");
}

/// Every number under a key ending in `_s` is a duration the run builds with
/// `Duration::from_secs_f64`, and every `*fps` a rate it takes the inverse of.
fn check_durations(value: &toml::Value, key: &str) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                check_durations(v, &format!("{key}.{k}"));
            }
        }
        toml::Value::Float(f) if key.ends_with("_s") => {
            assert!(
                Duration::try_from_secs_f64(*f).is_ok(),
                "{key} = {f} passed validation but is not a duration"
            );
        }
        toml::Value::Float(f) if key.ends_with("fps") => {
            assert!(
                Duration::try_from_secs_f64(1.0 / *f).is_ok(),
                "{key} = {f} passed validation but 1/{key} is not a duration"
            );
        }
        _ => {}
    }
}

/// Gallery bytes to a verified gallery or a typed error. The input is read
/// twice: as it is (checked with [`GALLERY_KEY`]), and, when its `gallery`
/// member has the shape of a gallery, re-signed with that key, so the checks
/// after the HMAC (model, names) are reached too.
pub fn gallery(data: &[u8]) {
    let path = Path::new("gallery.json");
    let key_path = Path::new("gallery.key");
    let key = || Ok(GALLERY_KEY.to_vec());
    let _ = gallery::parse(path, key_path, data, GALLERY_MODEL, key);
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Some(inner) = value.get("gallery").cloned() else {
        return;
    };
    let Ok(parsed) = serde_json::from_value::<gallery::Gallery>(inner) else {
        return;
    };
    let Ok(mac) = gallery::sign(&parsed, &GALLERY_KEY) else {
        return;
    };
    if let Some(obj) = value.as_object_mut() {
        obj.insert("hmac_sha256".into(), serde_json::Value::String(mac));
    }
    let Ok(signed) = serde_json::to_vec(&value) else {
        return;
    };
    if let Ok(g) = gallery::parse(path, key_path, &signed, GALLERY_MODEL, key) {
        for p in &g.people {
            assert!(gallery::validate_name(&p.name).is_ok());
        }
    }
}

/// The scene head and negatives files: the first byte picks the reader
/// (even: head, odd: negatives) and whether the rest is read as it is or
/// with its SHA-256 trailer appended (so the parser past the checksum is
/// reached).
pub fn scene_files(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let signed;
    let bytes = if sel & 2 == 0 {
        rest
    } else {
        let mut v = rest.to_vec();
        v.extend_from_slice(&Sha256::digest(rest));
        signed = v;
        &signed
    };
    if sel & 1 == 0 {
        let _ = Head::from_bytes(Path::new("head.bin"), bytes);
    } else {
        let _ = NegativeSet::from_bytes(Path::new("negatives.bin"), bytes);
    }
}

/// A spool folder after a power cut: the input is cut at `\n--\n` lines into
/// parts; the first is the `acked` file (with its CRC fixed when it is 16
/// bytes long), each next one a segment file whose number is its first line.
/// The spool must open, read every record in order and accept appends,
/// acks and a reopen, with no panic and no endless loop.
pub fn mqtt_spool(data: &[u8]) {
    let Ok(dir) = tempfile::Builder::new()
        .prefix("vigil-fuzz-spool")
        .tempdir_in(scratch())
    else {
        return;
    };
    let mut parts = split(data, b"\n--\n");
    let acked = parts.next().unwrap_or_default();
    let mut acked = acked.to_vec();
    if acked.len() == 16 {
        let crc = crc32(&acked);
        acked.extend_from_slice(&crc.to_le_bytes());
    }
    if !acked.is_empty() {
        let _ = std::fs::write(dir.path().join("acked"), &acked);
    }
    for part in parts.take(8) {
        let (name, body) = match part.iter().position(|&b| b == b'\n') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &[][..]),
        };
        let Some(n) = std::str::from_utf8(name)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        else {
            continue;
        };
        let _ = std::fs::write(dir.path().join(format!("{n:020}.seg")), body);
    }
    let bound = 64 * 1024;
    let Ok(mut spool) = Spool::open(dir.path(), bound) else {
        return;
    };
    let started = Instant::now();
    let mut pos = spool.acked();
    let mut records = 0;
    while let Ok(Some((rec, next))) = spool.read(pos) {
        assert!(
            next > pos,
            "the spool read went backwards: {pos:?} to {next:?}"
        );
        assert!(rec.len() <= MAX_RECORD_BYTES as usize);
        pos = next;
        records += 1;
        assert!(records < 100_000, "endless spool");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "spool read hangs"
        );
    }
    spool.ack(pos);
    let _ = spool.append(b"{\"event\":\"fuzz\"}");
    let _ = spool.sync();
    let _ = spool.persist_ack();
    drop(spool);
    if let Ok(mut again) = Spool::open(dir.path(), bound) {
        let mut pos = again.acked();
        let mut n = 0;
        while let Ok(Some((_, next))) = again.read(pos) {
            pos = next;
            n += 1;
            assert!(n < 100_000, "endless spool after reopen");
        }
    }
}

/// An HTTP request: the head parser on the whole input, the socket reader
/// on the input in small reads, then the token check and the route's query
/// parameters.
pub fn http_request(data: &[u8]) {
    if let Ok(Some((req, head_len, body_len))) = parse_head(data) {
        assert!(head_len <= data.len());
        assert!(body_len <= MAX_BODY_BYTES);
        let _ = authorise(&req, Some("s3cret"));
        let _ = authorise(&req, None);
    }
    let mut reader = Chunks { data, step: 7 };
    let deadline = Instant::now() + Duration::from_secs(5);
    if let Ok(req) = read_request(&mut reader, deadline) {
        assert!(req.body.len() <= MAX_BODY_BYTES);
        let _ = authorise(&req, Some("s3cret"));
        let _ = routes::stream_params(&req, 10.0, 640);
        enrol_request(&req);
    }
}

/// The enrolment routes' parsing (`POST /api/enroll` bodies, JSON or form;
/// `DELETE /api/people/{name}`; the origin check) and the same names through
/// the gallery's name check; the control socket's JSON line too.
fn enrol_request(req: &vigil::app::outlets::http::request::Request) {
    let _ = routes::allowed(&req.path);
    let _ = enrol::cross_origin(req);
    // Without a service every route answers 503, whatever the request.
    assert_eq!(enrol::answer(req, None).status, 503);
    if let Ok(body) = enrol::parse_body(req) {
        if gallery::validate_name(&body.name).is_ok() {
            assert!(!body.name.is_empty() && !body.name.contains(['/', '\\']));
        }
    }
    if let Some(name) = req.path.strip_prefix(enrol::PERSON_PREFIX) {
        let _ = gallery::validate_name(name);
    }
    if let Ok(line) = std::str::from_utf8(&req.body) {
        let _ = serde_json::from_str::<vigil::app::enrol::socket::Request>(line);
    }
}

/// A reader handing out at most `step` bytes a call (a slow socket).
struct Chunks<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// A raw frame from a video pipe or a camera: the first 8 bytes are the
/// format, width, height and (for I420) the row alignment; the rest is the
/// frame (short, long or garbage). Also ffprobe's output for that size.
pub fn raw_frames(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    let (head, frame) = data.split_at(8);
    let formats = [
        PixelFormat::Mjpeg,
        PixelFormat::Yuyv,
        PixelFormat::Nv12,
        PixelFormat::I420,
        PixelFormat::Rgb,
        PixelFormat::Bgr,
        PixelFormat::Grey,
    ];
    let format = formats[head[0] as usize % formats.len()];
    // Sizes up to 4095 x 4095, or a huge one when the top bit is set.
    let side = |a: u8, b: u8| {
        let v = u16::from_le_bytes([a, b]);
        if v & 0x8000 != 0 {
            u32::MAX - u32::from(v & 0x7fff)
        } else {
            u32::from(v & 0x0fff)
        }
    };
    let (w, h) = (side(head[1], head[2]), side(head[3], head[4]));
    if let Ok(img) = formats::decode(format, w, h, frame) {
        assert_eq!(img.dimensions(), (w, h));
    }
    let align = usize::from(head[5]);
    let layout = if head[6] & 1 == 0 {
        I420Layout::aligned(w, h, align)
    } else {
        I420Layout {
            width: w,
            height: h,
            y_stride: usize::from(head[5]) * 16 + usize::from(head[7]),
            uv_stride: usize::from(head[7]),
        }
    };
    if let Ok(img) = formats::decode_i420(&layout, frame) {
        assert_eq!(img.dimensions(), (w, h));
    }
    let _ = formats::jpeg_is_complete(frame);
    if let Ok(text) = std::str::from_utf8(frame) {
        if let Ok(info) = vigil::capture::parse_probe(Path::new("clip.mp4"), text) {
            assert!(info.width > 0 && info.height > 0);
            assert!(Duration::try_from_secs_f64(1.0 / info.fps).is_ok());
        }
    }
}

/// An image file of a `dir:` source, decoded as the folder source does.
pub fn dir_image(data: &[u8]) {
    let _ = vigil::capture::decode_rgb(Path::new("frame.png"), data);
}

/// Where the spool target makes its folders: memory when there is /dev/shm.
fn scratch() -> &'static Path {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        Path::new("/tmp")
    }
}

/// `data` cut at every `sep`.
fn split<'a>(data: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.windows(sep.len()).position(|w| w == sep) {
            Some(i) => {
                rest = Some(&r[i + sep.len()..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}
