//! Verification metrics from pair distances (lower = more alike): accuracy at a
//! threshold, the best threshold, EER, TAR at a fixed FAR, the ROC curve, and
//! subject-disjoint k-fold cross-validation as in the LFW protocol.

use serde::Serialize;

/// Distances of genuine (same person) and impostor (different people) pairs.
#[derive(Debug, Clone, Default)]
pub struct PairScores {
    /// Distances of same-person pairs.
    pub genuine: Vec<f32>,
    /// Distances of different-person pairs.
    pub impostor: Vec<f32>,
}

/// One operating point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OperatingPoint {
    /// Distance threshold: a pair is accepted when its distance is below it.
    pub threshold: f32,
    /// Fraction of genuine pairs accepted (distance < threshold).
    pub tar: f64,
    /// Fraction of impostor pairs accepted.
    pub far: f64,
}

fn sorted(v: &[f32]) -> Vec<f32> {
    let mut s: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
    s.sort_by(|a, b| a.total_cmp(b));
    s
}

/// Number of values of the sorted slice strictly below `t`.
fn below(sorted: &[f32], t: f32) -> usize {
    sorted.partition_point(|&x| x < t)
}

impl PairScores {
    /// Number of pairs, genuine and impostor.
    pub fn total(&self) -> usize {
        self.genuine.len() + self.impostor.len()
    }

    /// Operating point at `threshold` (accept when distance < threshold).
    pub fn at(&self, threshold: f32) -> OperatingPoint {
        let g = self.genuine.iter().filter(|&&d| d < threshold).count();
        let i = self.impostor.iter().filter(|&&d| d < threshold).count();
        OperatingPoint {
            threshold,
            tar: ratio(g, self.genuine.len()),
            far: ratio(i, self.impostor.len()),
        }
    }

    /// Fraction of pairs classified correctly at `threshold`.
    pub fn accuracy(&self, threshold: f32) -> f64 {
        let g = self.genuine.iter().filter(|&&d| d < threshold).count();
        let i = self.impostor.iter().filter(|&&d| d >= threshold).count();
        ratio(g + i, self.total())
    }

    /// Candidate thresholds: midpoints between consecutive distinct distances,
    /// plus one below and one above everything.
    fn candidates(&self) -> Vec<f32> {
        let mut all: Vec<f32> = self.genuine.iter().chain(&self.impostor).copied().collect();
        all = sorted(&all);
        all.dedup();
        let mut c = Vec::with_capacity(all.len() + 1);
        if let (Some(first), Some(last)) = (all.first(), all.last()) {
            c.push(first - 1e-3);
            c.extend(all.windows(2).map(|w| (w[0] + w[1]) / 2.0));
            c.push(last + 1e-3);
        }
        c
    }

    /// The threshold with the highest accuracy (the lowest of ties' midpoint range).
    pub fn best_threshold(&self) -> Option<(f32, f64)> {
        let g = sorted(&self.genuine);
        let i = sorted(&self.impostor);
        let total = self.total();
        let mut best: Option<(f32, f64)> = None;
        for t in self.candidates() {
            let correct = below(&g, t) + (i.len() - below(&i, t));
            let acc = ratio(correct, total);
            if best.is_none_or(|(_, a)| acc > a) {
                best = Some((t, acc));
            }
        }
        best
    }

    /// Equal error rate: where FAR and FRR cross (their mean at the closest point).
    pub fn eer(&self) -> Option<(f64, f32)> {
        let g = sorted(&self.genuine);
        let i = sorted(&self.impostor);
        if g.is_empty() || i.is_empty() {
            return None;
        }
        let mut best: Option<(f64, f64, f32)> = None;
        for t in self.candidates() {
            let far = ratio(below(&i, t), i.len());
            let frr = 1.0 - ratio(below(&g, t), g.len());
            let gap = (far - frr).abs();
            if best.is_none_or(|(bg, _, _)| gap < bg) {
                best = Some((gap, (far + frr) / 2.0, t));
            }
        }
        best.map(|(_, eer, t)| (eer, t))
    }

    /// The highest TAR whose FAR is at most `far`, and its threshold.
    pub fn tar_at_far(&self, far: f64) -> Option<OperatingPoint> {
        let g = sorted(&self.genuine);
        let i = sorted(&self.impostor);
        if g.is_empty() || i.is_empty() {
            return None;
        }
        let allowed = (far * i.len() as f64).floor() as usize;
        // Accept everything below the (allowed+1)-th smallest impostor distance.
        let t = match i.get(allowed) {
            Some(&d) => d,
            None => i.last().map(|l| l + 1e-3).unwrap_or(0.0),
        };
        Some(OperatingPoint {
            threshold: t,
            tar: ratio(below(&g, t), g.len()),
            far: ratio(below(&i, t), i.len()),
        })
    }

    /// ROC points (one per candidate threshold, FAR ascending).
    pub fn roc(&self) -> Vec<OperatingPoint> {
        let g = sorted(&self.genuine);
        let i = sorted(&self.impostor);
        self.candidates()
            .into_iter()
            .map(|t| OperatingPoint {
                threshold: t,
                tar: ratio(below(&g, t), g.len()),
                far: ratio(below(&i, t), i.len()),
            })
            .collect()
    }
}

