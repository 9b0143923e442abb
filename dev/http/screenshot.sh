#!/usr/bin/env bash
# Opens Vigil's status page in headless Chromium against a running
# `vigil run --http` (the looped demo clip in real time) and checks the
# screenshot's pixels: the live view shows a real picture (not a blank box)
# and the state panel shows the lock state in its colour.
#
#   dev/http/screenshot.sh [VIGIL_BINARY] [OUT.png]
#
# Debian's chromium (dev/install-deps.sh). Run by .ci/run after the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${1:-target/debug/vigil}"
out="${2:-${CARGO_TARGET_DIR:-target}/http-page.png}"
work=$(mktemp -d)
vigil_pid=""
cleanup() {
  [ -n "$vigil_pid" ] && kill -INT "$vigil_pid" 2>/dev/null && wait "$vigil_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
VIGIL_MODELS="$PWD/models" VIGIL_STATE_DIR="$work/state" "$bin" run --headless --realtime --loop \
  --source demo --http "127.0.0.1:$port" --events /dev/null >/dev/null 2>"$work/vigil.log" &
vigil_pid=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$work/vigil.log"; echo "FAIL: vigil did not serve"; exit 1; }
sleep 2
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/chromium" --window-size=1280,800 --timeout=5000 \
  --screenshot="$out" "http://127.0.0.1:$port/" >"$work/chromium.log" 2>&1 \
  || { cat "$work/chromium.log"; echo "FAIL: chromium"; exit 1; }
ffmpeg -loglevel error -y -i "$out" -f rawvideo -pix_fmt rgb24 "$work/page.rgb"
python3 - "$work/page.rgb" <<'PY'
import statistics, sys
W, H = 1280, 800
px = open(sys.argv[1], "rb").read()
assert len(px) == W * H * 3, len(px)
def region(x0, y0, x1, y1):
    return [px[(y * W + x) * 3:(y * W + x) * 3 + 3] for y in range(y0, y1, 4) for x in range(x0, x1, 4)]
video = region(20, 70, 700, 440)
luma = [0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] for p in video]
spread = statistics.pstdev(luma)
distinct = len(set(video))
state = region(745, 95, 1000, 125)
lock_coloured = sum(1 for p in state if (p[0] > 200 and p[1] < 140 and p[2] < 140) or (p[1] > 200 and p[0] < 140 and p[2] < 140))
print(f"live view: luma spread {spread:.1f}, {distinct} distinct colours; state panel: {lock_coloured} lock-coloured pixels")
ok = spread > 20 and distinct > 500 and lock_coloured > 20
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
echo "screenshot: $out"
