//! Home Assistant MQTT device discovery: one retained message describing
//! the device and its entities (`cmps`), all read from the `state` topic or
//! the `event/<kind>` topics. The lock is a `binary_sensor` (device class
//! `lock`), never an MQTT `lock` entity: nothing on the network can unlock,
//! and Vigil subscribes to no command topic.

use serde_json::{json, Value};

use super::Topics;
use crate::attention::AttentionKind;
use crate::emotion::{AlertKind, Emotion};

/// Verify event types (the `verify` field of verify events).
pub const VERIFY_EVENT_TYPES: [&str; 7] = [
    "identity",
    "unlocked",
    "locked",
    "unlock_failed",
    "liveness_failed",
    "locked_out",
    "error",
];

/// Alert event types: `<kind>_start` / `<kind>_end` for every alert kind,
/// driver mood and driver attention (one alert stream).
pub fn alert_event_types() -> Vec<String> {
    let kinds = Emotion::ALL
        .iter()
        .map(|e| AlertKind::Emotion(*e))
        .chain([AlertKind::NoFace]);
    let names = kinds
        .map(|k| k.name())
        .chain(AttentionKind::ALL.iter().map(|k| k.name()));
    names
        .flat_map(|k| [format!("{k}_start"), format!("{k}_end")])
        .collect()
}

/// The discovery message for `topics`; with `snapshots`, an `image` entity
/// showing the latest unknown face too.
pub fn message(topics: &Topics, snapshots: bool) -> Value {
    let id = &topics.device_id;
    let uid = |what: &str| format!("vigil_{id}_{what}");
    let emotions: Vec<&str> = Emotion::ALL.iter().map(|e| e.name()).collect();
    let mut emotion_options = emotions.clone();
    emotion_options.push("none");
    let version = env!("CARGO_PKG_VERSION");
    let mut message = json!({
        "dev": {
            "ids": [format!("vigil_{id}")],
            "name": format!("Vigil {id}"),
            "mf": "Vigil",
            "mdl": "Vigil face monitor",
            "sw": version,
        },
        "o": {
            "name": "vigil",
            "sw": version,
            "url": "https://example.invalid/vigil",
        },
        "avty_t": topics.availability(),
        "stat_t": topics.state(),
        "qos": 1,
        "cmps": {
            "lock": {
                "p": "binary_sensor",
                "name": "Lock",
                "uniq_id": uid("lock"),
                "dev_cla": "lock",
                "val_tpl": "{{ value_json.lock }}",
                "pl_on": "unlocked",
                "pl_off": "locked",
            },
            "person": {
                "p": "sensor",
                "name": "Person",
                "uniq_id": uid("person"),
                "ic": "mdi:account",
                "val_tpl": "{{ value_json.person if value_json.person is not none else 'none' }}",
            },
            "faces": {
                "p": "sensor",
                "name": "Faces",
                "uniq_id": uid("faces"),
                "stat_cla": "measurement",
                "val_tpl": "{{ value_json.faces }}",
            },
            "emotion": {
                "p": "sensor",
                "name": "Driver emotion",
                "uniq_id": uid("emotion"),
                "dev_cla": "enum",
                "ops": emotion_options,
                "val_tpl": "{{ value_json.emotion if value_json.emotion is not none else 'none' }}",
            },
            "alert": {
                "p": "binary_sensor",
                "name": "Mood alert",
                "uniq_id": uid("alert"),
                "dev_cla": "problem",
                "val_tpl": "{{ 'ON' if value_json.alert is not none else 'OFF' }}",
                "json_attr_t": topics.state(),
                "json_attr_tpl": "{{ {'alert': value_json.alert} | tojson }}",
            },
            "lockout": {
                "p": "binary_sensor",
                "name": "Unlock lockout",
                "uniq_id": uid("lockout"),
                "dev_cla": "problem",
                "val_tpl": "{{ 'ON' if value_json.lockout else 'OFF' }}",
            },
            "verify": {
                "p": "event",
                "name": "Verification",
                "uniq_id": uid("verify"),
                "stat_t": topics.event("verify"),
                "evt_typ": VERIFY_EVENT_TYPES,
            },
            "mood": {
                "p": "event",
                "name": "Driver alert event",
                "uniq_id": uid("mood"),
                "stat_t": topics.event("alert"),
                "evt_typ": alert_event_types(),
            },
            "emotion_change": {
                "p": "event",
                "name": "Emotion change",
                "uniq_id": uid("emotion_change"),
                "stat_t": topics.event("emotion"),
                "evt_typ": emotions,
            },
        },
    });
    if snapshots {
        message["cmps"]["unknown_face"] = json!({
            "p": "image",
            "name": "Unknown face",
            "uniq_id": uid("unknown_face"),
            "image_topic": topics.snapshot_unknown(),
            "content_type": SNAPSHOT_CONTENT_TYPE,
        });
    }
    message
}

/// MIME type of the snapshots (Home Assistant's `content_type`).
pub const SNAPSHOT_CONTENT_TYPE: &str = "image/jpeg";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_entity_and_no_command_topic() {
        let t = Topics::new("vigil", "homeassistant", "van7");
        let m = message(&t, false);
        let cmps = m["cmps"].as_object().unwrap();
        for c in [
            "lock", "person", "faces", "emotion", "alert", "lockout", "verify", "mood",
        ] {
            assert!(cmps.contains_key(c), "{c}");
        }
        assert_eq!(m["cmps"]["lock"]["p"], "binary_sensor");
        // Mood and attention alerts share the alert stream and its event entity.
        let types = m["cmps"]["mood"]["evt_typ"].to_string();
        for t in [
            "angry_start",
            "no_face_end",
            "microsleep_start",
            "distracted_end",
        ] {
            assert!(types.contains(t), "{t} in {types}");
        }
        assert_eq!(m["avty_t"], "vigil/van7/availability");
        let text = m.to_string();
        assert!(!text.contains("cmd_t") && !text.contains("command_topic"));
        assert_eq!(t.discovery(), "homeassistant/device/vigil_van7/config");
        assert!(!cmps.contains_key("unknown_face"));
        let m = message(&t, true);
        assert_eq!(m["cmps"]["unknown_face"]["p"], "image");
        assert_eq!(
            m["cmps"]["unknown_face"]["image_topic"],
            "vigil/van7/snapshot/unknown"
        );
        assert_eq!(m["cmps"]["unknown_face"]["content_type"], "image/jpeg");
    }
}
