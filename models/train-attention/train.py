"""Trains Vigil's attention classifiers and writes them as ONNX.

eye:  CEW 24x24 grey eye crops (open/closed), output P(closed).
yawn: 32x32 grey mouth crops cut by `examples/attention_crops.rs` (the stage's
      own crop) from yawn frames and non-yawning clip frames, output P(yawn).

Every crop is standardised per crop (mean 0, std 1) before the network, in
the stage as here. Fixed seeds; see README.md for the exact commands.
"""
import argparse
import glob
import hashlib
import json
import os
import sys

import numpy as np
from PIL import Image

import jax
import jax.numpy as jnp

import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 18


def load_grey(path, side):
    im = Image.open(path).convert("L")
    if im.size != (side, side):
        im = im.resize((side, side), Image.BILINEAR)
    return np.asarray(im, dtype=np.float32)


def standardise(x):
    m = x.mean(axis=(-1, -2), keepdims=True)
    s = x.std(axis=(-1, -2), keepdims=True)
    return (x - m) / (s + 1.0)


# ---------------------------------------------------------------- network
def init(rng, side, chans=(16, 32, 32), hidden=32):
    params = []
    cin = 1
    for c in chans:
        rng, k = jax.random.split(rng)
        w = jax.random.normal(k, (c, cin, 3, 3)) * np.sqrt(2.0 / (9 * cin))
        params.append((w, jnp.zeros(c)))
        cin = c
    flat = cin * (side // 2 ** len(chans)) ** 2
    rng, k1, k2 = jax.random.split(rng, 3)
    params.append((jax.random.normal(k1, (hidden, flat)) * np.sqrt(2.0 / flat), jnp.zeros(hidden)))
    params.append((jax.random.normal(k2, (1, hidden)) * np.sqrt(1.0 / hidden), jnp.zeros(1)))
    return params


def forward(params, x, dropout_key=None):
    h = x
    for w, b in params[:-2]:
        h = jax.lax.conv_general_dilated(h, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW"))
        h = jax.nn.relu(h + b[None, :, None, None])
        h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    h = h.reshape(h.shape[0], -1)
    w, b = params[-2]
    h = jax.nn.relu(h @ w.T + b)
    if dropout_key is not None:
        keep = jax.random.bernoulli(dropout_key, 0.7, h.shape)
        h = jnp.where(keep, h / 0.7, 0.0)
    w, b = params[-1]
    return (h @ w.T + b)[:, 0]


def loss_fn(params, x, y, key):
    logits = forward(params, x, key)
    return jnp.mean(jnp.maximum(logits, 0) - logits * y + jnp.log1p(jnp.exp(-jnp.abs(logits))))


@jax.jit
def adam_step(params, m, v, t, x, y, key, lr):
    g = jax.grad(loss_fn)(params, x, y, key)
    b1, b2 = 0.9, 0.999
    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
    params = jax.tree_util.tree_map(
        lambda p, m, v: p - lr * (m / (1 - b1 ** t)) / (jnp.sqrt(v / (1 - b2 ** t)) + 1e-8) - lr * 1e-4 * p,
        params, m, v)
    return params, m, v


predict = jax.jit(lambda p, x: jax.nn.sigmoid(forward(p, x)))


def augment(rng, x, shift, zoom=0.0, blur=False):
    """Random mirror, zoom (side x exp(+-zoom)), shift (+-shift px), rotation
    (+-8 degrees) and gamma; bilinear, edge repeated."""
    n, s, _ = x.shape
    out = np.empty_like(x)
    flips = rng.random(n) < 0.5
    gamma = np.exp(rng.normal(0, 0.25, n))
    c = (s - 1) / 2.0
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    for i in range(n):
        im = x[i, :, ::-1] if flips[i] else x[i]
        z = np.exp(rng.uniform(-zoom, zoom))
        a = np.deg2rad(rng.uniform(-8, 8))
        dx, dy = rng.uniform(-shift, shift, 2)
        u = (np.cos(a) * (xx - c) - np.sin(a) * (yy - c)) / z + c + dx
        v = (np.sin(a) * (xx - c) + np.cos(a) * (yy - c)) / z + c + dy
        u = np.clip(u, 0, s - 1); v = np.clip(v, 0, s - 1)
        u0 = np.floor(u).astype(int); v0 = np.floor(v).astype(int)
        u1 = np.minimum(u0 + 1, s - 1); v1 = np.minimum(v0 + 1, s - 1)
        fu = u - u0; fv = v - v0
        im = (im[v0, u0] * (1 - fu) * (1 - fv) + im[v0, u1] * fu * (1 - fv)
              + im[v1, u0] * (1 - fu) * fv + im[v1, u1] * fu * fv)
        if blur and rng.random() < 0.5:
            # Lower resolution: down by up to 2.5x and back (bilinear).
            f = rng.uniform(1.0, 2.5)
            small = Image.fromarray(np.clip(im, 0, 255).astype(np.uint8)).resize((max(4, int(s / f)),) * 2, Image.BILINEAR)
            im = np.asarray(small.resize((s, s), Image.BILINEAR), np.float32)
        out[i] = 255.0 * (np.clip(im, 0, 255) / 255.0) ** gamma[i]
    return out


def train(x, y, side, epochs, seed, shift, zoom=0.0, blur=False):
    rng = np.random.default_rng(seed)
    key = jax.random.PRNGKey(seed)
    key, k = jax.random.split(key)
    params = init(k, side)
    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)
    t = 0
    batch = 64
    for ep in range(epochs):
        order = rng.permutation(len(x))
        lr = 1e-3 if ep < epochs * 0.7 else 2e-4
        for s in range(0, len(order) - batch + 1, batch):
            ix = order[s:s + batch]
            xb = standardise(augment(rng, x[ix], shift, zoom, blur))[:, None]
            key, k = jax.random.split(key)
            t += 1
            params, m, v = adam_step(params, m, v, t, jnp.asarray(xb), jnp.asarray(y[ix]), k, lr)
    return params


def probs(params, x):
    out = []
    for s in range(0, len(x), 512):
        out.append(np.asarray(predict(params, jnp.asarray(standardise(x[s:s + 512])[:, None]))))
    return np.concatenate(out) if out else np.zeros(0)


# ---------------------------------------------------------------- export
def export(params, side, path, input_name, output_name, doc):
    nodes, inits = [], []
    prev = input_name
    for i, (w, b) in enumerate(params[:-2]):
        inits += [numpy_helper.from_array(np.asarray(w, np.float32), f"c{i}.w"),
                  numpy_helper.from_array(np.asarray(b, np.float32), f"c{i}.b")]
        nodes.append(helper.make_node("Conv", [prev, f"c{i}.w", f"c{i}.b"], [f"c{i}"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        nodes.append(helper.make_node("MaxPool", [f"r{i}"], [f"p{i}"], kernel_shape=[2, 2], strides=[2, 2]))
        prev = f"p{i}"
    nodes.append(helper.make_node("Flatten", [prev], ["flat"], axis=1))
    for j, (w, b) in enumerate(params[-2:]):
        inits += [numpy_helper.from_array(np.asarray(w, np.float32), f"d{j}.w"),
                  numpy_helper.from_array(np.asarray(b, np.float32), f"d{j}.b")]
        nodes.append(helper.make_node("Gemm", ["flat" if j == 0 else "h0", f"d{j}.w", f"d{j}.b"], [f"g{j}"], transB=1))
        if j == 0:
            nodes.append(helper.make_node("Relu", ["g0"], ["h0"]))
    nodes.append(helper.make_node("Sigmoid", ["g1"], [output_name]))
    graph = helper.make_graph(
        nodes, "vigil_" + output_name,
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 1, side, side])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["N", 1])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="vigil train-attention")
    model.ir_version = 8
    model.doc_string = doc
    onnx.checker.check_model(model)
    onnx.save(model, path)


def check_onnx(path, params, x, input_name):
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    xs = standardise(x)[:, None].astype(np.float32)
    got = sess.run(None, {input_name: xs})[0][:, 0]
    want = probs(params, x)
    return float(np.max(np.abs(got - want)))


def metrics(p, y, thr=0.5):
    pred = p >= thr
    tp = int(np.sum(pred & (y == 1))); fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1))); tn = int(np.sum(~pred & (y == 0)))
    return dict(n=len(y), accuracy=(tp + tn) / max(len(y), 1), precision=tp / max(tp + fp, 1), recall=tp / max(tp + fn, 1))


