//! Grey face crops -> seven probabilities: a weighted average of up to three
//! expression nets (the ResNet trained here on FER2013, mini-Xception and
//! face-api's net), each over test-time views.
//!
//! Each model's output order is mapped to [`Emotion`] here, once. The views of
//! all faces of a call are run in batches of at most [`MAX_BATCH`]; a plan is
//! built per batch size the first time it is needed and then reused.

use std::collections::HashMap;

use image::GrayImage;

use super::label::{Emotion, EmotionScores, EMOTION_COUNT};
use super::views::{TtaMode, View, ViewRenderer};
use super::EmotionError;
use crate::models::{self, Model, ModelSpec, ModelStore, Plan};

/// The output order of the net trained here (the alphabetical order of the
/// FER2013 class folders; the canonical order).
pub const FER_ORDER: [Emotion; EMOTION_COUNT] = Emotion::ALL;

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

/// Input side of the net trained here (FER2013's own crop side).
pub const FER_SIDE: u32 = 48;
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

/// Weights of the three nets in the average (config `emotion.*_weight`); a
/// net of weight 0 is not loaded. The average is divided by their sum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnsembleWeights {
    /// The ResNet trained here on FER2013 Training (`emotion_fer_resnet.onnx`).
    pub fer: f32,
    /// mini-Xception (`fer_mini_xception.onnx`).
    pub mini_xception: f32,
    /// face-api's expression net (`faceapi_face_expression.onnx`).
    pub faceapi: f32,
}

impl EnsembleWeights {
    /// The net trained here alone.
    pub const FER_ONLY: EnsembleWeights = EnsembleWeights {
        fer: 1.0,
        mini_xception: 0.0,
        faceapi: 0.0,
    };

    /// mini-Xception alone (the default net before the one trained here).
    pub const MINI_XCEPTION_ONLY: EnsembleWeights = EnsembleWeights {
        fer: 0.0,
        mini_xception: 1.0,
        faceapi: 0.0,
    };

    /// Checks every weight is in [0, 1] and one at least is above 0.
    pub fn check(&self) -> Result<(), EmotionError> {
        let all = [
            ("fer_weight", self.fer),
            ("mini_xception_weight", self.mini_xception),
            ("faceapi_weight", self.faceapi),
        ];
        for (key, w) in all {
            if !(0.0..=1.0).contains(&w) {
                return Err(EmotionError::Internal(format!(
                    "emotion.{key} = {w} is outside [0, 1]"
                )));
            }
        }
        if all.iter().all(|(_, w)| *w == 0.0) {
            return Err(EmotionError::Internal(
                "every emotion.*_weight is 0: no expression net to run".into(),
            ));
        }
        Ok(())
    }
}

/// How the crops are classified.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifierOptions {
    /// Test-time views each model classifies (config `emotion.tta`).
    pub tta: TtaMode,
    /// The nets and their weights.
    pub weights: EnsembleWeights,
}

/// Which input layout a model takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    /// [N, 1, S, S], `x / 255`.
    Grey01,
    /// [N, 1, S, S], `x / 127.5 - 1`.
    GreySigned,
    /// [N, 3, S, S], grey copied to R, G and B, 0..255.
    Rgb255,
}

/// One net of the ensemble: its spec, input and output order.
struct Member {
    spec: &'static ModelSpec,
    side: u32,
    input: Input,
    order: [Emotion; EMOTION_COUNT],
}

/// The nets the classifier can use, in the order of [`EnsembleWeights`].
static MEMBERS: [Member; 3] = [
    Member {
        spec: &super::specs::EMOTION_FER,
        side: FER_SIDE,
        input: Input::Grey01,
        order: FER_ORDER,
    },
    Member {
        spec: &super::specs::EMOTION,
        side: MINI_XCEPTION_SIDE,
        input: Input::GreySigned,
        order: MINI_XCEPTION_ORDER,
    },
    Member {
        spec: &super::specs::EMOTION_FACEAPI,
        side: FACEAPI_SIDE,
        input: Input::Rgb255,
        order: FACEAPI_ORDER,
    },
];

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
            Input::Grey01 | Input::GreySigned => 1,
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
                Input::Grey01 => chunk.iter().map(|v| v / 255.0).collect(),
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

/// The emotion classifier: a weighted average of nets, each over views.
pub struct EmotionClassifier {
    /// The loaded nets with their weights (normalised to sum to 1).
    nets: Vec<(Batched, f32)>,
    views: Vec<View>,
    weights: EnsembleWeights,
    renderer: ViewRenderer,
    buffer: Vec<f32>,
}

impl std::fmt::Debug for EmotionClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmotionClassifier")
            .field("views", &self.views.len())
            .field("weights", &self.weights)
            .finish()
    }
}

impl EmotionClassifier {
    /// Loads the nets of non-zero weight (checksummed) and builds their plans
    /// for one face.
    pub fn new(store: &ModelStore, options: ClassifierOptions) -> Result<Self, EmotionError> {
        let w = options.weights;
        w.check()?;
        let total = w.fer + w.mini_xception + w.faceapi;
        let mut nets = Vec::new();
        for (member, weight) in MEMBERS.iter().zip([w.fer, w.mini_xception, w.faceapi]) {
            if weight > 0.0 {
                let model = store.load_spec(member.spec)?;
                let net = Batched::new(model, member.side, member.input, member.order);
                nets.push((net, weight / total));
            }
        }
        let views = options.tta.views();
        let n = views.len().min(MAX_BATCH);
        for (net, _) in nets.iter_mut() {
            net.plan(n)?;
        }
        Ok(Self {
            nets,
            views,
            weights: w,
            renderer: ViewRenderer::new(),
            buffer: Vec::new(),
        })
    }

    /// Views per face per model.
    pub fn views_per_face(&self) -> usize {
        self.views.len()
    }

    /// The nets' weights as configured.
    pub fn weights(&self) -> EnsembleWeights {
        self.weights
    }

    /// Nets loaded (those of non-zero weight).
    pub fn nets(&self) -> usize {
        self.nets.len()
    }

    /// Classifies grey face crops (any size; framed as FER2013 faces are, see
    /// [`super::crop`]). One result per crop, in order.
    pub fn classify(&mut self, crops: &[GrayImage]) -> Result<Vec<EmotionScores>, EmotionError> {
        let mut out = vec![EmotionScores([0f32; EMOTION_COUNT]); crops.len()];
        for ix in 0..self.nets.len() {
            let weight = self.nets[ix].1;
            let scores = self.run_net(crops, ix)?;
            for (acc, s) in out.iter_mut().zip(scores.iter()) {
                for (a, p) in acc.0.iter_mut().zip(s.0.iter()) {
                    *a += weight * p;
                }
            }
        }
        Ok(out)
    }

    /// Net `ix` over every view of every crop; the views of a crop averaged.
    fn run_net(
        &mut self,
        crops: &[GrayImage],
        ix: usize,
    ) -> Result<Vec<EmotionScores>, EmotionError> {
        let side = self.nets[ix].0.side;
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.clear();
        for crop in crops {
            let reduced = match self.renderer.reduce(crop, side) {
                Ok(r) => r,
                Err(e) => {
                    self.buffer = buffer;
                    return Err(e);
                }
            };
            for view in &self.views {
                ViewRenderer::render(&reduced, side, *view, &mut buffer);
            }
        }
        let count = crops.len() * self.views.len();
        let per_view = self.nets[ix].0.run(&buffer, count);
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
