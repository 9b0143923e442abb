"""Does contrast normalisation of the crop (histogram equalisation, CLAHE, min-max stretch) help either model?

usage: python contrast.py DATA_DIR MODELS_DIR FACEAPI_ONNX
"""
import sys

import cv2
import numpy as np

from common import load_dataset, run_fa, run_mx, session, warp

data, models, fa_path = sys.argv[1:4]
paths, y, imgs = load_dataset(data)
mx = session(f"{models}/fer_mini_xception.onnx")
fa = session(fa_path)
clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))
ops = {
    "none": lambda im: im,
    "equalize": cv2.equalizeHist,
    "clahe": clahe.apply,
    "stretch": lambda im: cv2.normalize(im, None, 0, 255, cv2.NORM_MINMAX),
}
for name, op in ops.items():
    ims = np.stack([op(im) for im in imgs])
    for model, side, run, sess in [("mx", 64, run_mx, mx), ("fa", 112, run_fa, fa)]:
        p = run(sess, np.stack([warp(im, side) for im in ims]))
        pf = run(sess, np.stack([warp(im, side, flip=True) for im in ims]))
        print(f"{name:10s} {model} plain {(p.argmax(1) == y).mean():.4f}  +flip {((p + pf).argmax(1) == y).mean():.4f}", flush=True)
