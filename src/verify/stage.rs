//! The verify consumer: per tracked face, embed (only when needed), vote,
//! check liveness, and drive the unlock action, the rate limit and the audit
//! log. Every failure leaves the device locked.

use std::collections::HashMap;
use std::time::Duration;

use super::audit::{AuditKind, AuditRecord, AuditSink, Decision};
use super::config::{LivenessConfig, UnlockConfig, VerifyConfig};
use super::decision::{Identity, TrackVotes, VoteRule};
use super::embed::FaceEmbedder;
use super::gallery::{Gallery, GalleryError};
use super::liveness::{background_shift, GreyThumb, Liveness, LivenessTrack, Observation};
use super::ratelimit::RateLimiter;
use super::report::{FaceVerdict, VerifyNotice, VerifyVerdict};
use super::unlock::UnlockController;
use crate::core::align::{extract_chip, ChipTemplate};
use crate::core::face::TrackId;
use crate::pipeline::Analysis;

/// Per-track state.
#[derive(Debug, Default)]
struct TrackState {
    votes: TrackVotes,
    live: LivenessTrack,
    identity: Option<Identity>,
    /// The attempt of this track was counted (decision reached).
    counted: bool,
    /// When the track was first decided "owner" (liveness deadline).
    owner_since: Option<Duration>,
    /// This track has had its unlock attempt (success or failure).
    unlock_done: bool,
    /// This track failed liveness: it can no longer unlock.
    spoof: bool,
    locked_out_reported: bool,
    liveness: Option<Liveness>,
}

