#!/usr/bin/env bash
# Smoke test of a cross-built release binary under qemu-user, on the demo replay:
#   vigil models                                          (every model: checksum, shapes, load, plan, run)
#   vigil run --source demo --headless --max-frames 20    (the whole pipeline, JSON events)
# once per emulated CPU: qemu's "max" and the board's core (Cortex-A72 = Raspberry Pi 4
# for aarch64, Cortex-A7 for armv7), so tract's run-time kernel selection is exercised
# on a CPU without the newer extensions. Checks the exit codes, the number of frame
# events, and that every CPU gives the same scene labels.
#
# Usage: cross/smoke.sh [TARGET]   (default aarch64-unknown-linux-gnu)
# Needs: the binary built first, e.g.
#   cargo build --release --target aarch64-unknown-linux-gnu
# Env: CARGO_TARGET_DIR (default ./target), VIGIL_BIN (binary to test instead),
#      SMOKE_CPUS (space-separated list overriding the CPUs).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:-aarch64-unknown-linux-gnu}"
frames=20

case "$target" in
  aarch64-unknown-linux-gnu)
    qemu=(qemu-aarch64-static -L /usr/aarch64-linux-gnu); cpus="${SMOKE_CPUS:-max cortex-a72}" ;;
  armv7-unknown-linux-gnueabihf)
    qemu=(qemu-arm-static -L /usr/arm-linux-gnueabihf); cpus="${SMOKE_CPUS:-max cortex-a7}" ;;
  *) echo "smoke: unsupported target $target" >&2; exit 2 ;;
esac

bin="${VIGIL_BIN:-${CARGO_TARGET_DIR:-$repo/target}/$target/release/vigil}"
if [ ! -x "$bin" ]; then
  echo "smoke: $bin not found; build it with: cargo build --release --target $target" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$repo"   # the checkout layout: ./models and ./config/vigil.toml

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }

echo "smoke: $bin ($(stat -c %s "$bin") bytes) on $target"
reference=""
for cpu in $cpus; do
  echo "== QEMU_CPU=$cpu: vigil models"
  QEMU_CPU="$cpu" "${qemu[@]}" "$bin" models || fail "vigil models on $cpu"

  echo "== QEMU_CPU=$cpu: vigil run --source demo --headless --max-frames $frames"
  events="$work/events-$cpu.jsonl"
  start=$(date +%s%N)
  QEMU_CPU="$cpu" RUST_LOG=warn "${qemu[@]}" "$bin" run --source demo --headless \
    --max-frames "$frames" --events "$events" 2> "$work/run-$cpu.log" \
    || { cat "$work/run-$cpu.log" >&2; fail "vigil run on $cpu"; }
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  cat "$work/run-$cpu.log"

  n_frames=$(grep -c '"event":"frame"' "$events" || true)
  n_scene=$(grep -c '"event":"scene"' "$events" || true)
  n_summary=$(grep -c '"event":"summary"' "$events" || true)
  [ "$n_frames" -eq "$frames" ] || fail "$cpu: $n_frames frame events, expected $frames"
  [ "$n_scene" -ge 1 ] || fail "$cpu: no scene event"
  [ "$n_summary" -eq 1 ] || fail "$cpu: $n_summary summary events, expected 1"
  labels=$(grep '"event":"scene"' "$events" | grep -o '"top":\[{"label":"[^"]*"' | sed 's/.*"label":"//; s/"$//')
  echo "   $n_frames frame events, $n_scene scene events in $((ms / 1000)).$(( (ms % 1000) / 100 )) s; top-1 labels: $(echo "$labels" | sort | uniq -c | tr -s ' \n' ' ')"
  if [ -z "$reference" ]; then
    reference="$labels"
  elif [ "$labels" != "$reference" ]; then
    fail "scene labels on $cpu differ from the first CPU's"
  fi
done
echo "smoke: OK ($target: $cpus)"
