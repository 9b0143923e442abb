"""Computes both models' probabilities on FER2013 PublicTest for many views (resize method, margin,
shift, flip) and caches them in one .npz for analyse.py.

usage: python variants.py DATA_DIR MODELS_DIR FACEAPI_ONNX OUT.npz
"""
import sys
import time

import cv2
import numpy as np

from common import load_dataset, run_fa, run_mx, session, split_of, warp

data, models, fa_path, out = sys.argv[1:5]
paths, labels, imgs = load_dataset(data)
mx = session(f"{models}/fer_mini_xception.onnx")
fa = session(fa_path)
res = {"labels": labels, "split": np.array([split_of(p) for p in paths]), "paths": np.array(paths)}

INTERP = {"linear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA, "cubic": cv2.INTER_CUBIC,
          "nearest": cv2.INTER_NEAREST, "lanczos": cv2.INTER_LANCZOS4, "pil": "pil"}
views = []
for name in INTERP:
    views.append((f"{name}", dict(interp=INTERP[name])))
for s in [0.8, 0.85, 0.9, 0.95, 1.05, 1.1, 1.2]:
    views.append((f"scale{s}", dict(scale=s)))
for dx, dy in [(-2, 0), (2, 0), (0, -2), (0, 2), (-1, -1), (1, 1), (-1, 1), (1, -1)]:
    views.append((f"shift{dx},{dy}", dict(dx=dx, dy=dy)))
for s in [0.9, 0.95, 1.05, 1.1]:
    views.append((f"scale{s}_reflect", dict(scale=s, border=cv2.BORDER_REFLECT_101)))
allv = []
for name, kw in views:
    allv.append((name, kw))
    allv.append((name + "_flip", dict(kw, flip=True)))
t0 = time.time()
for name, kw in allv:
    c64 = np.stack([warp(im, 64, **kw) for im in imgs])
    res["mx_" + name] = run_mx(mx, c64)
    c112 = np.stack([warp(im, 112, **kw) for im in imgs])
    res["fa_" + name] = run_fa(fa, c112)
    acc_m = (res["mx_" + name].argmax(1) == labels).mean()
    acc_f = (res["fa_" + name].argmax(1) == labels).mean()
    print(f"{name:24s} mx {acc_m:.4f} fa {acc_f:.4f}  ({time.time() - t0:.0f}s)", flush=True)
np.savez_compressed(out, **res)
