//! The MTCNN models' files, tensor names and shapes (the Keras-converted
//! cascade; see `models/README.md`).

use crate::models::spec::Dim::{Any, Fixed};
use crate::models::{ModelSpec, TensorSpec};

/// P-Net: the proposal net, run on every pyramid level.
pub static PNET: ModelSpec = ModelSpec {
    file: "pnet.onnx",
    role: "MTCNN proposal net (image pyramid)",
    // NHWC with the image transposed: [N, W, H, 3].
    input: TensorSpec {
        name: "input_1",
        shape: &[Any, Any, Any, Fixed(3)],
    },
    outputs: &[
        TensorSpec {
            name: "conv2d_4",
            shape: &[Any, Any, Any, Fixed(4)],
        },
        TensorSpec {
            name: "softmax",
            shape: &[Any, Any, Any, Fixed(2)],
        },
    ],
    probe_shape: &[1, 320, 240, 3],
};

/// R-Net: refines 24x24 candidate crops.
pub static RNET: ModelSpec = ModelSpec {
    file: "rnet.onnx",
    role: "MTCNN refine net (24x24 crops)",
    input: TensorSpec {
        name: "input_2",
        shape: &[Any, Fixed(24), Fixed(24), Fixed(3)],
    },
    outputs: &[
        TensorSpec {
            name: "dense_2",
            shape: &[Any, Fixed(4)],
        },
        TensorSpec {
            name: "softmax_1",
            shape: &[Any, Fixed(2)],
        },
    ],
    probe_shape: &[16, 24, 24, 3],
};

/// O-Net: 48x48 crops to the final box, score and 5 landmarks.
pub static ONET: ModelSpec = ModelSpec {
    file: "onet.onnx",
    role: "MTCNN output net (48x48 crops, 5 landmarks)",
    input: TensorSpec {
        name: "input_3",
        shape: &[Any, Fixed(48), Fixed(48), Fixed(3)],
    },
    outputs: &[
        TensorSpec {
            name: "dense_5",
            shape: &[Any, Fixed(4)],
        },
        TensorSpec {
            name: "dense_6",
            shape: &[Any, Fixed(10)],
        },
        TensorSpec {
            name: "softmax_2",
            shape: &[Any, Fixed(2)],
        },
    ],
    probe_shape: &[4, 48, 48, 3],
};

/// Every model of the detector.
pub static ALL: [&ModelSpec; 3] = [&PNET, &RNET, &ONET];
