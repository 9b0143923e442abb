//! The verify consumer: per tracked face, embed (only when needed), vote,
//! check liveness, and drive the unlock action, the rate limit and the audit
//! log. Every failure leaves the device locked.
//!
//! Each track has a `Phase` (see `phase.rs` for its transitions); the stage
//! feeds it one frame's facts and carries out the `Action` it returns.

use std::collections::HashMap;
use std::time::Duration;

use image::RgbImage;

use super::audit::{AuditKind, AuditRecord, AuditSink, Decision};
use super::config::{LivenessConfig, UnlockConfig, VerifyConfig};
use super::decision::{Identity, TrackVotes, VoteRule};
use super::embed::FaceEmbedder;
use super::gallery::{Gallery, GalleryError};
use super::liveness::{background_shift, GreyThumb, Liveness, LivenessTrack, Observation};
use super::phase::{Action, Facts, Phase, LIVENESS_PROMPT};
use super::ratelimit::RateLimiter;
use super::report::{FaceVerdict, VerifyNotice, VerifyVerdict};
use super::unlock::UnlockController;
use crate::core::align::extract_chip_at;
use crate::core::face::{TrackId, TrackedFace};
use crate::core::geometry::Point;
use crate::pipeline::Analysis;

/// Per-track state.
#[derive(Debug, Default)]
struct TrackState {
    votes: TrackVotes,
    live: LivenessTrack,
    /// The identity of the last frame (a change is a notice and a record).
    identity: Option<Identity>,
    /// Where the track stands on the unlock path.
    phase: Phase,
}

/// A tracked face in one frame, as the audit log names it: every record
/// about a face is built by [`Seen::record`].
#[derive(Debug, Clone, Copy)]
struct Seen<'a> {
    now: Duration,
    track: TrackId,
    /// The enrolled person the record names, if any.
    name: Option<&'a str>,
    /// The distance of the last embedding, if any.
    distance: Option<f32>,
}

impl<'a> Seen<'a> {
    /// `track` at `now`, naming nobody.
    fn new(now: Duration, track: TrackId) -> Self {
        Self {
            now,
            track,
            name: None,
            distance: None,
        }
    }

    /// The same face, naming `name` at `distance`.
    fn naming(self, name: Option<&'a str>, distance: Option<f32>) -> Self {
        Self {
            name,
            distance,
            ..self
        }
    }

    /// A record about this face.
    fn record(
        &self,
        kind: AuditKind,
        decision: Decision,
        reason: impl Into<String>,
    ) -> AuditRecord {
        AuditRecord::new(kind, self.now.as_secs_f64(), decision, reason)
            .track(self.track)
            .matched(self.name, self.distance)
    }
}

/// How often the embedding was computed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EmbedStats {
    /// Face observations seen (faces x frames).
    pub faces_seen: u64,
    /// Embeddings computed.
    pub embeddings: u64,
}

/// The verify stage: identity votes, liveness, and the unlock path of every
/// tracked face, one `Phase` per track.
pub struct VerifyStage {
    embedder: Box<dyn FaceEmbedder>,
    gallery: Result<Gallery, String>,
    audit: Result<Box<dyn AuditSink>, String>,
    verify: VerifyConfig,
    liveness: LivenessConfig,
    rule: VoteRule,
    unlock: UnlockController,
    rate: RateLimiter,
    tracks: HashMap<TrackId, TrackState>,
    prev_thumb: Option<GreyThumb>,
    stats: EmbedStats,
    startup_notices: Vec<VerifyNotice>,
    watch: Option<super::watch::GalleryWatch>,
}

