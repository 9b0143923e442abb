//! ImageNet class names and top-k of the backbone's logits.

use crate::models::{ModelError, ModelStore};
use crate::scene::Scored;

use super::backbone::CLASS_COUNT;
use super::SceneError;

/// The class names, one per line in index order (see models/README.md).
pub const LABELS_FILE: &str = "imagenet_labels.txt";

/// The 1000 ImageNet class names, in the backbone's output order.
#[derive(Debug, Clone)]
pub struct ImageNetLabels {
    names: Vec<String>,
}

impl ImageNetLabels {
    /// Reads [`LABELS_FILE`] from the models folder (checksummed); an error unless it has exactly 1000 lines.
    pub fn load(store: &ModelStore) -> Result<Self, SceneError> {
        let bytes = store.read_verified(LABELS_FILE)?.bytes;
        let text = String::from_utf8(bytes).map_err(|_| {
            SceneError::from(ModelError::Parse {
                path: store.path_of(LABELS_FILE),
                message: "not UTF-8".into(),
            })
        })?;
        let names: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
        if names.len() != CLASS_COUNT {
            return Err(SceneError::Labels(format!(
                "{LABELS_FILE} has {} lines, expected {CLASS_COUNT}",
                names.len()
            )));
        }
        Ok(Self { names })
    }

    /// The `k` most probable classes (softmax over the logits), best first.
    pub fn top_k(&self, logits: &[f32], k: usize) -> Vec<Scored> {
        let probs = softmax(logits);
        let mut idx: Vec<usize> = (0..probs.len().min(self.names.len())).collect();
        idx.sort_by(|a, b| probs[*b].total_cmp(&probs[*a]));
        idx.into_iter()
            .take(k)
            .map(|i| Scored {
                label: self.names[i].clone(),
                score: probs[i],
            })
            .collect()
    }
}

/// Numerically stable softmax.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        exps.into_iter().map(|e| e / sum).collect()
    } else {
        vec![0.0; logits.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::softmax;

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let p = softmax(&[1.0, 3.0, 2.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[1] > p[2] && p[2] > p[0]);
    }
}
