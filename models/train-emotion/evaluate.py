#!/usr/bin/env python3
"""Evaluate an exported ONNX model on the WHOLE FER2013 PublicTest with the
shipped views (plain + horizontal mirror, probs averaged), using onnxruntime.

  python evaluate.py --onnx out/emotion_fer_resnetw.onnx --outdir out/

Writes <outdir>/<stem>_confusion.png and <stem>_eval.json. Latency is measured
single-thread (intra_op_num_threads=1) as: per face = two batch-1 runs
(plain + mirror), and also one batch-2 run (both views in one call).
"""
import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import onnxruntime as ort

from common import CLASSES, TEST_DIR, load_split


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--onnx", required=True)
    p.add_argument("--outdir", default="out")
    p.add_argument("--views", default="plain,mirror", help="plain or plain,mirror")
    p.add_argument("--lat-iters", type=int, default=300)
    a = p.parse_args()
    views = a.views.split(",")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    s = ort.InferenceSession(a.onnx, so, providers=["CPUExecutionProvider"])

    x, y = load_split(TEST_DIR, "publictest")
    x = x.astype(np.float32)[:, None] / 255.0           # preprocessing: pixel/255
    P = {v: [] for v in ("plain", "mirror")}
    for i in range(0, len(x), 256):
        xb = x[i:i + 256]
        P["plain"].append(s.run(["probs"], {"input": xb})[0])
        P["mirror"].append(s.run(["probs"], {"input": np.ascontiguousarray(xb[..., ::-1])})[0])
    P = {k: np.concatenate(v) for k, v in P.items()}
    acc_plain = float((P["plain"].argmax(1) == y).mean())
    prob = sum(P[v] for v in views) / len(views)
    pred = prob.argmax(1)
    acc = float((pred == y).mean())
    cm = np.zeros((7, 7), dtype=np.int64)
    for t, q in zip(y, pred):
        cm[t, q] += 1
    rec = cm.diagonal() / cm.sum(1).clip(min=1)
    prec = cm.diagonal() / cm.sum(0).clip(min=1)

    print(f"PublicTest N={len(y)}  views={views}  accuracy {acc:.4f}  (plain only {acc_plain:.4f})")
    print(f"{'class':10s} {'n':>5s} {'recall':>7s} {'prec':>7s}")
    for i, c in enumerate(CLASSES):
        print(f"{c:10s} {cm[i].sum():5d} {rec[i]:7.3f} {prec[i]:7.3f}")
    print("confusion (rows=true, cols=pred):")
    print("          " + " ".join(f"{c[:5]:>5s}" for c in CLASSES))
    for i, c in enumerate(CLASSES):
        print(f"{c:10s}" + " ".join(f"{v:5d}" for v in cm[i]))

    # latency, single thread, batch 1, all views
    x1 = x[:1]
    x1m = np.ascontiguousarray(x1[..., ::-1])
    x2 = np.concatenate([x1, x1m])
    for _ in range(30):
        s.run(["probs"], {"input": x1})
        s.run(["probs"], {"input": x2})
    def timeit(fn):
        ts = []
        for _ in range(a.lat_iters):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return float(np.median(ts) * 1000), float(np.percentile(ts, 90) * 1000)
    one_view = timeit(lambda: s.run(["probs"], {"input": x1}))
    two_b1 = timeit(lambda: (s.run(["probs"], {"input": x1}), s.run(["probs"], {"input": x1m})))
    two_b2 = timeit(lambda: s.run(["probs"], {"input": x2}))
    shipped = two_b1 if len(views) == 2 else one_view
    print(f"latency (ort 1 thread, median/p90 ms): 1 view {one_view[0]:.2f}/{one_view[1]:.2f}, "
          f"2 views as 2x batch-1 {two_b1[0]:.2f}/{two_b1[1]:.2f}, "
          f"2 views as batch-2 {two_b2[0]:.2f}/{two_b2[1]:.2f}")
    size_mb = os.path.getsize(a.onnx) / 1e6
    print(f"model file {size_mb:.2f} MB")

    os.makedirs(a.outdir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(a.onnx))[0]
    res = {"onnx": os.path.basename(a.onnx), "views": views, "n": int(len(y)),
           "accuracy": acc, "accuracy_plain": acc_plain,
           "recall": dict(zip(CLASSES, map(float, rec))),
           "precision": dict(zip(CLASSES, map(float, prec))),
           "confusion_rows_true_cols_pred": cm.tolist(), "classes": CLASSES,
           "latency_ms_median": {"one_view_b1": one_view[0], "two_views_2xb1": two_b1[0],
                                 "two_views_b2": two_b2[0], "shipped": shipped[0]},
           "size_mb": size_mb}
    with open(os.path.join(a.outdir, stem + "_eval.json"), "w") as f:
        json.dump(res, f, indent=1)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        cmn = cm / cm.sum(1, keepdims=True).clip(min=1)
        fig, ax = plt.subplots(figsize=(6.4, 5.6))
        ax.imshow(cmn, cmap="Blues", vmin=0, vmax=1)
        for i in range(7):
            for j in range(7):
                ax.text(j, i, f"{cm[i, j]}\n{cmn[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if cmn[i, j] > 0.5 else "black")
        ax.set_xticks(range(7), CLASSES, rotation=45)
        ax.set_yticks(range(7), CLASSES)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{stem} PublicTest acc {acc:.4f} ({'+'.join(views)})")
        fig.tight_layout()
        fig.savefig(os.path.join(a.outdir, stem + "_confusion.png"), dpi=110)
    except Exception as e:  # plotting is optional
        print("confusion PNG skipped:", e)


if __name__ == "__main__":
    main()
