#!/usr/bin/env bash
# Optional CI step for 32-bit boards (armv7, e.g. a Pi 2/3 on a 32-bit OS): the
# whole test suite in release under qemu-arm (which also builds the `vigil`
# binary), then the smoke test on an emulated Cortex-A7. Not part of .ci/run:
# it is a second full release build of tract (see cross/README.md for times).
# Run after cross/install.sh and cross/binfmt.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
t=armv7-unknown-linux-gnueabihf
start=$(date +%s)
# TRACT_CPU_ARM32_NEON: qemu shows the x86 host's /proc/cpuinfo, where tract
# would find no NEON; a real armv7 board's cpuinfo lists it. Skips as in .ci/run.
QEMU_CPU=cortex-a7 TRACT_CPU_ARM32_NEON=true VIGIL_SKIP_WINDOW_TEST=1 \
  cargo test --release --target "$t" -- --skip missing_ffmpeg_is_a_clear_error
t_test=$(date +%s)
./cross/smoke.sh "$t"
echo "armv7 binary: $(stat -c %s "${CARGO_TARGET_DIR:-target}/$t/release/vigil") bytes"
echo "armv7 time: build+test $((t_test - start)) s, smoke $(( $(date +%s) - t_test )) s"
