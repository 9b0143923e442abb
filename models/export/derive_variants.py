#!/usr/bin/env python3
"""Derive faster, numerically equivalent ONNX variants of Vigil's MTCNN nets (onnx + numpy graph surgery only).

Every variant computes the same function as its original file: checked here in onnxruntime on
seeded inputs (several shapes and batch sizes), max abs diff per output printed and enforced <= --tol.
Only the graph's form changes, so that tract has less to do. See README.md beside this file.

  derive_variants.py SRC_MODELS_DIR OUT_DIR [--only pnet rnet onet] [--flavours fast nchw_fast nchw] [--tol 1e-4]

Flavours (file names: <net>_<flavour>.onnx):
  fast       SAME interface as the original (drop-in): input [N, W, H, 3] width-first, same output names,
             shapes and layouts.
               P-Net: PRelu -> Relu + Min*slope; Softmax over the 2 class channels -> Sigmoid of the logit
                      differences (folded into the class conv's weights).
               R-Net / O-Net: PRelu -> Relu + depthwise-1x1(Min); Keras NHWC flatten order folded into the
                      dense weights (one Transpose less); MatMul + Add -> Gemm.
  nchw_fast  the same plus a plain NCHW input [N, 3, H, W] (no width-first transpose). P-Net's outputs then
             become NCHW too: conv2d_4 [N, 4, H', W'], softmax [N, 2, H', W'] (probabilities on axis 1).
  nchw       layout change only (for attribution).
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


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
        gemm = helper.make_node("Gemm", [mm.input[0], mm.input[1], add.input[1]], [add.output[0]],
                                name=mm.name + "_gemm")
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


def dense_flatten_fold(m, swapped):
    """R-Net/O-Net: PRelu [N,C,A,B] -> Transpose(0,2,3,1) -> Flatten -> MatMul, the Keras (A, B, C) flatten order.
    Permute the dense weight rows to the (C, A, B) order of a plain Flatten and drop the Transpose. With
    swapped=True (after mtcnn_to_nchw) the spatial axes are (H, W) instead of the original (W, H)."""
    g = m.graph
    tr = [n for n in g.node if n.op_type == "Transpose"]
    tr = [n for n in tr if list(attr(n, "perm")) == [0, 2, 3, 1]]
    assert len(tr) == 1
    tr = tr[0]
    fl = [n for n in g.node if n.op_type == "Flatten" and n.input[0] == tr.output[0]][0]
    mm = [n for n in g.node if n.op_type == "MatMul" and n.input[0] == fl.output[0]][0]
    convs = [n for n in g.node if n.op_type == "Conv"]
    c = arr(g, convs[-1].input[1]).shape[0]
    d = arr(g, mm.input[1])
    side = int(round((d.shape[0] / c) ** 0.5))
    assert side * side * c == d.shape[0]
    # original index (first spatial, second spatial, channel) of the ORIGINAL axes (W, H, C)
    perm = (2, 1, 0, 3) if swapped else (2, 0, 1, 3)
    d2 = d.reshape(side, side, c, -1).transpose(*perm).reshape(d.shape[0], -1)
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


# ---------------------------------------------------------------- PRelu and 2-way softmax
def prelu_to_depthwise(m):
    """PRelu(y, a) with a [1,C,1,1] slope becomes Relu(y) + DepthwiseConv1x1_a(Min(y, 0)).
    tract expands PRelu into Greater + Mul + Select, and on a batch > 1 the [1,C,1,1] Mul falls to its generic
    broadcasting loop (its by-scalar path needs equal leading dims, its unicast path a C*H*W that is a multiple of
    the SIMD width in bytes). A 1x1 depthwise conv does the per-channel multiply with a real kernel; Relu and Min
    run on the by-scalar path and the Add is fused with the Relu (OptBinChain)."""
    g = m.graph
    ini = inits(g)
    zero = "prelu_zero"
    set_init(g, zero, np.array(0, np.float32))
    for n in [n for n in g.node if n.op_type == "PRelu"]:
        a = numpy_helper.to_array(ini[n.input[1]])
        if a.ndim != 4:
            continue  # dense PRelu ([N, F] * [F]) already runs as a fast unicast multiply in tract
        c = a.shape[1]
        y, o = n.input[0], n.output[0]
        set_init(g, n.input[1] + "_dw", a.reshape(c, 1, 1, 1).astype(np.float32))
        nodes = [helper.make_node("Relu", [y], [o + "_pos"], name=n.name + "_pos"),
                 helper.make_node("Min", [y, zero], [o + "_min"], name=n.name + "_min"),
                 helper.make_node("Conv", [o + "_min", n.input[1] + "_dw"], [o + "_neg"], name=n.name + "_dw",
                                  group=c, kernel_shape=[1, 1]),
                 helper.make_node("Add", [o + "_pos", o + "_neg"], [o], name=n.name + "_add")]
        idx = list(g.node).index(n)
        g.node.remove(n)
        for k, nd in enumerate(nodes):
            g.node.insert(idx + k, nd)
    return m


def prelu_to_minmul(m):
    """PRelu(y, a) with a [1,C,1,1] slope becomes Relu(y) + Min(y, 0) * a. For a batch of 1 (P-Net) every step runs on
    tract's by-scalar path (one channel = one contiguous run), instead of Greater + Mul + Select."""
    g = m.graph
    ini = inits(g)
    zero = "prelu_zero"
    set_init(g, zero, np.array(0, np.float32))
    for n in [n for n in g.node if n.op_type == "PRelu"]:
        if numpy_helper.to_array(ini[n.input[1]]).ndim != 4:
            continue
        y, a, o = n.input[0], n.input[1], n.output[0]
        nodes = [helper.make_node("Relu", [y], [o + "_pos"], name=n.name + "_pos"),
                 helper.make_node("Min", [y, zero], [o + "_min"], name=n.name + "_min"),
                 helper.make_node("Mul", [o + "_min", a], [o + "_neg"], name=n.name + "_mul"),
                 helper.make_node("Add", [o + "_pos", o + "_neg"], [o], name=n.name + "_add")]
        idx = list(g.node).index(n)
        g.node.remove(n)
        for k, nd in enumerate(nodes):
            g.node.insert(idx + k, nd)
    return m


