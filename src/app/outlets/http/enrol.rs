//! The enrolment and people endpoints. They ask the run's
//! [`EnrolService`]; the verify stage picks the new gallery up by itself.
//!
//! | path | what |
//! |---|---|
//! | `POST /api/enroll` | starts an enrolment from the live frames: `name`, `frames` (JSON or form); 202 and its status |
//! | `GET /api/enroll` | the latest enrolment's status |
//! | `GET /api/people` | the people enrolled (names and template counts) |
//! | `DELETE /api/people/{name}` | removes a person |
//!
//! A request that changes the gallery and comes from a page of another
//! origin (its `Origin` header names another host) is refused: a web page
//! the owner visits cannot enrol or remove anyone through their browser.

use serde::Deserialize;

use super::request::{parse_query, Request};
use super::server::respond;
use crate::app::enrol::{EnrolError, EnrolService};
use crate::verify::gallery::GalleryError;

/// The path prefix of one person.
pub const PERSON_PREFIX: &str = "/api/people/";

/// The body of `POST /api/enroll`.
#[derive(Debug, Deserialize)]
pub struct EnrolBody {
    /// Who to enrol (checked by the gallery when the enrolment begins).
    pub name: String,
    /// How many live frames to examine (default `verify.enroll_frames`).
    #[serde(default)]
    pub frames: Option<usize>,
}

/// An HTTP answer: status, content type, body.
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The body, JSON.
    pub body: String,
}

fn json(status: u16, value: serde_json::Value) -> Answer {
    Answer {
        status,
        body: value.to_string(),
    }
}

fn error(status: u16, message: impl std::fmt::Display) -> Answer {
    json(status, serde_json::json!({ "error": message.to_string() }))
}

/// The status an error maps to.
fn status_of(e: &EnrolError) -> u16 {
    match e {
        EnrolError::Busy { .. } => 409,
        EnrolError::Frames { .. } => 400,
        EnrolError::Gallery(GalleryError::BadName { .. }) => 400,
        EnrolError::Gallery(GalleryError::UnknownName { .. } | GalleryError::Missing { .. }) => 404,
        EnrolError::VerifyOff | EnrolError::Stopped => 503,
        _ => 500,
    }
}

/// True when the request comes from a page of another origin.
pub fn cross_origin(request: &Request) -> bool {
    let Some(origin) = request.header("origin") else {
        return false;
    };
    let host = request.header("host").unwrap_or("");
    let bare = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or(origin);
    bare != host
}

/// Parses the enrol body: JSON, or `name=..&frames=..`.
pub fn parse_body(request: &Request) -> Result<EnrolBody, String> {
    let text = std::str::from_utf8(&request.body).map_err(|_| "the body is not UTF-8")?;
    let is_json = request
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json"));
    if is_json {
        return serde_json::from_str(text).map_err(|e| format!("bad JSON body: {e}"));
    }
    let pairs = parse_query(text);
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let name = get("name").ok_or("give a name")?.to_string();
    let frames = match get("frames").filter(|v| !v.is_empty()) {
        Some(v) => Some(
            v.parse()
                .map_err(|_| format!("frames: not a number: {v}"))?,
        ),
        None => None,
    };
    Ok(EnrolBody { name, frames })
}

/// Answers an enrolment or people request.
pub fn answer(request: &Request, service: Option<&EnrolService>) -> Answer {
    use super::request::Method;
    let Some(service) = service else {
        return error(503, EnrolError::VerifyOff);
    };
    if request.method != Method::Get && cross_origin(request) {
        return error(403, "cross-origin request refused");
    }
    let path = request.path.as_str();
    match (&request.method, path) {
        (Method::Get, "/api/enroll") => json(200, serde_json::json!(service.status())),
        (Method::Post, "/api/enroll") => {
            let body = match parse_body(request) {
                Ok(b) => b,
                Err(e) => return error(400, e),
            };
            match service.begin(&body.name, body.frames) {
                Ok(status) => json(202, serde_json::json!(status)),
                Err(e) => error(status_of(&e), e),
            }
        }
        (Method::Get, "/api/people") => match service.people() {
            Ok(people) => json(200, serde_json::json!({ "people": people })),
            Err(e) => error(status_of(&e), e),
        },
        (Method::Delete, p) if p.starts_with(PERSON_PREFIX) => {
            match service.remove(&p[PERSON_PREFIX.len()..]) {
                Ok(removed) => json(200, serde_json::json!({ "removed": removed })),
                Err(e) => error(status_of(&e), e),
            }
        }
        _ => error(405, "method not allowed"),
    }
}

/// Writes `answer`.
pub fn write(stream: &mut impl std::io::Write, answer: &Answer) -> std::io::Result<()> {
    respond(
        stream,
        answer.status,
        "application/json",
        answer.body.as_bytes(),
        &[],
    )
}
