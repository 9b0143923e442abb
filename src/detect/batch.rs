//! R-Net and O-Net over a whole stage's windows in one run.
//!
//! A frame brings any number of windows. One plan with a symbolic batch axis
//! serves every count: measured per crop, it is as fast as plans optimised
//! for a fixed batch, and per-crop cost is flat from 1 to 64 crops (R-Net
//! about 0.09 ms, O-Net 0.5 ms here), so neither padding to bucket sizes nor
//! a plan per size would gain anything (`dev/perf/README.md`). Very large
//! counts run in chunks of [`MAX_BATCH`] to bound the intermediate tensors.

use crate::models::{self, Model, Plan};

use super::DetectError;

/// The most crops run at once (bounds memory: O-Net's first activation is
/// 270 KB per crop).
pub const MAX_BATCH: usize = 256;

/// A fixed-size-input net run on batches of crops.
#[derive(Debug)]
pub struct BatchNet {
    plan: Plan,
    name: &'static str,
    side: usize,
}

impl BatchNet {
    /// Optimises `model` once for any batch of `side` x `side` crops.
    pub fn new(model: &Model, name: &'static str, side: u32) -> Result<Self, DetectError> {
        let side = side as usize;
        Ok(Self {
            plan: model.plan_any_batch(&[side, side, 3])?,
            name,
            side,
        })
    }

    /// Values per crop in the input tensor.
    pub fn crop_len(&self) -> usize {
        self.side * self.side * 3
    }

    /// Runs `n` crops laid out one after the other in `input`; returns each
    /// output of the net as `n` rows, concatenated.
    pub fn run(&mut self, input: &[f32], n: usize) -> Result<Vec<Vec<f32>>, DetectError> {
        let per = self.crop_len();
        if input.len() != n * per {
            return Err(DetectError::Output {
                net: self.name,
                message: format!("{} input values for {n} crops", input.len()),
            });
        }
        let mut joined: Vec<Vec<f32>> = Vec::new();
        for chunk in input.chunks(MAX_BATCH * per) {
            let file = self.plan.file();
            let result = self.plan.run_f32(chunk.to_vec())?;
            super::simd::clear_upper_vector_state();
            if joined.is_empty() {
                joined = vec![Vec::new(); result.len()];
            }
            for (ix, out) in joined.iter_mut().enumerate() {
                out.extend_from_slice(models::output_f32(&result, ix, file)?);
            }
        }
        for (ix, out) in joined.iter().enumerate() {
            if out.len() % n.max(1) != 0 {
                return Err(DetectError::Output {
                    net: self.name,
                    message: format!("output {ix} has {} values for {n} crops", out.len()),
                });
            }
        }
        Ok(joined)
    }
}
