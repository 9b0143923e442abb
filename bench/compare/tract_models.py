#!/usr/bin/env python3
"""Time each Vigil model in tract with the tract CLI (one thread: the CLI's default)
on the same shapes as ort_models.py, and write the same JSON keys.

  tract_models.py [--tract /work/tools/bin/tract] [--rounds 7] [--ms 400] [--json OUT]
  tract_models.py --variant pnet=/path/pnet_nchw.onnx ...      time a re-exported file instead
  tract_models.py --profile rnet                               print tract's per-op profile for one case
  tract_models.py --ort-json ORT.json ...                      also time onnxruntime, interleaved with tract
                                                               round by round (same estimator; use this on a
                                                               shared machine, where load moves absolute times)

The CLI's `bench` prints one mean per run ("Bench ran N times, X ms/i"). Each case is
benched --rounds times (each run about --ms long, rounds interleaved across models);
median_ms / p95_ms are the median and p95 of those per-round wall-clock means, so p95
here is NOT a per-inference p95 (ORT's is). cpu_median_ms / cpu_p95_ms: the same from
the process's CPU time ((CPU of N loops - CPU of 1 loop) / loops), which other
processes on a shared machine do not inflate the way they inflate wall time.
For "pnet", each round's figure is the sum of the per-level means of one frame's
pyramid. Inputs are the CLI's random inputs (conv/matmul time does not depend on values).
Graph: `--onnx-ignore-output-shapes` (the files declare a symbolic batch N on outputs,
which tract's analyser will not unify with a concrete input), then `-O` (optimise).
"""

import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import cases, relayout  # noqa: E402
from ort_models import DEFAULT_MODELS, OrtCase, declared_input  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*m")
BENCH = re.compile(r"Bench ran (\d+) times, ([0-9.]+) (ms|µs|us|s)/i")


def tract_cmd(tract, path, shape):
    return [tract, path, "--onnx-ignore-output-shapes", "-i", ",".join(map(str, shape)) + ",f32", "-O"]


def run_bench(tract, path, shape, loops, ms=100000):
    """One CLI bench process: (wall ms per iteration as the CLI reports it, process user+sys CPU seconds)."""
    cmd = tract_cmd(tract, path, shape) + ["bench", "-R", "--max-loops", str(loops), "--max-time", str(ms),
                                           "--warmup-loops", "0" if loops == 1 else "3"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=dict(os.environ, RUST_BACKTRACE="0"))
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    out = ANSI.sub("", out)
    m = BENCH.search(out)
    if status != 0 or not m:
        sys.exit(f"tract failed on {path} {shape}:\n" + out[-2000:])
    wall = {"ms": 1.0, "µs": 1e-3, "us": 1e-3, "s": 1e3}[m.group(3)] * float(m.group(2))
    return wall, ru.ru_utime + ru.ru_stime


class TractCase:
    """CPU time per iteration = (CPU of a run of N loops - CPU of a 1-loop run) / (N - 1 + 3 warm-up loops):
    the load/optimise cost cancels out, and time-slicing by other processes on a shared machine does not count."""

    def __init__(self, tract, path, shape, ms):
        self.tract, self.path, self.shape = tract, path, shape
        self.base = min(run_bench(tract, path, shape, 1)[1] for _ in range(2))
        wall, _ = run_bench(tract, path, shape, 1)
        self.loops = max(5, int(ms / max(wall, 1e-3)))

    def once(self):
        wall, cpu = run_bench(self.tract, self.path, self.shape, self.loops)
        return wall, max(0.0, cpu - self.base) * 1e3 / (self.loops - 1 + 3)


def med_p95(xs):
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, -(-95 * len(xs) // 100) - 1)]
    med = xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2
    return med, p95


def profile(tract, path, shape):
    cmd = tract_cmd(tract, path, shape) + ["dump", "-R", "--profile", "--cost", "--info"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, RUST_BACKTRACE="0"))
    return ANSI.sub("", r.stdout + r.stderr)


