#!/usr/bin/env bash
# Builds the Debian package for a board with cargo-deb, then checks the installed
# layout: unpacks the .deb with `dpkg-deb -x` into a scratch root and runs the
# packaged binary from there (under qemu for ARM targets), from a directory with
# no checkout around, so that it must find on its own:
#   ROOT/usr/share/vigil/models    (vigil models)
#   ROOT/etc/vigil/vigil.toml      (vigil run: the service config, no frame events)
#
# Usage: cross/package.sh [TARGET] [--no-build]
#   TARGET      default aarch64-unknown-linux-gnu
#   --no-build  package the binary already in $CARGO_TARGET_DIR/TARGET/release
#               (e.g. the one `cargo test --release --target TARGET` just built)
# Needs cargo-deb (cross/install.sh --with-cargo-deb) and dpkg-deb.
# Prints the .deb path, its `dpkg-deb -c` listing and the layout check.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target=aarch64-unknown-linux-gnu
build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -*) echo "package: unknown option $arg" >&2; exit 2 ;;
    *) target="$arg" ;;
  esac
done
case "$target" in
  aarch64-unknown-linux-gnu) run=(qemu-aarch64-static -L /usr/aarch64-linux-gnu) ;;
  armv7-unknown-linux-gnueabihf) run=(qemu-arm-static -L /usr/arm-linux-gnueabihf) ;;
  x86_64-unknown-linux-gnu) run=() ;;
  *) echo "package: unsupported target $target" >&2; exit 2 ;;
esac
tdir="${CARGO_TARGET_DIR:-$repo/target}"
case "$tdir" in /*) ;; *) tdir="$repo/$tdir" ;; esac
rel="$tdir/$target/release"
cd "$repo"

fail() { echo "package: FAIL: $*" >&2; exit 1; }

if [ "$build" -eq 1 ]; then
  cargo build --release --target "$target"
fi
[ -x "$rel/vigil" ] || fail "$rel/vigil missing (build it, or drop --no-build)"

# The conffile: config/vigil.toml (every key documented) with the two choices a
# service makes, so that it never runs on the demo clip and never floods the
# journal with one event per frame. Each edit must apply exactly once.
mkdir -p "$rel/deb"
conf="$rel/deb/vigil.toml"
edit() { # KEY_LINE NEW_LINE
  n=$(grep -cx "$1" config/vigil.toml || true)
  [ "$n" -eq 1 ] || fail "config/vigil.toml has $n lines '$1' (expected 1): update cross/package.sh"
}
edit 'source = "auto"'
edit 'frame_events = true'
{
  echo '# Installed by the vigil package for the system service (vigil.service).'
  echo '# It differs from the documented defaults (/usr/share/doc/vigil/vigil.toml.example)'
  echo '# in two keys: capture.source = "camera" (a service never falls back to the'
  echo '# demo clip; a missing camera fails and systemd retries) and'
  echo '# present.frame_events = false (the journal gets state changes only).'
  echo '#'
  sed -e 's/^source = "auto"$/source = "camera"/' \
      -e 's/^frame_events = true$/frame_events = false/' config/vigil.toml
} > "$conf"

out="$tdir/debian"
mkdir -p "$out"
deb=$(cargo deb --target "$target" --no-build --no-strip --output "$out" 2>&1 | tee "$out/cargo-deb.log" | tail -1)
[ -f "$deb" ] || { cat "$out/cargo-deb.log" >&2; fail "cargo deb produced no package"; }
echo "package: $deb ($(stat -c %s "$deb") bytes)"
echo "== dpkg-deb -c"
dpkg-deb -c "$deb"
echo "== conffiles: $(dpkg-deb -f "$deb" Package Version Architecture Depends | tr '\n' ' ')"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles

# The installed layout, from the unpacked package.
root="$(mktemp -d)"; cwd="$(mktemp -d)"
trap 'rm -rf "$root" "$cwd"' EXIT
dpkg-deb -x "$deb" "$root"
cd "$cwd"
unset VIGIL_CONFIG VIGIL_MODELS
echo "== unpacked: ROOT/usr/bin/vigil models (ROOT=$root)"
"${run[@]}" "$root/usr/bin/vigil" models > models.out 2>&1 || { cat models.out; fail "vigil models"; }
head -1 models.out
grep -qx "models in $root/usr/share/vigil/models" models.out || fail "models not found in ROOT/usr/share/vigil/models"
grep -c '^OK ' models.out | grep -qx "$(grep -c '\.onnx$' <(dpkg-deb -c "$deb"))" || fail "not every packaged model is OK"

echo "== unpacked: ROOT/usr/bin/vigil run --source demo --headless --max-frames 10"
"${run[@]}" "$root/usr/bin/vigil" run --source demo --headless --max-frames 10 --events events.jsonl \
  > run.out 2>&1 || { cat run.out; fail "vigil run"; }
grep "config:" run.out
grep -q "config: $root/etc/vigil/vigil.toml" run.out || fail "ROOT/etc/vigil/vigil.toml not read"
[ "$(grep -c '"event":"frame"' events.jsonl || true)" -eq 0 ] || fail "frame events written: service config not applied"
[ "$(grep -c '"event":"summary"' events.jsonl || true)" -eq 1 ] || fail "no summary event"
echo "   $(wc -l < events.jsonl) events, no per-frame events (service config applied)"

if command -v systemd-analyze >/dev/null 2>&1; then
  echo "== systemd-analyze verify (unit from the package)"
  unit="$root/lib/systemd/system/vigil.service"
  [ -f "$unit" ] || unit="$root/usr/lib/systemd/system/vigil.service"
  sed "s#/usr/bin/vigil#$root/usr/bin/vigil#" "$unit" > "$cwd/vigil.service"
  systemd-analyze verify "$cwd/vigil.service" || fail "systemd-analyze verify"
  tmpl="$root/lib/systemd/system/vigil@.service"
  [ -f "$tmpl" ] || tmpl="$root/usr/lib/systemd/system/vigil@.service"
  [ -f "$tmpl" ] || fail "vigil@.service (one instance per camera) not in the package"
  sed "s#/usr/bin/vigil#$root/usr/bin/vigil#" "$tmpl" > "$cwd/vigil@.service"
  systemd-analyze verify "$cwd/vigil@.service" || fail "systemd-analyze verify vigil@.service"
fi
echo "package: OK $deb"
