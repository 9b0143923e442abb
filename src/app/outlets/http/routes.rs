//! The endpoints. Each answers from the [`Hub`]; none reaches into a stage.
//!
//! | path | what |
//! |---|---|
//! | `GET /` | the status page (served from the binary, no external assets) |
//! | `GET /login?token=T` | sets the token cookie for the page, then `/` |
//! | `GET /api/stream.mjpeg[?fps=F&width=W]` | the overlay as `multipart/x-mixed-replace` JPEG parts |
//! | `GET /api/snapshot.jpg[?width=W]` | the latest overlay frame |
//! | `GET /api/state` | the device state JSON (the MQTT `state` payload) |
//! | `GET /api/events[?frames=1]` | server-sent events of the event stream |
//! | `GET /api/stats` | FPS and per-stage counters, JSON |
//! | `GET /healthz` | 200 while frames flow, 503 while the source is lost |
//! | `GET /metrics` | Prometheus text format, `vigil_` prefix |
//! | `GET, POST /api/enroll`, `GET /api/people`, `DELETE /api/people/{name}` | enrolment and people ([`super::enrol`]) |

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::hub::Hub;
use super::metrics;
use super::request::{Method, Request};
use super::server::{reason, respond, ServerCtx, TOKEN_COOKIE};

/// The status page.
pub const PAGE: &str = include_str!("page.html");
/// Boundary between the JPEG parts of the MJPEG stream.
pub const BOUNDARY: &str = "vigilframe";
/// How long a snapshot waits for the presenter to draw a frame.
pub const SNAPSHOT_WAIT: Duration = Duration::from_secs(2);
/// A comment line keeps an idle event stream open this often.
pub const SSE_KEEPALIVE: Duration = Duration::from_secs(15);
/// Most frames per second a viewer may ask for.
pub const MAX_STREAM_FPS: f64 = 30.0;
/// Fewest frames per second a viewer may ask for (`?fps=1e-300` would be a
/// frame interval no `Duration` holds).
pub const MIN_STREAM_FPS: f64 = 0.1;

/// The methods `path` answers; `None` for an unknown path.
pub fn allowed(path: &str) -> Option<&'static [Method]> {
    const GET: &[Method] = &[Method::Get];
    match path {
        "/" | "/login" | "/api/stream.mjpeg" | "/api/snapshot.jpg" | "/api/state"
        | "/api/events" | "/api/stats" | "/healthz" | "/metrics" | "/api/people" => Some(GET),
        "/api/enroll" => Some(&[Method::Get, Method::Post]),
        p if p.len() > super::enrol::PERSON_PREFIX.len()
            && p.starts_with(super::enrol::PERSON_PREFIX) =>
        {
            Some(&[Method::Delete])
        }
        _ => None,
    }
}

/// Answers `request` on `stream`.
pub fn serve(request: &Request, stream: &mut TcpStream, ctx: &ServerCtx) {
    let Some(methods) = allowed(&request.path) else {
        let _ = respond(stream, 404, "text/plain", b"not found\n", &[]);
        return;
    };
    if !methods.contains(&request.method) {
        let allow: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
        let _ = respond(
            stream,
            405,
            "text/plain",
            b"method not allowed\n",
            &[("Allow", &allow.join(", "))],
        );
        return;
    }
    if request.path == "/api/enroll" || request.path.starts_with("/api/people") {
        let answer = super::enrol::answer(request, ctx.enrol.as_ref());
        if let Err(e) = super::enrol::write(stream, &answer) {
            log::debug!("http: {} ended: {e}", request.path);
        }
        return;
    }
    let hub = &ctx.hub;
    let result = match request.path.as_str() {
        "/" => respond(
            stream,
            200,
            "text/html; charset=utf-8",
            PAGE.as_bytes(),
            &[("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'")],
        ),
        "/login" => login(request, stream, ctx),
        "/api/stream.mjpeg" => stream_mjpeg(request, stream, ctx),
        "/api/snapshot.jpg" => snapshot(request, stream, hub, ctx.stream_width),
        "/api/state" => respond(stream, 200, "application/json", hub.state_json().as_bytes(), &[]),
        "/api/events" => events(request, stream, hub),
        "/api/stats" => {
            let (fps, stages, lost) = hub.stats();
            let body = serde_json::json!({
                "fps": fps,
                "stages": stages,
                "source_lost": lost,
                "viewers": hub.viewers(),
                "uptime_s": hub.uptime_s(),
            });
            respond(stream, 200, "application/json", body.to_string().as_bytes(), &[])
        }
        "/healthz" => match hub.healthy() {
            Ok(()) => respond(stream, 200, "text/plain", b"ok\n", &[]),
            Err(why) => respond(stream, 503, "text/plain", format!("{why}\n").as_bytes(), &[]),
        },
        "/metrics" => respond(
            stream,
            200,
            "text/plain; version=0.0.4",
            metrics::render(hub).as_bytes(),
            &[],
        ),
        _ => respond(stream, 404, "text/plain", b"not found\n", &[]),
    };
    if let Err(e) = result {
        log::debug!("http: {} ended: {e}", request.path);
    }
}

fn login(request: &Request, stream: &mut TcpStream, ctx: &ServerCtx) -> std::io::Result<()> {
    let given = request.param("token").unwrap_or("");
    match ctx.token.as_deref() {
        Some(t) if super::server::constant_time_eq(given.as_bytes(), t.as_bytes()) => {
            let cookie = format!("{TOKEN_COOKIE}={given}; HttpOnly; SameSite=Strict; Path=/");
            respond(
                stream,
                302,
                "text/plain",
                b"",
                &[("Set-Cookie", &cookie), ("Location", "/")],
            )
        }
        Some(_) => respond(stream, 401, "text/plain", b"wrong token\n", &[]),
        None => respond(stream, 302, "text/plain", b"", &[("Location", "/")]),
    }
}

