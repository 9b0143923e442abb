//! Reading one HTTP/1.1 request from a socket, with hard limits: the head is
//! parsed by `httparse` (hyper's parser) and must arrive whole within
//! [`HEAD_DEADLINE`] and [`MAX_HEAD_BYTES`]; a body is read only up to
//! [`MAX_BODY_BYTES`]. Anything else is an [`HttpError`] that maps to a
//! status code, never a panic.

use std::io::Read;
use std::time::{Duration, Instant};

use thiserror::Error;

/// Longest a client may take to send the request head (slow-loris guard).
pub const HEAD_DEADLINE: Duration = Duration::from_secs(5);
/// Largest request head accepted (request line and headers).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most headers accepted.
pub const MAX_HEADERS: usize = 32;
/// Largest request body accepted (the enrol form is a few bytes).
pub const MAX_BODY_BYTES: usize = 4 * 1024;

/// Why a request could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HttpError {
    /// The bytes are not an HTTP/1.x request.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The head or body is over its limit.
    #[error("request too large")]
    TooLarge,
    /// The client did not send its request in time.
    #[error("request timed out")]
    Timeout,
    /// The client closed the connection first.
    #[error("connection closed")]
    Closed,
}

impl HttpError {
    /// The status to answer with (`None`: close without answering).
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Malformed(_) => Some(400),
            HttpError::TooLarge => Some(413),
            HttpError::Timeout => Some(408),
            HttpError::Closed => None,
        }
    }
}

/// The method, as far as the routes care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET (and HEAD, answered as GET).
    Get,
    /// POST.
    Post,
    /// DELETE.
    Delete,
    /// Anything else.
    Other,
}

impl Method {
    /// The method's name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Other => "OTHER",
        }
    }
}

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path without the query.
    pub path: String,
    /// The query's `key=value` pairs, percent-decoded.
    pub query: Vec<(String, String)>,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body (at most [`MAX_BODY_BYTES`]).
    pub body: Vec<u8>,
}

impl Request {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The head's parts, parsed from bytes: a pure function (fuzzed).
/// `Ok(None)`: incomplete, read more.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Request, usize, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let status = req.parse(buf).map_err(|e| match e {
        httparse::Error::TooManyHeaders => HttpError::TooLarge,
        e => HttpError::Malformed(e.to_string()),
    })?;
    let head_len = match status {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let method = match req.method.unwrap_or("") {
        "GET" | "HEAD" => Method::Get,
        "POST" => Method::Post,
        "DELETE" => Method::Delete,
        _ => Method::Other,
    };
    let target = req.path.unwrap_or("/");
    if !target.starts_with('/') {
        return Err(HttpError::Malformed("request target is not a path".into()));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, parse_query(q)),
        None => (target, Vec::new()),
    };
    let mut content_length = 0usize;
    let mut out_headers = Vec::with_capacity(req.headers.len());
    for h in req.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        let value = String::from_utf8_lossy(h.value).into_owned();
        if name == "content-length" {
            content_length = value
                .trim()
                .parse()
                .map_err(|_| HttpError::Malformed("bad content-length".into()))?;
        }
        if name == "transfer-encoding" {
            return Err(HttpError::Malformed(
                "transfer-encoding is not accepted".into(),
            ));
        }
        out_headers.push((name, value));
    }
    if content_length > MAX_BODY_BYTES {
        return Err(HttpError::TooLarge);
    }
    Ok(Some((
        Request {
            method,
            path: percent_decode(path),
            query,
            headers: out_headers,
            body: Vec::new(),
        },
        head_len,
        content_length,
    )))
}