def hash_half(name):
    return hashlib.sha256(name.encode()).digest()[0] & 1


# ---------------------------------------------------------------- tasks
def eye_task(args):
    files, labels = [], []
    for sub, lab in [("closedLeftEyes", 1), ("closedRightEyes", 1), ("openLeftEyes", 0), ("openRightEyes", 0)]:
        fs = sorted(glob.glob(os.path.join(args.cew, sub, "*")))
        files += fs; labels += [lab] * len(fs)
    x = np.stack([load_grey(f, 24) for f in files]); y = np.array(labels, np.float32)
    # 15% held out for validation, by the hash of the file's path.
    val = np.array([hashlib.sha256(f.encode()).digest()[0] < 38 for f in files], dtype=bool)
    params = train(x[~val], y[~val], 24, args.epochs, SEED, shift=1.5, zoom=args.zoom)
    report = {"cew_val": metrics(probs(params, x[val]), y[val])}
    # Through the detector path: the stage's own crops of eyes-faces (measure only).
    if args.faces:
        per_k = {}
        for k in args.iods.split(","):
            ps, ys = [], []
            for lab, yl in [("closed", 1), ("open", 0)]:
                for l in sorted(glob.glob(os.path.join(args.faces, lab, f"*_l{k}.png"))):
                    r = l.replace(f"_l{k}.png", f"_r{k}.png")
                    if not os.path.exists(r):
                        continue
                    p = probs(params, np.stack([load_grey(l, 24), load_grey(r, 24)]))
                    ps.append(p.mean()); ys.append(yl)
            ps, ys = np.array(ps), np.array(ys)
            per_k[k] = metrics(ps, ys)
            per_k[k]["accuracy_by_threshold"] = {f"{t:.1f}": round(metrics(ps, ys, t)["accuracy"], 4) for t in np.arange(0.3, 0.95, 0.1)}
        report["eyes_faces_by_crop_iods"] = per_k
    if args.out:
        x_full = x
        export(params, 24, args.out, "input", "closed",
               "P(eye closed) of a 24x24 grey eye crop standardised per crop ((x-mean)/(std+1)); trained on CEW")
        report["onnx_max_abs_diff"] = check_onnx(args.out, params, x_full[:256], "input")
    print(json.dumps(report, indent=1))


