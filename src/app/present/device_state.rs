//! The device's current state as one JSON object: what an outlet publishes
//! (MQTT `state` topic) and what an HTTP outlet will serve at `/api/state`.
//! Defined once here, built from [`PresentState`].

use serde::Serialize;

use super::state::PresentState;
use crate::emotion::Emotion;
use crate::verify::decision::Identity;

/// Version of the state object's schema (`v`); raised when a field changes meaning.
pub const STATE_SCHEMA_VERSION: u32 = 1;

/// The lock as the verifier last reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockState {
    /// Nobody unlocked (also before any verdict, and with verification off).
    Locked,
    /// The owner unlocked the device.
    Unlocked,
}

/// The device's state. Fields other than `ts` are compared to decide whether
/// it changed ([`DeviceState::same_as`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceState {
    /// Schema version ([`STATE_SCHEMA_VERSION`]).
    pub v: u32,
    /// `locked` or `unlocked`.
    pub lock: LockState,
    /// Who is in view: an enrolled person's name, `"unknown"`, or `null`
    /// (nobody, or not decided yet).
    pub person: Option<String>,
    /// Faces in the latest frame.
    pub faces: usize,
    /// The driver's (largest face's) smoothed emotion, if known.
    pub emotion: Option<Emotion>,
    /// The driver-mood alert in progress (`angry`, `no_face`, ...), if any.
    pub alert: Option<String>,
    /// True while the unlock rate limit locks everyone out.
    pub lockout: bool,
    /// What the owner in view is asked to do after a failed liveness attempt
    /// ("move your head slightly"), while they keep trying; `null` otherwise.
    pub prompt: Option<String>,
    /// When this state was taken (UTC, RFC 3339).
    pub ts: String,
}

impl DeviceState {
    /// The state of `present`, stamped `ts`.
    pub fn from_present(present: &PresentState, ts: String) -> Self {
        let faces = present.analysis.as_ref().map(|a| a.faces.as_slice());
        let faces = faces.unwrap_or(&[]);
        let lock = match &present.verify {
            Some(v) if v.unlocked => LockState::Unlocked,
            _ => LockState::Locked,
        };
        let live = |track| faces.iter().any(|f| f.track == track);
        let identities = present
            .verify
            .iter()
            .flat_map(|v| v.faces.iter())
            .filter(|f| live(f.track));
        let mut person = None;
        let prompt = identities.clone().find_map(|f| f.prompt.clone());
        for f in identities {
            match &f.identity {
                Identity::Owner { name } => {
                    person = Some(name.clone());
                    break;
                }
                Identity::Unknown => person = Some("unknown".to_string()),
                Identity::Pending => {}
            }
        }
        let driver = faces
            .iter()
            .max_by(|a, b| a.detection.bbox.area().total_cmp(&b.detection.bbox.area()));
        let emotion = driver
            .and_then(|d| present.emotions.get(&d.track))
            .map(|s| s.emotion);
        let alert = present.alerts.keys().next().map(|k| k.name().to_string());
        let lockout = present
            .lockout_until
            .is_some_and(|until| present.media_time < until);
        Self {
            v: STATE_SCHEMA_VERSION,
            lock,
            person,
            faces: faces.len(),
            emotion,
            alert,
            lockout,
            prompt,
            ts,
        }
    }

    /// Equal in everything but the time stamp.
    pub fn same_as(&self, other: &DeviceState) -> bool {
        self.lock == other.lock
            && self.person == other.person
            && self.faces == other.faces
            && self.emotion == other.emotion
            && self.alert == other.alert
            && self.lockout == other.lockout
            && self.prompt == other.prompt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_state_is_locked_with_nobody() {
        let s = DeviceState::from_present(&PresentState::default(), "t".into());
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["lock"], "locked");
        assert!(json["person"].is_null());
        assert_eq!(json["faces"], 0);
        assert_eq!(json["lockout"], false);
        assert!(json["prompt"].is_null());
        assert_eq!(json["v"], STATE_SCHEMA_VERSION);
        let later = DeviceState::from_present(&PresentState::default(), "u".into());
        assert!(s.same_as(&later));
    }
}
