#!/usr/bin/env bash
# Vigil against the Python peer in frames per CPU-second, from one run of each
# on the same frames (issue 19's figure): the first N frames of VIDEO at
# 640x480, an owner enrolled from the same clip (so the verifier embeds and
# checks liveness), every stage on. Start-up (model loading) is excluded on
# both sides: `vigil bench` counts process CPU from the pipeline's start, the
# peer from its first frame.
# Usage: bench/compare/ratio.sh VIGIL_BIN [VIDEO] [FRAMES] [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/../.."
vigil="${1:?usage: ratio.sh VIGIL_BIN [VIDEO] [FRAMES] [PYTHON]}"
video="${2:-/work/shared/data/video/single_face.mp4}"
frames="${3:-300}"
py="${4:-/work/venv-perf/bin/python}"
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
export VIGIL_STATE_DIR="$state" VIGIL_MODELS="$PWD/models"
"$vigil" enroll --name owner --source "video:$video" --frames 200 > "$state/enroll.log" 2>&1 \
  || { cat "$state/enroll.log"; exit 1; }
vigil_json=$("$vigil" bench --no-models --json --source "video:$video" --resize 640x480 \
  --frames "$frames" 2>/dev/null | tail -1)
peer_json=$("$py" bench/compare/peer_pipeline.py --video "$video" --frames "$frames" 2>/dev/null | tail -1)
VJ="$vigil_json" PJ="$peer_json" python3 - <<'PY'
import json, os
v = json.loads(os.environ["VJ"]); p = json.loads(os.environ["PJ"])["peer"]
print(f"vigil: {v['frames']} frames, {v['frames_per_cpu_s']:.1f} frames per CPU-second, {v['fps']:.1f} FPS wall")
for s in v["stages"]:
    print(f"  {s['name']:<10} cpu {s['cpu_ms']:7.2f} ms/item  processed {s['processed']}")
print(f"peer:  {p['frames']} frames, {p['fps_cpu']:.1f} frames per CPU-second, {p['fps']:.1f} FPS wall")
print(f"ratio (vigil / peer, frames per CPU-second): {v['frames_per_cpu_s'] / p['fps_cpu']:.2f}x")
PY