impl VerifyStage {
    /// A stage from its parts. A gallery or audit error is kept, reported on
    /// the first frame and means: nobody is enrolled / nobody is unlocked.
    pub fn new(
        embedder: Box<dyn FaceEmbedder>,
        gallery: Result<Gallery, GalleryError>,
        audit: Result<Box<dyn AuditSink>, String>,
        verify: &VerifyConfig,
        liveness: &LivenessConfig,
        unlock: &UnlockConfig,
    ) -> Self {
        let mut startup_notices = Vec::new();
        let gallery = gallery.map_err(|e| {
            let message = format!("gallery: {e}; nobody is enrolled, nothing will unlock");
            log::error!("{message}");
            startup_notices.push(VerifyNotice::Error {
                message: message.clone(),
            });
            message
        });
        if let Err(e) = &audit {
            let message = format!("audit log: {e}; nothing will unlock");
            log::error!("{message}");
            startup_notices.push(VerifyNotice::Error { message });
        }
        Self {
            embedder,
            gallery,
            audit,
            verify: verify.clone(),
            liveness: liveness.clone(),
            rule: VoteRule {
                threshold: verify.threshold,
                votes_needed: verify.votes_needed,
                window: verify.vote_window,
                unsure_margin: verify.unsure_margin,
            },
            unlock: UnlockController::new(unlock),
            rate: RateLimiter::new(
                unlock.max_failures,
                Duration::from_secs_f64(unlock.failure_window_s),
                Duration::from_secs_f64(unlock.lockout_s),
            ),
            tracks: HashMap::new(),
            prev_thumb: None,
            stats: EmbedStats::default(),
            startup_notices,
            watch: None,
        }
    }

    /// Reloads the gallery when its file changes ([`super::watch`]): the
    /// stage of a running instance picks up an enrolment or a removal.
    pub fn with_gallery_watch(mut self, watch: super::watch::GalleryWatch) -> Self {
        self.watch = Some(watch);
        self
    }

    /// Takes a changed gallery: identity votes start afresh (they may name
    /// someone removed); the unlock state stays as it is and relocks as usual.
    fn reload_gallery(&mut self, notices: &mut Vec<VerifyNotice>) {
        let Some(result) = self.watch.as_mut().and_then(|w| w.poll()) else {
            return;
        };
        self.tracks.clear();
        match result {
            Ok(g) => {
                let people: Vec<String> = g.people.iter().map(|p| p.name.clone()).collect();
                log::info!("verify: gallery reloaded: {} enrolled", people.len());
                self.gallery = Ok(g);
                notices.push(VerifyNotice::GalleryReloaded { people });
            }
            Err(e) => {
                let message = format!("gallery: {e}; nobody is enrolled, nothing will unlock");
                log::error!("{message}");
                self.gallery = Err(message.clone());
                notices.push(VerifyNotice::Error { message });
            }
        }
    }

    /// How often the embedding was computed so far.
    pub fn stats(&self) -> EmbedStats {
        self.stats
    }

    /// Whether the device is unlocked now.
    pub fn is_unlocked(&self) -> bool {
        self.unlock.state().is_unlocked()
    }

    /// Writes an audit record; `false` when it could not be written.
    fn audit(&mut self, record: AuditRecord, notices: &mut Vec<VerifyNotice>) -> bool {
        match self.audit.as_mut() {
            Ok(sink) => match sink.record(&record) {
                Ok(()) => true,
                Err(e) => {
                    notices.push(VerifyNotice::Error {
                        message: format!("{e}"),
                    });
                    false
                }
            },
            Err(_) => false,
        }
    }

    /// Locks the device if it is unlocked (the one record about no face).
    fn lock(&mut self, now: Duration, reason: &str, notices: &mut Vec<VerifyNotice>) {
        if !self.unlock.state().is_unlocked() {
            return;
        }
        let result = self.unlock.lock();
        let mut reason = reason.to_string();
        if let Err(e) = result {
            reason.push_str(&format!(" (lock command failed: {e})"));
            notices.push(VerifyNotice::Error {
                message: format!("lock command: {e}"),
            });
        }
        let record = AuditRecord::new(
            AuditKind::Lock,
            now.as_secs_f64(),
            Decision::Locked,
            reason.clone(),
        );
        self.audit(record, notices);
        notices.push(VerifyNotice::Locked { reason });
    }

