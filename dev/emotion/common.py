"""Shared helpers for the emotion research scripts: data loading, the hash split, the two models.

Class order used everywhere here (and in `vigil eval emotion`): the folder order
angry, disgust, fear, happy, neutral, sad, surprise.
"""
import glob
import hashlib
import os

import cv2
import numpy as np
import onnxruntime as ort

CLASSES = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
# mini-Xception output order -> CLASSES index
MX_ORDER = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
MX_TO_CLASS = [CLASSES.index(c) for c in MX_ORDER]
# face-api output order -> CLASSES index
FA_ORDER = ["neutral", "happy", "sad", "angry", "fear", "disgust", "surprise"]
FA_TO_CLASS = [CLASSES.index(c) for c in FA_ORDER]


def split_of(path):
    """'fit' or 'holdout': lowest bit of the first byte of SHA-256(file name). Same rule as src/eval/emotion.rs."""
    h = hashlib.sha256(os.path.basename(path).encode()).digest()
    return "holdout" if h[0] & 1 else "fit"


def load_dataset(root):
    paths, labels = [], []
    for ci, c in enumerate(CLASSES):
        for p in sorted(glob.glob(os.path.join(root, c, "*"))):
            paths.append(p)
            labels.append(ci)
    imgs = np.stack([cv2.imread(p, cv2.IMREAD_GRAYSCALE) for p in paths])
    return paths, np.array(labels), imgs


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def warp(img, out, scale=1.0, dx=0.0, dy=0.0, flip=False, interp=cv2.INTER_LINEAR, border=cv2.BORDER_REPLICATE):
    """View of a square grey crop: a centred square window of side `side * scale` (scale > 1 adds margin,
    < 1 zooms in), shifted by (dx, dy) in source pixels, resampled to out x out."""
    n = img.shape[0]
    if scale == 1.0 and dx == 0 and dy == 0:
        if interp == "pil":
            from PIL import Image
            r = np.asarray(Image.fromarray(img).resize((out, out), Image.BILINEAR))
        else:
            r = cv2.resize(img, (out, out), interpolation=interp)
    else:
        win = n * scale
        s = out / win
        x0 = (n - win) / 2 + dx
        y0 = (n - win) / 2 + dy
        # pixel-centre convention: dst (u+0.5) = s * (src (x+0.5) - x0)
        m = np.array([[s, 0, s * (0.5 - x0) - 0.5], [0, s, s * (0.5 - y0) - 0.5]], np.float32)
        r = cv2.warpAffine(img, m, (out, out), flags=interp if interp != "pil" else cv2.INTER_LINEAR, borderMode=border)
    if flip:
        r = r[:, ::-1]
    return np.ascontiguousarray(r)


def run_mx(sess, crops64, batch=256):
    """mini-Xception on grey 64x64 uint8 crops -> probabilities in CLASSES order."""
    out = []
    for i in range(0, len(crops64), batch):
        x = crops64[i:i + batch].astype(np.float32)[:, None] / 127.5 - 1.0
        out.append(sess.run(None, {"input_1": x})[0])
    p = np.concatenate(out)
    q = np.zeros_like(p)
    q[:, MX_TO_CLASS] = p
    return q


def run_fa(sess, crops112, batch=128):
    """face-api expression net on grey 112x112 uint8 crops (grey copied to R, G, B) -> CLASSES order."""
    out = []
    for i in range(0, len(crops112), batch):
        g = crops112[i:i + batch].astype(np.float32)[:, None]
        x = np.repeat(g, 3, axis=1)
        out.append(sess.run(None, {"input": x})[0])
    p = np.concatenate(out)
    q = np.zeros_like(p)
    q[:, FA_TO_CLASS] = p
    return q
