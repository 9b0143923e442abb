"""face-api FaceExpressionNet (npm @vladmandic/face-api@1.7.15, model/face_expression_model*) -> ONNX, by hand.

Follows the route of ../shared/models/tools/faceapi_recog_to_onnx.py: read the tfjs weights manifest,
dequantise uint8 weights (x * scale + min), and write the graph with onnx.helper.

Network (src/faceFeatureExtractor/FaceFeatureExtractor.ts, denseBlock.ts, src/faceProcessor/FaceProcessor.ts):
  input RGB 112x112 in 0..255, minus mean RGB (122.782, 117.001, 104.298), / 255
  4 dense blocks (first conv stride 2, 'same' padding; then 3 depthwise-separable convs with dense sums)
  avgPool 7x7 -> fc 256x7 -> softmax.
ONNX interface: input 'input' [N, 3, 112, 112] float RGB 0..255 (NCHW); output 'expressions' [N, 7] softmax
in face-api's order: neutral, happy, sad, angry, fearful, disgusted, surprised.

TF 'same' padding with stride 2 on an even side pads 0 before and 1 after; stride 1 with k=3 pads 1 and 1.

usage: python faceapi_expression_to_onnx.py MODEL_DIR OUT.onnx
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto
from onnx import helper as h
from onnx import numpy_helper as nh

d, out_path = sys.argv[1], sys.argv[2]
man = json.load(open(f"{d}/face_expression_model-weights_manifest.json"))
W = {}
for g in man:
    buf = b"".join(open(f"{d}/{p}", "rb").read() for p in g["paths"])
    off = 0
    for w in g["weights"]:
        n = int(np.prod(w["shape"]))
        q = w.get("quantization")
        if q:
            a = np.frombuffer(buf, np.uint8, n, off).astype(np.float32) * q["scale"] + q["min"]
            off += n
        else:
            a = np.frombuffer(buf, np.float32, n, off)
            off += 4 * n
        W[w["name"]] = a.reshape(w["shape"]).astype(np.float32)
    assert off == len(buf), (off, len(buf))

nodes, inits = [], []
cnt = [0]


def nm(p):
    cnt[0] += 1
    return f"{p}_{cnt[0]}"


def c(name, a, dt=np.float32):
    inits.append(nh.from_array(np.asarray(a, dt), name))
    return name


def pads(stride):
    return [0, 0, 1, 1] if stride == 2 else [1, 1, 1, 1]


def conv_full(x, p, stride):
    w = W[p + "/filters"].transpose(3, 2, 0, 1)  # HWIO -> OIHW
    y = nm("conv")
    nodes.append(h.make_node("Conv", [x, c(nm("W"), w), c(nm("B"), W[p + "/bias"])], [y],
                             kernel_shape=[3, 3], strides=[stride] * 2, pads=pads(stride)))
    return y


def sep_conv(x, p, stride):
    dw = W[p + "/depthwise_filter"]  # [3,3,C,1]
    ch = dw.shape[2]
    dw = dw.transpose(2, 3, 0, 1)  # [C,1,3,3]
    pw = W[p + "/pointwise_filter"][0, 0].T[:, :, None, None]  # [O,C,1,1]
    y = nm("dw")
    nodes.append(h.make_node("Conv", [x, c(nm("W"), dw)], [y], kernel_shape=[3, 3],
                             strides=[stride] * 2, pads=pads(stride), group=ch))
    z = nm("pw")
    nodes.append(h.make_node("Conv", [y, c(nm("W"), pw), c(nm("B"), W[p + "/bias"])], [z],
                             kernel_shape=[1, 1]))
    return z


def relu(x):
    y = nm("relu")
    nodes.append(h.make_node("Relu", [x], [y]))
    return y


def add(*xs):
    acc = xs[0]
    for x in xs[1:]:
        y = nm("add")
        nodes.append(h.make_node("Add", [acc, x], [y]))
        acc = y
    return acc


def dense_block4(x, p, first):
    out1 = relu(conv_full(x, p + "/conv0", 2) if first else sep_conv(x, p + "/conv0", 2))
    out2 = sep_conv(out1, p + "/conv1", 1)
    in3 = relu(add(out1, out2))
    out3 = sep_conv(in3, p + "/conv2", 1)
    in4 = relu(add(out1, out2, out3))
    out4 = sep_conv(in4, p + "/conv3", 1)
    return relu(add(out1, out2, out3, out4))


x = nm("sub")
nodes.append(h.make_node("Sub", ["input", c("mean", np.array([122.782, 117.001, 104.298]).reshape(1, 3, 1, 1))], [x]))
y = nm("div")
nodes.append(h.make_node("Div", [x, c("s255", np.array(255.0))], [y]))
x = y
for i in range(4):
    x = dense_block4(x, f"dense{i}", i == 0)
nodes.append(h.make_node("AveragePool", [x], ["pool"], kernel_shape=[7, 7], strides=[2, 2]))
nodes.append(h.make_node("Flatten", ["pool"], ["flat"], axis=1))
nodes.append(h.make_node("MatMul", ["flat", c("fc_w", W["fc/weights"])], ["fc"]))
nodes.append(h.make_node("Add", ["fc", c("fc_b", W["fc/bias"])], ["logits"]))
nodes.append(h.make_node("Softmax", ["logits"], ["expressions"], axis=1))
g = h.make_graph(nodes, "faceapi_face_expression",
                 [h.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 112, 112])],
                 [h.make_tensor_value_info("expressions", TensorProto.FLOAT, ["N", 7])], inits)
mdl = h.make_model(g, opset_imports=[h.make_opsetid("", 13)], producer_name="faceapi_expression_to_onnx.py")
mdl.ir_version = 8
onnx.checker.check_model(mdl)
onnx.save(mdl, out_path)
print("saved", out_path, "weights", len(W))
