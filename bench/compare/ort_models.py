#!/usr/bin/env python3
"""Time each Vigil model in onnxruntime (one thread, sequential, no spinning) and
compare with tract.

  ort_models.py [--models DIR] [--runs N] [--json OUT]          measure ORT, print JSON
  ort_models.py --tract TRACT.json [--ort ORT.json]             ratio table tract / ORT
                                                                (measures ORT unless --ort)
  ort_models.py --variant pnet=/path/pnet_nchw.onnx ...         time a re-exported file instead

JSON: a list with one object per model:
  {"model", "file", "shapes", "median_ms", "p95_ms", "cpu_median_ms", "cpu_p95_ms", "runs", "runtime"}
  (wall clock per run; cpu_* = this thread's CPU time per run, which other processes
  on a shared machine do not inflate: compare ratios on it when the machine is busy)
For "pnet" one sample is every pyramid level of one 640x480 frame run in sequence.
The tract side (tract_models.py, or later `vigil bench --json` per-model figures)
uses the same "model" keys; a JSON list, a {"models": [...]} object or a
{name: {...}} mapping with median_ms / p95_ms are all accepted.
"""

import argparse
import json
import os
import sys
import time

import onnx
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import cases, inputs_for, relayout, stats_ms  # noqa: E402

DEFAULT_MODELS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models"))


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def declared_input(path):
    m = onnx.load(path, load_external_data=False)
    return [d.dim_value if d.HasField("dim_value") else None for d in m.graph.input[0].type.tensor_type.shape.dim]


class OrtCase:
    """One model case ready to run in onnxruntime: session plus seeded inputs."""

    def __init__(self, case, path):
        self.case, self.path = case, path
        self.shapes = relayout(case, declared_input(path))
        self.sess = session(path)
        name = self.sess.get_inputs()[0].name
        self.feeds = [{name: x} for x in inputs_for(case, self.shapes)]

    def once(self):
        for f in self.feeds:
            self.sess.run(None, f)

    def samples(self, min_runs, min_seconds, with_cpu=False):
        """Wall-clock seconds per run (and, with_cpu, this thread's CPU seconds per run: with one intra-op
        thread and spinning off, onnxruntime computes on the calling thread)."""
        out, cpu = [], []
        start = time.perf_counter()
        while len(out) < min_runs or time.perf_counter() - start < min_seconds:
            c0, t0 = time.thread_time(), time.perf_counter()
            self.once()
            out.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        return (out, cpu) if with_cpu else out

    def result(self, median_ms, p95_ms, runs, how=""):
        return {"model": self.case.name, "file": os.path.basename(self.path), "shapes": self.shapes,
                "median_ms": round(median_ms, 3), "p95_ms": round(p95_ms, 3), "runs": runs,
                "runtime": f"onnxruntime {ort.__version__}{how}", "note": self.case.note}


def time_case(case, path, min_runs, min_seconds, warmup):
    oc = OrtCase(case, path)
    for _ in range(warmup):
        oc.once()
    samples, cpu = oc.samples(min_runs, min_seconds, with_cpu=True)
    med, p95 = stats_ms(samples)
    r = oc.result(med, p95, len(samples))
    cmed, cp95 = stats_ms(cpu)
    r.update(cpu_median_ms=round(cmed, 3), cpu_p95_ms=round(cp95, 3))
    return r


def load_results(path):
    with open(path) as f:
        text = f.read().strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        # JSON lines; take the objects that carry a model key
        data = [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]
    if isinstance(data, dict) and "models" in data:
        data = data["models"]
    if isinstance(data, dict):
        data = [dict(v, model=k) for k, v in data.items() if isinstance(v, dict)]
    out = {}
    for row in data:
        if isinstance(row, dict) and "model" in row and "median_ms" in row:
            out[row["model"]] = row
    if not out:
        sys.exit(f"{path}: no per-model objects with 'model' and 'median_ms' keys")
    return out


def ratio_table(tract, ortr):
    """Markdown table; wall-clock columns always, CPU-time columns when both sides have them."""
    cpu = all("cpu_median_ms" in r for r in ortr.values()) and all("cpu_median_ms" in r for r in tract.values())
    head = "| model | input | tract median ms | ORT median ms | tract/ORT (wall) | tract p95 ms | ORT p95 ms |"
    if cpu:
        head += " tract CPU ms | ORT CPU ms | tract/ORT (CPU) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, o in ortr.items():
        t = tract.get(name)
        shapes = o.get("shapes", [])
        shape = f"{len(shapes)} levels" if len(shapes) > 1 else "x".join(map(str, shapes[0])) if shapes else ""
        if t is None:
            lines.append(f"| {name} | {shape} | - | {o['median_ms']:.2f} | - | - | {o['p95_ms']:.2f} |")
            continue
        tp95 = t.get("p95_ms")
        row = (f"| {name} | {shape} | {t['median_ms']:.2f} | {o['median_ms']:.2f} | "
               f"{t['median_ms'] / o['median_ms']:.2f}x | {'-' if tp95 is None else f'{tp95:.2f}'} | "
               f"{o['p95_ms']:.2f} |")
        if cpu:
            row += (f" {t['cpu_median_ms']:.2f} | {o['cpu_median_ms']:.2f} | "
                    f"{t['cpu_median_ms'] / o['cpu_median_ms']:.2f}x |")
        lines.append(row)
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=DEFAULT_MODELS, help="directory with the ONNX files (default: repo models/)")
    ap.add_argument("--only", nargs="*", help="model keys to run (default: all)")
    ap.add_argument("--variant", action="append", default=[], metavar="KEY=PATH",
                    help="time PATH instead of the stock file for model KEY (e.g. a models/export/ variant)")
    ap.add_argument("--runs", type=int, default=50, help="minimum timed samples per model")
    ap.add_argument("--seconds", type=float, default=2.0, help="minimum timed seconds per model")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--json", metavar="OUT", help="also write the ORT results to OUT")
    ap.add_argument("--ort", metavar="ORT.json", help="read ORT results instead of measuring")
    ap.add_argument("--tract", metavar="TRACT.json", help="tract results: print the tract/ORT ratio table")
    args = ap.parse_args()

    variants = dict(v.split("=", 1) for v in args.variant)
    if args.ort:
        results = list(load_results(args.ort).values())
    else:
        results = []
        for case in cases():
            if args.only and case.name not in args.only:
                continue
            path = variants.get(case.name, os.path.join(args.models, case.file))
            if not os.path.exists(path):
                sys.exit(f"model file not found: {path}")
            r = time_case(case, path, args.runs, args.seconds, args.warmup)
            print(f"{r['model']:14s} median {r['median_ms']:8.3f} ms  p95 {r['p95_ms']:8.3f} ms  "
                  f"cpu median {r['cpu_median_ms']:8.3f} ms  ({r['runs']} runs)", file=sys.stderr)
            results.append(r)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
    if args.tract:
        print(ratio_table(load_results(args.tract), {r["model"]: r for r in results}))
    else:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