/// Result of k-fold cross-validation.
#[derive(Debug, Clone, Serialize)]
pub struct CrossValidation {
    /// Number of folds (k).
    pub folds: usize,
    /// Mean over the folds of the test-fold accuracy (0..1).
    pub mean_accuracy: f64,
    /// Standard deviation of the test-fold accuracies.
    pub std_accuracy: f64,
    /// Threshold chosen on each fold's training part.
    pub thresholds: Vec<f32>,
}

/// LFW-style k-fold: `folds[k]` holds the pairs of fold k (subject-disjoint).
/// For each fold the threshold with the best accuracy on the other folds is
/// applied to it; the mean and standard deviation of those accuracies are
/// returned. Folds with no pairs are skipped.
pub fn cross_validate(folds: &[PairScores]) -> Option<CrossValidation> {
    let mut accs = Vec::new();
    let mut thresholds = Vec::new();
    for (k, test) in folds.iter().enumerate() {
        if test.total() == 0 {
            continue;
        }
        let mut train = PairScores::default();
        for (j, f) in folds.iter().enumerate() {
            if j != k {
                train.genuine.extend(&f.genuine);
                train.impostor.extend(&f.impostor);
            }
        }
        let (t, _) = train.best_threshold()?;
        accs.push(test.accuracy(t));
        thresholds.push(t);
    }
    if accs.is_empty() {
        return None;
    }
    let n = accs.len() as f64;
    let mean = accs.iter().sum::<f64>() / n;
    let var = accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n;
    Some(CrossValidation {
        folds: accs.len(),
        mean_accuracy: mean,
        std_accuracy: var.sqrt(),
        thresholds,
    })
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(g: &[f32], i: &[f32]) -> PairScores {
        PairScores {
            genuine: g.to_vec(),
            impostor: i.to_vec(),
        }
    }

    #[test]
    fn separable_scores_give_perfect_figures() {
        let s = scores(&[0.1, 0.2, 0.3], &[0.6, 0.7, 0.8, 0.9]);
        let (t, acc) = s.best_threshold().unwrap();
        assert_eq!(acc, 1.0);
        assert!(t > 0.3 && t < 0.6, "{t}");
        assert_eq!(s.eer().unwrap().0, 0.0);
        let p = s.tar_at_far(0.0).unwrap();
        assert_eq!((p.tar, p.far), (1.0, 0.0));
    }

    #[test]
    fn overlapping_scores() {
        // One impostor at 0.25 sits among the genuine pairs.
        let s = scores(&[0.1, 0.2, 0.3, 0.4], &[0.25, 0.5, 0.6, 0.7]);
        let (_, acc) = s.best_threshold().unwrap();
        assert!((acc - 7.0 / 8.0).abs() < 1e-9);
        // FAR 0 forces the threshold to 0.25: TAR 2/4.
        let p = s.tar_at_far(0.0).unwrap();
        assert_eq!(p.far, 0.0);
        assert!((p.tar - 0.5).abs() < 1e-9);
        // FAR 0.25 allows the 0.25 impostor: TAR 4/4.
        let p = s.tar_at_far(0.25).unwrap();
        assert!((p.tar - 1.0).abs() < 1e-9 && (p.far - 0.25).abs() < 1e-9);
        let (eer, _) = s.eer().unwrap();
        assert!((eer - 0.25).abs() < 1e-9, "{eer}");
        assert!((s.accuracy(0.45) - 7.0 / 8.0).abs() < 1e-9);
    }

    #[test]
    fn cross_validation_uses_the_other_folds_threshold() {
        let a = scores(&[0.1, 0.2], &[0.8, 0.9]);
        let b = scores(&[0.15, 0.25], &[0.78, 0.85]);
        // In fold c a genuine pair at 0.75 is misclassified by any threshold
        // learnt on a and b.
        let c = scores(&[0.75, 0.2], &[0.9, 0.95]);
        let cv = cross_validate(&[a, b, c]).unwrap();
        assert_eq!(cv.folds, 3);
        assert!(
            (cv.mean_accuracy - (1.0 + 1.0 + 0.75) / 3.0).abs() < 1e-9,
            "{cv:?}"
        );
    }

    #[test]
    fn roc_is_monotone() {
        let s = scores(&[0.1, 0.3, 0.5], &[0.2, 0.6, 0.9]);
        let roc = s.roc();
        assert!(roc
            .windows(2)
            .all(|w| w[0].far <= w[1].far && w[0].tar <= w[1].tar));
        assert_eq!(roc.last().map(|p| (p.tar, p.far)), Some((1.0, 1.0)));
    }

    #[test]
    fn empty_scores_give_none() {
        let s = PairScores::default();
        assert!(s.best_threshold().is_none());
        assert!(s.eer().is_none());
        assert!(s.tar_at_far(1e-3).is_none());
    }
}
