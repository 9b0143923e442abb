//! The attention models' files, tensor names and shapes.

use crate::models::spec::Dim::{Any, Fixed};
use crate::models::{ModelSpec, TensorSpec};

/// Eye state: P(closed) of one 24x24 grey eye crop.
pub static EYE_STATE: ModelSpec = ModelSpec {
    file: "eye_state.onnx",
    role: "eye closed / open (CEW-trained CNN)",
    // Grey, standardised per crop: (x - mean) / (std + 1).
    input: TensorSpec {
        name: "input",
        shape: &[Any, Fixed(1), Fixed(24), Fixed(24)],
    },
    outputs: &[TensorSpec {
        name: "closed",
        shape: &[Any, Fixed(1)],
    }],
    probe_shape: &[2, 1, 24, 24],
};

/// Yawn: P(yawn) of one 32x32 grey mouth crop.
pub static YAWN: ModelSpec = ModelSpec {
    file: "yawn.onnx",
    role: "yawning mouth (CNN on mouth crops)",
    // Grey, standardised per crop: (x - mean) / (std + 1).
    input: TensorSpec {
        name: "input",
        shape: &[Any, Fixed(1), Fixed(32), Fixed(32)],
    },
    outputs: &[TensorSpec {
        name: "yawn",
        shape: &[Any, Fixed(1)],
    }],
    probe_shape: &[1, 1, 32, 32],
};

/// Every model of the attention stage.
pub static ALL: [&ModelSpec; 2] = [&EYE_STATE, &YAWN];