    /// The source was lost: nobody can be seen any more, so the device locks
    /// at once (fail closed) and every track's state is dropped; when frames
    /// flow again verification starts afresh.
    pub fn source_lost(&mut self, now: Duration, reason: &str) -> VerifyVerdict {
        let mut notices = std::mem::take(&mut self.startup_notices);
        self.lock(now, &format!("source lost: {reason}"), &mut notices);
        self.tracks.clear();
        self.prev_thumb = None;
        VerifyVerdict {
            faces: Vec::new(),
            unlocked: self.unlock.state().is_unlocked(),
            notices,
        }
    }

    /// One analysed frame: end tracks, relock when due, then one step per face.
    pub fn process_analysis(&mut self, analysis: &Analysis) -> VerifyVerdict {
        let now = analysis.frame.media_time;
        let mut notices = std::mem::take(&mut self.startup_notices);
        self.reload_gallery(&mut notices);
        for t in &analysis.ended {
            self.tracks.remove(t);
        }
        if self.unlock.relock_due(now) {
            self.lock(now, "relock time reached", &mut notices);
        }
        let background = self.background_shift(analysis);
        let mut faces = Vec::with_capacity(analysis.faces.len());
        for face in &analysis.faces {
            faces.push(self.step(face, now, &analysis.frame.image, background, &mut notices));
        }
        // What is shown follows the lock state at the end of the frame, so
        // that no face is labelled a spoof beside "unlocked".
        let unlocked = self.unlock.state().is_unlocked();
        for f in &mut faces {
            let phase = self.tracks.get(&f.track).map(|s| s.phase);
            let (liveness, prompt) = phase.unwrap_or_default().shown(&f.liveness, unlocked);
            f.liveness = liveness;
            f.prompt = prompt.map(str::to_string);
        }
        VerifyVerdict {
            faces,
            unlocked,
            notices,
        }
    }

    /// The background's motion since the last frame (liveness on only).
    fn background_shift(&mut self, analysis: &Analysis) -> Option<Point> {
        if !self.liveness.enabled {
            return None;
        }
        let thumb = GreyThumb::of(&analysis.frame.image);
        let boxes: Vec<_> = analysis.faces.iter().map(|f| f.detection.bbox).collect();
        let shift = self
            .prev_thumb
            .as_ref()
            .and_then(|p| background_shift(p, &thumb, &boxes));
        self.prev_thumb = Some(thumb);
        shift
    }

    /// One face in one frame: observe, vote, decide, then move its phase on.
    fn step(
        &mut self,
        face: &TrackedFace,
        now: Duration,
        image: &RgbImage,
        background: Option<Point>,
        notices: &mut Vec<VerifyNotice>,
    ) -> FaceVerdict {
        self.stats.faces_seen += 1;
        let mut st = self.tracks.remove(&face.track).unwrap_or_default();
        let lm = face.detection.landmarks;
        if self.liveness.enabled {
            let window = Duration::from_secs_f64(self.liveness.window_s);
            st.live
                .push(Observation::new(now, image, &lm, background), window);
        }
        self.vote(&mut st, face, now, image, notices);
        let identity = st.votes.identity(&self.rule);
        let (best, distance) = match &st.votes.last {
            Some(b) => (Some(b.name.clone()), Some(b.distance)),
            None => (None, None),
        };
        let seen = Seen::new(now, face.track);
        if st.identity.as_ref() != Some(&identity) && identity.is_decided() {
            self.report_identity(&identity, seen.naming(best.as_deref(), distance), notices);
        }
        st.identity = Some(identity.clone());
        // Liveness is judged only where it decides something: an owner who
        // has not unlocked, while the device is locked (its costliest cue,
        // planarity, then runs for nobody else).
        let judged = matches!(identity, Identity::Owner { .. })
            && !matches!(st.phase, Phase::Done { .. })
            && !self.unlock.state().is_unlocked();
        let liveness = if judged {
            self.liveness_of(&mut st, seen)
        } else {
            Liveness::Pending
        };
        let facts = Facts {
            now,
            identity: &identity,
            liveness: &liveness,
            attempt_s: self.liveness.timeout_s,
            unlocked: self.unlock.state().is_unlocked(),
            distance,
        };
        let (phase, action) = st.phase.next(&facts, || self.rate.locked_out(now));
        st.phase = phase;
        self.act(action, &st, seen.naming(None, distance), notices);
        self.tracks.insert(face.track, st);
        FaceVerdict {
            track: face.track,
            identity,
            best,
            distance,
            liveness,
            prompt: None,
        }
    }

