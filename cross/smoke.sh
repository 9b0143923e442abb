#!/usr/bin/env bash
# Smoke test of a cross-built release binary under qemu-user, on the demo replay:
#   vigil models                                          (every model: checksum, shapes, load, plan, run)
#   vigil run --source demo --headless --max-frames 20    (the whole pipeline, JSON events)
# once per emulated CPU: for aarch64 the Cortex-A72 (Raspberry Pi 4: NEON only) and the
# Cortex-A76 (Pi 5: NEON + dot product + fp16), for armv7 the Cortex-A7 (NEON). tract
# picks its kernels at run time from the CPU's HWCAP flags (emulated by qemu) and from
# /proc/cpuinfo (NOT emulated by qemu 7: it shows the x86 host), so the script also
# sets tract's knobs to what the board's /proc/cpuinfo would give: the A72 tuning
# (TRACT_CPU_AARCH64_KIND) and NEON on armv7 (TRACT_CPU_ARM32_NEON, else tract would
# take the slow non-NEON path). Checks the exit codes, the number of frame events,
# and that every CPU gives the same scene labels.
#
# Usage: cross/smoke.sh [TARGET]   (default aarch64-unknown-linux-gnu)
# Needs: the binary built first, e.g.
#   cargo build --release --target aarch64-unknown-linux-gnu
# Env: CARGO_TARGET_DIR (default ./target), VIGIL_BIN (binary to test instead),
#      SMOKE_CPUS (space-separated list overriding the CPUs),
#      HOST_VIGIL_BIN (default $CARGO_TARGET_DIR/debug/vigil, if present): the same
#      run natively, whose scene labels the ARM runs must reproduce.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:-aarch64-unknown-linux-gnu}"
frames=20

case "$target" in
  aarch64-unknown-linux-gnu)
    qemu=(qemu-aarch64-static -L /usr/aarch64-linux-gnu); cpus="${SMOKE_CPUS:-cortex-a72 cortex-a76}" ;;
  armv7-unknown-linux-gnueabihf)
    qemu=(qemu-arm-static -L /usr/arm-linux-gnueabihf); cpus="${SMOKE_CPUS:-cortex-a7}" ;;
  *) echo "smoke: unsupported target $target" >&2; exit 2 ;;
esac

tdir="${CARGO_TARGET_DIR:-$repo/target}"
case "$tdir" in /*) ;; *) tdir="$repo/$tdir" ;; esac
bin="${VIGIL_BIN:-$tdir/$target/release/vigil}"
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
# tract's knobs standing in for the board's /proc/cpuinfo (see above).
knobs() {
  case "$1" in
    cortex-a72) echo TRACT_CPU_AARCH64_KIND=a72 ;;
    cortex-a7|cortex-a15) echo TRACT_CPU_ARM32_NEON=true ;;
    *) echo VIGIL_SMOKE_CPU="$1" ;;
  esac
}

for cpu in $cpus; do
  export QEMU_CPU="$cpu"
  unset TRACT_CPU_AARCH64_KIND TRACT_CPU_ARM32_NEON
  export "$(knobs "$cpu")"
  echo "== QEMU_CPU=$cpu $(knobs "$cpu"): vigil models"
  "${qemu[@]}" "$bin" models || fail "vigil models on $cpu"

  echo "== QEMU_CPU=$cpu: vigil run --source demo --headless --max-frames $frames"
  events="$work/events-$cpu.jsonl"
  start=$(date +%s%N)
  RUST_LOG=warn "${qemu[@]}" "$bin" run --source demo --headless \
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
host_bin="${HOST_VIGIL_BIN:-$tdir/debug/vigil}"
if [ -x "$host_bin" ]; then
  echo "== host $(uname -m): $host_bin run --source demo --headless --max-frames $frames"
  RUST_LOG=warn "$host_bin" run --source demo --headless --max-frames "$frames" \
    --events "$work/events-host.jsonl" 2>/dev/null || fail "host run"
  host_labels=$(grep '"event":"scene"' "$work/events-host.jsonl" | grep -o '"top":\[{"label":"[^"]*"' | sed 's/.*"label":"//; s/"$//')
  [ "$host_labels" = "$reference" ] || fail "scene labels differ from the host build's: $host_labels"
  echo "   same scene labels as the host build"
fi
echo "smoke: OK ($target: $cpus)"
