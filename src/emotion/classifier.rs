//! Grey face crops -> seven probabilities: mini-Xception, optionally averaged
//! with face-api's expression net, each over test-time views.
//!
//! Each model's output order is mapped to [`Emotion`] here, once. The views of
//! all faces of a call are run in batches of at most [`MAX_BATCH`]; a plan is
//! built per batch size the first time it is needed and then reused.

use std::collections::HashMap;

use image::GrayImage;

use super::label::{Emotion, EmotionScores, EMOTION_COUNT};
use super::views::{TtaMode, View, ViewRenderer};
use super::EmotionError;
use crate::models::{self, Model, ModelStore, Plan};

/// mini-Xception's output order (fer's `emotion_model.hdf5`).
pub const MINI_XCEPTION_ORDER: [Emotion; EMOTION_COUNT] = [
    Emotion::Angry,
    Emotion::Disgust,
    Emotion::Fear,
    Emotion::Happy,
    Emotion::Sad,
    Emotion::Surprise,
    Emotion::Neutral,
];

/// face-api's output order (`FACE_EXPRESSION_LABELS`).
pub const FACEAPI_ORDER: [Emotion; EMOTION_COUNT] = [
    Emotion::Neutral,
    Emotion::Happy,
    Emotion::Sad,
    Emotion::Angry,
    Emotion::Fear,
    Emotion::Disgust,
    Emotion::Surprise,
];

/// Input side of mini-Xception.
pub const MINI_XCEPTION_SIDE: u32 = 64;
/// Input side of face-api's expression net.
pub const FACEAPI_SIDE: u32 = 112;
/// Largest batch run at once; more views are split into several runs.
///
/// Measured (`cargo bench --bench emotion`, tract 0.23.9, x86-64, one thread):
/// mini-Xception took 1.84 ms for one image, 9.4 ms for a batch of 2 and
/// 16.1 ms for a batch of 4, against 7.8 ms for 4 single runs: batched plans
/// cost 2-2.5x more per image in tract, so every view runs alone.
pub const MAX_BATCH: usize = 1;

/// How the crops are classified.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifierOptions {
    /// Test-time views each model classifies (config `emotion.tta`).
    pub tta: TtaMode,
    /// Weight of face-api's probabilities in the average; 0 = mini-Xception
    /// alone (face-api is then not loaded).
    pub faceapi_weight: f32,
}

/// Which input layout a model takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    /// [N, 1, S, S], `x / 127.5 - 1`.
    GreySigned,
    /// [N, 3, S, S], grey copied to R, G and B, 0..255.
    Rgb255,
}

/// One model with a plan per batch size.
struct Batched {
    model: Model,
    side: u32,
    input: Input,
    order: [Emotion; EMOTION_COUNT],
    plans: HashMap<usize, Plan>,
}

impl Batched {
    fn new(model: Model, side: u32, input: Input, order: [Emotion; EMOTION_COUNT]) -> Self {
        Self {
            model,
            side,
            input,
            order,
            plans: HashMap::new(),
        }
    }

    fn channels(&self) -> usize {
        match self.input {
            Input::GreySigned => 1,
            Input::Rgb255 => 3,
        }
    }

    fn plan(&mut self, batch: usize) -> Result<&mut Plan, EmotionError> {
        if !self.plans.contains_key(&batch) {
            let s = self.side as usize;
            let plan = self.model.plan(&[batch, self.channels(), s, s])?;
            self.plans.insert(batch, plan);
        }
        self.plans
            .get_mut(&batch)
            .ok_or_else(|| EmotionError::Internal("plan cache".into()))
    }

    /// Runs `grey` (`count` images of side x side grey 0..255, row-major) and
    /// returns probabilities in canonical order, one per image.
    fn run(&mut self, grey: &[f32], count: usize) -> Result<Vec<EmotionScores>, EmotionError> {
        let plane = (self.side * self.side) as usize;
        let mut out = Vec::with_capacity(count);
        let mut start = 0;
        while start < count {
            let n = (count - start).min(MAX_BATCH);
            let chunk = &grey[start * plane..(start + n) * plane];
            let data: Vec<f32> = match self.input {
                Input::GreySigned => chunk.iter().map(|v| v / 127.5 - 1.0).collect(),
                Input::Rgb255 => {
                    let mut d = Vec::with_capacity(3 * chunk.len());
                    for img in chunk.chunks_exact(plane) {
                        for _ in 0..3 {
                            d.extend_from_slice(img);
                        }
                    }
                    d
                }
            };
            let order = self.order;
            let plan = self.plan(n)?;
            let file = plan.file();
            let result = plan.run_f32(data)?;
            let probs = models::output_f32(&result, 0, file)?;
            if probs.len() != n * EMOTION_COUNT {
                return Err(EmotionError::Internal(format!(
                    "{file}: {} outputs for a batch of {n}",
                    probs.len()
                )));
            }
            for row in probs.chunks_exact(EMOTION_COUNT) {
                let mut s = [0f32; EMOTION_COUNT];
                for (p, e) in row.iter().zip(order.iter()) {
                    s[e.index()] = *p;
                }
                out.push(EmotionScores(s));
            }
            start += n;
        }
        Ok(out)
    }
}