    /// A track's identity is decided, or changed on a refresh: a notice and a
    /// record naming the best match.
    fn report_identity(
        &mut self,
        identity: &Identity,
        seen: Seen<'_>,
        notices: &mut Vec<VerifyNotice>,
    ) {
        notices.push(VerifyNotice::Identity {
            track: seen.track,
            identity: identity.clone(),
            distance: seen.distance,
        });
        let decision = match identity {
            Identity::Owner { .. } => Decision::Owner,
            _ => Decision::Unknown,
        };
        let reason = format!(
            "{} of the last {} embeddings below {}",
            self.verify.votes_needed, self.verify.vote_window, self.verify.threshold
        );
        self.audit(seen.record(AuditKind::Decision, decision, reason), notices);
    }

    /// The track's liveness verdict; `Live` when the check is off.
    fn liveness_of(&self, st: &mut TrackState, seen: Seen<'_>) -> Liveness {
        if !self.liveness.enabled {
            return Liveness::Live;
        }
        let (v, cues) = st.live.verdict(&self.liveness);
        log::debug!(
            "liveness {} t={:.2} {cues:?} -> {v:?}",
            seen.track,
            seen.now.as_secs_f64()
        );
        v
    }

    /// Embeds the face when its votes need it and adds the vote; with no
    /// gallery nobody can match: an "unknown" vote, no embedding. A failed
    /// embedding is no vote, and locks the device.
    fn vote(
        &mut self,
        st: &mut TrackState,
        face: &TrackedFace,
        now: Duration,
        image: &RgbImage,
        notices: &mut Vec<VerifyNotice>,
    ) {
        let Ok(gallery) = &self.gallery else {
            st.votes.push(&self.rule, None, now);
            return;
        };
        let refresh = Duration::from_secs_f64(self.verify.refresh_s);
        if !st.votes.needs_embedding(&self.rule, now, refresh) {
            return;
        }
        let layout = self.embedder.layout();
        let Some(chip) = extract_chip_at(image, &face.detection.landmarks, layout) else {
            log::debug!("track {}: degenerate landmarks, no chip", face.track);
            return;
        };
        self.stats.embeddings += 1;
        match self.embedder.embed(&chip) {
            Ok(e) => {
                let best = gallery.best_match(&e, self.verify.metric);
                st.votes.push(&self.rule, best, now);
            }
            Err(e) => {
                let message = format!("embedding failed: {e}");
                log::error!("{message}");
                let record = Seen::new(now, face.track).record(
                    AuditKind::Error,
                    Decision::Locked,
                    message.clone(),
                );
                self.audit(record, notices);
                notices.push(VerifyNotice::Error { message });
                self.lock(now, "embedding error", notices);
            }
        }
    }

