//! The embedding model's file, tensor names and shapes.

use crate::models::spec::Dim::{Any, Fixed};
use crate::models::{ModelSpec, TensorSpec};

/// The 128-d face embedding (dlib ResNet via face-api), on 150x150 chips.
pub static EMBEDDING: ModelSpec = ModelSpec {
    file: "faceapi_face_recognition.onnx",
    role: "128-d face embedding (dlib ResNet via face-api)",
    input: TensorSpec {
        name: "input",
        shape: &[Any, Fixed(3), Fixed(150), Fixed(150)],
    },
    outputs: &[TensorSpec {
        name: "descriptor",
        shape: &[Any, Fixed(128)],
    }],
    probe_shape: &[1, 3, 150, 150],
};

/// SFace (OpenCV Zoo), 128-d, on 112x112 ArcFace-aligned RGB chips; its
/// int8 weights are dequantised by plain graph ops (`models/export/sface_to_onnx.py`).
pub static SFACE: ModelSpec = ModelSpec {
    file: "sface_recognition.onnx",
    role: "128-d face embedding (SFace, OpenCV Zoo)",
    input: TensorSpec {
        name: "input",
        shape: &[Fixed(1), Fixed(3), Fixed(112), Fixed(112)],
    },
    outputs: &[TensorSpec {
        name: "embedding",
        shape: &[Fixed(1), Fixed(128)],
    }],
    probe_shape: &[1, 3, 112, 112],
};

/// Every model of the verifier.
pub static ALL: [&ModelSpec; 2] = [&EMBEDDING, &SFACE];