/// `?name=N` as a number, else `default`.
fn number(request: &Request, name: &str, default: f64) -> f64 {
    request
        .param(name)
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0)
        .unwrap_or(default)
}

/// `?width=W` in pixels (0 = the overlay's own width), else `default`.
fn pixels(request: &Request, default: u32) -> u32 {
    request
        .param("width")
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(default)
}

/// The MJPEG stream's frame interval and width from `?fps=F&width=W`, else
/// the defaults. A pure function (fuzzed).
pub fn stream_params(request: &Request, default_fps: f64, default_width: u32) -> (Duration, u32) {
    let fps = number(request, "fps", default_fps).clamp(MIN_STREAM_FPS, MAX_STREAM_FPS);
    (
        Duration::from_secs_f64(1.0 / fps),
        pixels(request, default_width),
    )
}

fn stream_mjpeg(request: &Request, stream: &mut TcpStream, ctx: &ServerCtx) -> std::io::Result<()> {
    let hub = &ctx.hub;
    let Some(_viewer) = hub.join_viewer(ctx.max_viewers) else {
        return respond(
            stream,
            503,
            "text/plain",
            format!("at most {} viewers\n", ctx.max_viewers).as_bytes(),
            &[("Retry-After", "5")],
        );
    };
    let (interval, width) = stream_params(request, ctx.stream_fps, ctx.stream_width);
    write!(
        stream,
        "HTTP/1.1 200 {}\r\nContent-Type: multipart/x-mixed-replace; boundary={BOUNDARY}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        reason(200)
    )?;
    let mut last = 0;
    let mut next_due = Instant::now();
    while !hub.stopping() {
        let Some(frame) = hub.next_frame(last, Duration::from_secs(1)) else {
            continue;
        };
        last = frame.seq;
        let Some(jpeg) = frame.jpeg(width) else {
            continue;
        };
        // How old the frame is as its part leaves: capture to viewer.
        write!(
            stream,
            "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\
             X-Vigil-Age-Ms: {:.1}\r\n\r\n",
            jpeg.len(),
            frame.captured.elapsed().as_secs_f64() * 1e3
        )?;
        stream.write_all(&jpeg)?;
        stream.write_all(b"\r\n")?;
        stream.flush()?;
        next_due += interval;
        let now = Instant::now();
        if next_due > now {
            std::thread::sleep(next_due - now);
        } else {
            next_due = now;
        }
    }
    Ok(())
}

fn snapshot(
    request: &Request,
    stream: &mut TcpStream,
    hub: &Hub,
    default_width: u32,
) -> std::io::Result<()> {
    let width = pixels(request, default_width);
    match hub.snapshot(SNAPSHOT_WAIT).and_then(|f| f.jpeg(width)) {
        Some(jpeg) => respond(stream, 200, "image/jpeg", &jpeg, &[]),
        None => respond(stream, 503, "text/plain", b"no frame yet\n", &[]),
    }
}

fn events(request: &Request, stream: &mut TcpStream, hub: &Arc<Hub>) -> std::io::Result<()> {
    let with_frames = request
        .param("frames")
        .is_some_and(|v| v == "1" || v == "true");
    let _frames = with_frames.then(|| hub.listen_frames());
    write!(
        stream,
        "HTTP/1.1 200 {}\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\
         Connection: close\r\n\r\n: vigil events\n\n",
        reason(200)
    )?;
    stream.flush()?;
    // A client resuming with Last-Event-ID gets what it missed (still kept).
    let mut last = request
        .header("last-event-id")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| hub.last_event_id());
    let mut quiet_since = Instant::now();
    while !hub.stopping() {
        let batch = hub.events_after(last, Duration::from_secs(1));
        for (id, kind, json) in &batch {
            last = *id;
            if kind == "frame" && !with_frames {
                continue;
            }
            write!(stream, "id: {id}\nevent: {kind}\ndata: {json}\n\n")?;
            quiet_since = Instant::now();
        }
        if quiet_since.elapsed() >= SSE_KEEPALIVE {
            stream.write_all(b": keep-alive\n\n")?;
            quiet_since = Instant::now();
        }
        stream.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::outlets::http::request::parse_head;

    fn params(target: &str) -> (Duration, u32) {
        let raw = format!("GET {target} HTTP/1.1\r\n\r\n");
        let req = parse_head(raw.as_bytes()).unwrap().unwrap().0;
        stream_params(&req, 10.0, 640)
    }

    #[test]
    fn stream_rates_are_clamped_so_any_fps_is_a_duration() {
        // Found by the http_request fuzz target: ?fps=1e-300 passed the
        // "finite and positive" filter and 1/fps panicked in Duration.
        assert_eq!(
            params("/api/stream.mjpeg"),
            (Duration::from_millis(100), 640)
        );
        assert_eq!(
            params("/api/stream.mjpeg?fps=1e-300").0,
            Duration::from_secs_f64(1.0 / MIN_STREAM_FPS)
        );
        assert_eq!(
            params("/api/stream.mjpeg?fps=1e300").0,
            Duration::from_secs_f64(1.0 / MAX_STREAM_FPS)
        );
        for bad in ["nan", "-1", "0", "inf", "x"] {
            assert_eq!(
                params(&format!("/api/stream.mjpeg?fps={bad}")).0,
                Duration::from_millis(100)
            );
        }
        assert_eq!(params("/api/stream.mjpeg?width=320").1, 320);
    }
}
