//! Detection metrics: one-to-one matching at an IoU threshold, precision,
//! recall and average precision (area under the precision-recall curve,
//! all-point interpolation as in PASCAL VOC 2010 and later).

use serde::Serialize;

use crate::core::geometry::BoundingBox;

/// One scored detection in one image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// Index of the image (into the ground-truth list).
    pub image: usize,
    /// The detected box, in image pixels.
    pub bbox: BoundingBox,
    /// Detector confidence; higher ranks first.
    pub score: f32,
}

/// Totals over a set of images.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DetectionScore {
    /// Images scored.
    pub images: usize,
    /// Ground-truth faces over all images.
    pub faces: usize,
    /// Detections over all images.
    pub detections: usize,
    /// Detections matched to a ground-truth face.
    pub true_positives: usize,
    /// `true_positives / faces`, 0..=1 (0 with no faces).
    pub recall: f64,
    /// `true_positives / detections`, 0..=1 (0 with no detections).
    pub precision: f64,
    /// Average precision: area under the all-point interpolated
    /// precision-recall curve, 0..=1.
    pub ap: f64,
}

/// For each detection (in input order), whether it matched a ground-truth box.
/// Detections are taken best score first; each takes the unmatched
/// ground-truth box of its image it overlaps most, if that IoU is at least
/// `min_iou`.
pub fn match_detections(truth: &[Vec<BoundingBox>], dets: &[Scored], min_iou: f32) -> Vec<bool> {
    let mut order: Vec<usize> = (0..dets.len()).collect();
    order.sort_by(|&a, &b| dets[b].score.total_cmp(&dets[a].score).then(a.cmp(&b)));
    let mut taken: Vec<Vec<bool>> = truth.iter().map(|t| vec![false; t.len()]).collect();
    let mut hit = vec![false; dets.len()];
    for i in order {
        let d = &dets[i];
        let Some(boxes) = truth.get(d.image) else {
            continue;
        };
        let mut best: Option<(usize, f32)> = None;
        for (g, gt) in boxes.iter().enumerate() {
            if taken[d.image][g] {
                continue;
            }
            let iou = d.bbox.iou(gt);
            if iou >= min_iou && best.is_none_or(|(_, b)| iou > b) {
                best = Some((g, iou));
            }
        }
        if let Some((g, _)) = best {
            taken[d.image][g] = true;
            hit[i] = true;
        }
    }
    hit
}

/// Precision, recall and AP of `dets` against `truth` (one list per image).
pub fn score(truth: &[Vec<BoundingBox>], dets: &[Scored], min_iou: f32) -> DetectionScore {
    let hit = match_detections(truth, dets, min_iou);
    let faces: usize = truth.iter().map(Vec::len).sum();
    let tp = hit.iter().filter(|h| **h).count();
    let mut order: Vec<usize> = (0..dets.len()).collect();
    order.sort_by(|&a, &b| dets[b].score.total_cmp(&dets[a].score).then(a.cmp(&b)));
    let flags: Vec<bool> = order.iter().map(|&i| hit[i]).collect();
    DetectionScore {
        images: truth.len(),
        faces,
        detections: dets.len(),
        true_positives: tp,
        recall: ratio(tp, faces),
        precision: ratio(tp, dets.len()),
        ap: average_precision(&flags, faces),
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// All-point interpolated AP from hit flags sorted by descending score.
pub fn average_precision(hits_by_score: &[bool], positives: usize) -> f64 {
    if positives == 0 {
        return 0.0;
    }
    let mut tp = 0usize;
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(hits_by_score.len());
    for (k, h) in hits_by_score.iter().enumerate() {
        if *h {
            tp += 1;
        }
        points.push((ratio(tp, positives), ratio(tp, k + 1)));
    }
    // Precision envelope: best precision at this recall or any higher one.
    let mut best = 0.0f64;
    for p in points.iter_mut().rev() {
        best = best.max(p.1);
        p.1 = best;
    }
    let mut ap = 0.0;
    let mut last_recall = 0.0;
    for (r, p) in points {
        if r > last_recall {
            ap += (r - last_recall) * p;
            last_recall = r;
        }
    }
    ap
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, y: f32) -> BoundingBox {
        BoundingBox::new(x, y, 10.0, 10.0)
    }

    fn s(image: usize, x: f32, y: f32, score: f32) -> Scored {
        Scored {
            image,
            bbox: b(x, y),
            score,
        }
    }

    #[test]
    fn perfect_detections_score_one() {
        let truth = vec![vec![b(0.0, 0.0), b(50.0, 0.0)], vec![b(5.0, 5.0)]];
        let dets = vec![
            s(0, 0.0, 0.0, 0.9),
            s(0, 50.0, 1.0, 0.8),
            s(1, 5.0, 5.0, 0.7),
        ];
        let r = score(&truth, &dets, 0.4);
        assert_eq!(r.true_positives, 3);
        assert_eq!((r.recall, r.precision, r.ap), (1.0, 1.0, 1.0));
    }

    #[test]
    fn one_truth_box_matches_one_detection() {
        let truth = vec![vec![b(0.0, 0.0)]];
        let dets = vec![s(0, 1.0, 0.0, 0.6), s(0, 0.0, 0.0, 0.9)];
        let hit = match_detections(&truth, &dets, 0.4);
        assert_eq!(hit, vec![false, true], "the better score takes it");
        let r = score(&truth, &dets, 0.4);
        assert_eq!(r.precision, 0.5);
        assert_eq!(r.ap, 1.0, "the false positive ranks below the hit");
    }

    #[test]
    fn ap_interpolates_over_all_points() {
        // Ranked: hit, miss, hit; 3 positives. Recall 1/3 at P 1, 2/3 at P 2/3.
        let ap = average_precision(&[true, false, true], 3);
        assert!((ap - (1.0 / 3.0 + (1.0 / 3.0) * (2.0 / 3.0))).abs() < 1e-12);
        // A miss ranked first: envelope gives P 2/3 from the start.
        let ap = average_precision(&[false, true, true], 2);
        assert!((ap - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(average_precision(&[], 0), 0.0);
    }

    #[test]
    fn low_overlap_does_not_match() {
        let truth = vec![vec![b(0.0, 0.0)]];
        let dets = vec![s(0, 7.0, 0.0, 0.9)];
        assert_eq!(score(&truth, &dets, 0.4).true_positives, 0);
    }
}
