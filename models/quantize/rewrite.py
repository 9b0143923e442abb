"""Graph rewrites applied after onnxruntime's quantiser, for tract-onnx 0.23.9.

fast_quantize: tract evaluates a per-tensor QuantizeLinear(u8) with a scalar
  round-half-to-even loop (~3 ns per element here), the biggest int8 overhead.
  The same mapping written as Mul(1/s) -> Add(zp + 0.5) -> Clip(0, 255) -> Cast(u8)
  is fused by tract into one vectorised binary chain plus a cast (round half up
  instead of half to even: differs only on exact ties). A float Clip(0, 6) right
  before such a quantiser is dropped when the quantiser already saturates there
  (zero point 0, top of range <= 6).

int8_gemm_weights: the classifier Gemm stays float at run time (QOperator would
  make it com.microsoft QGemm, unknown to tract); its 1000x1280 weight is stored
  as int8 per output row + DequantizeLinear, which tract folds into a float
  constant at load time. Shrinks the file by ~3.8 MB; features are unaffected.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RELU6_TOP = 6.0


def _consts(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def fast_quantize(model: onnx.ModelProto) -> tuple[int, int]:
    g = model.graph
    consts = _consts(model)
    producer = {o: n for n in g.node for o in n.output}
    consumers: dict[str, int] = {}
    for n in g.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1
    nodes, dropped, replaced = [], set(), 0
    for n in g.node:
        scale = consts.get(n.input[1]) if n.op_type == "QuantizeLinear" else None
        zp = consts.get(n.input[2]) if scale is not None and len(n.input) > 2 else None
        if scale is None or zp is None or scale.size != 1 or zp.dtype != np.uint8:
            nodes.append(n)
            continue
        s, z = float(scale), int(zp)
        x = n.input[0]
        clip = producer.get(x)
        if (clip is not None and clip.op_type == "Clip" and z == 0 and consumers[x] == 1
                and 255 * s <= RELU6_TOP * (1 + 1e-6)):
            dropped.add(id(clip))
            x = clip.input[0]
        k = n.output[0]
        g.initializer.extend([
            numpy_helper.from_array(np.array(1.0 / s, np.float32), f"{k}.inv_scale"),
            numpy_helper.from_array(np.array(z + 0.5, np.float32), f"{k}.zp_half"),
            numpy_helper.from_array(np.array(0.0, np.float32), f"{k}.lo"),
            numpy_helper.from_array(np.array(255.0, np.float32), f"{k}.hi"),
        ])
        nodes += [
            helper.make_node("Mul", [x, f"{k}.inv_scale"], [f"{k}.scaled"], name=f"{k}.mul"),
            helper.make_node("Add", [f"{k}.scaled", f"{k}.zp_half"], [f"{k}.shifted"], name=f"{k}.add"),
            helper.make_node("Clip", [f"{k}.shifted", f"{k}.lo", f"{k}.hi"], [f"{k}.clipped"], name=f"{k}.clip"),
            helper.make_node("Cast", [f"{k}.clipped"], [k], to=TensorProto.UINT8, name=f"{k}.cast"),
        ]
        replaced += 1
    nodes = [n for n in nodes if id(n) not in dropped]
    del g.node[:]
    g.node.extend(nodes)
    return replaced, len(dropped)


def int8_gemm_weights(model: onnx.ModelProto) -> int:
    g = model.graph
    consts = _consts(model)
    done = 0
    for n in list(g.node):
        if n.op_type != "Gemm" or n.input[1] not in consts:
            continue
        transb = next((a.i for a in n.attribute if a.name == "transB"), 0)
        w = consts[n.input[1]]
        axis = 0 if transb else 1  # output-unit axis
        amax = np.abs(w).max(axis=1 - axis)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        q = np.clip(np.round(w / (scale[:, None] if axis == 0 else scale[None, :])), -127, 127).astype(np.int8)
        name = n.input[1]
        for i, init in enumerate(g.initializer):
            if init.name == name:
                del g.initializer[i]
                break
        g.initializer.extend([
            numpy_helper.from_array(q, f"{name}.q"),
            numpy_helper.from_array(scale, f"{name}.scale"),
            numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), f"{name}.zp"),
        ])
        dq = helper.make_node("DequantizeLinear", [f"{name}.q", f"{name}.scale", f"{name}.zp"], [name],
                              axis=axis, name=f"{name}.dequantize")
        g.node.insert(list(g.node).index(n), dq)
        done += 1
    return done


def drop_unused_opsets(model: onnx.ModelProto) -> None:
    """quant_pre_process leaves imports of onnxruntime-internal domains behind."""
    used = {n.domain for n in model.graph.node} | {""}
    keep = [o for o in model.opset_import if o.domain in used]
    del model.opset_import[:]
    model.opset_import.extend(keep)


def float_dequantize(model: onnx.ModelProto) -> int:
    """Per-tensor DequantizeLinear of an activation -> Cast(f32) -> Sub(zp) -> Mul(scale).

    Same numbers; only needed because tract 0.23.9 cannot serialise its
    DequantizeLinearF32 op to NNEF (`tract ... dump --nnef-tar` fails on it)."""
    g = model.graph
    consts = _consts(model)
    nodes, done = [], 0
    for n in g.node:
        if n.op_type != "DequantizeLinear" or n.input[0] in consts or consts[n.input[1]].size != 1:
            nodes.append(n)
            continue
        k = n.output[0]
        zp = float(consts[n.input[2]]) if len(n.input) > 2 else 0.0
        g.initializer.extend([
            numpy_helper.from_array(np.array(zp, np.float32), f"{k}.zp_f32"),
            numpy_helper.from_array(np.array(float(consts[n.input[1]]), np.float32), f"{k}.scale_f32"),
        ])
        nodes += [
            helper.make_node("Cast", [n.input[0]], [f"{k}.as_f32"], to=TensorProto.FLOAT, name=f"{k}.cast"),
            helper.make_node("Sub", [f"{k}.as_f32", f"{k}.zp_f32"], [f"{k}.centred"], name=f"{k}.sub"),
            helper.make_node("Mul", [f"{k}.centred", f"{k}.scale_f32"], [k], name=f"{k}.mul"),
        ]
        done += 1
    del g.node[:]
    g.node.extend(nodes)
    return done