    /// Carries out what a track's phase change asks for: the audit record,
    /// the rate limit, the notice and the unlock command. Every transition of
    /// [`Phase::next`] that has an effect has it here. `seen` is the face with
    /// the distance of its last embedding.
    fn act(
        &mut self,
        action: Action<'_>,
        st: &TrackState,
        seen: Seen<'_>,
        notices: &mut Vec<VerifyNotice>,
    ) {
        let track = seen.track;
        match action {
            Action::None => {}
            Action::CountFailure => self.count_failure(seen, notices),
            Action::ReportLockout { name, remaining } => {
                let record = seen.naming(Some(name), seen.distance).record(
                    AuditKind::LockedOut,
                    Decision::Locked,
                    "lockout after failed attempts",
                );
                self.audit(record, notices);
                notices.push(VerifyNotice::LockedOut {
                    track,
                    remaining_s: remaining.as_secs_f64(),
                });
            }
            Action::FailAttempt { name, reason } => {
                let cues = st.live.cues();
                let record = seen.naming(Some(name), seen.distance).record(
                    AuditKind::LivenessFailed,
                    Decision::Locked,
                    reason.clone(),
                );
                self.audit(record, notices);
                notices.push(VerifyNotice::LivenessFailed {
                    track,
                    reason,
                    cues,
                    prompt: LIVENESS_PROMPT.to_string(),
                });
                self.count_failure(seen, notices);
            }
            Action::Unlock { name, distance } => self.unlock_for(
                seen.naming(Some(name), Some(distance)),
                name,
                distance,
                notices,
            ),
        }
    }

    /// Counts one failed attempt; the lockout it may start is on record.
    fn count_failure(&mut self, seen: Seen<'_>, notices: &mut Vec<VerifyNotice>) {
        // With no gallery nobody can unlock: no failure to count.
        if self.gallery.is_ok() && self.rate.record_failure(seen.now) {
            let record = seen.naming(None, None).record(
                AuditKind::LockedOut,
                Decision::Locked,
                "too many failed attempts",
            );
            self.audit(record, notices);
        }
    }

    /// Unlocks for the live owner `name`. The attempt is on record before the
    /// action runs; an unlock whose success cannot be recorded is undone.
    fn unlock_for(
        &mut self,
        seen: Seen<'_>,
        name: &str,
        distance: f32,
        notices: &mut Vec<VerifyNotice>,
    ) {
        let track = seen.track;
        let attempt = seen.record(
            AuditKind::Decision,
            Decision::Owner,
            "live owner: unlocking",
        );
        if !self.audit(attempt, notices) {
            notices.push(VerifyNotice::UnlockFailed {
                track,
                reason: "audit log unavailable".into(),
            });
            return;
        }
        match self.unlock.unlock(seen.now, name, distance, track) {
            Ok(()) => {
                let done = seen.record(
                    AuditKind::Unlock,
                    Decision::Unlocked,
                    "unlock action succeeded",
                );
                if !self.audit(done, notices) {
                    self.lock(seen.now, "audit log write failed after unlock", notices);
                    return;
                }
                self.rate.record_success();
                notices.push(VerifyNotice::Unlocked {
                    track,
                    name: name.to_string(),
                    distance,
                });
            }
            Err(e) => {
                let reason = e.to_string();
                log::error!("unlock action: {reason}");
                let failed = seen.record(AuditKind::UnlockFailed, Decision::Locked, reason.clone());
                self.audit(failed, notices);
                notices.push(VerifyNotice::UnlockFailed { track, reason });
            }
        }
    }
}

impl VerifyStage {
    /// The stage's name in statistics and errors.
    pub const NAME: &'static str = "verify";

    /// The stage of `vigil run`: the model, and the gallery and audit log at
    /// `paths` (resolved by the app). A model that cannot be loaded is an
    /// error; a gallery or audit log problem is reported and keeps the device
    /// locked.
    pub fn open(
        store: &crate::models::ModelStore,
        paths: &super::StatePaths,
        verify: &VerifyConfig,
        liveness: &LivenessConfig,
        unlock: &UnlockConfig,
    ) -> Result<Self, super::VerifyError> {
        let embedder =
            super::embed::NetEmbedder::new(store, verify.model)?.with_flip(verify.embed_flip);
        let gallery_store = super::gallery::GalleryStore::new(&paths.gallery, &paths.key);
        let mut watch = super::watch::GalleryWatch::new(gallery_store, embedder.model_sha256());
        let gallery = watch.load();
        let audit = super::audit::AuditLog::open(&paths.audit)
            .map(|a| Box::new(a) as Box<dyn AuditSink>)
            .map_err(|e| e.to_string());
        log::info!(
            "verify: gallery {}, audit log {}",
            paths.gallery.display(),
            paths.audit.display()
        );
        Ok(
            Self::new(Box::new(embedder), gallery, audit, verify, liveness, unlock)
                .with_gallery_watch(watch),
        )
    }
}

