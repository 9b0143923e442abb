#!/usr/bin/env python3
"""Export a train.py checkpoint to ONNX for tract.

  python export.py --ckpt /work/train-emotion-runs/resnetw/best.pt \
      --out out/emotion_fer_resnetw.onnx

Graph contract:
  input  "input": float32 [N,1,48,48], grey pixel/255 (0..1). No mean/std
                  step: the model was trained on raw 0..1 pixels.
  output "probs": float32 [N,7], softmax over classes in order
                  angry, disgust, fear, happy, neutral, sad, surprise.
  Only N (batch) is dynamic. Opset 13. BatchNorm is folded into Conv weights
  before export; ops used: Conv, Relu, MaxPool, Add, ReduceMean, Gemm, Softmax.
  Mirror averaging (the shipped TTA) is NOT in the graph: the caller feeds the
  crop and its horizontal mirror (as N=2 or two N=1 runs) and averages probs.
"""
import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
import torch.nn as nn

from common import build, CLASSES


def fold_bn(conv, bn):
    w = conv.weight.detach()
    b = conv.bias.detach() if conv.bias is not None else torch.zeros(w.shape[0])
    s = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                      conv.padding, conv.dilation, conv.groups, bias=True)
    fused.weight.data = w * s[:, None, None, None]
    fused.bias.data = (b - bn.running_mean) * s + bn.bias.detach()
    return fused


def fold_all(module):
    """Recursively replace (Conv2d, BatchNorm2d) pairs with fused Conv2d + Identity.
    Works for nn.Sequential children and for named attribute pairs c1/b1, c2/b2."""
    for name, child in list(module.named_children()):
        fold_all(child)
    if isinstance(module, nn.Sequential):
        mods = list(module)
        for i in range(len(mods) - 1):
            if isinstance(mods[i], nn.Conv2d) and isinstance(mods[i + 1], nn.BatchNorm2d):
                module[i] = fold_bn(mods[i], mods[i + 1])
                module[i + 1] = nn.Identity()
    for cn, bn in (("c1", "b1"), ("c2", "b2")):
        if hasattr(module, cn) and isinstance(getattr(module, bn, None), nn.BatchNorm2d):
            setattr(module, cn, fold_bn(getattr(module, cn), getattr(module, bn)))
            setattr(module, bn, nn.Identity())
    return module


class WithSoftmax(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return torch.softmax(self.m(x), dim=1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(a.ckpt, map_location="cpu", weights_only=False)
    model = build(ck["arch"])
    model.load_state_dict(ck["model"])
    model.eval()
    x = torch.rand(4, 1, 48, 48)
    with torch.no_grad():
        ref = torch.softmax(model(x), 1)
        fold_all(model)
        model.eval()
        net = WithSoftmax(model).eval()
        fused = net(x)
    print("max |fused - ref| (torch):", (fused - ref).abs().max().item())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    kw = dict(input_names=["input"], output_names=["probs"], opset_version=13,
              dynamic_axes={"input": {0: "N"}, "probs": {0: "N"}}, do_constant_folding=True)
    try:
        torch.onnx.export(net, (x,), a.out, dynamo=False, **kw)
    except TypeError:  # older torch without the dynamo flag
        torch.onnx.export(net, (x,), a.out, **kw)

    import onnx
    m = onnx.load(a.out)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    print("ops:", ops)
    allowed = {"Conv", "Relu", "MaxPool", "Add", "ReduceMean", "GlobalAveragePool", "Gemm",
               "MatMul", "Softmax", "Flatten"}
    assert set(ops) <= allowed, f"unexpected ops {set(ops) - allowed}"
    for io in list(m.graph.input) + list(m.graph.output):
        dims = [d.dim_param or d.dim_value for d in io.type.tensor_type.shape.dim]
        print(f"  {io.name}: {dims}")

    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(a.out, so, providers=["CPUExecutionProvider"])
    o = s.run(["probs"], {"input": x.numpy()})[0]
    print("max |onnx - torch(unfused)|:", float(np.abs(o - ref.numpy()).max()))
    print(f"wrote {a.out} ({os.path.getsize(a.out)/1e6:.2f} MB), epoch {ck['epoch']}, "
          f"ckpt PublicTest acc plain {ck.get('test_acc_plain', float('nan')):.4f} "
          f"mirror-avg {ck.get('test_acc_flip', float('nan')):.4f}; classes {CLASSES}")


if __name__ == "__main__":
    main()
