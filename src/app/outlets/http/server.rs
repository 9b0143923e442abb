//! The listening socket and its connections: one accept thread, one thread
//! per connection up to `http.max_connections` (one more gets 503 at once),
//! a deadline on every request head, and the token check. Threads come from
//! [`crate::pipeline::worker::spawn_task`]; the pipeline never waits on them.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::hub::Hub;
use super::request::{read_request, HttpError, Request, HEAD_DEADLINE};
use super::routes;
use crate::pipeline::worker::{spawn_task, Worker};

/// How often the accept loop looks at the stop flag.
pub const ACCEPT_POLL: Duration = Duration::from_millis(100);
/// Longest a write to a client may block (a stalled viewer is dropped).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What every connection thread shares.
pub struct ServerCtx {
    /// The hub.
    pub hub: Arc<Hub>,
    /// The access token, when one is set.
    pub token: Option<String>,
    /// Most MJPEG viewers.
    pub max_viewers: usize,
    /// Default stream frame rate.
    pub stream_fps: f64,
    /// Default stream width.
    pub stream_width: u32,
    /// Enrolment and people (`None` with verification off).
    pub enrol: Option<crate::app::enrol::EnrolService>,
}

/// The running server; [`Server::stop`] ends it.
pub struct Server {
    addr: SocketAddr,
    hub: Arc<Hub>,
    accept: Option<Worker>,
}

impl Server {
    /// Binds `addr` and starts accepting.
    pub fn start(
        addr: SocketAddr,
        ctx: ServerCtx,
        max_connections: usize,
    ) -> Result<Self, std::io::Error> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let hub = ctx.hub.clone();
        let ctx = Arc::new(ctx);
        let active = Arc::new(AtomicUsize::new(0));
        let accept = spawn_task("vigil-http", move || {
            accept_loop(listener, ctx, active, max_connections)
        })
        .map_err(|e| std::io::Error::other(e.to_string()))?;
        log::info!("http: live view and API on http://{addr}/");
        Ok(Self {
            addr,
            hub,
            accept: Some(accept),
        })
    }

    /// The address it listens on (the port is known when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and ends the streams.
    pub fn stop(&mut self) {
        self.hub.stop();
        if let Some(w) = self.accept.take() {
            if let Err(e) = w.join() {
                log::warn!("http: {e}");
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(
    listener: TcpListener,
    ctx: Arc<ServerCtx>,
    active: Arc<AtomicUsize>,
    max_connections: usize,
) {
    while !ctx.hub.stopping() {
        let (stream, _) = match listener.accept() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(ACCEPT_POLL);
                continue;
            }
            Err(e) => {
                log::warn!("http: accept failed: {e}");
                std::thread::sleep(ACCEPT_POLL);
                continue;
            }
        };
        if stream.set_nonblocking(false).is_err() {
            continue;
        }
        let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
        if active.fetch_add(1, Ordering::AcqRel) >= max_connections {
            active.fetch_sub(1, Ordering::AcqRel);
            let mut stream = stream;
            let _ = respond(
                &mut stream,
                503,
                "text/plain",
                b"too many connections\n",
                &[],
            );
            continue;
        }
        let (ctx, active2) = (ctx.clone(), active.clone());
        let spawned = spawn_task("vigil-http-conn", move || {
            connection(stream, &ctx);
            active2.fetch_sub(1, Ordering::AcqRel);
        });
        if let Err(e) = spawned {
            active.fetch_sub(1, Ordering::AcqRel);
            log::warn!("http: {e}");
        }
    }
}

/// Serves one connection: one request (no keep-alive: the page's requests
/// are few, and streams hold their own connection).
fn connection(mut stream: TcpStream, ctx: &ServerCtx) {
    let _ = stream.set_read_timeout(Some(HEAD_DEADLINE));
    let request = match read_request(&mut stream, Instant::now() + HEAD_DEADLINE) {
        Ok(r) => r,
        Err(e) => {
            if let Some(status) = e.status() {
                let body = format!("{e}\n");
                let _ = respond(&mut stream, status, "text/plain", body.as_bytes(), &[]);
            }
            if !matches!(e, HttpError::Closed) {
                log::debug!("http: {e}");
            }
            return;
        }
    };
    if let Err(status) = authorise(&request, ctx.token.as_deref()) {
        let _ = respond(
            &mut stream,
            status,
            "text/plain",
            b"a token is needed: Authorization: Bearer TOKEN, or open /login?token=TOKEN\n",
            &[("WWW-Authenticate", "Bearer")],
        );
        return;
    }
    routes::serve(&request, &mut stream, ctx);
}

/// Every path but `/healthz` and `/login` needs the token when one is set
/// (`Err`: the status to answer). A pure function (fuzzed).
pub fn authorise(request: &Request, token: Option<&str>) -> Result<(), u16> {
    let Some(token) = token else {
        return Ok(());
    };
    if request.path == "/healthz" || request.path == "/login" {
        return Ok(());
    }
    let bearer = request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let cookie = request.header("cookie").and_then(|c| {
        c.split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == TOKEN_COOKIE)
            .map(|(_, v)| v)
    });
    let given = bearer.or(cookie).unwrap_or("");
    if constant_time_eq(given.as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        Err(401)
    }
}

/// Name of the cookie `/login` sets.
pub const TOKEN_COOKIE: &str = "vigil_token";

/// Compares without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= (x ^ y) as u64;
    }
    diff == 0
}

/// Writes a whole response and closes.
pub fn respond(
    stream: &mut impl Write,
    status: u16,
    content_type: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

/// The reason phrase of a status.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        202 => "Accepted",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::outlets::http::request::parse_head;

    fn req(raw: &str) -> Request {
        parse_head(raw.as_bytes()).unwrap().unwrap().0
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn the_token_is_needed_everywhere_but_health() {
        let t = Some("s3cret");
        assert_eq!(
            authorise(&req("GET /api/state HTTP/1.1\r\n\r\n"), t),
            Err(401)
        );
        assert_eq!(authorise(&req("GET /healthz HTTP/1.1\r\n\r\n"), t), Ok(()));
        let bearer = "GET /api/state HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n";
        assert_eq!(authorise(&req(bearer), t), Ok(()));
        let cookie = "GET / HTTP/1.1\r\nCookie: a=b; vigil_token=s3cret\r\n\r\n";
        assert_eq!(authorise(&req(cookie), t), Ok(()));
        let wrong = "GET / HTTP/1.1\r\nAuthorization: Bearer s3cre\r\n\r\n";
        assert_eq!(authorise(&req(wrong), t), Err(401));
        assert_eq!(authorise(&req("GET / HTTP/1.1\r\n\r\n"), None), Ok(()));
    }
}
