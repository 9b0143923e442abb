"""tract latency of MobileNetV2 variants, one thread, batch 1, side by side.

    python bench.py [--rounds 5] [--max-time 1000] MODEL.onnx|MODEL.nnef.tar ...

Each round runs every model once, in turn, with
    tract MODEL [--onnx-ignore-output-shapes -i 1,3,224,224,f32] -O bench
          --input-from-npz astronaut.npz --warmup-time 200 --max-time MS
(the tract CLI runs single-threaded unless --threads is given) and reads its mean
ms per iteration. The table gives, per model, the median over rounds, and the
median over rounds of the ratio to the FIRST model measured in the same round
(so a shared, noisy CPU affects both sides alike). The first model should be fp32.
"""

import argparse
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np

import common

TRACT = os.environ.get("TRACT", "/work/tools/bin/tract")
MS_PER_ITER = re.compile(r"([0-9.]+) ms/i")


def bench_once(model: Path, npz: Path, max_time: int) -> float:
    cmd = [TRACT, str(model)]
    if model.suffix == ".onnx":
        cmd += ["--onnx-ignore-output-shapes", "-i", "1,3,224,224,f32"]
    cmd += ["-O", "bench", "--input-from-npz", str(npz), "--warmup-time", "200", "--max-time", str(max_time)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env={**os.environ, "RUST_BACKTRACE": "0", "NO_COLOR": "1"})
    found = MS_PER_ITER.findall(re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr))
    if not found:
        raise SystemExit(f"no timing in tract output for {model}:\n{out.stdout}\n{out.stderr}")
    return float(found[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-time", type=int, default=1000, help="ms per model per round")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="mnv2-bench-") as tmp:
        npz = Path(tmp) / "astronaut.npz"
        np.savez(npz, input=common.batch([common.DATA / "photos" / "astronaut.png"]))
        times: dict[Path, list[float]] = {m: [] for m in args.models}
        for r in range(args.rounds):
            load = os.getloadavg()[0]
            for m in args.models:
                times[m].append(bench_once(m, npz, args.max_time))
            print(f"round {r + 1}/{args.rounds} (load avg {load:.1f}): "
                  + " ".join(f"{times[m][-1]:.1f}" for m in args.models), flush=True)

    base = args.models[0]
    print(f"\n| model | median ms | min ms | ratio to {base.name} (median of rounds) |")
    print("|---|---|---|---|")
    for m in args.models:
        ratio = statistics.median(t / b for t, b in zip(times[m], times[base]))
        print(f"| {m.name} | {statistics.median(times[m]):.1f} | {min(times[m]):.1f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
