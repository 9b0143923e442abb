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

/// Every model of the verifier.
pub static ALL: [&ModelSpec; 1] = [&EMBEDDING];
