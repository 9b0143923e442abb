//! Open-set decision per tracked face: "owner" only when the best match beats
//! the threshold for the same person in at least N of the last M embeddings;
//! "unknown" as soon as that can no longer happen; "pending" before.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

use super::gallery::BestMatch;

/// What the verifier says about a tracked face.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "identity", rename_all = "snake_case")]
pub enum Identity {
    /// Not enough evidence yet.
    Pending,
    /// An enrolled person.
    Owner {
        /// The enrolled person's name, as in the gallery.
        name: String,
    },
    /// Anyone else (open set), or nobody enrolled.
    Unknown,
}

impl Identity {
    /// Short text for overlays and logs: `?` while pending, the person's
    /// name, or `unknown`.
    pub fn label(&self) -> &str {
        match self {
            Identity::Pending => "?",
            Identity::Owner { name } => name,
            Identity::Unknown => "unknown",
        }
    }

    /// True for `Owner` and `Unknown`, false while `Pending`.
    pub fn is_decided(&self) -> bool {
        !matches!(self, Identity::Pending)
    }
}

/// The decision rule's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VoteRule {
    /// An embedding votes for a person when its distance to their nearest
    /// template is below this (in the metric's units; `verify.threshold`).
    pub threshold: f32,
    /// Votes for the same person needed within the window to decide "owner"
    /// (`verify.votes_needed`).
    pub votes_needed: usize,
    /// Number of most recent embeddings the votes are counted over
    /// (`verify.vote_window`).
    pub window: usize,
    /// A distance within this of the threshold is "unsure".
    pub unsure_margin: f32,
}

/// One embedding's vote: the best match, if any template was compared.
#[derive(Debug, Clone, PartialEq)]
struct Vote {
    accept: Option<String>,
}

/// The votes of one track and when it was last embedded.
#[derive(Debug, Clone)]
pub struct TrackVotes {
    votes: VecDeque<Vote>,
    /// Best match of the latest embedding (`None` before the first, or when
    /// nobody was enrolled).
    pub last: Option<BestMatch>,
    /// Frame time of the latest embedding, `None` before the first.
    pub last_embedded: Option<Duration>,
    /// Embeddings taken of this track so far (all of them, not only those
    /// still in the window).
    pub embeddings: u64,
}

impl Default for TrackVotes {
    fn default() -> Self {
        Self::new()
    }
}

impl TrackVotes {
    /// No votes yet: pending, and needs an embedding.
    pub fn new() -> Self {
        Self {
            votes: VecDeque::new(),
            last: None,
            last_embedded: None,
            embeddings: 0,
        }
    }

    /// Adds the best match of one embedding taken at `now` (`None`: nobody enrolled).
    pub fn push(&mut self, rule: &VoteRule, best: Option<BestMatch>, now: Duration) {
        let accept = best
            .as_ref()
            .filter(|b| b.distance < rule.threshold)
            .map(|b| b.name.clone());
        self.votes.push_back(Vote { accept });
        while self.votes.len() > rule.window {
            self.votes.pop_front();
        }
        self.last = best;
        self.last_embedded = Some(now);
        self.embeddings += 1;
    }

    /// The decision from the votes in the window.
    pub fn identity(&self, rule: &VoteRule) -> Identity {
        let mut best: Option<(&str, usize)> = None;
        for v in &self.votes {
            if let Some(name) = &v.accept {
                let n = self
                    .votes
                    .iter()
                    .filter(|w| w.accept.as_deref() == Some(name))
                    .count();
                if best.is_none_or(|(_, m)| n > m) {
                    best = Some((name, n));
                }
            }
        }
        let top = best.map(|(_, n)| n).unwrap_or(0);
        if let Some((name, n)) = best {
            if n >= rule.votes_needed {
                return Identity::Owner {
                    name: name.to_string(),
                };
            }
        }
        // Can the leader still reach N once the window is full?
        let room = rule.window.saturating_sub(self.votes.len());
        if top + room < rule.votes_needed {
            Identity::Unknown
        } else {
            Identity::Pending
        }
    }