impl Drop for VerifyStage {
    fn drop(&mut self) {
        let s = self.stats;
        if s.faces_seen > 0 {
            log::info!(
                "verify: {} embeddings for {} face observations ({:.1}%)",
                s.embeddings,
                s.faces_seen,
                100.0 * s.embeddings as f64 / s.faces_seen as f64
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::core::face::Detection;
    use crate::core::frame::Frame;
    use crate::core::geometry::{BoundingBox, Landmarks};
    use crate::verify::audit::AuditError;
    use crate::verify::embed::{Embedding, EMBEDDING_DIM};
    use crate::verify::gallery::test_template;
    use crate::verify::VerifyError;

    const SHA: &str = "model-sha";

    /// A unit descriptor at angle `x` (radians) in its first two axes: 1.0 (the
    /// owner) and 3.0 (a stranger) are far apart in either metric.
    fn vector(x: f32) -> Embedding {
        let mut v = vec![0.0; EMBEDDING_DIM];
        v[0] = x.cos();
        v[1] = x.sin();
        Embedding::new(v).unwrap()
    }

    /// The owner's descriptor (1.0) or a stranger's (3.0), switchable.
    struct Faces(Arc<Mutex<f32>>);

    impl FaceEmbedder for Faces {
        fn model_sha256(&self) -> &str {
            SHA
        }
        fn embed(&mut self, _chip: &RgbImage) -> Result<Embedding, VerifyError> {
            Ok(vector(*self.0.lock().unwrap()))
        }
    }

    /// Audit records as JSON lines.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<String>>>);

    impl AuditSink for Lines {
        fn record(&mut self, r: &AuditRecord) -> Result<(), AuditError> {
            self.0
                .lock()
                .unwrap()
                .push(serde_json::to_string(r).unwrap());
            Ok(())
        }
    }

    impl Lines {
        fn count(&self, what: &str) -> usize {
            self.0
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains(what))
                .count()
        }
    }

    struct Rig {
        stage: VerifyStage,
        face: Arc<Mutex<f32>>,
        audit: Lines,
        seq: u64,
        notices: Vec<VerifyNotice>,
    }

    impl Rig {
        /// A stage with "owner" enrolled, liveness off unless `liveness`
        /// gives its timeout, and `unlock` tweaked.
        fn new(liveness: Option<f64>, unlock: impl FnOnce(&mut UnlockConfig)) -> Self {
            let mut gallery = Gallery::empty(SHA);
            let template = test_template(vector(1.0));
            gallery.add("owner", vec![template], 0).unwrap();
            let liveness = match liveness {
                Some(timeout_s) => LivenessConfig {
                    timeout_s,
                    ..Default::default()
                },
                None => LivenessConfig {
                    enabled: false,
                    ..Default::default()
                },
            };
            let mut u = UnlockConfig {
                command: vec!["true".into()],
                ..Default::default()
            };
            unlock(&mut u);
            let face = Arc::new(Mutex::new(1.0));
            let audit = Lines::default();
            let stage = VerifyStage::new(
                Box::new(Faces(face.clone())),
                Ok(gallery),
                Ok(Box::new(audit.clone())),
                &VerifyConfig::default(),
                &liveness,
                &u,
            );
            Self {
                stage,
                face,
                audit,
                seq: 0,
                notices: Vec::new(),
            }
        }

        fn owner(&self) {
            *self.face.lock().unwrap() = 1.0;
        }

        fn stranger(&self) {
            *self.face.lock().unwrap() = 3.0;
        }

        /// `n` frames (40 ms apart) of the same still picture of `track`.
        fn frames(&mut self, n: u64, track: u64) {
            self.frames_verdicts(n, track);
        }

        /// [`Rig::frames`], returning every frame's verdict.
        fn frames_verdicts(&mut self, n: u64, track: u64) -> Vec<VerifyVerdict> {
            let mut out = Vec::new();
            let landmarks = Landmarks::from_points([
                Point::new(80.0, 90.0),
                Point::new(120.0, 90.0),
                Point::new(100.0, 110.0),
                Point::new(85.0, 130.0),
                Point::new(115.0, 130.0),
            ]);
            for _ in 0..n {
                let image = RgbImage::from_fn(200, 200, |x, y| {
                    image::Rgb([(x + y) as u8, x as u8, y as u8])
                });
                let analysis = Analysis {
                    frame: Frame::new(self.seq, Duration::from_millis(40 * self.seq), image),
                    faces: vec![TrackedFace {
                        track: TrackId(track),
                        detection: Detection {
                            bbox: BoundingBox::new(60.0, 60.0, 80.0, 90.0),
                            score: 0.99,
                            landmarks,
                        },
                        age: 1,
                    }],
                    ended: Vec::new(),
                };
                let verdict = self.stage.process_analysis(&analysis);
                self.notices.extend(verdict.notices.iter().cloned());
                out.push(verdict);
                self.seq += 1;
            }
            out
        }

        fn phase(&self, track: u64) -> Phase {
            self.stage.tracks[&TrackId(track)].phase
        }

        fn notices(&self, f: impl Fn(&VerifyNotice) -> bool) -> usize {
            self.notices.iter().filter(|n| f(n)).count()
        }
    }

    #[test]
    fn a_lost_source_locks_at_once_and_verification_starts_afresh() {
        let mut rig = Rig::new(None, |u| u.relock_s = 600.0);
        rig.owner();
        rig.frames(10, 1);
        assert!(rig.stage.is_unlocked());
        let verdict = rig
            .stage
            .source_lost(Duration::from_secs(1), "camera unplugged");
        assert!(!verdict.unlocked);
        assert!(verdict.notices.iter().any(
            |n| matches!(n, VerifyNotice::Locked { reason } if reason.contains("camera unplugged"))
        ));
        assert_eq!(rig.audit.count("source lost: camera unplugged"), 1);
        assert!(rig.stage.tracks.is_empty());
        // Locked and nothing to lock again: a second loss writes no record.
        let again = rig
            .stage
            .source_lost(Duration::from_secs(2), "camera unplugged");
        assert!(again.notices.is_empty());
    }

    #[test]
    fn a_stranger_is_counted_once() {
        // Two failures lock out: one stranger in view for long is one failure.
        let mut rig = Rig::new(None, |u| u.max_failures = 2);
        rig.stranger();
        rig.frames(100, 1);
        assert_eq!(rig.phase(1), Phase::Stranger);
        assert_eq!(rig.stage.rate.failures(), 1);
        assert_eq!(rig.audit.count("\"decision\":\"unknown\""), 1);
        assert_eq!(rig.audit.count("too many failed attempts"), 0);
        // A second stranger is the second failure: the lockout starts, on record once.
        rig.frames(20, 2);
        assert_eq!(rig.audit.count("too many failed attempts"), 1);
        assert_eq!(rig.audit.count("\"kind\":\"locked_out\""), 1);
    }

    #[test]
    fn a_still_picture_fails_an_attempt_each_timeout_until_the_lockout() {
        // Liveness on with 1 s attempts, a still picture of the owner.
        let mut rig = Rig::new(Some(1.0), |_| {});
        rig.owner();
        rig.frames(100, 1);
        // Decided at 0.08 s: attempts failed at 1.08, 2.08, 3.08 s.
        assert!(matches!(rig.phase(1), Phase::Owner { failed: 3, .. }));
        assert_eq!(rig.audit.count("\"kind\":\"liveness_failed\""), 3);
        let failed = |n: &VerifyNotice| matches!(n, VerifyNotice::LivenessFailed { prompt, .. } if prompt == LIVENESS_PROMPT);
        assert_eq!(rig.notices(failed), 3);
        assert_eq!(rig.stage.rate.failures(), 3);
        // Two more lock out (5 inside 30 s); no attempt runs meanwhile.
        rig.frames(200, 1);
        assert_eq!(rig.audit.count("\"kind\":\"liveness_failed\""), 5);
        assert_eq!(rig.audit.count("too many failed attempts"), 1);
        assert_eq!(
            rig.notices(|n| matches!(n, VerifyNotice::LockedOut { .. })),
            1
        );
        assert!(!rig.stage.is_unlocked());
        assert_eq!(rig.audit.count("\"decision\":\"unlocked\""), 0);
    }

    #[test]
    fn the_verdict_shows_the_prompt_and_never_spoof_beside_unlocked() {
        let mut rig = Rig::new(Some(1.0), |u| u.relock_s = 600.0);
        rig.owner();
        let verdicts = rig.frames_verdicts(60, 1);
        let last = &verdicts[59].faces[0];
        assert!(matches!(last.liveness, Liveness::Spoof { .. }), "{last:?}");
        assert_eq!(last.prompt.as_deref(), Some(LIVENESS_PROMPT));
        assert!(verdicts[10].faces[0].prompt.is_none());
        // The owner moves (liveness off stands in for a live window): unlocked.
        rig.stage.liveness.enabled = false;
        rig.frames(2, 1);
        assert!(rig.stage.is_unlocked());
        // Still again: the windows fail, but the unlock holds until the
        // relock and the owner is not labelled a spoof, nor prompted.
        rig.stage.liveness.enabled = true;
        let verdicts = rig.frames_verdicts(100, 1);
        assert!(verdicts.iter().all(|v| v.unlocked
            && v.faces[0].liveness == Liveness::Live
            && v.faces[0].prompt.is_none()));
        assert_eq!(rig.audit.count("\"kind\":\"liveness_failed\""), 2);
    }

    #[test]
    fn a_lockout_is_reported_once_per_track() {
        let mut rig = Rig::new(None, |u| u.max_failures = 1);
        rig.stranger();
        rig.frames(5, 1);
        rig.owner();
        rig.frames(20, 2);
        rig.frames(20, 3);
        assert!(!rig.stage.is_unlocked());
        let reported = |t: u64| {
            rig.notices(
                |n| matches!(n, VerifyNotice::LockedOut { track, .. } if *track == TrackId(t)),
            )
        };
        assert_eq!((reported(2), reported(3)), (1, 1));
        assert_eq!(rig.audit.count("lockout after failed attempts"), 2);
        assert!(matches!(
            rig.phase(3),
            Phase::Owner {
                lockout_reported: true,
                counted: false,
                ..
            }
        ));
    }

    #[test]
    fn the_owner_unlocks_once_per_track() {
        let mut rig = Rig::new(None, |u| u.relock_s = 0.2);
        rig.owner();
        rig.frames(30, 1);
        assert_eq!(rig.phase(1), Phase::Done { counted: false });
        assert_eq!(rig.audit.count("\"kind\":\"unlock\""), 1);
        assert_eq!(rig.audit.count("relock time reached"), 1);
        assert!(!rig.stage.is_unlocked(), "relocked, and track 1 is done");
        rig.frames(5, 2);
        assert!(rig.stage.is_unlocked(), "a new track of the owner unlocks");
        assert_eq!(rig.audit.count("\"decision\":\"unlocked\""), 2);
        assert_eq!(rig.audit.count("live owner: unlocking"), 2);
    }
}
