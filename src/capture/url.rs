//! Stream URLs: which schemes are sources, redaction of their credentials,
//! and the ffmpeg input options for each protocol.

use std::time::Duration;

/// URL schemes read as network streams (by ffmpeg).
pub const STREAM_SCHEMES: [&str; 6] = ["rtsp", "rtsps", "http", "https", "tcp", "udp"];

/// What replaces a URL's `user:password` in logs, errors and descriptions.
pub const REDACTED: &str = "***";

/// True for `SCHEME://HOST...` with a stream scheme and a non-empty host.
pub fn is_stream_url(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    if !STREAM_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    !host.is_empty() && !host.starts_with(':') && !text.chars().any(char::is_whitespace)
}

/// `text` with the credentials of every URL in it replaced by `***`:
/// `rtsp://user:pass@host/x` becomes `rtsp://***@host/x`. Works on a single
/// URL and on free text holding URLs (ffmpeg's messages).
pub fn redact_url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(REDACTED);
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The scheme of a stream URL, lower case.
fn scheme(url: &str) -> String {
    url.split_once("://")
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default()
}

/// ffmpeg options placed before `-i URL`: low latency, a small probe, the
/// RTSP transport, and the protocol's I/O timeout (microseconds).
pub fn ffmpeg_input_args(url: &str, rtsp_transport: &str, timeout: Duration) -> Vec<String> {
    let micros = timeout.as_micros().to_string();
    let rtsp = matches!(scheme(url).as_str(), "rtsp" | "rtsps");
    // RTSP describes its streams in the SDP: no probing is needed, and
    // probing costs seconds before the first frame (measured: 2.0 s with a
    // 0.5 s probe, 0.2 s without, dev/streams/README.md).
    let (probesize, analyzeduration) = if rtsp {
        (RTSP_PROBESIZE_BYTES, "0")
    } else {
        (PROBESIZE_BYTES, ANALYZEDURATION_US)
    };
    let mut args: Vec<String> = [
        "-fflags",
        "nobuffer",
        "-flags",
        "low_delay",
        "-probesize",
        probesize,
        "-analyzeduration",
        analyzeduration,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    match scheme(url).as_str() {
        // The RTSP demuxer's socket I/O timeout (also bounds the connect).
        "rtsp" | "rtsps" => {
            args.extend(["-rtsp_transport".into(), rtsp_transport.to_string()]);
            args.extend(["-timeout".into(), micros]);
        }
        // http(s) (MJPEG or HLS), tcp, udp: the generic protocol read/write timeout.
        _ => args.extend(["-rw_timeout".into(), micros]),
    }
    args
}

/// ffmpeg `-probesize` for streams (bytes; ffmpeg's default is 5 MB): enough
/// for one key frame of a camera stream, small enough to start fast. With
/// `-fflags nobuffer` the packets read while probing are not decoded.
pub const PROBESIZE_BYTES: &str = "500000";
/// ffmpeg `-probesize` for RTSP (bytes; its minimum): the SDP names the codec.
pub const RTSP_PROBESIZE_BYTES: &str = "32";
/// ffmpeg `-analyzeduration` for streams (microseconds; default 5 s).
pub const ANALYZEDURATION_US: &str = "500000";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials_only() {
        assert_eq!(
            redact_url("rtsp://user:pass@cam.local:8554/live"),
            "rtsp://***@cam.local:8554/live"
        );
        assert_eq!(redact_url("rtsp://user@cam/x"), "rtsp://***@cam/x");
        // An @ in the password: everything before the last @ of the authority.
        assert_eq!(
            redact_url("https://u:p@ss@host/a@b?c=d@e"),
            "https://***@host/a@b?c=d@e"
        );
        assert_eq!(redact_url("rtsp://cam:554/x"), "rtsp://cam:554/x");
        assert_eq!(redact_url("http://host"), "http://host");
        assert_eq!(redact_url("no url here"), "no url here");
        // Free text with several URLs (ffmpeg's messages).
        assert_eq!(
            redact_url("[rtsp @ 0x1] rtsp://a:b@h1/x: 401, see udp://c:d@h2:5"),
            "[rtsp @ 0x1] rtsp://***@h1/x: 401, see udp://***@h2:5"
        );
        assert_eq!(redact_url("tcp://u:p@h:9 "), "tcp://***@h:9 ");
    }

    #[test]
    fn recognises_stream_urls() {
        for ok in [
            "rtsp://host:8554/cam",
            "rtsps://u:p@host/cam",
            "http://x",
            "https://cam/stream.m3u8",
            "tcp://10.0.0.2:5000",
            "udp://@:5000".replace('@', "0.0.0.0").as_str(),
            "RTSP://HOST/x",
        ] {
            assert!(is_stream_url(ok), "{ok}");
        }
        for bad in [
            "rtsp://",
            "http:x",
            "ftp://host/x",
            "rtsp://user@/x",
            "rtsp://:554/x",
            "file://x",
            "rtsp://host/a b",
        ] {
            assert!(!is_stream_url(bad), "{bad}");
        }
    }

    #[test]
    fn input_args_by_protocol() {
        let t = Duration::from_secs(5);
        let rtsp = ffmpeg_input_args("rtsp://h/x", "tcp", t).join(" ");
        assert!(rtsp.contains("-rtsp_transport tcp"), "{rtsp}");
        assert!(rtsp.contains("-timeout 5000000"), "{rtsp}");
        assert!(rtsp.contains("-fflags nobuffer -flags low_delay"), "{rtsp}");
        let http = ffmpeg_input_args("http://h/x.mjpg", "tcp", t).join(" ");
        assert!(http.contains("-rw_timeout 5000000"), "{http}");
        assert!(!http.contains("rtsp_transport"), "{http}");
    }
}
