//! The expression models' files, tensor names and shapes.

use crate::models::spec::Dim::{Any, Fixed};
use crate::models::{ModelSpec, TensorSpec};

/// The expression net trained here on FER2013 Training
/// (`models/train-emotion/`), 48x48 grey in 0..1.
pub static EMOTION_FER: ModelSpec = ModelSpec {
    file: "emotion_fer_resnet.onnx",
    role: "7-class facial expression (ResNet trained on FER2013 Training)",
    input: TensorSpec {
        name: "input",
        shape: &[Any, Fixed(1), Fixed(48), Fixed(48)],
    },
    // Softmax in alphabetical order: angry, disgust, fear, happy, neutral, sad, surprise.
    outputs: &[TensorSpec {
        name: "probs",
        shape: &[Any, Fixed(7)],
    }],
    probe_shape: &[1, 1, 48, 48],
};

/// mini-Xception (`fer`), 64x64 grey.
pub static EMOTION: ModelSpec = ModelSpec {
    file: "fer_mini_xception.onnx",
    role: "7-class facial expression (mini-Xception)",
    input: TensorSpec {
        name: "input_1",
        shape: &[Any, Fixed(1), Fixed(64), Fixed(64)],
    },
    outputs: &[TensorSpec {
        name: "predictions",
        shape: &[Any, Fixed(7)],
    }],
    probe_shape: &[1, 1, 64, 64],
};

/// face-api's expression net, the ensemble partner, 112x112 RGB.
pub static EMOTION_FACEAPI: ModelSpec = ModelSpec {
    file: "faceapi_face_expression.onnx",
    role: "7-class facial expression (face-api), ensemble partner",
    // RGB 0..255, NCHW; mean subtraction and /255 are inside the graph.
    input: TensorSpec {
        name: "input",
        shape: &[Any, Fixed(3), Fixed(112), Fixed(112)],
    },
    // Softmax in face-api's order: neutral, happy, sad, angry, fearful, disgusted, surprised.
    outputs: &[TensorSpec {
        name: "expressions",
        shape: &[Any, Fixed(7)],
    }],
    probe_shape: &[1, 3, 112, 112],
};

/// Every model of the emotion stage.
pub static ALL: [&ModelSpec; 3] = [&EMOTION_FER, &EMOTION, &EMOTION_FACEAPI];
