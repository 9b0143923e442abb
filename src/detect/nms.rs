//! Greedy non-maximum suppression.

use super::window::{Overlap, Window};

/// Indices of the windows kept, best score first: each kept window suppresses
/// every lower-scored one that overlaps it by more than `threshold`.
/// Equal scores keep their input order.
pub fn nms(windows: &[Window], threshold: f32, method: Overlap) -> Vec<usize> {
    let mut order: Vec<usize> = (0..windows.len()).collect();
    order.sort_by(|&a, &b| windows[b].score.total_cmp(&windows[a].score));
    let mut suppressed = vec![false; windows.len()];
    let mut keep = Vec::new();
    let threshold = f64::from(threshold);
    for (rank, &i) in order.iter().enumerate() {
        if suppressed[i] {
            continue;
        }
        keep.push(i);
        for &j in &order[rank + 1..] {
            if !suppressed[j] && windows[i].overlap(&windows[j], method) > threshold {
                suppressed[j] = true;
            }
        }
    }
    keep
}

/// The kept windows themselves, best first.
pub fn suppress(windows: &[Window], threshold: f32, method: Overlap) -> Vec<Window> {
    nms(windows, threshold, method)
        .into_iter()
        .map(|i| windows[i])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(x1: f64, y1: f64, side: f64, score: f32) -> Window {
        Window {
            x1,
            y1,
            x2: x1 + side - 1.0,
            y2: y1 + side - 1.0,
            score,
            reg: [0.0; 4],
        }
    }

    #[test]
    fn keeps_the_best_of_a_cluster_and_separate_windows() {
        let w = vec![
            win(0.0, 0.0, 10.0, 0.8),
            win(1.0, 1.0, 10.0, 0.9),
            win(50.0, 50.0, 10.0, 0.7),
            win(0.0, 1.0, 10.0, 0.6),
        ];
        assert_eq!(nms(&w, 0.5, Overlap::Union), vec![1, 2]);
    }

    #[test]
    fn threshold_is_exclusive() {
        // Half of each window overlaps the other: Min overlap exactly 0.5.
        let a = win(0.0, 0.0, 10.0, 0.9);
        let b = win(5.0, 0.0, 10.0, 0.8);
        assert_eq!(a.overlap(&b, Overlap::Min), 0.5);
        assert_eq!(nms(&[a, b], 0.5, Overlap::Min).len(), 2);
        assert_eq!(nms(&[a, b], 0.49, Overlap::Min).len(), 1);
    }

    #[test]
    fn min_overlap_removes_nested_windows() {
        let outer = win(0.0, 0.0, 40.0, 0.8);
        let inner = win(10.0, 10.0, 10.0, 0.9);
        assert_eq!(nms(&[outer, inner], 0.7, Overlap::Union).len(), 2);
        assert_eq!(nms(&[outer, inner], 0.7, Overlap::Min), vec![1]);
    }

    #[test]
    fn empty_input_gives_empty_output() {
        assert!(nms(&[], 0.5, Overlap::Union).is_empty());
    }
}