    /// Whether this track needs an embedding at `now`: while undecided, when
    /// its last distance was near the threshold, or once `refresh` has passed.
    pub fn needs_embedding(&self, rule: &VoteRule, now: Duration, refresh: Duration) -> bool {
        let Some(at) = self.last_embedded else {
            return true;
        };
        if !self.identity(rule).is_decided() {
            return true;
        }
        let unsure = self
            .last
            .as_ref()
            .is_some_and(|b| (b.distance - rule.threshold).abs() < rule.unsure_margin);
        unsure || now.saturating_sub(at) >= refresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: VoteRule = VoteRule {
        threshold: 0.5,
        votes_needed: 3,
        window: 5,
        unsure_margin: 0.05,
    };

    fn m(name: &str, d: f32) -> Option<BestMatch> {
        Some(BestMatch {
            name: name.into(),
            distance: d,
        })
    }

    fn t(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn three_of_five_make_the_owner() {
        let mut v = TrackVotes::new();
        v.push(&RULE, m("a", 0.3), t(0.0));
        v.push(&RULE, m("a", 0.6), t(0.1));
        assert_eq!(v.identity(&RULE), Identity::Pending);
        v.push(&RULE, m("a", 0.4), t(0.2));
        assert_eq!(v.identity(&RULE), Identity::Pending);
        v.push(&RULE, m("a", 0.45), t(0.3));
        assert_eq!(v.identity(&RULE), Identity::Owner { name: "a".into() });
    }

    #[test]
    fn unknown_as_soon_as_owner_is_out_of_reach() {
        let mut v = TrackVotes::new();
        v.push(&RULE, m("a", 0.7), t(0.0));
        v.push(&RULE, m("a", 0.8), t(0.1));
        assert_eq!(v.identity(&RULE), Identity::Pending);
        v.push(&RULE, m("a", 0.9), t(0.2));
        assert_eq!(v.identity(&RULE), Identity::Unknown);
    }

    #[test]
    fn votes_for_different_people_do_not_add_up() {
        let mut v = TrackVotes::new();
        for (i, n) in ["a", "b", "a", "b", "c"].iter().enumerate() {
            v.push(&RULE, m(n, 0.3), t(i as f64));
        }
        assert_eq!(v.identity(&RULE), Identity::Unknown);
    }

    #[test]
    fn nobody_enrolled_is_unknown() {
        let mut v = TrackVotes::new();
        for i in 0..5 {
            v.push(&RULE, None, t(i as f64));
        }
        assert_eq!(v.identity(&RULE), Identity::Unknown);
    }

    #[test]
    fn old_votes_leave_the_window() {
        let mut v = TrackVotes::new();
        for i in 0..3 {
            v.push(&RULE, m("a", 0.3), t(i as f64));
        }
        assert!(matches!(v.identity(&RULE), Identity::Owner { .. }));
        for i in 3..6 {
            v.push(&RULE, m("a", 0.9), t(i as f64));
        }
        assert_eq!(v.identity(&RULE), Identity::Unknown);
    }

    #[test]
    fn caching_embeds_new_unsure_and_stale_tracks() {
        let refresh = t(2.0);
        let mut v = TrackVotes::new();
        assert!(v.needs_embedding(&RULE, t(0.0), refresh));
        for i in 0..3 {
            v.push(&RULE, m("a", 0.3), t(i as f64 * 0.1));
        }
        assert!(!v.needs_embedding(&RULE, t(0.5), refresh));
        assert!(v.needs_embedding(&RULE, t(2.3), refresh));
        v.push(&RULE, m("a", 0.47), t(2.3));
        assert!(
            v.needs_embedding(&RULE, t(2.4), refresh),
            "near the threshold"
        );
    }
}
