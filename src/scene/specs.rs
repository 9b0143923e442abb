//! The scene backbones' files, tensor names and shapes.

use crate::models::spec::Dim::{Any, Fixed};
use crate::models::{ModelSpec, TensorSpec};

/// MobileNetV2 (torchvision ImageNet weights), fp32.
pub static SCENE_FP32: ModelSpec = ModelSpec {
    file: "mobilenet_v2_torchvision.onnx",
    role: "MobileNetV2 backbone (scene), fp32",
    input: TensorSpec {
        name: "input",
        shape: &[Any, Fixed(3), Fixed(224), Fixed(224)],
    },
    outputs: &[
        TensorSpec {
            name: "features",
            shape: &[Any, Fixed(1280)],
        },
        TensorSpec {
            name: "logits",
            shape: &[Any, Fixed(1000)],
        },
    ],
    probe_shape: &[1, 3, 224, 224],
};

/// The same, int8 QDQ (built by `models/quantize/`).
pub static SCENE_INT8: ModelSpec = ModelSpec {
    file: "mobilenet_v2_int8.onnx",
    role: "MobileNetV2 backbone (scene), int8 QDQ",
    input: SCENE_FP32.input,
    outputs: SCENE_FP32.outputs,
    probe_shape: &[1, 3, 224, 224],
};

/// Every model of the scene stage.
pub static ALL: [&ModelSpec; 2] = [&SCENE_FP32, &SCENE_INT8];
