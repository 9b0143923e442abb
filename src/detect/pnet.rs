//! Stage 1: P-Net over one pyramid level, candidates from its probability map.

use std::collections::HashMap;

use tract_onnx::prelude::tract_data::knobs::KnobScope;

use crate::models::{self, Model, Plan};

use super::config::{PNET_CELL, PNET_STRIDE};
use super::pyramid::Level;
use super::window::Window;
use super::DetectError;

/// Plans kept for distinct level sizes. A camera needs one per level (8 at
/// 640x480 and 40 px); a folder of photos of many sizes would otherwise grow
/// the cache without end, so past this it is cleared.
pub const PLAN_CACHE_LIMIT: usize = 64;

/// tract settings in force while P-Net plans are optimised: eager im2col for
/// its 3x3 convolutions instead of tract's default lazy gather (measured: the
/// 192x144 level 3.7 -> 3.4 ms, 97x73 1.04 -> 0.97 ms; `dev/perf/README.md`).
pub const PNET_KNOBS: [(&str, &str); 1] = [("TRACT_LAZY_IM2COL_MIN_KERNEL", "100")];

/// P-Net with one optimised plan per level size, built on first use.
#[derive(Debug)]
pub struct ProposalNet {
    model: Model,
    plans: HashMap<(u32, u32), Plan>,
}

impl ProposalNet {
    /// A P-Net over `model` (the checked `PNET` spec) with no plans yet; plans are built per level size on first use.
    pub fn new(model: Model) -> Self {
        Self {
            model,
            plans: HashMap::new(),
        }
    }

    /// Number of cached plans.
    pub fn cached_plans(&self) -> usize {
        self.plans.len()
    }

    /// Builds the plans for `levels` now (so the first frame is not slow).
    pub fn prepare(&mut self, levels: &[Level]) -> Result<(), DetectError> {
        for l in levels {
            self.plan(l.width, l.height)?;
        }
        Ok(())
    }

    fn plan(&mut self, width: u32, height: u32) -> Result<&mut Plan, DetectError> {
        if !self.plans.contains_key(&(width, height)) && self.plans.len() >= PLAN_CACHE_LIMIT {
            self.plans.clear();
        }
        // The entry API cannot propagate the plan error, hence the two steps.
        if !self.plans.contains_key(&(width, height)) {
            let shape = [1, width as usize, height as usize, 3];
            let scope = KnobScope::new(PNET_KNOBS).map_err(|e| DetectError::Knob(e.to_string()))?;
            let plan = scope.enter(|| self.model.plan(&shape))?;
            self.plans.insert((width, height), plan);
        }
        self.plans
            .get_mut(&(width, height))
            .ok_or(DetectError::Internal("P-Net plan cache"))
    }

    /// Runs P-Net on a level tensor (`[1, W, H, 3]`, see `tensor.rs`) and
    /// appends the windows scoring at least `threshold`, in frame coordinates.
    pub fn propose(
        &mut self,
        input: Vec<f32>,
        level: &Level,
        threshold: f32,
        out: &mut Vec<Window>,
    ) -> Result<(), DetectError> {
        let plan = self.plan(level.width, level.height)?;
        let file = plan.file();
        let outputs = plan.run_f32(input)?;
        super::simd::clear_upper_vector_state();
        let shape = outputs
            .get(1)
            .map(|v| v.shape().to_vec())
            .unwrap_or_default();
        let reg = models::output_f32(&outputs, 0, file)?;
        let prob = models::output_f32(&outputs, 1, file)?;
        let [1, cols, rows, 2] = shape[..] else {
            return Err(DetectError::Output {
                net: "P-Net",
                message: format!("probability map of shape {shape:?}"),
            });
        };
        if reg.len() != cols * rows * 4 {
            return Err(DetectError::Output {
                net: "P-Net",
                message: format!("regression of {} values for a {cols}x{rows} map", reg.len()),
            });
        }
        windows_from_map(prob, reg, cols, rows, level.scale, threshold, out);
        Ok(())
    }
}

/// Windows from P-Net's transposed maps: cell `(i, j)` (x index first) is the
/// `12 / scale` square at `(2 i + 1) / scale, (2 j + 1) / scale`, corners
/// truncated as numpy's `fix` does.
pub fn windows_from_map(
    prob: &[f32],
    reg: &[f32],
    cols: usize,
    rows: usize,
    scale: f64,
    threshold: f32,
    out: &mut Vec<Window>,
) {
    for i in 0..cols {
        for j in 0..rows {
            let cell = i * rows + j;
            let score = prob[cell * 2 + 1];
            if score < threshold {
                continue;
            }
            let (x, y) = (i as f64, j as f64);
            out.push(Window {
                x1: ((PNET_STRIDE * x + 1.0) / scale).trunc(),
                y1: ((PNET_STRIDE * y + 1.0) / scale).trunc(),
                x2: ((PNET_STRIDE * x + PNET_CELL) / scale).trunc(),
                y2: ((PNET_STRIDE * y + PNET_CELL) / scale).trunc(),
                score,
                reg: [
                    reg[cell * 4],
                    reg[cell * 4 + 1],
                    reg[cell * 4 + 2],
                    reg[cell * 4 + 3],
                ],
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_map_to_frame_windows() {
        // 3 columns (x) by 2 rows (y); only cell (x 2, y 1) passes.
        let mut prob = vec![0.0f32; 3 * 2 * 2];
        let mut reg = vec![0.0f32; 3 * 2 * 4];
        let cell = 2 * 2 + 1;
        prob[cell * 2 + 1] = 0.9;
        reg[cell * 4..cell * 4 + 4].copy_from_slice(&[0.1, 0.2, 0.3, 0.4]);
        let mut out = vec![];
        windows_from_map(&prob, &reg, 3, 2, 0.5, 0.6, &mut out);
        assert_eq!(out.len(), 1);
        let w = out[0];
        assert_eq!((w.x1, w.y1, w.x2, w.y2), (10.0, 6.0, 32.0, 28.0));
        assert_eq!(w.reg, [0.1, 0.2, 0.3, 0.4]);
        assert_eq!(w.score, 0.9);
    }

    #[test]
    fn threshold_is_inclusive() {
        let prob = vec![0.4f32, 0.6];
        let reg = vec![0.0f32; 4];
        let mut out = vec![];
        windows_from_map(&prob, &reg, 1, 1, 1.0, 0.6, &mut out);
        assert_eq!(out.len(), 1);
    }
}