/// Reads one request from `stream` within the limits.
pub fn read_request(stream: &mut impl Read, deadline: Instant) -> Result<Request, HttpError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if Instant::now() >= deadline {
            return Err(HttpError::Timeout);
        }
        let n = match stream.read(&mut chunk) {
            Ok(0) => return Err(HttpError::Closed),
            Ok(n) => n,
            Err(e) if is_timeout(&e) => return Err(HttpError::Timeout),
            Err(_) => return Err(HttpError::Closed),
        };
        buf.extend_from_slice(&chunk[..n]);
        if let Some((mut req, head_len, body_len)) = parse_head(&buf)? {
            let mut body = buf.split_off(head_len);
            while body.len() < body_len {
                if Instant::now() >= deadline {
                    return Err(HttpError::Timeout);
                }
                match stream.read(&mut chunk) {
                    Ok(0) => return Err(HttpError::Closed),
                    Ok(n) => body.extend_from_slice(&chunk[..n]),
                    Err(e) if is_timeout(&e) => return Err(HttpError::Timeout),
                    Err(_) => return Err(HttpError::Closed),
                }
            }
            body.truncate(body_len);
            req.body = body;
            return Ok(req);
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(HttpError::TooLarge);
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// `a=1&b=two` into pairs, percent-decoded (`+` is a space).
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// `%41` to `A`; invalid escapes are kept as they are.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[u8]) -> Result<Option<(Request, usize, usize)>, HttpError> {
        parse_head(s)
    }

    #[test]
    fn a_plain_get_with_a_query() {
        let (r, n, body) =
            parse(b"GET /api/stream.mjpeg?fps=5&width=320 HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap()
                .unwrap();
        assert_eq!(r.method, Method::Get);
        assert_eq!(r.path, "/api/stream.mjpeg");
        assert_eq!(r.param("fps"), Some("5"));
        assert_eq!(r.param("width"), Some("320"));
        assert_eq!(r.header("host"), Some("x"));
        assert_eq!((n, body), (59, 0));
    }

    #[test]
    fn partial_heads_ask_for_more() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost").unwrap().is_none());
    }

    #[test]
    fn garbage_is_malformed_never_a_panic() {
        for bad in [
            &b"\x00\x01\x02 garbage\r\n\r\n"[..],
            b"GET\r\n\r\n",
            b"GET http://elsewhere/ HTTP/1.1\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert!(
                matches!(parse(bad), Err(HttpError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn bodies_over_the_limit_are_refused_before_reading() {
        let head = format!(
            "POST /api/enroll HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        assert_eq!(parse(head.as_bytes()).unwrap_err(), HttpError::TooLarge);
        assert_eq!(HttpError::TooLarge.status(), Some(413));
    }

    #[test]
    fn a_request_and_its_body_are_read() {
        let raw = b"POST /api/enroll HTTP/1.1\r\nContent-Length: 11\r\n\r\nname=owner&";
        let mut r = &raw[..];
        let req = read_request(&mut r, Instant::now() + HEAD_DEADLINE).unwrap();
        assert_eq!(req.method, Method::Post);
        assert_eq!(req.body, b"name=owner&");
    }

    #[test]
    fn an_endless_head_is_too_large() {
        let mut raw = b"GET / HTTP/1.1\r\n".to_vec();
        while raw.len() <= MAX_HEAD_BYTES + 2048 {
            raw.extend_from_slice(b"X-A: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        let mut r = &raw[..];
        let err = read_request(&mut r, Instant::now() + HEAD_DEADLINE).unwrap_err();
        assert_eq!(err, HttpError::TooLarge);
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(
            parse_query("name=Jo+Ann&frames=20"),
            vec![
                ("name".to_string(), "Jo Ann".to_string()),
                ("frames".to_string(), "20".to_string())
            ]
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        // A small deterministic fuzz loop over the parser (cargo-fuzz covers more).
        let mut s = 0x1234_5678_9abc_def0u64;
        for _ in 0..20_000 {
            let len = (s % 200) as usize;
            let mut buf = Vec::with_capacity(len);
            for _ in 0..len {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                buf.push(match s % 6 {
                    0 => b'\r',
                    1 => b'\n',
                    2 => b' ',
                    3 => b':',
                    _ => (s >> 8) as u8,
                });
            }
            let _ = parse_head(&buf);
            let mut prefixed = b"GET /".to_vec();
            prefixed.extend_from_slice(&buf);
            let _ = parse_head(&prefixed);
        }
    }
}
