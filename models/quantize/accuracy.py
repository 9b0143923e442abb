"""Accuracy of int8 MobileNetV2 variants against fp32, measured THROUGH TRACT (the
runtime Vigil uses), on the evaluation images of common.eval_images() (the 21
photos + 200 scene-natural thumbnails not used for calibration).

    python accuracy.py ../mobilenet_v2_int8.onnx [more.onnx ...] [--runtime ort]

For each model: ImageNet top-1 agreement with fp32 (photos / scene-natural / all),
top-5 containment, and fidelity of the 1280-d `features` (cosine similarity mean
and min, max abs diff, relative L2 error). The tract CLI is taken from $TRACT or
/work/tools/bin/tract; it runs the model on batches saved as .npz
(`tract MODEL --input-from-npz in.npz run --save-outputs-npz out.npz`).
"""

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

import common

TRACT = os.environ.get("TRACT", "/work/tools/bin/tract")
CHUNK = 32


def run_tract(model: Path, x: np.ndarray, tmp: Path) -> dict[str, np.ndarray]:
    feats, logits = [], []
    for i in range(0, len(x), CHUNK):
        xin, xout = tmp / "in.npz", tmp / "out.npz"
        np.savez(xin, input=x[i:i + CHUNK])
        cmd = [TRACT, str(model), "--input-from-npz", str(xin), "run", "--save-outputs-npz", str(xout)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        out = np.load(xout)
        feats.append(out["features"])
        logits.append(out["logits"])
    return {"features": np.concatenate(feats), "logits": np.concatenate(logits)}


def run_ort(model: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    outs = [sess.run(["features", "logits"], {"input": x[i:i + CHUNK]}) for i in range(0, len(x), CHUNK)]
    return {"features": np.concatenate([o[0] for o in outs]), "logits": np.concatenate([o[1] for o in outs])}


def compare(ref: dict, got: dict, n_photos: int) -> dict:
    top1_ref, top1 = ref["logits"].argmax(1), got["logits"].argmax(1)
    top5_ref = np.argsort(-ref["logits"], axis=1)[:, :5]
    agree = top1_ref == top1
    fr, fg = ref["features"].astype(np.float64), got["features"].astype(np.float64)
    cos = (fr * fg).sum(1) / (np.linalg.norm(fr, axis=1) * np.linalg.norm(fg, axis=1))
    rel = np.linalg.norm(fr - fg, axis=1) / np.linalg.norm(fr, axis=1)
    return {
        "top1_photos": f"{agree[:n_photos].sum()}/{n_photos}",
        "top1_scene": f"{agree[n_photos:].sum()}/{len(agree) - n_photos}",
        "top1_all": round(float(agree.mean()), 4),
        "top1_in_fp32_top5": round(float(np.mean([t in r for t, r in zip(top1, top5_ref)])), 4),
        "feat_cos_mean": round(float(cos.mean()), 5),
        "feat_cos_min": round(float(cos.min()), 5),
        "feat_rel_l2_mean": round(float(rel.mean()), 4),
        "feat_max_abs_diff": round(float(np.abs(fr - fg).max()), 4),
        "feat_max_abs_fp32": round(float(np.abs(fr).max()), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--runtime", choices=["tract", "ort"], default="tract")
    ap.add_argument("--fp32", type=Path, default=common.FP32_MODEL)
    args = ap.parse_args()

    photos = common._sorted_images(common.DATA / "photos")
    paths = common.eval_images()
    x = common.batch(paths)
    print(f"eval images: {len(paths)} ({len(photos)} photos), runtime {args.runtime}")
    labels = (common.MODELS / "imagenet_labels.txt").read_text().splitlines()

    with tempfile.TemporaryDirectory(prefix="mnv2-acc-") as tmp:
        run = (lambda m: run_tract(m, x, Path(tmp))) if args.runtime == "tract" else (lambda m: run_ort(m, x))
        ref = run(args.fp32)
        for p, k in zip(photos, ref["logits"][:len(photos)].argmax(1)):
            print(f"  fp32 {p.name}: {labels[k].split(',')[0]}")
        for model in args.models:
            got = run(model)
            print(model.name, compare(ref, got, len(photos)))
            for p, k, r in zip(photos, got["logits"].argmax(1), ref["logits"].argmax(1)):
                if k != r:
                    print(f"    differs on {p.name}: int8 {labels[k].split(',')[0]} vs fp32 {labels[r].split(',')[0]}")


if __name__ == "__main__":
    main()