/// The emotion classifier: one or two models, averaged over views.
pub struct EmotionClassifier {
    mini_xception: Batched,
    faceapi: Option<Batched>,
    views: Vec<View>,
    faceapi_weight: f32,
    renderer: ViewRenderer,
    buffer: Vec<f32>,
}

impl std::fmt::Debug for EmotionClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmotionClassifier")
            .field("views", &self.views.len())
            .field("faceapi_weight", &self.faceapi_weight)
            .finish()
    }
}

impl EmotionClassifier {
    /// Loads the models (checksummed) and builds the plans for one face.
    pub fn new(store: &ModelStore, options: ClassifierOptions) -> Result<Self, EmotionError> {
        if !(0.0..=1.0).contains(&options.faceapi_weight) {
            return Err(EmotionError::Internal(format!(
                "faceapi_weight {} is outside [0, 1]",
                options.faceapi_weight
            )));
        }
        let mini_xception = Batched::new(
            store.load_spec(&super::specs::EMOTION)?,
            MINI_XCEPTION_SIDE,
            Input::GreySigned,
            MINI_XCEPTION_ORDER,
        );
        let faceapi = if options.faceapi_weight > 0.0 {
            Some(Batched::new(
                store.load_spec(&super::specs::EMOTION_FACEAPI)?,
                FACEAPI_SIDE,
                Input::Rgb255,
                FACEAPI_ORDER,
            ))
        } else {
            None
        };
        let views = options.tta.views();
        let mut c = Self {
            mini_xception,
            faceapi,
            views,
            faceapi_weight: options.faceapi_weight,
            renderer: ViewRenderer::new(),
            buffer: Vec::new(),
        };
        let n = c.views.len().min(MAX_BATCH);
        c.mini_xception.plan(n)?;
        if let Some(f) = c.faceapi.as_mut() {
            f.plan(n)?;
        }
        Ok(c)
    }

    /// Views per face per model.
    pub fn views_per_face(&self) -> usize {
        self.views.len()
    }

    /// True when face-api's net is loaded (`faceapi_weight` > 0).
    pub fn uses_faceapi(&self) -> bool {
        self.faceapi.is_some()
    }

    /// Classifies grey face crops (any size; framed as FER2013 faces are, see
    /// [`super::crop`]). One result per crop, in order.
    pub fn classify(&mut self, crops: &[GrayImage]) -> Result<Vec<EmotionScores>, EmotionError> {
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        let mx = self.run_model(crops, false)?;
        let Some(fa) = (if self.faceapi.is_some() {
            Some(self.run_model(crops, true)?)
        } else {
            None
        }) else {
            return Ok(mx);
        };
        let w = self.faceapi_weight;
        Ok(mx
            .iter()
            .zip(fa.iter())
            .map(|(m, f)| {
                let mut s = [0f32; EMOTION_COUNT];
                for (i, v) in s.iter_mut().enumerate() {
                    *v = (1.0 - w) * m.0[i] + w * f.0[i];
                }
                EmotionScores(s)
            })
            .collect())
    }

    /// One model over every view of every crop; the views of a crop averaged.
    fn run_model(
        &mut self,
        crops: &[GrayImage],
        faceapi: bool,
    ) -> Result<Vec<EmotionScores>, EmotionError> {
        let side = if faceapi {
            FACEAPI_SIDE
        } else {
            MINI_XCEPTION_SIDE
        };
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.clear();
        for crop in crops {
            let reduced = self.renderer.reduce(crop, side)?;
            for view in &self.views {
                ViewRenderer::render(&reduced, side, *view, &mut buffer);
            }
        }
        let count = crops.len() * self.views.len();
        let model = if faceapi {
            self.faceapi
                .as_mut()
                .ok_or_else(|| EmotionError::Internal("face-api not loaded".into()))?
        } else {
            &mut self.mini_xception
        };
        let per_view = model.run(&buffer, count);
        self.buffer = buffer;
        let per_view = per_view?;
        let k = self.views.len();
        Ok(per_view
            .chunks(k)
            .map(|views| {
                let mut s = [0f32; EMOTION_COUNT];
                for v in views {
                    for (acc, p) in s.iter_mut().zip(v.0.iter()) {
                        *acc += p / k as f32;
                    }
                }
                EmotionScores(s)
            })
            .collect())
    }
}