def version(tract):
    r = subprocess.run([tract, "--version"], capture_output=True, text=True)
    return r.stdout.strip() or "tract"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tract", default=os.environ.get("TRACT", "/work/tools/bin/tract"), help="tract CLI binary")
    ap.add_argument("--models", default=DEFAULT_MODELS)
    ap.add_argument("--only", nargs="*", help="model keys to run (default: all)")
    ap.add_argument("--variant", action="append", default=[], metavar="KEY=PATH")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--ms", type=int, default=400, help="length of one CLI bench run (--max-time)")
    ap.add_argument("--json", metavar="OUT")
    ap.add_argument("--ort-json", metavar="OUT", help="also time onnxruntime interleaved; write its results to OUT")
    ap.add_argument("--profile", metavar="KEY", help="print tract's profile of one case (first shape) and exit")
    args = ap.parse_args()

    variants = dict(v.split("=", 1) for v in args.variant)
    todo = []
    for case in cases():
        if args.only and case.name not in args.only and case.name != args.profile:
            continue
        path = variants.get(case.name, os.path.join(args.models, case.file))
        todo.append((case, path, relayout(case, declared_input(path))))

    if args.profile:
        for case, path, shapes in todo:
            if case.name == args.profile:
                print(profile(args.tract, path, shapes[0]))
                return
        sys.exit(f"unknown model key {args.profile}")

    tcases = {case.name: [TractCase(args.tract, path, sh, args.ms) for sh in shapes] for case, path, shapes in todo}
    ort_cases = {}
    if args.ort_json:  # ORT runs with the stock files (or the same --variant files) on the same shapes
        for case, path, _ in todo:
            ort_cases[case.name] = OrtCase(case, path)
            for _ in range(3):
                ort_cases[case.name].once()
    rounds = {case.name: [] for case, _, _ in todo}
    cpu_rounds = {case.name: [] for case, _, _ in todo}
    ort_rounds = {case.name: [] for case, _, _ in todo}
    ort_cpu_rounds = {case.name: [] for case, _, _ in todo}
    for r in range(args.rounds):
        for case, path, shapes in todo:
            runs = [tc.once() for tc in tcases[case.name]]
            rounds[case.name].append(sum(w for w, _ in runs))
            cpu_rounds[case.name].append(sum(c for _, c in runs))
            if ort_cases:
                walls, cpus = ort_cases[case.name].samples(1, args.ms / 1000.0 * len(shapes), with_cpu=True)
                ort_rounds[case.name].append(1e3 * sum(walls) / len(walls))
                ort_cpu_rounds[case.name].append(1e3 * sum(cpus) / len(cpus))
        print(f"round {r + 1}/{args.rounds} (cpu ms): " +
              ", ".join(f"{k} {v[-1]:.2f}" for k, v in cpu_rounds.items()), file=sys.stderr)
    results = []
    ver = version(args.tract)
    for case, path, shapes in todo:
        med, p95 = med_p95(rounds[case.name])
        cmed, cp95 = med_p95(cpu_rounds[case.name])
        results.append({"model": case.name, "file": os.path.basename(path), "shapes": shapes,
                        "median_ms": round(med, 3), "p95_ms": round(p95, 3),
                        "cpu_median_ms": round(cmed, 3), "cpu_p95_ms": round(cp95, 3), "runs": len(rounds[case.name]),
                        "runtime": ver + " (CLI bench, per-round means)", "note": case.note})
    if ort_cases:
        ort_results = []
        for c, _, _ in todo:
            row = ort_cases[c.name].result(*med_p95(ort_rounds[c.name]), len(ort_rounds[c.name]),
                                           " (per-round means, interleaved with tract)")
            cmed, cp95 = med_p95(ort_cpu_rounds[c.name])
            row.update(cpu_median_ms=round(cmed, 3), cpu_p95_ms=round(cp95, 3))
            ort_results.append(row)
        with open(args.ort_json, "w") as f:
            json.dump(ort_results, f, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
