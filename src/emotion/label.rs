//! The seven Ekman classes and a probability per class.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Number of emotion classes.
pub const EMOTION_COUNT: usize = 7;

/// One of the seven FER2013 classes. The declaration order is Vigil's canonical
/// order (alphabetical, as the evaluation folders and the confusion matrix use);
/// each model's own output order is mapped to it once, in [`crate::emotion::classifier`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Emotion {
    /// Anger.
    Angry,
    /// Disgust.
    Disgust,
    /// Fear.
    Fear,
    /// Happiness.
    Happy,
    /// No particular expression.
    Neutral,
    /// Sadness.
    Sad,
    /// Surprise.
    Surprise,
}

impl Emotion {
    /// Every class in canonical (alphabetical) order; index `i` is the class of score `i`.
    pub const ALL: [Emotion; EMOTION_COUNT] = [
        Emotion::Angry,
        Emotion::Disgust,
        Emotion::Fear,
        Emotion::Happy,
        Emotion::Neutral,
        Emotion::Sad,
        Emotion::Surprise,
    ];

    /// Position in [`Emotion::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The class at position `ix` of [`Emotion::ALL`]; `None` past the last.
    pub fn from_index(ix: usize) -> Option<Emotion> {
        Emotion::ALL.get(ix).copied()
    }

    /// The lower-case name (also the folder name in evaluation data).
    pub fn name(self) -> &'static str {
        match self {
            Emotion::Angry => "angry",
            Emotion::Disgust => "disgust",
            Emotion::Fear => "fear",
            Emotion::Happy => "happy",
            Emotion::Neutral => "neutral",
            Emotion::Sad => "sad",
            Emotion::Surprise => "surprise",
        }
    }

    /// A three-letter tag for tight overlay labels.
    pub fn short(self) -> &'static str {
        match self {
            Emotion::Angry => "ang",
            Emotion::Disgust => "dis",
            Emotion::Fear => "fea",
            Emotion::Happy => "hap",
            Emotion::Neutral => "neu",
            Emotion::Sad => "sad",
            Emotion::Surprise => "sur",
        }
    }
}

impl fmt::Display for Emotion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error of [`Emotion::from_str`]: the unknown name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown emotion `{0}` (expected one of angry, disgust, fear, happy, neutral, sad, surprise)"
)]
pub struct UnknownEmotion(pub String);

impl FromStr for Emotion {
    type Err = UnknownEmotion;

    /// Accepts the canonical names and a few common synonyms (anger, sadness, ...).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "angry" | "anger" => Emotion::Angry,
            "disgust" | "disgusted" => Emotion::Disgust,
            "fear" | "fearful" | "afraid" => Emotion::Fear,
            "happy" | "happiness" | "joy" => Emotion::Happy,
            "neutral" => Emotion::Neutral,
            "sad" | "sadness" => Emotion::Sad,
            "surprise" | "surprised" => Emotion::Surprise,
            _ => return Err(UnknownEmotion(s.to_string())),
        })
    }
}

/// A probability per class, indexed by [`Emotion`]. Sums to 1 when it comes
/// from a classifier or a smoother.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct EmotionScores(pub [f32; EMOTION_COUNT]);

impl EmotionScores {
    /// The uniform distribution (no information).
    pub fn uniform() -> Self {
        Self([1.0 / EMOTION_COUNT as f32; EMOTION_COUNT])
    }

    /// Probability of class `e`.
    pub fn get(&self, e: Emotion) -> f32 {
        self.0[e.index()]
    }

    /// Pairs of class and probability in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = (Emotion, f32)> + '_ {
        Emotion::ALL.iter().map(move |e| (*e, self.0[e.index()]))
    }

    /// The most probable class and its probability (the first on a tie; `Neutral`
    /// if every value is NaN).
    pub fn dominant(&self) -> (Emotion, f32) {
        let mut best = (Emotion::Neutral, f32::NEG_INFINITY);
        for (e, p) in self.iter() {
            if p > best.1 {
                best = (e, p);
            }
        }
        if best.1.is_finite() {
            best
        } else {
            (Emotion::Neutral, 0.0)
        }
    }

    /// Divides by the sum so the values add up to 1. Non-finite or negative
    /// values count as 0; an all-zero vector becomes uniform.
    pub fn normalised(&self) -> Self {
        let clean = self
            .0
            .map(|p| if p.is_finite() && p > 0.0 { p } else { 0.0 });
        let sum: f32 = clean.iter().sum();
        if sum <= 0.0 {
            return Self::uniform();
        }
        Self(clean.map(|p| p / sum))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_matches_order() {
        for (ix, e) in Emotion::ALL.iter().enumerate() {
            assert_eq!(e.index(), ix);
            assert_eq!(Emotion::from_index(ix), Some(*e));
            assert_eq!(e.name().parse::<Emotion>().unwrap(), *e);
        }
        assert_eq!("Anger".parse::<Emotion>().unwrap(), Emotion::Angry);
        assert!("bored".parse::<Emotion>().is_err());
        assert_eq!(Emotion::from_index(7), None);
    }

    #[test]
    fn dominant_picks_the_maximum() {
        let mut s = EmotionScores([0.0; EMOTION_COUNT]);
        s.0[Emotion::Sad.index()] = 0.7;
        s.0[Emotion::Happy.index()] = 0.3;
        assert_eq!(s.dominant(), (Emotion::Sad, 0.7));
    }

    #[test]
    fn normalised_handles_garbage() {
        let s = EmotionScores([f32::NAN, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0]).normalised();
        assert_eq!(s, EmotionScores::uniform());
        let s = EmotionScores([2.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]).normalised();
        assert!((s.get(Emotion::Angry) - 0.5).abs() < 1e-6);
        assert_eq!(EmotionScores([f32::NAN; 7]).dominant().0, Emotion::Neutral);
    }
}