def softmax2_to_sigmoid(m):
    """Conv (2 output channels) -> [Transpose] -> Softmax over those 2 channels becomes
    Conv with weights (w0 - w1, w1 - w0) -> [Transpose] -> Sigmoid: softmax([l0, l1]) = sigmoid([l0 - l1, l1 - l0]).
    Same output tensor; tract runs Softmax over a 2-wide axis row by row, Sigmoid is one vectorised pass."""
    g = m.graph
    producers = {o: n for n in g.node for o in n.output}
    for sm in [n for n in g.node if n.op_type == "Softmax"]:
        src = producers.get(sm.input[0])
        via = None
        if src is not None and src.op_type == "Transpose":
            via, src = src, producers.get(src.input[0])
        if src is None or src.op_type != "Conv":
            continue
        w = arr(g, src.input[1]).astype(np.float64)
        b = arr(g, src.input[2]).astype(np.float64)
        if w.shape[0] != 2:
            continue
        rank_axis = attr(sm, "axis", -1)
        # the softmax axis must be the conv's channel axis: 1 without a Transpose, 3 after perm (0, 2, 3, 1)
        if via is None and rank_axis != 1:
            continue
        if via is not None and not (list(attr(via, "perm")) == [0, 2, 3, 1] and rank_axis in (3, -1)):
            continue
        set_init(g, src.input[1] + "_diff", np.stack([w[0] - w[1], w[1] - w[0]]).astype(np.float32))
        set_init(g, src.input[2] + "_diff", np.array([b[0] - b[1], b[1] - b[0]], np.float32))
        src.input[1] += "_diff"
        src.input[2] += "_diff"
        sm.op_type = "Sigmoid"
        del sm.attribute[:]
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
def pnet_cases(nchw):
    cases = []
    shapes = [(1, 192, 144), (1, 137, 103), (1, 18, 13), (1, 12, 12), (3, 40, 30)]
    for k, (n, w, h) in enumerate(shapes):
        x = seeded((n, w, h, 3), -1, 1, k)
        if nchw:  # variant takes [N,3,H,W] and answers [N,C,H',W']: compare in the original [N,W',H',C]
            cases.append((x, np.ascontiguousarray(x.transpose(0, 3, 2, 1)), lambda name, y: y.transpose(0, 3, 2, 1)))
        else:
            cases.append((x, x, lambda name, y: y))
    return cases


def derive_pnet(src, out, tol, flavour):
    m = onnx.load(os.path.join(src, "pnet.onnx"))
    nchw = flavour.startswith("nchw")
    if nchw:
        m = pnet_outputs_nchw(mtcnn_to_nchw(m, None))
    if flavour.endswith("fast"):
        m = softmax2_to_sigmoid(prelu_to_minmul(m))
    m = finish(m, opset=13 if nchw else None)  # Softmax over axis 1 of a 4-D tensor needs opset 13 semantics
    worst = check(os.path.join(src, "pnet.onnx"), m, pnet_cases(nchw), tol)
    name = f"pnet_{flavour}.onnx"
    onnx.save(m, os.path.join(out, name))
    return name, worst


def derive_rnet_onet(src, out, tol, model, side, flavour):
    m = onnx.load(os.path.join(src, model + ".onnx"))
    nchw = flavour.startswith("nchw")
    if nchw:
        m = mtcnn_to_nchw(m, side)
    m = matmul_add_to_gemm(dense_flatten_fold(m, swapped=nchw))
    if flavour.endswith("fast"):
        m = prelu_to_depthwise(m)
    m = finish(m)
    cases = []
    for k, n in enumerate([1, 4, 16]):
        x = seeded((n, side, side, 3), -1, 1, k)
        cases.append((x, np.ascontiguousarray(x.transpose(0, 3, 2, 1)) if nchw else x, lambda nm, y: y))
    worst = check(os.path.join(src, model + ".onnx"), m, cases, tol)
    name = f"{model}_{flavour}.onnx"
    onnx.save(m, os.path.join(out, name))
    return name, worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", help="directory with the original ONNX files (the repo's models/)")
    ap.add_argument("out", help="where to write the variants")
    ap.add_argument("--only", nargs="*", default=["pnet", "rnet", "onet"], choices=["pnet", "rnet", "onet"])
    ap.add_argument("--flavours", nargs="*", default=["fast", "nchw_fast"],
                    help="MTCNN flavours: fast (same interface), nchw (layout only), nchw_fast (both)")
    ap.add_argument("--tol", type=float, default=1e-4, help="max abs diff allowed per output (onnxruntime)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    jobs = []
    for k in args.only:
        for fl in args.flavours:
            if k == "pnet":
                jobs.append(lambda fl=fl: derive_pnet(args.src, args.out, args.tol, fl))
            else:
                jobs.append(lambda fl=fl, k=k: derive_rnet_onet(args.src, args.out, args.tol, k,
                                                                 24 if k == "rnet" else 48, fl))
    for job in jobs:
        name, worst = job()
        print(f"{name}: max abs diff vs original per output: " + ", ".join(f"{o} {d:.2e}" for o, d in worst.items()))


if __name__ == "__main__":
    main()
