"""Penultimate features of both models for a few views, to test fitted linear heads.

mini-Xception: add_4 [N,128,4,4] (input of the last 3x3 conv), flattened and globally pooled.
face-api: the 256-d pooled bottleneck ('pool' node) before its fc layer.

usage: python features.py DATA_DIR MODELS_DIR FACEAPI_ONNX OUT.npz
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort

from common import load_dataset, split_of, warp

data, models, fa_path, out = sys.argv[1:5]
paths, labels, imgs = load_dataset(data)


def with_outputs(path, names):
    m = onnx.load(path)
    for n in names:
        m.graph.output.append(onnx.helper.make_empty_tensor_value_info(n))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])


mx = with_outputs(f"{models}/fer_mini_xception.onnx", ["add_4", "global_average_pooling2d_1"])
fa = with_outputs(fa_path, ["pool", "logits"])
res = {"labels": labels, "split": np.array([split_of(p) for p in paths])}
views = {"c": {}, "f": {"flip": True}, "l": {"dx": -2}, "r": {"dx": 2}, "u": {"dy": -2}, "d": {"dy": 2}}
for vn, kw in views.items():
    c64 = np.stack([warp(im, 64, **kw) for im in imgs]).astype(np.float32)[:, None] / 127.5 - 1
    outs = [mx.run(["add_4", "global_average_pooling2d_1"], {"input_1": c64[i:i + 256]}) for i in range(0, len(c64), 256)]
    res[f"mx_add4_{vn}"] = np.concatenate([o[0] for o in outs]).astype(np.float32)
    res[f"mx_logit_{vn}"] = np.concatenate([o[1] for o in outs])
    c112 = np.stack([warp(im, 112, **kw) for im in imgs]).astype(np.float32)[:, None]
    c112 = np.repeat(c112, 3, 1)
    outs = [fa.run(["pool", "logits"], {"input": c112[i:i + 128]}) for i in range(0, len(c112), 128)]
    res[f"fa_pool_{vn}"] = np.concatenate([o[0] for o in outs]).reshape(len(imgs), -1)
    res[f"fa_logit_{vn}"] = np.concatenate([o[1] for o in outs])
    print(vn, flush=True)
np.savez_compressed(out, **res)