def yawn_task(args):
    """Train/test split by source: no_yawn by clip (train: cap12_edit, face_noface,
    single_face; test: WolfgangLanger_Pexels, noface_face), yawn by the hash of
    the file name (half and half)."""
    test_clips = ("WolfgangLanger_Pexels", "noface_face")
    rows = []
    # More negatives, many people: AT&T faces (test: subjects 31-40) and
    # FER2013 Training faces (test: hash half), mouth crops as above.
    for d in args.extra_neg or []:
        for f in sorted(glob.glob(os.path.join(d, "*_m.png"))):
            name = os.path.basename(f)
            if name.startswith("att_s"):
                test = int(name.split("_")[1][1:]) > 30
            else:
                test = hash_half(name) == 1
            rows.append((f, 0, test))
    for lab, yl in [("yawn", 1), ("no_yawn", 0)]:
        for f in sorted(glob.glob(os.path.join(args.crops, lab, "*_m.png"))):
            name = os.path.basename(f)
            if yl == 0:
                test = name.startswith(test_clips)
            else:
                test = hash_half(name) == 1
            rows.append((f, yl, test))
    x = np.stack([load_grey(f, 32) for f, _, _ in rows]); y = np.array([r[1] for r in rows], np.float32)
    test = np.array([r[2] for r in rows], dtype=bool)
    params = train(x[~test], y[~test], 32, args.epochs, SEED, shift=2, zoom=args.zoom, blur=True)
    pt = probs(params, x[test])
    by_src = {}
    for src in ("yawn", "WolfgangLanger", "noface_face", "att_s", "fer_"):
        m = np.array([src in os.path.basename(r[0]) or (src == "yawn" and r[1] == 1) for r in rows], dtype=bool)[test]
        if m.any():
            by_src[src] = metrics(pt[m], y[test][m])
    report = {"train": metrics(probs(params, x[~test]), y[~test]), "test": metrics(pt, y[test]), "test_by_source": by_src,
              "test_files": {"yawn": int(np.sum(test & (y == 1))), "no_yawn": int(np.sum(test & (y == 0)))}}
    if args.out:
        export(params, 32, args.out, "input", "yawn",
               "P(yawn) of a 32x32 grey mouth crop standardised per crop ((x-mean)/(std+1))")
        report["onnx_max_abs_diff"] = check_onnx(args.out, params, x[:256], "input")
    if args.list_test:
        p = probs(params, x)
        with open(args.list_test, "w") as fh:
            for (f, yl, t), pi in zip(rows, p):
                if t:
                    fh.write(f"{yl},{pi:.4f},{f}\n")
    print(json.dumps(report, indent=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["eye", "yawn"])
    ap.add_argument("--cew")
    ap.add_argument("--faces", help="eye crops of eyes-faces from examples/attention_crops.rs")
    ap.add_argument("--iods", default="0.55")
    ap.add_argument("--crops", help="yawn/no_yawn mouth crops from examples/attention_crops.rs")
    ap.add_argument("--extra-neg", action="append", help="more negative mouth crops (folder)")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--zoom", type=float, default=0.0, help="scale augmentation: side x exp(U(-zoom, zoom))")
    ap.add_argument("--out")
    ap.add_argument("--list-test")
    args = ap.parse_args()
    np.random.seed(SEED)
    eye_task(args) if args.task == "eye" else yawn_task(args)


if __name__ == "__main__":
    main()
