"""Does an int8 backbone still give features a small head can use?

    python probe.py ../mobilenet_v2_int8.onnx

Features (through tract, see accuracy.run_tract) of scene-natural files 25..99 of
each of the 8 classes (disjoint from calibration and from accuracy.py's images):
a softmax-regression head is trained on even-numbered files and tested on odd ones,
(a) fp32 features for training and testing, (b) int8 for both (what a head trained
on the device with the int8 backbone sees), (c) trained on fp32 features, tested on
int8 ones (what happens if bundled negatives were precomputed with the other backbone).
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np

import accuracy
import common


def train(x: np.ndarray, y: np.ndarray, classes: int, epochs: int = 300, lr: float = 0.5) -> tuple:
    mu, sd = x.mean(0), x.std(0) + 1e-6
    xs = (x - mu) / sd
    w = np.zeros((x.shape[1], classes))
    b = np.zeros(classes)
    onehot = np.eye(classes)[y]
    for _ in range(epochs):
        z = xs @ w + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) / len(x)
        w -= lr * (xs.T @ g + 1e-3 * w)
        b -= lr * g.sum(0)
    return mu, sd, w, b


def accuracy_of(head: tuple, x: np.ndarray, y: np.ndarray) -> float:
    mu, sd, w, b = head
    return float((((x - mu) / sd) @ w + b).argmax(1).__eq__(y).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--fp32", type=Path, default=common.FP32_MODEL)
    args = ap.parse_args()

    paths, labels = [], []
    for c, cls in enumerate(common.SCENE_CLASSES):
        files = common.sorted_images(common.DATA / "scene-natural" / cls)[25:100]
        paths += files
        labels += [c] * len(files)
    y = np.array(labels)
    x = common.batch(paths)
    train_ix = np.arange(len(y)) % 2 == 0
    with tempfile.TemporaryDirectory(prefix="mnv2-probe-") as tmp:
        f32 = accuracy.run_tract(args.fp32, x, Path(tmp))["features"]
        i8 = accuracy.run_tract(args.model, x, Path(tmp))["features"]
    k = len(common.SCENE_CLASSES)
    h32 = train(f32[train_ix], y[train_ix], k)
    h8 = train(i8[train_ix], y[train_ix], k)
    te = ~train_ix
    print(f"{len(y)} images, 8 classes, train {train_ix.sum()} / test {te.sum()}")
    print(f"(a) fp32 head on fp32 features: {accuracy_of(h32, f32[te], y[te]):.3f}")
    print(f"(b) int8 head on int8 features: {accuracy_of(h8, i8[te], y[te]):.3f}")
    print(f"(c) fp32 head on int8 features: {accuracy_of(h32, i8[te], y[te]):.3f}")


if __name__ == "__main__":
    main()