/// How often the embedding was computed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EmbedStats {
    /// Face observations seen (faces x frames).
    pub faces_seen: u64,
    /// Embeddings computed.
    pub embeddings: u64,
}

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
    template: ChipTemplate,
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
            template: ChipTemplate::Dlib,
        }
    }

    pub fn stats(&self) -> EmbedStats {
        self.stats
    }

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

    fn lock(&mut self, now_s: f64, reason: &str, notices: &mut Vec<VerifyNotice>) {
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
        self.audit(
            AuditRecord::new(AuditKind::Lock, now_s, Decision::Locked, reason.clone()),
            notices,
        );
        notices.push(VerifyNotice::Locked { reason });
    }

    /// One analysed frame.
    pub fn process_analysis(&mut self, analysis: &Analysis) -> VerifyVerdict {
        let now = analysis.frame.media_time;
        let now_s = now.as_secs_f64();
        let mut notices = std::mem::take(&mut self.startup_notices);
        for t in &analysis.ended {
            self.tracks.remove(t);
        }
        if self.unlock.relock_due(now) {
            self.lock(now_s, "relock time reached", &mut notices);
        }
        let image = &analysis.frame.image;
        let background = if self.liveness.enabled {
            let thumb = GreyThumb::of(image);
            let boxes: Vec<_> = analysis.faces.iter().map(|f| f.detection.bbox).collect();
            let shift = self
                .prev_thumb
                .as_ref()
                .and_then(|p| background_shift(p, &thumb, &boxes));
            self.prev_thumb = Some(thumb);
            shift
        } else {
            None
        };
        let window = Duration::from_secs_f64(self.liveness.window_s);
        let refresh = Duration::from_secs_f64(self.verify.refresh_s);
        let mut faces = Vec::with_capacity(analysis.faces.len());
        for face in &analysis.faces {
            self.stats.faces_seen += 1;
            let lm = face.detection.landmarks;
            let mut st = self.tracks.remove(&face.track).unwrap_or_default();
            if self.liveness.enabled {
                st.live
                    .push(Observation::new(now, image, &lm, background), window);
            }
            // Embed when needed; with no gallery nobody can match: no embedding.
            if let Ok(gallery) = &self.gallery {
                if st.votes.needs_embedding(&self.rule, now, refresh) {
                    match extract_chip(image, &lm, self.template) {
                        Some(chip) => {
                            self.stats.embeddings += 1;
                            match self.embedder.embed(&chip) {
                                Ok(e) => {
                                    let best = gallery.best_match(&e, self.verify.metric);
                                    st.votes.push(&self.rule, best, now);
                                }
                                Err(e) => {
                                    // No vote; lock if unlocked.
                                    let message = format!("embedding failed: {e}");
                                    log::error!("{message}");
                                    self.audit(
                                        AuditRecord::new(
                                            AuditKind::Error,
                                            now_s,
                                            Decision::Locked,
                                            message.clone(),
                                        )
                                        .track(face.track),
                                        &mut notices,
                                    );
                                    notices.push(VerifyNotice::Error { message });
                                    self.lock(now_s, "embedding error", &mut notices);
                                }
                            }
                        }
                        None => log::debug!("track {}: degenerate landmarks, no chip", face.track),
                    }
                }
            } else {
                // Nobody enrolled: every face is unknown at once.
                st.votes.push(&self.rule, None, now);
            }
            let identity = st.votes.identity(&self.rule);
            let (best, distance) = match &st.votes.last {
                Some(b) => (Some(b.name.clone()), Some(b.distance)),
                None => (None, None),
            };
            if st.identity.as_ref() != Some(&identity) && identity.is_decided() {
                notices.push(VerifyNotice::Identity {
                    track: face.track,
                    identity: identity.clone(),
                    distance,
                });
                self.audit(
                    AuditRecord::new(
                        AuditKind::Decision,
                        now_s,
                        match &identity {
                            Identity::Owner { .. } => Decision::Owner,
                            _ => Decision::Unknown,
                        },
                        format!(
                            "{} of the last {} embeddings below {}",
                            self.verify.votes_needed,
                            self.verify.vote_window,
                            self.verify.threshold
                        ),
                    )
                    .track(face.track)
                    .matched(best.as_deref(), distance),
                    &mut notices,
                );
            }
            st.identity = Some(identity.clone());
            let liveness = if self.liveness.enabled {
                let (v, cues) = st.live.verdict(&self.liveness);
                log::debug!("liveness {} t={now_s:.2} {cues:?} -> {v:?}", face.track);
                v
            } else {
                Liveness::Live
            };
            // An attempt: a track that is not the owner counts as one failure.
            if matches!(identity, Identity::Unknown) && !st.counted {
                st.counted = true;
                if self.gallery.is_ok() && self.rate.record_failure(now) {
                    self.audit(
                        AuditRecord::new(
                            AuditKind::LockedOut,
                            now_s,
                            Decision::Locked,
                            "too many failed attempts",
                        )
                        .track(face.track),
                        &mut notices,
                    );
                }
            }
            if let Identity::Owner { name } = &identity {
                let since = *st.owner_since.get_or_insert(now);
                if !st.unlock_done && !st.spoof {
                    self.owner_step(
                        face.track,
                        name,
                        distance,
                        &liveness,
                        since,
                        now,
                        &mut st,
                        &mut notices,
                    );
                }
            }
            st.liveness = Some(liveness.clone());
            faces.push(FaceVerdict {
                track: face.track,
                identity,
                best,
                distance,
                liveness,
            });
            self.tracks.insert(face.track, st);
        }
        VerifyVerdict {
            faces,
            unlocked: self.unlock.state().is_unlocked(),
            notices,
        }
    }

    /// The owner is in view: unlock when live, not locked out and audited.
    #[allow(clippy::too_many_arguments)]
    fn owner_step(
        &mut self,
        track: TrackId,
        name: &str,
        distance: Option<f32>,
        liveness: &Liveness,
        since: Duration,
        now: Duration,
        st: &mut TrackState,
        notices: &mut Vec<VerifyNotice>,
    ) {
        let now_s = now.as_secs_f64();
        if let Some(remaining) = self.rate.locked_out(now) {
            if !st.locked_out_reported {
                st.locked_out_reported = true;
                self.audit(
                    AuditRecord::new(
                        AuditKind::LockedOut,
                        now_s,
                        Decision::Locked,
                        "lockout after failed attempts",
                    )
                    .track(track)
                    .matched(Some(name), distance),
                    notices,
                );
                notices.push(VerifyNotice::LockedOut {
                    track,
                    remaining_s: remaining.as_secs_f64(),
                });
            }
            return;
        }
        match liveness {
            Liveness::Live => {}
            Liveness::Pending | Liveness::Spoof { .. } => {
                let waited = now.saturating_sub(since).as_secs_f64();
                if waited >= self.liveness.timeout_s {
                    st.spoof = true;
                    let reason = match liveness {
                        Liveness::Spoof { reason } => reason.clone(),
                        _ => "no live verdict in time".to_string(),
                    };
                    let (_, cues) = st.live.verdict(&self.liveness);
                    self.audit(
                        AuditRecord::new(
                            AuditKind::LivenessFailed,
                            now_s,
                            Decision::Locked,
                            reason.clone(),
                        )
                        .track(track)
                        .matched(Some(name), distance),
                        notices,
                    );
                    self.rate.record_failure(now);
                    notices.push(VerifyNotice::LivenessFailed {
                        track,
                        reason,
                        cues,
                    });
                }
                return;
            }
        }
        if self.unlock.state().is_unlocked() {
            return;
        }
        let Some(d) = distance else {
            return;
        };
        st.unlock_done = true;
        // The attempt is on record before the action runs.
        let attempt = AuditRecord::new(
            AuditKind::Decision,
            now_s,
            Decision::Owner,
            "live owner: unlocking",
        )
        .track(track)
        .matched(Some(name), distance);
        if !self.audit(attempt, notices) {
            notices.push(VerifyNotice::UnlockFailed {
                track,
                reason: "audit log unavailable".into(),
            });
            return;
        }
        match self.unlock.unlock(now, name, d, track) {
            Ok(()) => {
                let ok = self.audit(
                    AuditRecord::new(
                        AuditKind::Unlock,
                        now_s,
                        Decision::Unlocked,
                        "unlock action succeeded",
                    )
                    .track(track)
                    .matched(Some(name), distance),
                    notices,
                );
                if !ok {
                    self.lock(now_s, "audit log write failed after unlock", notices);
                    return;
                }
                self.rate.record_success();
                notices.push(VerifyNotice::Unlocked {
                    track,
                    name: name.to_string(),
                    distance: d,
                });
            }
            Err(e) => {
                let reason = e.to_string();
                log::error!("unlock action: {reason}");
                self.audit(
                    AuditRecord::new(
                        AuditKind::UnlockFailed,
                        now_s,
                        Decision::Locked,
                        reason.clone(),
                    )
                    .track(track)
                    .matched(Some(name), distance),
                    notices,
                );
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
        let embedder = super::embed::NetEmbedder::new(store)?;
        let gallery_store = super::gallery::GalleryStore::new(&paths.gallery, &paths.key);
        let gallery = gallery_store.load(embedder.model_sha256());
        let audit = super::audit::AuditLog::open(&paths.audit)
            .map(|a| Box::new(a) as Box<dyn AuditSink>)
            .map_err(|e| e.to_string());
        log::info!(
            "verify: gallery {}, audit log {}",
            paths.gallery.display(),
            paths.audit.display()
        );
        Ok(Self::new(
            Box::new(embedder),
            gallery,
            audit,
            verify,
            liveness,
            unlock,
        ))
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
